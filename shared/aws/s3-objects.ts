import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** s3://bucket/some/prefix → { bucket, prefix } (prefix without leading/trailing slashes). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match?.[1]) throw new Error(`Not an S3 URL (s3://bucket/prefix): ${url}`);
  return { bucket: match[1], prefix: (match[2] ?? '').replace(/\/+$/, '') };
}

/**
 * Uploads every file of a folder under a prefix, streamed with a known length (a plain PUT, no
 * aws-chunked framing, which s3rver would store verbatim). Returns the keys written.
 */
export async function uploadDirectory(s3: S3Client, dir: string, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
  for (const name of entries) {
    const path = join(dir, name);
    const { size } = await stat(path);
    const key = prefix ? `${prefix}/${name}` : name;
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(path), ContentLength: size }),
    );
    keys.push(key);
  }
  return keys;
}

/**
 * A small object of our own (work objects, a few MB at most) read whole; exports are streamed
 * instead. Undefined when there is no such key, so the caller can say what is missing.
 */
export async function readObjectBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array | undefined> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return response.Body ? await response.Body.transformToByteArray() : new Uint8Array();
  } catch (error) {
    // By name too: an error from another copy of the SDK (or an emulator's reply) fails instanceof.
    if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** readObjectBytes as UTF-8 text. */
export async function readObjectText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  const bytes = await readObjectBytes(s3, bucket, key);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}
