import { describe, expect, it } from 'vitest';
import { leadOf } from '#shared/forget/forget.ts';
import type { ProfileItem } from '#shared/store/profile-store.ts';
import { profileItem } from '#test/support/profiles.ts';

/** Which clients an address leads to when forgetting: its holders now, else everyone who had it. */

const A = 'a@example.com';
const written = { tier: 'Entry', stage: 'active' } as const;
/** A profile an hour moved from `night` (the last night's address) to `email`. */
const moved = (id: string, email: string, night: string): ProfileItem => ({ ...profileItem(id, { email }), nightEmail: night, lastNight: written });
/** A profile an hour created since the last night. */
const created = (id: string, email: string): ProfileItem => ({ ...profileItem(id, { email }), lastNight: null });

describe('leadOf', () => {
  it('an address another client holds now leads only to him: Shopify gave it to him after she left it the same day', () => {
    expect(leadOf(A, [moved('41', 'b@example.com', A), created('77', A)], ['41'])).toEqual({ holders: [created('77', A)], ids: ['77'] });
  });

  it('an address two profiles hold now leads to both (two ids, one person)', () => {
    expect(leadOf(A, [profileItem('s01', { email: A }), profileItem('s02', { email: A })], []).ids).toEqual(['s01', 's02']);
  });

  it('two profiles that held it at the last night are one person, also when an hour moved one of them since (a generic base)', () => {
    expect(leadOf(A, [moved('c1', 'y@example.com', A), profileItem('c2', { email: A })], []).ids).toEqual(['c1', 'c2']);
  });

  it('an address nobody holds now leads to every client that had it: the hours, an entry naming them, the address book', () => {
    expect(leadOf(A, [moved('41', 'b@example.com', A)], ['41', '52'])).toEqual({ holders: [], ids: ['41', '52'] });
  });

  it("the clients an entry or the book names do not count beside a holder now", () => {
    expect(leadOf(A, [profileItem('77', { email: A })], ['41']).ids).toEqual(['77']);
  });
});
