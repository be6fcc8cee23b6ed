import { describe, expect, it } from 'vitest';
import { MailedAddresses, sameAddressReason } from '#shared/sender/mailed-addresses.ts';

const welcome = { campaignId: 'welcome' };
const winback = { campaignId: 'winback' };

describe('the addresses a run mailed, per campaign', () => {
  it('settles another client of the same address (case and spaces aside) for the campaign mailed, not for another campaign', () => {
    const mailed = new MailedAddresses();
    mailed.note('welcome', 'ann@example.com', 'C0077');
    expect(mailed.alreadyMailed({ customerId: 'guest-77', email: ' Ann@Example.com ' }, [welcome, winback])).toEqual([{ occasion: welcome, reason: sameAddressReason('C0077') }]);
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
