import { describe, expect, it } from 'vitest';
import { releasableArrayBuffer, releasableFloat64Array } from '#shared/releasable-memory.ts';

describe('releasable memory', () => {
  it('is a resizable ArrayBuffer of exactly the size asked (V8 maps and unmaps it itself)', () => {
    const buffer = releasableArrayBuffer(4096) as ArrayBuffer & { resizable: boolean; maxByteLength: number };
    expect(buffer.byteLength).toBe(4096);
    expect(buffer.resizable).toBe(true);
    expect(buffer.maxByteLength).toBe(4096);
  });

  it('gives zeroed Float64Arrays of the length asked, that sort like any other', () => {
    const values = releasableFloat64Array(5);
    expect([...values]).toEqual([0, 0, 0, 0, 0]);
    values.set([3, -1, 2.5, 0, 7]);
    expect([...values.sort()]).toEqual([-1, 0, 2.5, 3, 7]);
  });
});
