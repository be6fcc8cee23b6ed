import { describe, expect, it } from 'vitest';
import { addressesOf, hourEmailsAfter, hourEmailsOf, MAX_HOUR_EMAILS } from '#shared/store/profile-store.ts';

describe('hourEmailsAfter (the addresses hours gave a client and replaced since the last night)', () => {
  it('keeps the address an increment replaces, unless it is the night\'s', () => {
    expect(hourEmailsAfter([], { before: 'a@x.com', after: 'b@x.com', night: 'a@x.com' })).toEqual([]);
    expect(hourEmailsAfter([], { before: 'b@x.com', after: 'c@x.com', night: 'a@x.com' })).toEqual(['b@x.com']);
    // A client an increment created: no night's address, the first one kept.
    expect(hourEmailsAfter([], { before: 'x@x.com', after: 'y@x.com', night: undefined })).toEqual(['x@x.com']);
  });

  it('keeps what it held when the address does not change', () => {
    expect(hourEmailsAfter(['b@x.com'], { before: 'c@x.com', after: 'c@x.com', night: 'a@x.com' })).toEqual(['b@x.com']);
    expect(hourEmailsAfter(['b@x.com'], { before: 'c@x.com', after: 'C@X.com ', night: 'a@x.com' })).toEqual(['b@x.com']);
  });

  it('holds neither her address now nor the night\'s, each once, the latest last', () => {
    // Back to one she held: it is hers now, not a former one.
    expect(hourEmailsAfter(['b@x.com'], { before: 'c@x.com', after: 'b@x.com', night: 'a@x.com' })).toEqual(['c@x.com']);
    // Back to the night's: that one is nightEmail (or, the same as her address, nothing to keep).
    expect(hourEmailsAfter(['b@x.com'], { before: 'c@x.com', after: 'a@x.com', night: 'a@x.com' })).toEqual(['b@x.com', 'c@x.com']);
    expect(hourEmailsAfter(['b@x.com', 'c@x.com'], { before: 'd@x.com', after: 'e@x.com', night: 'a@x.com' })).toEqual(['b@x.com', 'c@x.com', 'd@x.com']);
    expect(hourEmailsAfter(['c@x.com', 'd@x.com'], { before: 'B@x.com', after: 'e@x.com', night: 'a@x.com' })).toEqual(['c@x.com', 'd@x.com', 'B@x.com']);
    expect(hourEmailsAfter(['b@x.com', 'c@x.com'], { before: 'd@x.com', after: 'c@x.com', night: 'a@x.com' })).toEqual(['b@x.com', 'd@x.com']);
  });

  it(`keeps at most ${MAX_HOUR_EMAILS}, the oldest dropped`, () => {
    const held = Array.from({ length: MAX_HOUR_EMAILS }, (_, i) => `h${i}@x.com`);
    expect(hourEmailsAfter(held, { before: 'new@x.com', after: 'newer@x.com', night: 'a@x.com' })).toEqual([...held.slice(1), 'new@x.com']);
  });
});

describe('hourEmailsOf / addressesOf', () => {
  it('reads none from a profile stored before hourEmails, or from anything but a list of strings', () => {
    expect(hourEmailsOf({})).toEqual([]);
    expect(hourEmailsOf({ hourEmails: 'b@x.com' })).toEqual([]);
    expect(hourEmailsOf({ hourEmails: ['b@x.com', 3] })).toEqual(['b@x.com']);
  });

  it('lists every address a profile holds as the client\'s', () => {
    expect(addressesOf({ email: 'c@x.com' })).toEqual(['c@x.com']);
    expect(addressesOf({ email: 'c@x.com', nightEmail: 'a@x.com', hourEmails: ['b@x.com'] })).toEqual(['c@x.com', 'a@x.com', 'b@x.com']);
    expect(addressesOf({ hourEmails: ['b@x.com'] })).toEqual(['b@x.com']);
  });
});
