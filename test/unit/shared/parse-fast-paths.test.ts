import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAmount, parseAmountByPattern } from '#shared/money.ts';
import { isoInstant, parseTimestamp, parseTimestampByPattern } from '#shared/time.ts';

/**
 * parseTimestamp and parseAmount read their common shapes by hand (the nightly reads millions of
 * them); these properties hold them equal to their general readings by pattern, on valid,
 * invalid and near-miss values alike; isoInstant likewise to toISOString.
 */

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Timestamps of the shapes the fast path reads, with every field sometimes out of range or mangled. */
const timestampArbitrary = fc
  .record({
    year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(1970, 2000, 2024, 1900, 2100, 0, 400)),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 61 }),
    second: fc.integer({ min: 0, max: 61 }),
    separator: fc.constantFrom('T', 't', ' ', 'X'),
    zone: fc.oneof(
      fc.constantFrom('Z', 'z', '', 'Q', '+08', '+0800', '.123Z', ' Z'),
      fc.record({ sign: fc.constantFrom('+', '-', '*'), hours: fc.integer({ min: 0, max: 16 }), minutes: fc.integer({ min: 0, max: 61 }), colon: fc.constantFrom(':', ':', '', ';') })
        .map(({ sign, hours, minutes, colon }) => `${sign}${pad(hours, 2)}${colon}${pad(minutes, 2)}`),
    ),
  })
  .map((t) => `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}${t.separator}${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}${t.zone}`);

/** Mangles one character of a value (a digit where a separator goes, a letter in a number...). */
const mangled = (value: fc.Arbitrary<string>) =>
  fc.tuple(value, fc.nat(), fc.constantFrom('0', '9', 'a', '-', ':', ' ', '.', '+', '٣')).map(([v, at, c]) => (v.length === 0 ? c : v.slice(0, at % v.length) + c + v.slice((at % v.length) + 1)));

describe('parseTimestamp fast path', () => {
  it('gives what the pattern gives', () => {
    fc.assert(
      fc.property(fc.oneof(timestampArbitrary, mangled(timestampArbitrary)), fc.constantFrom('Asia/Shanghai', 'America/New_York', 'UTC'), (value, zone) => {
        expect(parseTimestamp(value, zone)).toBe(parseTimestampByPattern(value, zone));
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('parseAmount fast path', () => {
  const amountArbitrary = fc.oneof(
    fc.tuple(fc.stringMatching(/^[0-9]{1,17}$/), fc.option(fc.stringMatching(/^[0-9]{0,5}$/))).map(([whole, fraction]) => (fraction === null ? whole : `${whole}.${fraction}`)),
    fc.constantFrom('', '.', '.5', '5.', '-1.00', '+1', ' 1.00', '1.00 ', '1,299.90', '0', '00.00', '9007199254740993', '90071992547409.91'),
  );
  it('gives what the pattern gives', () => {
    fc.assert(
      fc.property(fc.oneof(amountArbitrary, mangled(amountArbitrary)), fc.constantFrom('USD', 'JPY', 'BHD', 'CNY'), (value, currency) => {
        expect(parseAmount(value, currency)).toBe(parseAmountByPattern(value, currency));
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('isoInstant', () => {
  it('writes what toISOString writes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 253_402_300_799_999 }),
          fc.integer({ min: -62_198_755_200_000, max: 300_000_000_000_000 }),
          fc.constantFrom(0, 951_782_400_000, 951_868_800_000, 4_107_542_400_000, 253_402_300_799_999, 253_402_300_800_000, -1, 0.5, 1e15 + 0.25),
        ),
        (instant) => {
          expect(isoInstant(instant)).toBe(new Date(instant).toISOString());
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
