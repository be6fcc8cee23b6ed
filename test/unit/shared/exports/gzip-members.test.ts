import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ExportError } from '#shared/exports/reader.ts';
import { memorySource, readingPaths, readSource, type ReadingPath } from './reading.ts';

/**
 * A gzip file is one or more members one after the other (`cat a.gz b.gz` is legal gzip, and
 * read whole). zlib takes NUL bytes after a member for padding and stops there quietly, so a file
 * whose second member was zeroed (a damaged block) read as its first member only: half its lines,
 * no error. Bytes after the last member that are not another member now refuse the file. Read
 * whole, in small chunks, and by worker threads (a gzip file is not read in blocks).
 */
const H = 'order_id,customer_id,ordered_at,line_total\n';
const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => `O${from + i},C1,2026-11-22T10:00:00Z,10.00\n`).join('');
const CUSTOMERS = 'customer_id\nC1\n';

const PATHS = readingPaths(5);

async function outcome(orders: Buffer, path: ReadingPath) {
  return readSource(memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv.gz': orders }, path.chunk), { threads: path.threads, blockBytes: 64 }).then(
    (out) => ({ out }),
    (error: unknown) => ({ error }),
  );
}

async function refusal(orders: Buffer, path: ReadingPath): Promise<string> {
  const read = await outcome(orders, path);
  if ('out' in read) throw new Error(`read ${read.out.orders.length} order lines, ${read.out.result.rejected} rejects, no error`);
  expect(read.error).toBeInstanceOf(ExportError);
  return (read.error as ExportError).message;
}

describe('a gzip file of several members', () => {
  const first = gzipSync(H + rows(1, 10));
  const second = gzipSync(rows(11, 10));

  it('is refused when the zeroed member starts a chunk of its own', async () => {
    const damaged = Buffer.concat([first, Buffer.alloc(second.length)]);
    const source = memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv.gz': damaged }, first.length);
    await expect(readSource(source, { threads: 0 })).rejects.toThrow(/orders\.csv\.gz: is not a valid gzip file \(bytes after its last gzip member/);
  });

  for (const path of PATHS) {
    it(`is read whole when its members follow each other, as cat writes them (${path.name})`, async () => {
      const read = await outcome(Buffer.concat([first, second, gzipSync(rows(21, 5))]), path);
      if (!('out' in read)) throw read.error;
      expect(read.out.orders.map((o) => o.orderId)).toEqual(Array.from({ length: 25 }, (_, i) => `O${i + 1}`));
    });

    it(`is refused when its second member is zeroed, not read as its first (${path.name})`, async () => {
      const message = await refusal(Buffer.concat([first, Buffer.alloc(second.length)]), path);
      expect(message).toBe('memory://export/orders.csv.gz: is not a valid gzip file (bytes after its last gzip member are not another member: a damaged or padded file?)');
    });

    it(`is refused when NUL bytes follow its only member (${path.name})`, async () => {
      const message = await refusal(Buffer.concat([first, Buffer.alloc(3)]), path);
      expect(message).toMatch(/^memory:\/\/export\/orders\.csv\.gz: is not a valid gzip file \(bytes after its last gzip member are not another member/);
    });

    it(`is refused when other bytes follow its last member (${path.name})`, async () => {
      const message = await refusal(Buffer.concat([first, second, Buffer.from('garbage\n')]), path);
      expect(message).toMatch(/^memory:\/\/export\/orders\.csv\.gz: is not a valid gzip file/);
    });
  }
});
