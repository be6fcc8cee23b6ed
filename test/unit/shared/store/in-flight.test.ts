import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachInFlight } from '#shared/store/in-flight.ts';

describe('forEachInFlight', () => {
  it('starts every item once, in order, with never more than the given number in flight', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 3 }), { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), async (delays, concurrency) => {
        const started: number[] = [];
        let inFlight = 0;
        let most = 0;
        await forEachInFlight(delays.keys(), concurrency, async (index) => {
          started.push(index);
          most = Math.max(most, ++inFlight);
          for (let tick = 0; tick < (delays[index] ?? 0); tick++) await Promise.resolve();
          inFlight--;
        });
        expect(started).toEqual([...delays.keys()]);
        expect(most).toBeLessThanOrEqual(concurrency);
      }),
    );
  });

  it('rejects with the error of the item that failed', async () => {
    const failing = forEachInFlight([1, 2, 3], 2, async (n) => {
      if (n === 2) throw new Error('item 2 failed');
    });
    await expect(failing).rejects.toThrow('item 2 failed');
  });
});
