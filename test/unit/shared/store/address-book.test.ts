import { describe, expect, it } from 'vitest';
import { addressKeyOf, bookBefore, formerLinkOf, sameBook, timingOf, withLinks, withoutClients, type FormerAddress } from '#shared/store/address-book.ts';
import { erasedKey } from '#shared/store/erasure-store.ts';
import { emailIdentity } from '#shared/tiering/identity.ts';
import { fnv1a32 } from '#shared/text-hash.ts';

const link = (email: string, customerId: string) => ({ ...addressKeyOf(email), customerId });

describe('address book', () => {
  it('keys an address as the night does: normalised, its sha256 the email identity, its FNV-1a the shard hash', () => {
    const key = addressKeyOf('  Mei.Lin@Example.com ');
    expect(key).toEqual(addressKeyOf('mei.lin@example.com'));
    expect(`e-${key.sha256.slice(0, 20)}`).toBe(emailIdentity('mei.lin@example.com'));
    expect(key.fnv).toBe(fnv1a32('mei.lin@example.com'));
    expect(JSON.stringify(key)).not.toContain('mei');
  });

  it('adds tonight\'s links once, keeping the night that first saw each, in a stable order', () => {
    const first = withLinks([], [link('b@example.com', '2'), link('a@example.com', '1')], '2026-11-23');
    expect(first.map((e) => e.seenOn)).toEqual(['2026-11-23', '2026-11-23']);
    const again = withLinks(first, [link('a@example.com', '1')], '2026-11-24');
    expect(again).toEqual(first);
    expect(withLinks([], [link('a@example.com', '1'), link('b@example.com', '2')], '2026-11-23')).toEqual(first);
  });

  it('replaces the links an earlier attempt of the night made with tonight\'s, keeping every earlier night\'s entry as it is', () => {
    const earlier = withLinks([], [formerLinkOf('a@example.com', '1')], '2026-11-21');
    // A bad export's night linked c@ to 3 (and a@ to 1 again, which changes nothing of the entry of 11-21).
    const bad = withLinks(earlier, [{ ...link('c@example.com', '3'), heldByAnother: true, hersBefore: '2026-11-21' }, formerLinkOf('a@example.com', '1')], '2026-11-22');
    expect(bad.map((e) => `${e.customerId} ${e.seenOn}`).sort()).toEqual(['1 2026-11-21', '3 2026-11-22']);
    // The rerun on the corrected export reads the book as it was before the night, and writes its own links in place of the bad one's.
    expect(bookBefore(bad, '2026-11-22')).toEqual(earlier);
    expect(withLinks(bad, [], '2026-11-22')).toEqual(earlier);
    const corrected = withLinks(bad, [formerLinkOf('b@example.com', '2')], '2026-11-22');
    expect(corrected).toEqual(withLinks(earlier, [formerLinkOf('b@example.com', '2')], '2026-11-22'));
    // A rerun after a crash, on the same export: the same links again, the same book.
    expect(withLinks(corrected, [formerLinkOf('b@example.com', '2')], '2026-11-22')).toEqual(corrected);
    // An entry of a later night (a night redone after a restore) is not read as knowledge from before it either.
    expect(bookBefore(corrected, '2026-11-21')).toEqual([]);
  });

  it('compares two books by every field of their entries', () => {
    const book = withLinks([], [formerLinkOf('a@example.com', '1')], '2026-11-21');
    expect(sameBook(book, withLinks([], [formerLinkOf('a@example.com', '1')], '2026-11-21'))).toBe(true);
    expect(sameBook(book, withLinks([], [formerLinkOf('a@example.com', '1')], '2026-11-22'))).toBe(false);
    expect(sameBook(book, withLinks([], [link('a@example.com', '1')], '2026-11-21'))).toBe(false);
    expect(sameBook(book, withLinks([], [{ ...formerLinkOf('a@example.com', '1'), hersBefore: '2026-11-20' }], '2026-11-21'))).toBe(false);
    expect(sameBook(book, [])).toBe(false);
  });

  it('a link made with the address in clear keeps its erasure key, which fills an entry from before entries kept it, once', () => {
    const made = formerLinkOf(' Mei.Lin@Example.com', '41');
    expect(made).toEqual({ ...addressKeyOf('mei.lin@example.com'), customerId: '41', erasureKey: erasedKey('email', 'mei.lin@example.com') });
    expect(JSON.stringify(made)).not.toContain('mei');
    const old = withLinks([], [link('mei.lin@example.com', '41')], '2026-11-20');
    expect(old[0]?.erasureKey).toBeUndefined();
    const filled = withLinks(old, [made], '2026-11-24');
    expect(filled).toEqual([{ ...made, seenOn: '2026-11-20' }]);
    // A link from a path without the address in clear leaves the key it has.
    expect(withLinks(filled, [link('mei.lin@example.com', '41')], '2026-11-25')).toEqual(filled);
  });

  it('forgets a client by id or by one of their addresses', () => {
    const book: FormerAddress[] = withLinks([], [link('a@example.com', '1'), link('b@example.com', '2'), link('c@example.com', '3')], '2026-11-23');
    expect(withoutClients(book, new Set(['1']), ['B@example.com']).map((e) => e.customerId)).toEqual(['3']);
  });

  it('keeps the night before which her orders are hers when it is not the night that first linked it; an entry without it (an older book) reads as that night', () => {
    const taken = withLinks([], [{ ...link('a@example.com', '1'), hersBefore: '2026-11-22' }], '2026-11-23');
    expect(taken).toEqual([{ ...link('a@example.com', '1'), seenOn: '2026-11-23', hersBefore: '2026-11-22' }]);
    expect(timingOf(taken[0] as FormerAddress)).toEqual({ hersBefore: '2026-11-22', seenOn: '2026-11-23' });
    // The first night's entry stays: a later night's link changes nothing.
    expect(withLinks(taken, [link('a@example.com', '1')], '2026-11-24')).toEqual(taken);
    expect(timingOf({ seenOn: '2026-11-23' })).toEqual({ hersBefore: '2026-11-23', seenOn: '2026-11-23' });
  });

  it('keeps an entry\'s erasure key as tonight\'s link has it: given by the first night that links it in clear, dropped once another customer holds the address', () => {
    const withKey = formerLinkOf('ana.old@example.com', '1');
    const before = withLinks([], [link('ana.old@example.com', '1')], '2026-11-20');
    expect(before[0]?.erasureKey).toBeUndefined();
    const keyed = withLinks(before, [withKey], '2026-11-21');
    expect(keyed).toEqual([{ ...before[0], erasureKey: erasedKey('email', 'ana.old@example.com') }]);
    // Taken over: the night's link carries no key (former-addresses.ts linkOf), so forgetting her erases nobody else.
    expect(withLinks(keyed, [{ ...link('ana.old@example.com', '1'), heldByAnother: true, hersBefore: '2026-11-22' }], '2026-11-23')).toEqual(before);
    // A new entry from such a link keeps neither the key nor the mark.
    expect(withLinks([], [{ ...link('ana.old@example.com', '1'), heldByAnother: true }], '2026-11-23')).toEqual(before.map((e) => ({ ...e, seenOn: '2026-11-23' })));
  });
});

