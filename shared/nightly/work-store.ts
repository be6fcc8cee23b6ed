import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { readObjectBytes, writeObject } from '#shared/aws/s3-objects.ts';
import { NightlyRunError } from './run.ts';

/**
 * Where the phases of one sharded night hand their work over (a run's work prefix in S3, or a
 * folder for the bench): objects of our own, named relative to the run, written whole. A phase
 * run again overwrites its own objects, so a rerun ends where a clean run would.
 */
export interface WorkStore {
  /** Where `key` is, for messages: "s3://bucket/prefix/key" or a path. */
  describe(key: string): string;
  /** Stores `body` whole; the caller may reuse body's bytes once the promise settles, so a store keeps none of them. */
  put(key: string, body: Uint8Array | string, contentType: string): Promise<string>;
  /** Undefined when there is no such object. */
  get(key: string): Promise<Uint8Array | undefined>;
}

export function s3WorkStore(s3: S3Client, bucket: string, prefix: string): WorkStore {
  const describe = (key: string) => `s3://${bucket}/${prefix}/${key}`;
  return {
    describe,
    put: (key, body, contentType) => writeObject(s3, { bucket, key: `${prefix}/${key}`, body, contentType }),
    get: (key) => readObjectBytes(s3, bucket, `${prefix}/${key}`),
  };
}

/** A folder as the work store (the bench runs the phases without S3). */
export function directoryWorkStore(dir: string): WorkStore {
  const describe = (key: string) => join(dir, key);
  return {
    describe,
    async put(key, body) {
      const path = describe(key);
      await mkdir(dirname(path), { recursive: true });
      // Whole or not at all, as an S3 PUT.
      await writeFile(`${path}.partial`, body);
      await rename(`${path}.partial`, path);
      return path;
    },
    async get(key) {
      try {
        return await readFile(describe(key));
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}

/** A work object an earlier phase of this run must have written; its absence fails the run, naming it. */
export async function requireWork(store: WorkStore, key: string, what: string, runId: string): Promise<Uint8Array> {
  const bytes = await store.get(key);
  if (!bytes) throw new NightlyRunError(`${what} not found at ${store.describe(key)}: did that phase of run ${runId} finish?`);
  return bytes;
}

/**
 * A work object that is there but cannot be what its phase wrote (cut short, changed, written by
 * something else): named, with what to do. A phase's objects are written whole, once, so a rerun
 * of the reading phase meets the same bytes: the night starts again, under a new run id.
 */
export function unreadableWork(store: WorkStore, key: string, why: string, options?: ErrorOptions): NightlyRunError {
  return new NightlyRunError(`${store.describe(key)}: truncated or not ours (${why}). Start the night again: a new run writes its own work objects.`, options);
}

/** requireWork, its bytes read by `decode`; bytes it cannot read are unreadableWork. */
export async function requireWorkDecoded<T>(store: WorkStore, key: string, what: string, runId: string, decode: (bytes: Uint8Array) => T): Promise<T> {
  const bytes = await requireWork(store, key, what, runId);
  try {
    return decode(bytes);
  } catch (error) {
    throw unreadableWork(store, key, `${what} of run ${runId}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** requireWork of a JSON object of our own (its shape is ours: checked by its reader where it matters). */
export function requireWorkJson(store: WorkStore, key: string, what: string, runId: string): Promise<unknown> {
  return requireWorkDecoded(store, key, what, runId, (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown);
}
