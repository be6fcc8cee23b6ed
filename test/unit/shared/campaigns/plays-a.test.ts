import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueOccasions, type CampaignContext, type DueOccasion } from '#shared/campaigns/due.ts';
import { campaignsConfigSchema, type CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import { parseConfig } from '#shared/config.ts';
import { addDays, localDate, startOfLocalDay } from '#shared/time.ts';
import type { ClientProfile } from '#shared/model.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { at, DAY, HOUR, iso } from '#test/support/time.ts';
import { CATALOG, context } from './fixtures.ts';
import { ZONES } from './vocabulary-arbitraries.ts';

/**
 * The birthday, first-order-care and first-purchase-thanks plays (shared/campaigns/plays.ts) and
 * the vocabulary words they brought: the birthday month, first-order's signedUpAtLeastHoursBefore,
 * offers for some categories only, the gift-with-order offer.
 */

const SH = 'Asia/Shanghai';
const NY = 'America/New_York';
/** One play (and the welcome, where a test is about both) with the built-in presets. */
const only = (...kinds: string[]): CampaignContext => context({ campaigns: kinds.map((kind) => ({ kind })) } as CampaignsConfigInput);
const due = (client: ClientProfile, now: number, ctx: CampaignContext) => dueOccasions(client, CATALOG, now, ctx);

describe('the plays in the default configuration', () => {
  it('are on by default with their ids, and turnedOff turns one off without listing the others', () => {
    const ids = campaignsConfigSchema.parse({}).campaigns.filter((c) => c.enabled).map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['birthday', 'first-order-care', 'first-purchase-thanks']));
    const off = campaignsConfigSchema.parse({ turnedOff: ['birthday'] }).campaigns;
    expect(off.find((c) => c.id === 'birthday')?.enabled).toBe(false);
    expect(off.find((c) => c.id === 'first-order-care')?.enabled).toBe(true);
  });

  it('parse as custom campaigns of the vocabulary with the preset rules', () => {
    const [birthday, care, thanks] = campaignsConfigSchema.parse({ campaigns: [{ kind: 'birthday' }, { kind: 'first-order-care' }, { kind: 'first-purchase-thanks' }] }).campaigns;
    expect(birthday).toMatchObject({ kind: 'custom', play: 'birthday', trigger: { on: 'birthday', month: true, daysBefore: 0 }, priority: 6, personal: true });
    expect(birthday?.offers).toMatchObject({ default: { kind: 'coupon', couponFrom: { from: 'brand-scheme' } }, Core: { kind: 'gift-with-order' }, Potential: { kind: 'sample' }, VIC: { kind: 'personal-note' } });
    expect(care).toMatchObject({ kind: 'custom', trigger: { on: 'first-order', daysAfter: 7 }, products: { from: 'trigger' }, priority: 4 });
    expect(thanks).toMatchObject({ kind: 'custom', trigger: { on: 'first-order', signedUpAtLeastHoursBefore: 72 }, timing: { cutoffHours: 72, lateAfterHours: 24 }, priority: 1 });
  });

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['a month that is not a boolean', { kind: 'birthday', trigger: { on: 'birthday', month: 'yes' } }, /campaign "birthday" at campaigns\.campaigns\.0\.trigger\.month/],
    ['a negative sign-up lead', { kind: 'first-purchase-thanks', trigger: { on: 'first-order', signedUpAtLeastHoursBefore: -1 } }, /campaign "first-purchase-thanks" at campaigns\.campaigns\.0\.trigger\.signedUpAtLeastHoursBefore/],
    ['signedUpAtLeastHoursBefore on another trigger', { id: 'x', trigger: { on: 'signed-up', signedUpAtLeastHoursBefore: 72 }, template: 'welcome' }, /campaign "x" at campaigns\.campaigns\.0\.trigger/],
    ['an empty forCategories', { kind: 'first-order-care', offers: { default: { kind: 'sample', forCategories: [] } } }, /campaign "first-order-care" at campaigns\.campaigns\.0\.offers\.default\.forCategories/],
    ['a gift with a discount', { kind: 'birthday', offers: { default: { kind: 'gift-with-order', discountPercent: 10 } } }, /a gift-with-order offer carries no coupon, discount or free shipping/],
    // Only a coupon offer shows a code or a discount (render.ts showsCoupon): these would load and never be made.
    ['a sample with a discount and a code', { kind: 'winback', offers: { default: { kind: 'sample', discountPercent: 10, couponCode: 'WELCOME10' } } }, /campaign "winback" at campaigns\.campaigns\.0\.offers\.default: a sample offer carries no coupon/],
    ['no offer with a pool', { kind: 'winback', offers: { default: { kind: 'none', couponFrom: { from: 'pool' } } } }, /a none offer carries no coupon, discount or free shipping/],
    ['a Core note with free shipping', { kind: 'winback', offers: { default: { kind: 'coupon', discountPercent: 10 }, Core: { kind: 'personal-note', freeShipping: true } } }, /offers\.Core: a personal-note offer carries no coupon/],
  ];
  it.each(refused)('refuses %s, naming the campaign and the field', (_name, campaign, message) => {
    expect(() => parseConfig({ campaigns: { campaigns: [campaign] } })).toThrow(message);
  });

  it('takes the brand scheme of the voucher from coupons.scheme', () => {
    expect(parseConfig({ coupons: { scheme: { prefix: 'BD' } } }).coupons.scheme).toEqual({ prefix: 'BD', length: 10 });
    expect(() => parseConfig({ coupons: { scheme: { prefix: 'bd' } } })).toThrow(/coupons\.scheme\.prefix/);
  });
});

