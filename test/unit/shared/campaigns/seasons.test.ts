import { describe, expect, it } from 'vitest';
import { dueOccasions, sendWindows, type CampaignContext } from '#shared/campaigns/due.ts';
import { campaignsConfigSchema, type CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import { boughtInWindow, lastYearWindow, seasonOn } from '#shared/campaigns/seasons.ts';
import type { ClientProfile, SkuPurchase } from '#shared/model.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { at, iso } from '#test/support/time.ts';
import { CATALOG, context } from './fixtures.ts';

/**
 * The seasons in time (shared/campaigns/seasons.ts) and the words that read them: the season-starts
 * trigger's `boughtLastYear` and the products source `{ "from": "last-season" }`.
 */

const SH = 'Asia/Shanghai';
const SEASONS = [
  { name: 'spring-summer', starts: '03-01' },
  { name: 'autumn-winter', starts: '09-01' },
];
const one = (campaign: Record<string, unknown>, extra: Partial<CampaignsConfigInput> = {}): CampaignContext =>
  context({ seasons: SEASONS, ...extra, campaigns: [{ id: 'test', template: 'winback', ...campaign } as never] });
const bought = (when: string, fields: Partial<SkuPurchase> = {}): SkuPurchase => ({ lastPurchasedAt: iso(at(when, SH)), quantity: 1, purchases: 1, ...fields });

describe('the seasons of the calendar', () => {
  it('a season runs from its start to the next one, the calendar wrapping at New Year', () => {
    expect(seasonOn(SEASONS, '2026-03-01')).toEqual({ season: 'spring-summer', from: '2026-03-01', to: '2026-09-01' });
    expect(seasonOn(SEASONS, '2026-08-31')).toEqual({ season: 'spring-summer', from: '2026-03-01', to: '2026-09-01' });
    expect(seasonOn(SEASONS, '2027-01-15')).toEqual({ season: 'autumn-winter', from: '2026-09-01', to: '2027-03-01' });
    expect(seasonOn([{ name: 'year', starts: '01-01' }], '2026-07-01')).toEqual({ season: 'year', from: '2026-01-01', to: '2027-01-01' });
    expect(seasonOn([], '2026-07-01')).toBeUndefined();
  });

  it("last year's window: last year's start of the season in force to last year's start of the next", () => {
    expect(lastYearWindow(SEASONS, '2026-09-01')).toEqual({ season: 'autumn-winter', from: '2025-09-01', to: '2026-03-01' });
    expect(lastYearWindow(SEASONS, '2027-03-01')).toEqual({ season: 'spring-summer', from: '2026-03-01', to: '2026-09-01' });
    // A season starting on Feb 29 starts on Feb 28 in other years.
    expect(lastYearWindow([{ name: 'leap', starts: '02-29' }, { name: 'later', starts: '06-01' }], '2028-02-29')).toEqual({ season: 'leap', from: '2027-02-28', to: '2027-06-01' });
  });

  it('the SKUs bought in a window are those last bought in it (local days), most recent first', () => {
    const client = clientProfile({
      skus: {
        BEFORE: bought('2026-02-28 23:59'),
        FIRST: bought('2026-03-01 00:00'),
        LATER: bought('2026-07-10 12:00'),
        // Bought in the season and again since: the profile keeps the last purchase only.
        AGAIN: bought('2026-10-02 12:00'),
        AFTER: bought('2026-09-01 00:00'),
      },
    });
    expect(boughtInWindow(client, { season: 'spring-summer', from: '2026-03-01', to: '2026-09-01' }, SH).map((p) => p.sku)).toEqual(['LATER', 'FIRST']);
  });
});

describe('season-starts with boughtLastYear and products from last season', () => {
  const seasonal = { trigger: { on: 'season-starts', daysBefore: 7, boughtLastYear: true }, products: { from: 'last-season', required: true } };
  const client = (skus: Record<string, SkuPurchase>): ClientProfile => clientProfile({ timeZone: SH, skus });

  it("is due 7 days before a season for a client who bought in it last year, showing last year's picks", () => {
    const buyer = client({ BAG: bought('2025-10-03 12:00', { productName: 'Tote', category: 'bags' }), CREAM: bought('2026-04-01 12:00') });
    const ctx = one(seasonal);
    expect(dueOccasions(buyer, CATALOG, at('2026-08-24 23:59', SH), ctx)).toHaveLength(0);
    const [occasion] = dueOccasions(buyer, CATALOG, at('2026-08-25 00:00', SH), ctx);
    expect(occasion).toMatchObject({
      occasionKey: 'test#autumn-winter#2026',
      expiresAt: at('2026-09-02 00:00', SH),
      details: { season: 'autumn-winter', seasonStartDate: '2026-09-01', lastSeason: 'autumn-winter', products: [{ sku: 'BAG', productName: 'Tote' }] },
    });
    // Spring-summer 2027: the cream of April 2026 was bought in spring-summer 2026.
    expect(dueOccasions(buyer, CATALOG, at('2027-02-22 10:00', SH), ctx)[0]?.details.products).toEqual([{ sku: 'CREAM', productName: 'Night Cream' }]);
  });

  it('gives no window at all to a client who did not buy in that season last year (the due index does not read them)', () => {
    const ctx = one(seasonal);
    const range = { from: at('2026-01-01 00:00', SH), to: at('2026-12-31 00:00', SH) };
    // Bought in spring-summer 2026 only: of the seasons of 2025-2027 the range touches, spring-summer 2027 alone.
    expect(sendWindows(client({ CREAM: bought('2026-04-01 12:00') }), CATALOG, ctx, range).map((w) => w.dueAt)).toEqual([at('2027-02-22 00:00', SH)]);
    expect(sendWindows(clientProfile({ timeZone: SH }), CATALOG, ctx, range)).toEqual([]);
    // Without boughtLastYear every client has the windows of every season of the years touched (2025-2027).
    expect(sendWindows(clientProfile({ timeZone: SH }), CATALOG, one({ trigger: { on: 'season-starts' } }), range)).toHaveLength(6);
  });

  it('without a purchase in the window, a required last-season list means no email; not required, an email without products', () => {
    const spring = client({ CREAM: bought('2025-04-01 12:00') });
    const now = at('2026-08-26 10:00', SH);
    expect(dueOccasions(spring, CATALOG, now, one({ trigger: { on: 'season-starts' }, products: { from: 'last-season', required: true } }))).toHaveLength(0);
    const [plain] = dueOccasions(spring, CATALOG, now, one({ trigger: { on: 'season-starts' }, products: { from: 'last-season' } }));
    expect(plain?.details).toMatchObject({ lastSeason: 'autumn-winter' });
    expect(plain?.details.products).toBeUndefined();
  });

  it("any trigger may show last season's products: the season in force on the occasion's day, a year earlier", () => {
    const buyer = client({ CREAM: bought('2025-05-10 12:00') });
    const [occasion] = dueOccasions({ ...buyer, birthday: '1990-06-20' }, CATALOG, at('2026-06-20 10:00', SH), one({ trigger: { on: 'birthday' }, products: { from: 'last-season' } }));
    expect(occasion?.details).toMatchObject({ lastSeason: 'spring-summer', products: [{ sku: 'CREAM', productName: 'Night Cream' }] });
  });

  it('refuses products from last season without seasons, naming the campaign and field', () => {
    const result = campaignsConfigSchema.safeParse({ campaigns: [{ id: 'picks', trigger: { on: 'birthday' }, template: 'winback', products: { from: 'last-season' } }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toContainEqual(expect.objectContaining({ path: ['campaigns', 0, 'products', 'from'], message: 'campaign "picks": products from last season need campaigns.seasons' }));
  });
});
