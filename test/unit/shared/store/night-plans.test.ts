import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextImagePart } from '#shared/store/night-plans.ts';

describe('nextImagePart', () => {
  it('numbers a new attempt\'s parts after every part its shard already has, whatever the other shards have', () => {
    expect(nextImagePart([], 0)).toBe(0);
    expect(nextImagePart(['before-s0-0.jsonl.gz'], 0)).toBe(1);
    expect(nextImagePart(['before-s0-0.jsonl.gz', 'before-s0-1.jsonl.gz', 'before-s1-7.jsonl.gz', 'before-s10-9.jsonl.gz'], 0)).toBe(2);
    expect(nextImagePart(['before-s0-0.jsonl.gz', 'before-s1-7.jsonl.gz', 'before-s10-9.jsonl.gz'], 1)).toBe(8);
    expect(nextImagePart(['before-s0-0.jsonl.gz', 'before-s10-9.jsonl.gz', 'notes.txt'], 10)).toBe(10);
  });

  it('never names a part that exists', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 40 }))), fc.nat({ max: 3 }), (parts, shard) => {
        const names = parts.map(([s, p]) => `before-s${s}-${p}.jsonl.gz`);
        const next = nextImagePart(names, shard);
        for (let part = next; part < next + 5; part++) expect(names).not.toContain(`before-s${shard}-${part}.jsonl.gz`);
      }),
    );
  });
});
