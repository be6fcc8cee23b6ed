import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { z } from 'zod';
import { ClienteleError } from '#shared/errors.ts';
import { issuesText } from '#shared/zod-issues.ts';

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
  let response;
  try {
    response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    // By name too: an error from another copy of the SDK (or an emulator's reply) fails instanceof.
    if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
  try {
    return response.Body ? await response.Body.transformToByteArray() : new Uint8Array();
  } catch (error) {
    // The body broke or stalled after the headers (clients.ts: socketTimeout): the SDK's error
    // names neither S3 nor the object. Kept as the cause, so it still reads as a connection failure.
    throw new Error(`S3 GetObject s3://${bucket}/${key}: reading the body failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** readObjectBytes as UTF-8 text. */
export async function readObjectText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  const bytes = await readObjectBytes(s3, bucket, key);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}

/** An object of our own state that is not what its writer writes: `repair` says what refuses until then and how to mend it. */
export class StoredObjectDamagedError extends ClienteleError {
  override name = 'StoredObjectDamagedError';
  constructor(what: string, object: string, problem: string, repair: string) {
    super('STATE_DAMAGED', `The ${what} ${object} is damaged (${problem}): ${repair}`);
  }
}

/**
 * One of our own JSON objects read back and checked against the shape its writer gives it;
 * undefined when there is none. Ours, but S3 keeps what anyone puts there (a hand edit, a restore
 * from the wrong place, another version's object): one that is not JSON or not of that shape
 * throws `damaged(object, problem)` with its address, never a bare parse error, and never a guess
 * at what it meant.
 */
export async function readStoredJson<S extends z.ZodType>(
  s3: S3Client,
  where: { bucket: string; key: string },
  schema: S,
  damaged: (object: string, problem: string) => Error,
): Promise<z.output<S> | undefined> {
  const text = await readObjectText(s3, where.bucket, where.key);
  if (text === undefined) return undefined;
  const object = `s3://${where.bucket}/${where.key}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text, which may hold names or addresses (a roster).
    throw damaged(object, text.trim() === '' ? 'empty' : `not JSON, or cut short: ${text.length} characters`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw damaged(object, issuesText(parsed.error, '(object)', 3));
  return parsed.data;
}

export interface ObjectToWrite {
  bucket: string;
  key: string;
  body: string | Uint8Array;
  contentType: string;
  /** URL-encoded tags, e.g. 'retention=rejects' (the bucket's lifecycle rules read them). */
  tagging?: string;
}

/** Writes a small object of our own (summary, report, work objects) in one PUT; returns its s3:// address. */
export async function writeObject(s3: S3Client, object: ObjectToWrite): Promise<string> {
  await s3.send(
    new PutObjectCommand({
      Bucket: object.bucket,
      Key: object.key,
      Body: object.body,
      ContentType: object.contentType,
      ...(object.tagging ? { Tagging: object.tagging } : {}),
    }),
  );
  return `s3://${object.bucket}/${object.key}`;
}

/** writeObject of a JSON document (indented when `pretty`: people open summaries). */
export function writeJsonObject(s3: S3Client, location: { bucket: string; key: string }, value: unknown, pretty = false): Promise<string> {
  return writeObject(s3, { ...location, body: JSON.stringify(value, null, pretty ? 2 : undefined), contentType: 'application/json' });
}

/** The "folders" directly under a prefix (which must end with '/'), without the prefix or the trailing slash. */
export async function listFolders(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const folders: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
    for (const common of page.CommonPrefixes ?? []) {
      const folder = common.Prefix?.slice(prefix.length).replace(/\/$/, '');
      if (folder) folders.push(folder);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return folders;
}

/**
 * Each folder under a prefix (which must end with '/') with when its newest object was written
 * (S3 LastModified, epoch ms), from one listing of every object under it: one request per 1,000
 * objects, where asking each folder would cost one per folder.
 */
export async function listFolderWrites(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, number>> {
  return new Map([...(await listFolderObjects(s3, bucket, prefix))].map(([folder, { lastWrite }]) => [folder, lastWrite]));
}

/** A folder's objects as one listing showed them (listFolderObjects). */
export interface FolderListing {
  /** When its newest object was written (S3 LastModified, epoch ms), objects of its sub-folders included. */
  lastWrite: number;
  /** The objects directly in it (those an export source reads), by name relative to the folder, with their ETag and write. */
  objects: ListedObject[];
}

/**
 * Each folder under a prefix (which must end with '/') with its newest write and the objects
 * directly in it, from one listing of every object under it (as listFolderWrites): what an hour
 * saw of each folder, so that a later hour can tell an object it did not see by the object itself,
 * not by its time (S3 keeps LastModified to the second, and a multipart upload's is when it began).
 */
export async function listFolderObjects(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, FolderListing>> {
  const folders = new Map<string, FolderListing>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const slash = object.Key?.indexOf('/', prefix.length) ?? -1;
      if (object.Key === undefined || slash <= prefix.length) continue; // an object beside the folders, not in one
      const folder = object.Key.slice(prefix.length, slash);
      const written = object.LastModified?.getTime() ?? Number.NEGATIVE_INFINITY;
      const listing = folders.get(folder) ?? { lastWrite: Number.NEGATIVE_INFINITY, objects: [] };
      listing.lastWrite = Math.max(listing.lastWrite, written);
      const name = object.Key.slice(slash + 1);
      if (name !== '' && !name.includes('/')) listing.objects.push(listedObject(name, object));
      folders.set(folder, listing);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return folders;
}

function listedObject(name: string, item: { Size?: number; LastModified?: Date; ETag?: string }): ListedObject {
  return {
    name,
    ...(item.Size !== undefined ? { size: item.Size } : {}),
    ...(item.LastModified !== undefined ? { lastModified: item.LastModified.getTime() } : {}),
    ...(item.ETag !== undefined ? { etag: item.ETag } : {}),
  };
}

export interface ListedObject {
  /** The key relative to the listed prefix. */
  name: string;
  size?: number;
  /** S3's LastModified, epoch ms. */
  lastModified?: number;
  /** S3's ETag (quoted, as S3 gives it): with the name and write, which version of the object this is. */
  etag?: string;
}

/**
 * The objects directly under a prefix (which must end with '/', or be '' for the bucket's top), not
 * those of its "sub-folders". `pageSize` (ListObjectsV2 MaxKeys) exists for tests of the pagination.
 */
export async function listObjects(s3: S3Client, bucket: string, prefix: string, options: { pageSize?: number } = {}): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token, MaxKeys: options.pageSize }),
    );
    for (const item of page.Contents ?? []) {
      if (item.Key === undefined || item.Key === prefix || item.Key.endsWith('/')) continue;
      objects.push(listedObject(item.Key.slice(prefix.length), item));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

/** An object's body as a stream (exports: never buffered whole). */
/** An https link to the object that anyone holding it can open until it expires (a presigned GET). */
export function presignedObjectUrl(s3: S3Client, bucket: string, key: string, expiresInSeconds: number): Promise<string> {
  return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
}

export async function openObjectStream(s3: S3Client, bucket: string, key: string, ifMatch?: string): Promise<Readable> {
  // With `ifMatch`, only that version: S3 answers another with 412 PreconditionFailed.
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(ifMatch === undefined ? {} : { IfMatch: ifMatch }) }));
  const body = response.Body;
  // The answer's own ETag too: a store that ignores If-Match (the local emulator) is held to it all the same.
  if (ifMatch !== undefined && response.ETag !== undefined && response.ETag !== ifMatch) {
    if (body instanceof Readable) body.destroy();
    throw Object.assign(new Error(`s3://${bucket}/${key} is no longer the version listed (ETag ${response.ETag}, listed ${ifMatch})`), { name: 'PreconditionFailed' });
  }
  // In Node the SDK's body is an http.IncomingMessage (a Readable) with SDK helpers mixed in.
  if (body instanceof Readable) return body;
  throw new Error(`GetObject returned no readable body for s3://${bucket}/${key}`);
}

/** Creates the bucket unless it exists (the embedded local AWS; the stack does this in AWS). */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}
