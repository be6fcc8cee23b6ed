import { describe, expect, it } from 'vitest';
import { MailedAddresses, sameAddressReason } from '#shared/sender/mailed-addresses.ts';

const welcome = { occasionKey: 'welcome' };
const winback = { occasionKey: 'winback#2026-09-24T04:00:00.000Z' };
const runOutA = { occasionKey: 'replenishment#SKU-A#2026-12-01' };
const runOutB = { occasionKey: 'replenishment#SKU-B#2026-12-01' };

describe('the addresses a run mailed, per occasion', () => {
  it('settles another client of the same address (case and spaces aside) for the occasion mailed, not for another occasion', () => {
    const mailed = new MailedAddresses();
    mailed.note('welcome', 'ann@example.com', 'C0077');
    expect(mailed.alreadyMailed({ customerId: 'guest-77', email: ' Ann@Example.com ' }, [welcome, winback])).toEqual([{ occasion: welcome, reason: sameAddressReason('C0077') }]);
  });

  it("leaves another occasion of the same campaign to go: another product's reminder is another email", () => {
    const mailed = new MailedAddresses();
    mailed.note(runOutA.occasionKey, 'ann@example.com', 'C0077');
    expect(mailed.alreadyMailed({ customerId: 'guest-77', email: 'ann@example.com' }, [runOutA, runOutB])).toEqual([{ occasion: runOutA, reason: sameAddressReason('C0077') }]);
  });

  it('never settles the client it was mailed as, another address, or a client without one', () => {
    const mailed = new MailedAddresses();
    mailed.note('welcome', 'ann@example.com', 'C0077');
    mailed.note('welcome', undefined, 'no-address');
    expect(mailed.alreadyMailed({ customerId: 'C0077', email: 'ann@example.com' }, [welcome])).toEqual([]);
    expect(mailed.alreadyMailed({ customerId: 'bo', email: 'bo@example.com' }, [welcome])).toEqual([]);
    expect(mailed.alreadyMailed({ customerId: 'no-address-2' }, [welcome])).toEqual([]);
  });

  it('keeps the first client noted for an address', () => {
    const mailed = new MailedAddresses();
    mailed.note('welcome', 'ann@example.com', 'C0077');
    mailed.note('welcome', 'ANN@example.com', 'guest-77');
    expect(mailed.mailedAs('welcome', 'ann@example.com', 'guest-77')).toBe('C0077');
  });
});
