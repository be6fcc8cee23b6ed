import { describe, expect, it } from 'vitest';
import { onlyObjects, writtenAfter, writtenBy, type ExportObject, type ExportSource } from '#shared/exports/source.ts';

/** A source of listed objects only (nothing is opened). */
function listing(objects: ExportObject[]): ExportSource {
  return {
    describe: () => 's3://bucket/incremental/2026-11-01T0130/',
    location: (key) => `s3://bucket/incremental/2026-11-01T0130/${key}`,
    list: async () => objects,
    open: () => Promise.reject(new Error('not opened here')),
  };
}

/** A folder merged at MERGED: a file before it, the manifest at it, a file of a later drop, one whose write time is unknown. */
const MERGED = Date.UTC(2026, 10, 1, 5, 32, 7);
const folder = listing([
  { key: 'customers-extra.csv', lastModified: MERGED - 1_000 },
  { key: 'customers.csv', lastModified: MERGED + 3_600_000 },
  { key: '_manifest.json', lastModified: MERGED },
  { key: 'orders.csv' },
]);

describe('writtenAfter', () => {
  it("lists a folder's second drop alone: the objects written after the first, none whose write is unknown", async () => {
    const source = writtenAfter(folder, MERGED);
    expect((await source.list()).map((object) => object.key)).toEqual(['customers.csv']);
    expect(source.describe()).toBe('s3://bucket/incremental/2026-11-01T0130/');
    expect(source.location('customers.csv')).toBe('s3://bucket/incremental/2026-11-01T0130/customers.csv');
  });
});

describe('writtenBy', () => {
  it("lists a folder's drops as merged, without a later drop's files: the objects written up to the merge, none whose write is unknown", async () => {
    const source = writtenBy(folder, MERGED);
    expect((await source.list()).map((object) => object.key)).toEqual(['customers-extra.csv', '_manifest.json']);
  });
});

describe('onlyObjects', () => {
  it('lists exactly the recorded objects, by key, ETag and write: not one written in the same second beside them, nor one rewritten since', async () => {
    const drop = listing([
      { key: 'orders.csv', etag: '"a1"', lastModified: MERGED },
      { key: 'customers.csv', etag: '"c1"', lastModified: MERGED },
      { key: '_manifest.json', etag: '"m2"', lastModified: MERGED },
    ]);
    const source = onlyObjects(drop, [
      { key: 'orders.csv', etag: '"a1"', lastModified: MERGED },
      { key: '_manifest.json', etag: '"m1"', lastModified: MERGED },
    ]);
    expect((await source.list()).map((object) => object.key)).toEqual(['orders.csv']);
    expect(source.location('orders.csv')).toBe('s3://bucket/incremental/2026-11-01T0130/orders.csv');
  });
});
