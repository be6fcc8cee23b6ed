import { describe, expect, it } from 'vitest';
import { dueOccasions, endedOccasions, type CampaignContext } from '#shared/campaigns/due.ts';
import { inAudience } from '#shared/campaigns/policy.ts';
import { campaignsConfigSchema, type CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import { parseConfig } from '#shared/config.ts';
import type { ClientProfile } from '#shared/model.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { at, HOUR, iso } from '#test/support/time.ts';
import { CATALOG, context } from './fixtures.ts';

const SH = 'Asia/Shanghai';
const one = (campaign: Record<string, unknown>, extra: Partial<CampaignsConfigInput> = {}): CampaignContext =>
  context({ ...extra, campaigns: [{ id: 'test', template: 'winback', ...campaign } as never] });
const due = (client: ClientProfile, now: number, ctx: CampaignContext) => dueOccasions(client, CATALOG, now, ctx);

describe('a campaign in the vocabulary', () => {
  it('parses with the defaults of its trigger (kind custom, priority 5, no offer, once per occasion)', () => {
    const config = campaignsConfigSchema.parse({ campaigns: [{ id: 'birthday', trigger: { on: 'birthday', daysBefore: 7 }, template: { en: 'winback', 'zh-CN': 'welcome' } }] });
    expect(config.campaigns[0]).toMatchObject({
      kind: 'custom',
      id: 'birthday',
      enabled: true,
      priority: 5,
      trigger: { on: 'birthday', daysBefore: 7 },
      timing: { delayHours: 0, oncePer: 'occasion' },
      offers: { default: { kind: 'none' } },
      personal: false,
    });
  });

  it('accepts the three built-ins in their older form next to it', () => {
    const config = campaignsConfigSchema.parse({ campaigns: [{ kind: 'welcome' }, { kind: 'winback', timing: { afterDays: 45 } }, { id: 'up', trigger: { on: 'tier-changed', direction: 'up' }, template: 'welcome' }] });
    expect(config.campaigns.map((c) => c.kind)).toEqual(['welcome', 'winback', 'custom']);
  });

  const refused: [string, Record<string, unknown>, (string | number)[]][] = [
    ['an unknown trigger', { id: 'x', trigger: { on: 'anniversary' }, template: 'winback' }, ['campaigns', 0, 'trigger', 'on']],
    ['a negative lead', { id: 'x', trigger: { on: 'birthday', daysBefore: -1 }, template: 'winback' }, ['campaigns', 0, 'trigger', 'daysBefore']],
    ['decreasing steps', { id: 'x', trigger: { on: 'no-order-for', days: [180, 120] }, template: 'winback' }, ['campaigns', 0, 'trigger', 'days']],
    ['two cut-offs', { id: 'x', trigger: { on: 'any-order' }, timing: { cutoffHours: 10, cutoffDays: 2 }, template: 'winback' }, ['campaigns', 0, 'timing', 'cutoffDays']],
    ['a cut-off before the delay', { id: 'x', trigger: { on: 'signed-up' }, timing: { delayHours: 10, cutoffHours: 5 }, template: 'winback' }, ['campaigns', 0, 'timing', 'cutoffHours']],
    ['an unknown once-per', { id: 'x', trigger: { on: 'any-order' }, timing: { oncePer: 'month' }, template: 'winback' }, ['campaigns', 0, 'timing', 'oncePer']],
    ['an empty template', { id: 'x', trigger: { on: 'any-order' }, template: '' }, ['campaigns', 0, 'template']],
    ['no id', { trigger: { on: 'any-order' }, template: 'winback' }, ['campaigns', 0, 'id']],
    ['an unknown tier in tier-changed', { id: 'x', trigger: { on: 'tier-changed', to: ['Gold'] }, template: 'winback' }, ['campaigns', 0, 'trigger', 'to', 0]],
    ['a season the calendar lacks', { id: 'x', trigger: { on: 'season-starts', seasons: ['winter'] }, template: 'winback' }, ['campaigns', 0, 'trigger', 'seasons', 0]],
    ['an inverted days-since range', { id: 'x', trigger: { on: 'any-order' }, audience: { daysSinceLastOrder: { min: 30, max: 10 } }, template: 'winback' }, ['campaigns', 0, 'audience', 'daysSinceLastOrder']],
  ];
  it.each(refused)('refuses %s, naming the field', (_name, campaign, path) => {
    const result = campaignsConfigSchema.safeParse({ seasons: [{ name: 'spring', starts: '03-01' }], campaigns: [campaign] });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toContainEqual(path);
  });

  it('names the campaign by id and the field path in the configuration error', () => {
    expect(() => parseConfig({ campaigns: { campaigns: [{ kind: 'welcome' }, { id: 'birthday-7', trigger: { on: 'birthday', daysBefore: -7 }, template: 'winback' }] } })).toThrow(
      /campaign "birthday-7" at campaigns\.campaigns\.1\.trigger\.daysBefore/,
    );
    expect(() => parseConfig({ campaigns: { campaigns: [{ id: 'moved', trigger: { on: 'rfm-segment-entered', segments: ['vip'] }, template: 'winback' }] } })).toThrow(/no RFM segment "vip"/);
    expect(() => parseConfig({ campaigns: { seasons: [{ name: 'spring', starts: '02-30' }] } })).toThrow(/campaigns\.seasons\.0\.starts: must be a real day of the year/);
  });
});

describe('the triggers in time', () => {
  it('birthday -7 days: due from local midnight 7 days before, through the day, once per year', () => {
    const ctx = one({ trigger: { on: 'birthday', daysBefore: 7 } });
    const client = clientProfile({ timeZone: SH, birthday: '1990-05-20' });
    expect(due(client, at('2026-05-12T23:59'), ctx)).toHaveLength(0);
    const [occasion] = due(client, at('2026-05-13T00:00'), ctx);
    expect(occasion).toMatchObject({ occasionKey: 'test#2026', dueAt: at('2026-05-13T00:00'), expiresAt: at('2026-05-21T00:00'), kind: 'custom', details: { birthdayDate: '2026-05-20' } });
    expect(due(client, at('2026-05-20T23:59'), ctx)).toHaveLength(1);
    expect(due(client, at('2026-05-21T00:00'), ctx)).toHaveLength(0);
    expect(due(client, at('2027-05-14T10:00'), ctx)[0]?.occasionKey).toBe('test#2027');
  });

  it('birthday: a month-only birthday counts from the 1st, a Feb 29 one from Feb 28 in other years, across New Year', () => {
    const ctx = one({ trigger: { on: 'birthday', daysBefore: 3 } });
    expect(due(clientProfile({ birthday: '--06' }), at('2026-05-29T10:00'), ctx)[0]?.details.birthdayDate).toBe('2026-06-01');
    expect(due(clientProfile({ birthday: '1988-06' }), at('2026-06-01T10:00'), ctx)[0]?.details.birthdayDate).toBe('2026-06-01');
    expect(due(clientProfile({ birthday: '2000-02-29' }), at('2027-02-26T10:00'), ctx)[0]?.details.birthdayDate).toBe('2027-02-28');
    const [newYear] = due(clientProfile({ birthday: '01-02' }), at('2026-12-30T10:00'), ctx);
    expect(newYear).toMatchObject({ occasionKey: 'test#2027', details: { birthdayDate: '2027-01-02' } });
  });

  it('tier changed up: the day after the night that saw it, not for a move down or a first sight', () => {
    const ctx = one({ trigger: { on: 'tier-changed', direction: 'up', daysAfter: 1 } });
    const upgraded = clientProfile({ tier: 'Core', previousTier: 'Potential', tierChangedOn: '2026-06-10' });
    expect(due(upgraded, at('2026-06-10T23:59'), ctx)).toHaveLength(0);
    expect(due(upgraded, at('2026-06-11T09:00'), ctx)[0]).toMatchObject({ occasionKey: 'test#2026-06-10', details: { fromTier: 'Potential', toTier: 'Core' } });
    expect(due(upgraded, at('2026-06-18T00:00'), ctx)).toHaveLength(0); // a week's cut-off
    expect(due(clientProfile({ tier: 'Potential', previousTier: 'Core', tierChangedOn: '2026-06-10' }), at('2026-06-11T09:00'), ctx)).toHaveLength(0);
    expect(due(clientProfile({ tier: 'Core' }), at('2026-06-11T09:00'), ctx)).toHaveLength(0);
    // A first purchase (from Prospect) is not an upgrade, nor a move down; any move still is one.
    const firstPurchase = clientProfile({ tier: 'Potential', previousTier: 'Prospect', tierChangedOn: '2026-06-10' });
    expect(due(firstPurchase, at('2026-06-11T09:00'), ctx)).toHaveLength(0);
    expect(due(firstPurchase, at('2026-06-11T09:00'), one({ trigger: { on: 'tier-changed', direction: 'down' } }))).toHaveLength(0);
    expect(due(firstPurchase, at('2026-06-11T09:00'), one({ trigger: { on: 'tier-changed', direction: 'any' } }))).toHaveLength(1);
    const toVic = one({ trigger: { on: 'tier-changed', to: ['VIC'] } });
    expect(due(upgraded, at('2026-06-10T09:00'), toVic)).toHaveLength(0);
    // Back in the tier she left days before (the night recorded tierReturnLeftOn): no move up, and no move for 'any' or 'down'.
    const back = { ...upgraded, tierReturnLeftOn: '2026-06-02' };
    for (const direction of ['up', 'any'] as const) expect(due(back, at('2026-06-11T09:00'), one({ trigger: { on: 'tier-changed', direction } }))).toHaveLength(0);
    const backDown = clientProfile({ tier: 'Potential', previousTier: 'Core', tierChangedOn: '2026-06-10', tierReturnLeftOn: '2026-06-02' });
    expect(due(backDown, at('2026-06-11T09:00'), one({ trigger: { on: 'tier-changed', direction: 'down' } }))).toHaveLength(0);
  });

  it('stage and RFM segment entered: keyed by what was entered and when', () => {
    const client = clientProfile({ stage: 'at-risk', stageEnteredOn: '2026-06-10', rfm: { r: 2, f: 4, m: 4, segment: 'at-risk' }, rfmSegmentEnteredOn: '2026-06-09' });
    expect(due(client, at('2026-06-12T10:00'), one({ trigger: { on: 'stage-entered', stages: ['at-risk', 'sleeping'] } }))[0]?.occasionKey).toBe('test#at-risk#2026-06-10');
    expect(due(client, at('2026-06-12T10:00'), one({ trigger: { on: 'stage-entered', stages: ['sleeping'] } }))).toHaveLength(0);
    expect(due(client, at('2026-06-12T10:00'), one({ trigger: { on: 'rfm-segment-entered', segments: ['at-risk'] } }))[0]?.occasionKey).toBe('test#at-risk#2026-06-09');
  });

  it('season starts -7 days, for each season of the calendar', () => {
    const ctx = one({ trigger: { on: 'season-starts', daysBefore: 7 } }, { seasons: [{ name: 'spring', starts: '03-01' }, { name: 'autumn', starts: '09-01' }] });
    const client = clientProfile({ timeZone: SH });
    expect(due(client, at('2026-02-22T00:00'), ctx)[0]).toMatchObject({ occasionKey: 'test#spring#2026', details: { season: 'spring', seasonStartDate: '2026-03-01' } });
    expect(due(client, at('2026-03-02T00:00'), ctx)).toHaveLength(0);
    expect(due(client, at('2026-08-30T00:00'), ctx)[0]?.occasionKey).toBe('test#autumn#2026');
  });

  it('first order + 7 days, any order + N days and the predicted next order, showing what the order bought', () => {
    const bought = iso(at('2026-06-01T15:00'));
    const client = clientProfile({ timeZone: SH, firstOrderAt: bought, lastOrderAt: bought, skus: { CREAM: { lastPurchasedAt: bought, quantity: 1, purchases: 1, productName: 'Night Cream', category: 'skin' } } });
    const firstOrder = one({ trigger: { on: 'first-order', daysAfter: 7 } });
    expect(due(client, at('2026-06-07T23:59'), firstOrder)).toHaveLength(0);
    expect(due(client, at('2026-06-08T00:00'), firstOrder)[0]).toMatchObject({ occasionKey: 'test', details: { products: [{ sku: 'CREAM', productName: 'Night Cream' }] } });
    expect(due(client, at('2026-06-04T00:00'), one({ trigger: { on: 'any-order', daysAfter: 3 } }))[0]?.occasionKey).toBe(`test#${bought}`);
    const predicted = { ...client, clv: { probabilityAlive: 0.9, expectedPurchases90d: 1, expectedPurchases365d: 3, expectedAverageOrderValueMinor: 1, clv12mMinor: 1, rising: false, churnRisk: 'low' as const, predictedNextOrderAt: '2026-08-01' } };
    expect(due(predicted, at('2026-07-25T00:00'), one({ trigger: { on: 'predicted-next-order', daysBefore: 7 } }))[0]?.occasionKey).toBe(`test#next-order#${bought}`);
  });

  it('the predicted next order: keyed by the last order, so a refit that moves the day moves the same occasion; none due by the last order', () => {
    const bought = iso(at('2026-06-01T15:00'));
    const clv = { probabilityAlive: 0.9, expectedPurchases90d: 1, expectedPurchases365d: 3, expectedAverageOrderValueMinor: 1, clv12mMinor: 1, rising: false, churnRisk: 'low' as const };
    const client = (predictedNextOrderAt: string, lastOrderAt = bought) => clientProfile({ timeZone: SH, firstOrderAt: bought, lastOrderAt, clv: { ...clv, predictedNextOrderAt } });
    const ctx = one({ trigger: { on: 'predicted-next-order', daysBefore: 7 } });
    const first = due(client('2026-08-01'), at('2026-07-25T00:00'), ctx)[0];
    const moved = due(client('2026-08-06'), at('2026-07-30T00:00'), ctx)[0];
    expect(first).toMatchObject({ occasionKey: `test#next-order#${bought}`, keyOutlivesWindow: true, details: { predictedOrderDate: '2026-08-01' } });
    expect(moved).toMatchObject({ occasionKey: first?.occasionKey, details: { predictedOrderDate: '2026-08-06' } });
    // An order merged before the night refits: the prediction is the order before's, due before this order.
    expect(due(client('2026-08-01', iso(at('2026-07-26T10:00'))), at('2026-07-26T12:00'), ctx)).toHaveLength(0);
    expect(due(clientProfile({ timeZone: SH, clv: { ...clv, predictedNextOrderAt: '2026-08-01' } }), at('2026-07-25T00:00'), ctx)).toHaveLength(0);
  });

  it('signed up, with a delay: from delayHours after sign-up to the 72-hour cut-off', () => {
    const signedUp = at('2026-06-01T10:00');
    const ctx = one({ trigger: { on: 'signed-up' }, timing: { delayHours: 2 } });
    const client = clientProfile({ signedUpAt: iso(signedUp) });
    expect(due(client, signedUp + HOUR, ctx)).toHaveLength(0);
    expect(due(client, signedUp + 2 * HOUR, ctx)[0]).toMatchObject({ occasionKey: 'test', triggerAt: signedUp, dueAt: signedUp + 2 * HOUR, expiresAt: signedUp + 72 * HOUR });
  });

  it('cross-category: the category clients with the same top category buy most that the client never bought, with catalogue products of it', () => {
    const lastOrderAt = iso(at('2026-01-01T12:00'));
    const client = clientProfile({ timeZone: SH, lastOrderAt, topCategory: 'skin', skus: { CREAM: { lastPurchasedAt: lastOrderAt, quantity: 1, purchases: 1, category: 'skin' } } });
    const campaign = { trigger: { on: 'no-order-for', days: 120 }, products: { from: 'cross-category' } };
    // 25 skin buyers: 20 also bought fragrance, 5 bags; the brand's own ranking would say bags.
    const categoryAffinity = { buyers: { skin: 25, bags: 60 }, alsoBought: { skin: { fragrance: 20, bags: 5 }, bags: {} } };
    const when = at('2026-05-01T00:00');
    expect(due(client, when, { ...one(campaign), categoryAffinity })[0]?.details).toMatchObject({ recommendedCategory: 'fragrance', products: [{ sku: 'PERFUME', productName: 'Eau de Parfum' }] });
    // Without a night's affinity the email shows no products rather than a guess.
    const without = due(client, when, one(campaign))[0]?.details;
    expect(without).not.toHaveProperty('recommendedCategory');
    expect(without).not.toHaveProperty('products');
  });

  it('no order for 120/180/365 days: one occasion per step and lapse, each keyed by its day and ending at the next step', () => {
    const lastOrderAt = iso(at('2026-01-01T12:00'));
    const ctx = one({ trigger: { on: 'no-order-for', days: [120, 180, 365] }, timing: { cutoffDays: 90 } });
    const client = clientProfile({ timeZone: SH, lastOrderAt, topCategory: 'skin', skus: { CREAM: { lastPurchasedAt: lastOrderAt, quantity: 1, purchases: 1, category: 'skin' } } });
    const [first] = due(client, at('2026-05-01T00:00'), ctx);
    expect(first).toMatchObject({ occasionKey: `test#${lastOrderAt}#120d`, expiresAt: at('2026-06-30T00:00'), details: { lapseStepDays: 120, daysSinceLastOrder: 120, recommendedCategory: 'skin', products: [{ sku: 'CREAM' }] } });
    expect(due(client, at('2026-06-30T00:00'), ctx)[0]).toMatchObject({ occasionKey: `test#${lastOrderAt}#180d`, details: { lapseStepDays: 180 } });
    expect(due(client, at('2027-01-01T00:00'), ctx)[0]?.occasionKey).toBe(`test#${lastOrderAt}#365d`);
    expect(endedOccasions(client, CATALOG, at('2026-06-29T00:00'), at('2026-06-30T00:00'), ctx).map((o) => o.occasionKey)).toEqual([`test#${lastOrderAt}#120d`]);
  });

  it('product runs out, as a campaign of its own: the product in the list, the cut-off at the run-out day', () => {
    const bought = iso(at('2026-01-10T10:00'));
    const client = clientProfile({ timeZone: SH, skus: { CREAM: { lastPurchasedAt: bought, quantity: 1, purchases: 1 } } });
    const [reminder] = due(client, at('2026-04-03T00:00'), one({ trigger: { on: 'product-runs-out', daysBefore: 7 } }));
    expect(reminder).toMatchObject({ occasionKey: `test#CREAM#${bought}`, expiresAt: at('2026-04-10T00:00'), details: { runOutDate: '2026-04-10', products: [{ sku: 'CREAM', productName: 'Night Cream' }] } });
  });
});

describe('once-per keys', () => {
  const lastOrderAt = iso(at('2026-01-01T12:00'));
  const client = clientProfile({ timeZone: SH, birthday: '05-20', lastOrderAt, previousTier: 'Entry', tierChangedOn: '2026-03-01' });
  const key = (oncePer: string) => due(client, at('2026-05-18T10:00'), one({ trigger: { on: 'birthday', daysBefore: 7 }, timing: { oncePer } }))[0]?.occasionKey;
  it.each([
    ['occasion', 'test#2026'],
    ['year', 'test#2026'],
    ['ever', 'test'],
    ['lapse', `test#${lastOrderAt}`],
    ['purchase', `test#${lastOrderAt}`],
    ['tier-change', 'test#2026-03-01'],
  ])('%s gives %s', (oncePer, expected) => expect(key(oncePer)).toBe(expected));

  it('one occasion per key when several windows share it (the first by due date)', () => {
    const bought = (day: string) => iso(at(`${day}T10:00`));
    const twoProducts = clientProfile({ timeZone: SH, skus: { CREAM: { lastPurchasedAt: bought('2026-01-10'), quantity: 1, purchases: 1 }, SERUM: { lastPurchasedAt: bought('2026-02-05'), quantity: 1, purchases: 1 } } });
    const ctx = one({ trigger: { on: 'product-runs-out', daysBefore: 10 }, timing: { oncePer: 'ever' } });
    const found = due(twoProducts, at('2026-04-05T10:00'), ctx);
    // SERUM runs out on 04-06 (due from 03-27), CREAM on 04-10 (due from 03-31).
    expect(found.map((o) => [o.occasionKey, o.details.sku])).toEqual([['test', 'SERUM']]);
  });
});

describe('template per locale', () => {
  it('picks the template of the client\'s template locale, English for the others', () => {
    const ctx = one({ trigger: { on: 'signed-up' }, template: { en: 'welcome', 'zh-CN': 'winback' } });
    const signedUpAt = iso(at('2026-06-01T10:00'));
    const template = (locale?: string) => due(clientProfile({ signedUpAt, ...(locale ? { locale } : {}) }), at('2026-06-01T11:00'), ctx)[0]?.template;
    expect([template('zh-CN'), template('zh-Hant-TW'), template('en-US'), template('fr'), template()]).toEqual(['winback', 'winback', 'welcome', 'welcome', 'welcome']);
  });
});

describe('audience filters', () => {
  const now = at('2026-06-15T10:00');
  const audience = (filters: Record<string, unknown>) => context({ campaigns: [{ id: 'a', trigger: { on: 'any-order' }, template: 'winback', audience: filters } as never] }).campaigns.campaigns[0]!;
  const client = clientProfile({
    timeZone: SH,
    locale: 'zh-CN',
    lastOrderAt: iso(at('2026-05-16T10:00')),
    skus: { CREAM: { lastPurchasedAt: iso(at('2026-05-16T10:00')), quantity: 1, purchases: 1, category: 'skin' } },
    clv: { probabilityAlive: 0.5, expectedPurchases90d: 1, expectedPurchases365d: 2, expectedAverageOrderValueMinor: 1, clv12mMinor: 1, rising: true, churnRisk: 'medium' },
  });
  it.each([
    [{ locales: ['zh'] }, true],
    [{ locales: ['en', 'zh-TW'] }, false],
    [{ rising: true }, true],
    [{ rising: false }, false],
    [{ churnRisk: ['high', 'medium'] }, true],
    [{ churnRisk: ['low'] }, false],
    [{ boughtCategories: ['skin', 'bags'] }, true],
    [{ boughtCategories: ['bags'] }, false],
    [{ neverBoughtCategories: ['bags'] }, true],
    [{ neverBoughtCategories: ['skin'] }, false],
    [{ daysSinceLastOrder: { min: 30, max: 30 } }, true],
    [{ daysSinceLastOrder: { min: 31 } }, false],
    [{ daysSinceLastOrder: { max: 29 } }, false],
  ])('%o: %s', (filters, expected) => expect(inAudience(audience(filters), client, now, SH)).toBe(expected));

  it('is not met without the data it filters on', () => {
    const bare = clientProfile();
    expect(inAudience(audience({ locales: ['en'] }), bare, now, SH)).toBe(false);
    expect(inAudience(audience({ churnRisk: ['low'] }), bare, now, SH)).toBe(false);
    expect(inAudience(audience({ daysSinceLastOrder: { max: 1000 } }), bare, now, SH)).toBe(false);
    // No prediction (a night without a CLV fit, a Prospect): neither rising nor not, so "not rising" does not mail everyone.
    expect(inAudience(audience({ rising: false }), bare, now, SH)).toBe(false);
    expect(inAudience(audience({ rising: true }), bare, now, SH)).toBe(false);
    expect(inAudience(audience({ rising: false }), { ...bare, clv: { ...client.clv!, rising: false } }, now, SH)).toBe(true);
  });
});
