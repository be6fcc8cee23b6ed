import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BeforeImageError, imagesOf, nextImagePart, type BeforeImage } from '#shared/store/night-plans.ts';
import type { ProfileItem } from '#shared/store/profile-store.ts';

const LOCATION = 's3://reports/nightly/2026-11-23/attempts/run-1/before-s0-0.jsonl.gz';
const image = (customerId: string, created = false): BeforeImage => ({ customerId, before: created ? null : ({ customerId, tier: 'Gold', spend12mMinor: 6500 } as unknown as ProfileItem) });
const objectOf = (images: readonly BeforeImage[]) => gzipSync(images.map((i) => `${JSON.stringify(i)}\n`).join(''));

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

describe('imagesOf', () => {
  const images = [image('C1'), image('C2', true), image('C3')];

  it('reads back what writeBeforeImages wrote', () => {
    expect(imagesOf(objectOf(images), LOCATION)).toEqual(images);
  });

  it('refuses an object cut anywhere, naming it', () => {
    const whole = objectOf(images);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: whole.length - 1 }), (length) => {
        expect(() => imagesOf(whole.subarray(0, length), LOCATION)).toThrow(BeforeImageError);
        expect(() => imagesOf(whole.subarray(0, length), LOCATION)).toThrow(`${LOCATION}: truncated or not ours (not whole gzip`);
      }),
    );
  });

  it('refuses text that is not its lines: a cut line, a line that is not JSON, an image of another client', () => {
    const text = (body: string) => () => imagesOf(gzipSync(body), LOCATION);
    expect(text('')).toThrow(`${LOCATION}: truncated or not ours (it holds no image)`);
    expect(text('{"customerId":"C0000001","before":{"customerId":"C0000001","ti')).toThrow(`${LOCATION}: truncated or not ours (its last line is cut)`);
    expect(text('{"customerId":"C1","before":null}\n{"customerId":\n')).toThrow(/line 2 is not JSON/);
    expect(text('{"customerId":"C1","before":{"customerId":"C2"}}\n')).toThrow(/line 1 is not a before-image/);
    expect(text('{"customerId":"C1"}\n')).toThrow(/line 1 is not a before-image/);
    expect(text('[1,2]\n')).toThrow(/line 1 is not a before-image/);
  });
});