describe('birthday: the birthday month', () => {
  const ctx = only('birthday');

  it('is due from local midnight of the 1st of the month through its last day, for a full date and a month-only birthday alike', () => {
    for (const birthday of ['1990-05-20', '--05', '1988-05']) {
      const client = clientProfile({ timeZone: SH, birthday });
      expect(due(client, at('2026-04-30T23:59'), ctx)).toHaveLength(0);
      const [occasion] = due(client, at('2026-05-01T00:00'), ctx);
      expect(occasion).toMatchObject({ campaignId: 'birthday', occasionKey: 'birthday#2026', dueAt: at('2026-05-01T00:00'), expiresAt: at('2026-06-01T00:00'), template: 'birthday' });
      expect(due(client, at('2026-05-31T23:59'), ctx)).toHaveLength(1);
      expect(due(client, at('2026-06-01T00:00'), ctx)).toHaveLength(0);
    }
    expect(due(clientProfile({ timeZone: SH, birthday: '1990-05-20' }), at('2026-05-10T10:00'), ctx)[0]?.details.birthdayDate).toBe('2026-05-20');
  });

  it("counts in the client's zone, across DST, February and December (the next year's January closes it)", () => {
    const ny = clientProfile({ timeZone: NY, birthday: '1990-03-15' });
    // March 2026 in New York: DST starts on the 8th; the window is still local midnight to local midnight.
    expect(due(ny, at('2026-03-01T00:00', NY), ctx)[0]).toMatchObject({ dueAt: at('2026-03-01T00:00', NY), expiresAt: at('2026-04-01T00:00', NY) });
    expect(due(ny, at('2026-02-28T23:59', NY), ctx)).toHaveLength(0);
    const leap = clientProfile({ timeZone: SH, birthday: '2000-02-29' });
    expect(due(leap, at('2027-02-01T00:00'), ctx)[0]).toMatchObject({ occasionKey: 'birthday#2027', expiresAt: at('2027-03-01T00:00'), details: { birthdayDate: '2027-02-28' } });
    const december = clientProfile({ timeZone: SH, birthday: '--12' });
    expect(due(december, at('2026-12-31T23:59'), ctx)[0]).toMatchObject({ occasionKey: 'birthday#2026', expiresAt: at('2027-01-01T00:00') });
    expect(due(december, at('2027-01-01T00:00'), ctx)).toHaveLength(0);
  });

  it('gives each tier its gift: a note for a VIC, a gift with the next order for Core, a sample kit for Potential (no code), a voucher for the others', () => {
    const offerOf = (tier: ClientProfile['tier']) => due(clientProfile({ timeZone: SH, birthday: '--07', tier }), at('2026-07-03T10:00'), ctx)[0]?.details.offer;
    expect(offerOf('VIC')).toEqual({ kind: 'personal-note' });
    expect(offerOf('Core')).toEqual({ kind: 'gift-with-order' });
    expect(offerOf('Potential')).toEqual({ kind: 'sample' });
    for (const tier of ['Entry', 'Prospect'] as const) expect(offerOf(tier)).toEqual({ kind: 'coupon', discountPercent: 10, couponFrom: { from: 'brand-scheme' } });
  });

  it('with daysBefore, opens that many days before the 1st; a cut-off of its own replaces the month end', () => {
    const early = context({ campaigns: [{ kind: 'birthday', trigger: { on: 'birthday', month: true, daysBefore: 3 } }] });
    expect(due(clientProfile({ timeZone: SH, birthday: '1990-05-20' }), at('2026-04-28T00:00'), early)[0]).toMatchObject({ occasionKey: 'birthday#2026', expiresAt: at('2026-06-01T00:00') });
    const short = context({ campaigns: [{ kind: 'birthday', timing: { cutoffDays: 10 } }] });
    expect(due(clientProfile({ timeZone: SH, birthday: '1990-05-20' }), at('2026-05-01T00:00'), short)[0]?.expiresAt).toBe(at('2026-05-11T00:00'));
  });

  it('property: over two years of hours, due exactly in the local birthday month, one key a year', () => {
    const birthdayArb = fc.oneof(
      fc.integer({ min: Date.UTC(1960, 0, 1), max: Date.UTC(2005, 11, 31) }).map((t) => iso(t).slice(0, 10)),
      fc.integer({ min: 1, max: 12 }).map((m) => `--${String(m).padStart(2, '0')}`),
    );
    fc.assert(
      fc.property(birthdayArb, fc.constantFrom(...ZONES), (birthday, zone) => {
        const client = clientProfile({ timeZone: zone, birthday });
        const keys = new Map<string, number>();
        // Inside 2026 and 2027 in every zone; a 7-hour step lands at every hour of the local day in turn.
        for (let h = Date.UTC(2026, 0, 2); h < Date.UTC(2027, 11, 31); h += 7 * HOUR) {
          const occasions = due(client, h, ctx);
          const month = birthday.startsWith('--') ? birthday.slice(2, 4) : birthday.slice(5, 7);
          expect(occasions.length).toBe(localDate(h, zone).slice(5, 7) === month ? 1 : 0);
          for (const o of occasions) {
            expect(o.occasionKey).toBe(`birthday#${localDate(h, zone).slice(0, 4)}`);
            expect(o.dueAt).toBe(startOfLocalDay(`${localDate(h, zone).slice(0, 7)}-01`, zone));
            keys.set(o.occasionKey, (keys.get(o.occasionKey) ?? 0) + 1);
          }
        }
        // Both years, each its own key: once per year.
        expect(keys.size).toBe(2);
      }),
      { numRuns: 12 },
    );
  });
});

