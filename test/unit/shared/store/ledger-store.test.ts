import { describe, expect, it } from 'vitest';
import { claimHourOf, claimHoursBetween, expiresAtFor, ledgerExpiresAt } from '#shared/store/ledger-store.ts';
import { DAY, HOUR } from '#test/support/time.ts';

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

  it('keeps an entry the retention past its window, and for good when its key outlives the window', () => {
    const retention = { now: T0, retentionDays: 30 };
    expect(ledgerExpiresAt(retention)).toBe(expiresAtFor(T0, 30));
    // A window that closed before the write: the retention counts from the write.
    expect(ledgerExpiresAt({ ...retention, retainAfter: T0 - DAY })).toBe(expiresAtFor(T0, 30));
    // A window 60 days long, with 30 days' retention: kept until 30 days after it closes, not 30 after the send.
    expect(ledgerExpiresAt({ ...retention, retainAfter: T0 + 60 * DAY })).toBe(expiresAtFor(T0 + 60 * DAY, 30));
    expect(ledgerExpiresAt({ ...retention, retainAfter: T0 + 60 * DAY, retainUntilErased: true })).toBeUndefined();
  });
});
