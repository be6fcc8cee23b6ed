import { describe, expect, it } from 'vitest';
import { writtenAfter, writtenBy, type ExportObject, type ExportSource } from '#shared/exports/source.ts';

/** A source of listed objects only (nothing is opened). */
function listing(objects: ExportObject[]): ExportSource {
  return {
    describe: () => 's3://bucket/incremental/2026-11-01T0130/',
    location: (key) => `s3://bucket/incremental/2026-11-01T0130/${key}`,
    list: async () => objects,
    open: () => Promise.reject(new Error('not opened here')),
  };
}

describe('writtenAfter', () => {
  it("lists a folder's second drop alone: the objects written after the first, none whose write is unknown", async () => {
    const firstDrop = Date.UTC(2026, 10, 1, 5, 32, 7);
    const source = writtenAfter(
      listing([
        { key: 'customers-extra.csv', lastModified: firstDrop - 1_000 },
        { key: 'customers.csv', lastModified: firstDrop + 3_600_000 },
        { key: '_manifest.json', lastModified: firstDrop },
        { key: 'orders.csv' },
      ]),
      firstDrop,
    );
    expect((await source.list()).map((object) => object.key)).toEqual(['customers.csv']);
    expect(source.describe()).toBe('s3://bucket/incremental/2026-11-01T0130/');
    expect(source.location('customers.csv')).toBe('s3://bucket/incremental/2026-11-01T0130/customers.csv');
  });
});

describe('writtenBy', () => {
  it("lists a folder's drops as merged, without a later drop's files: the objects written up to the merge, none whose write is unknown", async () => {
    const merged = Date.UTC(2026, 10, 1, 5, 32, 7);
    const source = writtenBy(
      listing([
        { key: 'customers-extra.csv', lastModified: merged - 1_000 },
        { key: 'customers.csv', lastModified: merged + 3_600_000 },
        { key: '_manifest.json', lastModified: merged },
        { key: 'orders.csv' },
      ]),
      merged,
    );
    expect((await source.list()).map((object) => object.key)).toEqual(['customers-extra.csv', '_manifest.json']);
  });
});
