import { describe, expect, it } from 'vitest';
import { claimHourOf, claimHoursBetween, expiresAtFor } from '#shared/store/ledger-store.ts';
import { HOUR } from '#test/support/time.ts';

const T0 = Date.parse('2026-11-23T10:15:00Z');

describe('claim hours and expiry', () => {
  it('names UTC hours and lists a range of them', () => {
    expect(claimHourOf(T0)).toBe('2026-11-23T10');
    expect(claimHoursBetween(T0 - 2 * HOUR, T0)).toEqual(['2026-11-23T08', '2026-11-23T09', '2026-11-23T10']);
    expect(claimHoursBetween(Date.parse('2026-11-23T23:59:00Z'), Date.parse('2026-11-24T00:00:00Z'))).toEqual([
      '2026-11-23T23',
      '2026-11-24T00',
    ]);
  });

  it('expires in epoch seconds after the retention period', () => {
    expect(expiresAtFor(T0, 400)).toBe(T0 / 1000 + 400 * 86_400);
    expect(expiresAtFor(T0 + 999, 1)).toBe(T0 / 1000 + 86_400);
  });
});
