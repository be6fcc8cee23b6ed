import { describe, expect, it } from 'vitest';
import { emailHash, emailIdentity } from '#shared/tiering/identity.ts';
import { formerAddressOwners, takenAddresses, type BookEntry, type HourClient } from '#shared/sender/hour-addresses.ts';

/**
 * Whose a Shopify increment's line is when its address is not the one a row carries: the hour's
 * reading of the night's former-address rules (README, "What an incremental export changes").
 */

const OLD = 'mei.old@example.com';
const NEW = 'mei.new@example.com';
const DAY = 86_400_000;
/** A night's cut-off: midnight UTC after its date (the rule, not a time zone, is under test). */
const cutOff = (night: string) => Date.parse(`${night}T00:00:00Z`) + DAY;
const at = (iso: string) => Date.parse(iso);
const orphan = (email: string, ...times: string[]) => ({ identity: emailIdentity(email), orderedAt: times.map(at) });
const entry = (email: string, customerId: string, seenOn: string, hersBefore?: string): BookEntry => ({ sha256: emailHash(email), customerId, seenOn, ...(hersBefore === undefined ? {} : { hersBefore }) });
const mei = (storedEmails: string[], rowEmail: string | undefined = NEW): HourClient => ({ customerId: '41', rowEmail, storedEmails });

describe('formerAddressOwners', () => {
  it('gives an address her stored profile holds (email, nightEmail, hourEmails) to her, whatever the time', () => {
    for (const stored of [[OLD], [NEW, OLD], [NEW, 'night@example.com', OLD]]) {
      const owners = formerAddressOwners({ clients: [mei(stored)], orphans: [orphan(OLD, '2026-11-23T07:00:00Z')], book: [], cutOff });
      expect(owners).toEqual(new Map([[emailIdentity(OLD), '41']]));
    }
  });

  it('gives it to her when her row has no address (she keeps her stored one)', () => {
    expect(formerAddressOwners({ clients: [mei([OLD], undefined)], orphans: [orphan(OLD, '2026-11-23T07:00:00Z')], book: [], cutOff }).get(emailIdentity(OLD))).toBe('41');
  });

  it('matches addresses case-insensitively and trimmed', () => {
    expect(formerAddressOwners({ clients: [mei([' Mei.Old@Example.com'])], orphans: [orphan(OLD, '2026-11-23T07:00:00Z')], book: [], cutOff }).size).toBe(1);
  });

  it('gives nothing when no client of the increment held the address', () => {
    expect(formerAddressOwners({ clients: [mei([NEW])], orphans: [orphan(OLD, '2026-11-23T07:00:00Z')], book: [], cutOff }).size).toBe(0);
    expect(formerAddressOwners({ clients: [], orphans: [orphan(OLD, '2026-11-23T07:00:00Z')], book: [entry(OLD, '41', '2026-11-22')], cutOff }).size).toBe(0);
  });

  it('gives an address two clients claim to neither: two stored profiles, or a profile and the book', () => {
    const other: HourClient = { customerId: '42', rowEmail: 'bea@example.com', storedEmails: ['bea@example.com', OLD] };
    expect(formerAddressOwners({ clients: [mei([OLD]), other], orphans: [orphan(OLD, '2026-11-23T07:00:00Z')], book: [], cutOff }).size).toBe(0);
    // The other claimant has no row in the increment: still a claimant, as in the night.
    expect(formerAddressOwners({ clients: [mei([OLD])], orphans: [orphan(OLD, '2026-11-23T07:00:00Z')], book: [entry(OLD, '77', '2026-11-20')], cutOff }).size).toBe(0);
  });

  it('the book alone: hers for orders placed before the cut-off of the last night that had it as hers', () => {
    const book = [entry(OLD, '41', '2026-11-22')];
    expect(formerAddressOwners({ clients: [mei([NEW])], orphans: [orphan(OLD, '2026-11-01T02:00:00Z')], book, cutOff }).get(emailIdentity(OLD))).toBe('41');
    // Placed after she had left it (seenOn's cut-off): another customer's, who holds it now.
    expect(formerAddressOwners({ clients: [mei([NEW])], orphans: [orphan(OLD, '2026-11-01T02:00:00Z', '2026-11-23T07:00:00Z')], book, cutOff }).size).toBe(0);
    // A takeover's entry: hers only before hersBefore's cut-off, not up to seenOn's.
    const takenOver = [entry(OLD, '41', '2026-11-22', '2026-11-10')];
    expect(formerAddressOwners({ clients: [mei([NEW])], orphans: [orphan(OLD, '2026-11-05T02:00:00Z')], book: takenOver, cutOff }).size).toBe(1);
    expect(formerAddressOwners({ clients: [mei([NEW])], orphans: [orphan(OLD, '2026-11-15T02:00:00Z')], book: takenOver, cutOff }).size).toBe(0);
  });

  it('the book naming a client with no row in the increment gives nothing (her profile is not read)', () => {
    expect(formerAddressOwners({ clients: [mei([NEW])], orphans: [orphan('someone@example.com', '2026-11-01T02:00:00Z')], book: [entry('someone@example.com', '77', '2026-11-22')], cutOff }).size).toBe(0);
  });

  it('the same client by her profile and the book is one claimant: no time bound', () => {
    const owners = formerAddressOwners({ clients: [mei([NEW, OLD])], orphans: [orphan(OLD, '2026-11-23T07:00:00Z')], book: [entry(OLD, '41', '2026-11-20')], cutOff });
    expect(owners.get(emailIdentity(OLD))).toBe('41');
  });
});

describe('takenAddresses', () => {
  const ann = (row: string, stored: string[]): HourClient => ({ customerId: '41', rowEmail: row, storedEmails: stored });
  const bea = (row: string | undefined, stored: string[]): HourClient => ({ customerId: '42', rowEmail: row, storedEmails: stored });

  it('a swap: each row carries an address the other held', () => {
    expect(takenAddresses([ann('b@x.com', ['a@x.com']), bea('a@x.com', ['b@x.com'])])).toEqual(
      new Map([
        ['41', new Set(['b@x.com'])],
        ['42', new Set(['a@x.com'])],
      ]),
    );
  });

  it('a newcomer on an address a client of the increment left today (her nightEmail or hourEmails)', () => {
    expect(takenAddresses([ann('a2@x.com', ['a2@x.com', 'a@x.com']), bea('A@x.com ', [])])).toEqual(new Map([['42', new Set(['a@x.com'])]]));
  });

  it('nothing when no other client held the row\'s address, or the row has none', () => {
    expect(takenAddresses([ann('a2@x.com', ['a@x.com']), bea('b@x.com', ['b@x.com'])]).size).toBe(0);
    expect(takenAddresses([ann('a2@x.com', ['a@x.com']), bea(undefined, ['b@x.com'])]).size).toBe(0);
  });

  it('nothing when the client who held it did not leave it: her row has no address (she keeps it), or the same one', () => {
    expect(takenAddresses([{ customerId: '41', rowEmail: undefined, storedEmails: ['a@x.com'] }, bea('a@x.com', [])]).size).toBe(0);
    expect(takenAddresses([ann('a@x.com', ['a@x.com']), bea('a@x.com', [])]).size).toBe(0);
  });
});
