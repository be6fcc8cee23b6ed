import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { listObjects, openObjectStream } from '#shared/aws/s3-objects.ts';

/** One file of an export. */
export interface ExportObject {
  /** Name usable with `open()`; its basename is what format detection looks at. */
  key: string;
  size?: number;
  /** When it was last written (S3's LastModified, epoch ms), where the source knows. */
  lastModified?: number;
  /** S3's ETag, where the source knows. */
  etag?: string;
}

/**
 * One version of an object as a merge of an incremental folder saw it (stored on its runs-table
 * marker): its key, ETag and write. The same key with another ETag or write is another object.
 */
export interface RecordedObject {
  key: string;
  etag?: string;
  lastModified?: number;
}

/** An object's version as a merge records it (pure). */
export function recordedObject(object: Pick<ExportObject, 'key' | 'etag' | 'lastModified'>): RecordedObject {
  return { key: object.key, ...(object.etag === undefined ? {} : { etag: object.etag }), ...(object.lastModified === undefined ? {} : { lastModified: object.lastModified }) };
}

/** A string naming one version of an object: equal for the same key, ETag and write (pure). */
export function objectVersion(object: Pick<ExportObject, 'key' | 'etag' | 'lastModified'>): string {
  return JSON.stringify([object.key, object.etag ?? null, object.lastModified ?? null]);
}

/**
 * The objects of `source` that are one of `objects` (same key, ETag and write), and only those: a
 * drop of an incremental folder as its merge recorded it (shared/sender/ingest.ts), whatever was
 * written beside it before or since, in the same second or not. An object rewritten since is
 * another version: left out.
 */
export function onlyObjects(source: ExportSource, objects: readonly RecordedObject[]): ExportSource {
  const versions = new Set(objects.map(objectVersion));
  return {
    ...source,
    async list() {
      return (await source.list()).filter((object) => versions.has(objectVersion(object)));
    },
  };
}

/** Where an export's files come from: an S3 prefix in production, a folder locally. */
export interface ExportSource {
  /** e.g. "s3://bucket/exports/2026-11-23/" or "/tmp/dir". */
  describe(): string;
  /** All objects directly in the dated prefix/folder. */
  list(): Promise<ExportObject[]>;
  /**
   * Raw bytes, streamed. With `etag` (the listing's), only that version: a source that knows ETags
   * fails with S3's PreconditionFailed when the object was written again since it was listed.
   */
  open(key: string, etag?: string): Promise<NodeJS.ReadableStream | Readable>;
  /** Human name of a file for errors and rejects. */
  location(key: string): string;
}

/**
 * The objects directly under `prefix` (e.g. "exports/2026-11-23") of `bucket`. Keys are the
 * names relative to the prefix; bodies are streamed from GetObject, never buffered whole.
 * `pageSize` (ListObjectsV2 MaxKeys) exists for tests of the pagination.
 */
export function s3ExportSource(s3: S3Client, bucket: string, prefix: string, options: { pageSize?: number } = {}): ExportSource {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  const base = trimmed === '' ? '' : `${trimmed}/`;
  return {
    describe: () => `s3://${bucket}/${base}`,
    location: (key) => `s3://${bucket}/${base}${key}`,
    async list() {
      // Only the objects directly in the dated prefix: "sub-folders" (incremental/...) are not part of it.
      const listed = await listObjects(s3, bucket, base, options);
      return listed.map(({ name, size, lastModified, etag }) => ({
        key: name,
        ...(size !== undefined ? { size } : {}),
        ...(lastModified !== undefined ? { lastModified } : {}),
        ...(etag !== undefined ? { etag } : {}),
      }));
    },
    open: (key, etag) => openObjectStream(s3, bucket, `${base}${key}`, etag),
  };
}

/** The objects of `source` whose write time the source knows and `keep` accepts (an object without one is left out). */
function writtenWhen(source: ExportSource, keep: (lastModified: number) => boolean): ExportSource {
  return {
    ...source,
    async list() {
      return (await source.list()).filter((object) => object.lastModified !== undefined && keep(object.lastModified));
    },
  };
}

/**
 * The objects of `source` written after `since` (epoch ms), and only those: a folder's second
 * drop without the files of the first, which the first merge read already (shared/sender/ingest.ts).
 */
export function writtenAfter(source: ExportSource, since: number): ExportSource {
  return writtenWhen(source, (lastModified) => lastModified > since);
}

/**
 * The objects of `source` written at or before `until` (epoch ms): an earlier drop into a folder
 * since written again, as it was merged (shared/sender/ingest.ts), without the later drop's files.
 */
export function writtenBy(source: ExportSource, until: number): ExportSource {
  return writtenWhen(source, (lastModified) => lastModified <= until);
}

/** The regular files directly in `dir`. */
export function directoryExportSource(dir: string): ExportSource {
  const root = resolve(dir);
  return {
    describe: () => root,
    location: (key) => resolve(root, key),
    async list() {
      const entries = await readdir(root, { withFileTypes: true });
      const objects: ExportObject[] = [];
      for (const entry of entries) {
        if (!entry.isFile() && !entry.isSymbolicLink()) continue;
        const info = await stat(resolve(root, entry.name)).catch(() => undefined);
        if (!info?.isFile()) continue;
        objects.push({ key: entry.name, size: info.size });
      }
      return objects;
    },
    open: (key) => openFile(resolve(root, key)),
  };
}

/**
 * Explicitly named files (e.g. from command-line options), wherever they are. Keys are the
 * resolved paths; format detection still goes by each file's basename.
 */
export function filesExportSource(paths: readonly string[]): ExportSource {
  const files = [...new Set(paths.map((path) => resolve(path)))];
  return {
    describe: () => (files.length === 1 ? (files[0] ?? '') : `${files.length} files: ${files.map((f) => basename(f)).join(', ')}`),
    location: (key) => key,
    async list() {
      return Promise.all(files.map(async (key) => ({ key, size: (await stat(key)).size })));
    },
    open: (key) => openFile(key),
  };
}

/** Resolves once the file is open, so a missing file fails here rather than mid-stream. */
function openFile(path: string): Promise<Readable> {
  return new Promise((resolvePromise, reject) => {
    const stream = createReadStream(path);
    stream.once('open', () => resolvePromise(stream));
    stream.once('error', reject);
  });
}
