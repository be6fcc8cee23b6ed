import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

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