describe('first-order-care: first order + 7 days', () => {
  const ctx = only('first-order-care');
  const firstOrderAt = iso(at('2026-03-10T15:00'));
  const buyer = (skus: ClientProfile['skus'], fields: Partial<ClientProfile> = {}) => clientProfile({ timeZone: SH, firstOrderAt, lastOrderAt: firstOrderAt, skus, ...fields });
  const cream = { CREAM: { productName: 'Night Cream', category: 'skincare', lastPurchasedAt: firstOrderAt, quantity: 1, purchases: 1 } };
  const bag = { BAG: { productName: 'Tote', category: 'bags', lastPurchasedAt: firstOrderAt, quantity: 1, purchases: 1 } };

  it('is due from local midnight 7 days after the first order for a week, once ever, showing what it bought', () => {
    const client = buyer({ ...cream, ...bag });
    expect(due(client, at('2026-03-16T23:59'), ctx)).toHaveLength(0);
    const [occasion] = due(client, at('2026-03-17T00:00'), ctx);
    expect(occasion).toMatchObject({ occasionKey: 'first-order-care', dueAt: at('2026-03-17T00:00'), expiresAt: at('2026-03-24T00:00'), template: 'first-order-care' });
    expect(occasion?.details.products?.map((p) => p.sku).sort()).toEqual(['BAG', 'CREAM']);
  });

  it('offers a sample only when the first order bought a beauty category; a VIC gets a note', () => {
    const when = at('2026-03-18T10:00');
    expect(due(buyer(cream), when, ctx)[0]?.details.offer).toMatchObject({ kind: 'sample' });
    expect(due(buyer({ ...cream, ...bag }), when, ctx)[0]?.details.offer).toMatchObject({ kind: 'sample' });
    expect(due(buyer(bag), when, ctx)[0]?.details.offer).toEqual({ kind: 'none' });
    expect(due(buyer(cream, { tier: 'VIC' }), when, ctx)[0]?.details.offer).toEqual({ kind: 'personal-note' });
    // The brand names its own beauty categories.
    const bags = context({ campaigns: [{ kind: 'first-order-care', offers: { default: { kind: 'sample', forCategories: ['bags'] } } }] });
    expect(due(buyer(bag), when, bags)[0]?.details.offer).toMatchObject({ kind: 'sample' });
  });

  it("reads a product's category from the catalogue when the profile has none", () => {
    const mist = { MIST: { lastPurchasedAt: firstOrderAt, quantity: 1, purchases: 1 } };
    const skin = context({ campaigns: [{ kind: 'first-order-care', offers: { default: { kind: 'sample', forCategories: ['skin'] } } }] });
    expect(due(buyer(mist), at('2026-03-18T10:00'), skin)[0]?.details.offer).toMatchObject({ kind: 'sample' });
  });
});

