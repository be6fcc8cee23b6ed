import { describe, expect, it } from 'vitest';
import { shardOf } from '#shared/nightly/shards.ts';
import { fnv1a32 } from '#shared/text-hash.ts';

describe('fnv1a32', () => {
  it('gives the published FNV-1a 32-bit values (ASCII text)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('is unsigned, and the shard is the hash modulo the count', () => {
    for (const key of ['C0000001', 'C0000002', 'anna@example.com', '敏']) {
      const hash = fnv1a32(key);
      expect(hash).toBeGreaterThanOrEqual(0);
      expect(hash).toBeLessThan(2 ** 32);
      expect(shardOf(key, 7)).toBe(hash % 7);
    }
  });
});