describe('first-purchase-thanks: the first order of a long-standing subscriber', () => {
  const ctx = only('welcome', 'first-purchase-thanks');
  const firstOrder = at('2026-03-10T15:00');
  const client = (signedUpAt: number | undefined) =>
    clientProfile({ timeZone: SH, ...(signedUpAt === undefined ? {} : { signedUpAt: iso(signedUpAt) }), firstOrderAt: iso(firstOrder), lastOrderAt: iso(firstOrder) });

  it('is due at the first order for 72 hours, late past 24, when the sign-up was at least 72 hours before', () => {
    const subscriber = client(firstOrder - 200 * DAY);
    expect(due(subscriber, firstOrder - 1, ctx)).toHaveLength(0);
    const [occasion] = due(subscriber, firstOrder, ctx);
    expect(occasion).toMatchObject({ campaignId: 'first-purchase-thanks', occasionKey: 'first-purchase-thanks', dueAt: firstOrder, expiresAt: firstOrder + 72 * HOUR, priority: 1, details: { late: false } });
    expect(due(subscriber, firstOrder + 30 * HOUR, ctx)[0]?.details.late).toBe(true);
    expect(due(subscriber, firstOrder + 72 * HOUR, ctx)).toHaveLength(0);
    expect(due(client(firstOrder - 72 * HOUR), firstOrder, ctx).map((o) => o.campaignId)).toEqual(['first-purchase-thanks']);
  });

  it('is not due when the sign-up was less than 72 hours before (the welcome covers it) or unknown', () => {
    expect(due(client(firstOrder - 71 * HOUR), firstOrder, ctx).map((o) => o.campaignId)).toEqual(['welcome']);
    expect(due(client(undefined), firstOrder, ctx).map((o) => o.campaignId)).toEqual(['welcome']);
  });

  it('gives a sample like the welcome, a note to a VIC', () => {
    expect(due(client(firstOrder - 30 * DAY), firstOrder + HOUR, ctx)[0]?.details.offer).toEqual({ kind: 'sample' });
    expect(due({ ...client(firstOrder - 30 * DAY), tier: 'VIC' }, firstOrder + HOUR, ctx)[0]?.details.offer).toEqual({ kind: 'personal-note' });
  });

  it('property: a client is never both welcomed and thanked, and the one contact is acknowledged whenever the first order comes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 * 24 }), fc.constantFrom(...ZONES), (gapHours, zone) => {
        const signedUp = Date.UTC(2026, 0, 5, 7);
        const ordered = signedUp + gapHours * HOUR;
        const profile = clientProfile({ timeZone: zone, signedUpAt: iso(signedUp), firstOrderAt: iso(ordered), lastOrderAt: iso(ordered) });
        const sent = new Set<string>();
        const each: DueOccasion[] = [];
        for (let h = signedUp - HOUR; h < ordered + 100 * HOUR; h += gapHours > 500 && h > signedUp + 80 * HOUR && h < ordered - HOUR ? 24 * HOUR : HOUR) {
          for (const o of due(profile, h, ctx)) {
            if (!sent.has(o.occasionKey)) each.push(o);
            sent.add(o.occasionKey);
          }
        }
        const campaigns = each.map((o) => o.campaignId);
        expect(campaigns.filter((c) => c === 'welcome')).toHaveLength(1);
        // Thanked exactly when the welcome (at the sign-up) had expired by the first order.
        expect(campaigns.includes('first-purchase-thanks')).toBe(gapHours >= 72);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the due index with the plays on', () => {
  it('keeps its lookback to the birthday month: about 36 daily queries with the default 72-hour expiry lookback', async () => {
    const { dueDaysBetween, dueIndexQueryFrom } = await import('#shared/campaigns/due-index.ts');
    const now = Date.UTC(2026, 5, 1, 10);
    const days = dueDaysBetween(dueIndexQueryFrom(now - HOUR, campaignsConfigSchema.parse({}), 72 * HOUR), now);
    expect(days.length).toBeLessThanOrEqual(37);
    expect(addDays(days[0] as string, days.length - 1)).toBe('2026-06-01');
  });
});
