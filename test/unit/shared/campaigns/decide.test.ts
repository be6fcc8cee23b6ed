import { describe, expect, it } from 'vitest';
import { dueOccasions, type CampaignContext, type DueOccasion } from '#shared/campaigns/due.ts';
import { companionOccasions, decide, inControlGroup, type ClientState, type Decision, type RecentSend } from '#shared/campaigns/policy.ts';
import { campaignsConfigSchema, type CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import type { ClientProfile, ProductRecord, SkuPurchase } from '#shared/model.ts';
import type { CategoryAffinity } from '#shared/segments/category-affinity.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { DAY, HOUR, MINUTE, at, iso } from '#test/support/time.ts';
import { CATALOG, context } from './fixtures.ts';

// No control group unless a test asks for one, so outcomes do not depend on the hash.
const NO_CONTROL: CampaignsConfigInput = { policy: { controlShare: 0 } };
const CTX = context(NO_CONTROL);
const NOON = at('2026-03-26T12:00');

/** A made-up client due all three campaigns at NOON (Shanghai), to see priority and the cap. */
function busyClient(fields: Partial<ClientProfile> = {}): ClientProfile {
  return clientProfile({
    timeZone: 'Asia/Shanghai',
    signedUpAt: iso(NOON - 2 * HOUR),
    firstOrderAt: iso(NOON - HOUR),
    lastOrderAt: iso(at('2026-01-20T10:00')),
    skus: {
      CREAM: { lastPurchasedAt: iso(at('2026-01-10T10:00')), quantity: 1, purchases: 1 },
      SERUM: { lastPurchasedAt: iso(at('2026-02-08T10:00')), quantity: 1, purchases: 1 },
    },
    ...fields,
  });
}

function run(
  client: ClientProfile,
  options: { now?: number; ctx?: CampaignContext; suppressed?: boolean; recentSends?: RecentSend[]; due?: DueOccasion[] } = {},
): { occasion: DueOccasion; decision: Decision }[] {
  const now = options.now ?? NOON;
  const ctx = options.ctx ?? CTX;
  const state: ClientState = { profile: client, suppressed: options.suppressed ?? false, recentSends: options.recentSends ?? [] };
  return decide(state, options.due ?? dueOccasions(client, CATALOG, now, ctx), now, ctx);
}

/** A made-up client id that the campaign's control group holds out at `share` (a share of 1 is refused). */
function heldOutOf(campaignId: string, share: number): string {
  const id = Array.from({ length: 200 }, (_, i) => `client-${i}`).find((candidate) => inControlGroup(candidate, campaignId, share));
  if (id === undefined) throw new Error(`no client held out of ${campaignId} at ${share}`);
  return id;
}

const summary = (decided: { occasion: DueOccasion; decision: Decision }[]) =>
  decided.map(({ occasion, decision }) => [occasion.campaignId, occasion.details.sku ?? '', decision.outcome, 'reason' in decision ? decision.reason : '']);

describe('decide: priority and the frequency cap', () => {
  it('lets only the highest priority go; the others wait with reason priority', () => {
    expect(summary(run(busyClient()))).toEqual([
      ['welcome', '', 'send', ''],
      ['replenishment', 'SERUM', 'capped', 'priority'],
      ['replenishment', 'CREAM', 'capped', 'priority'],
      ['winback', '', 'capped', 'priority'],
    ]);
  });

  it('follows configured priorities', () => {
    const ctx = context({ ...NO_CONTROL, campaigns: [{ kind: 'welcome', priority: 5 }, { kind: 'replenishment' }, { kind: 'winback', priority: 0 }] });
    const sent = run(busyClient(), { ctx }).filter((d) => d.decision.outcome === 'send');
    expect(sent.map((d) => d.occasion.campaignId)).toEqual(['winback']);
  });

  it('caps everything for 24 h after a send, then lets the next priority go', () => {
    const client = busyClient();
    const welcomeSent: RecentSend[] = [{ campaignId: 'welcome', sentAt: NOON }];
    const notWelcome = (now: number) => dueOccasions(client, CATALOG, now, CTX).filter((o) => o.kind !== 'welcome');
    const hourLater = NOON + HOUR;
    expect(summary(run(client, { now: hourLater, recentSends: welcomeSent, due: notWelcome(hourLater) })).map((s) => s[2] + ':' + s[3])).toEqual([
      'capped:frequency-24h',
      'capped:frequency-24h',
      'capped:frequency-24h',
    ]);
    const almostDay = NOON + 24 * HOUR - MINUTE;
    expect(run(client, { now: almostDay, recentSends: welcomeSent, due: notWelcome(almostDay) }).every((d) => d.decision.outcome === 'capped')).toBe(true);
    const dayLater = NOON + 24 * HOUR;
    const next = run(client, { now: dayLater, recentSends: welcomeSent, due: notWelcome(dayLater) });
    expect(summary(next).filter((s) => s[2] === 'send')).toEqual([['replenishment', 'SERUM', 'send', '']]);
  });

  it('allows 3 per rolling 7 days', () => {
    const client = busyClient();
    const three: RecentSend[] = [
      { campaignId: 'welcome', sentAt: NOON - 6 * DAY },
      { campaignId: 'replenishment', sentAt: NOON - 4 * DAY },
      { campaignId: 'replenishment', sentAt: NOON - 2 * DAY },
    ];
    expect(run(client, { recentSends: three }).map((d) => d.decision)).toEqual(Array(4).fill({ outcome: 'capped', reason: 'frequency-7d' }));
    // The oldest leaves the window after exactly 7 days.
    const later = NOON + DAY;
    expect(run(client, { now: later, recentSends: three, due: dueOccasions(client, CATALOG, NOON, CTX) }).some((d) => d.decision.outcome === 'send')).toBe(true);
    // Sends older than 7 days do not count.
    expect(run(client, { recentSends: [{ campaignId: 'winback', sentAt: NOON - 8 * DAY }] }).some((d) => d.decision.outcome === 'send')).toBe(true);
  });

  it('follows a configured cap', () => {
    const ctx = context({ policy: { controlShare: 0, frequencyCap: { per24h: 2, per7d: 2 } } });
    const client = busyClient();
    expect(run(client, { ctx, recentSends: [{ campaignId: 'welcome', sentAt: NOON - HOUR }] }).some((d) => d.decision.outcome === 'send')).toBe(true);
    const two: RecentSend[] = [
      { campaignId: 'welcome', sentAt: NOON - 3 * DAY },
      { campaignId: 'winback', sentAt: NOON - HOUR },
    ];
    expect(run(client, { ctx, recentSends: two }).every((d) => d.decision.outcome === 'capped')).toBe(true);
  });

  it('does not count held-out occasions, which the sender leaves out of recentSends', () => {
    // Held out of the welcome an hour ago: no email went, so the next campaign may go now.
    const client = busyClient();
    const due = dueOccasions(client, CATALOG, NOON, CTX).filter((o) => o.kind !== 'welcome');
    expect(run(client, { due, recentSends: [] }).filter((d) => d.decision.outcome === 'send')).toHaveLength(1);
  });

  it('counts a send dated after now (clock skew) rather than risk a second email', () => {
    expect(run(busyClient(), { recentSends: [{ campaignId: 'welcome', sentAt: NOON + 10 * MINUTE }] }).every((d) => d.decision.outcome === 'capped')).toBe(true);
  });
});

describe('decide: two occasions at one priority, the window that closes first', () => {
  // README: "a window that closes soon goes first"; the one that can still wait yields the hour.
  const SH = 'Asia/Shanghai';
  const affinity: CategoryAffinity = { buyers: { 'leather-goods': 40 }, alsoBought: { 'leather-goods': { skin: 25 } } };
  const ctx: CampaignContext = { ...context({ policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } } }), categoryAffinity: affinity };
  const bought = (when: number, fields: Partial<SkuPurchase> = {}): SkuPurchase => ({ lastPurchasedAt: iso(when), quantity: 1, purchases: 1, ...fields });
  const sent = (profile: ClientProfile, now: number) => {
    const due = dueOccasions(profile, CATALOG, now, ctx);
    return { due: due.map((o) => o.campaignId).sort(), sent: decide({ profile, suppressed: false, recentSends: [] }, due, now, ctx).filter((d) => d.decision.outcome === 'send').map((d) => d.occasion.campaignId) };
  };

  it('gives the hour to a cross-category suggestion on its last day, not to a birthday month with 12 days left (both priority 6)', () => {
    const order = at('2026-02-26 12:00', SH); // the suggestion opens 2026-03-19 and closes 2026-03-26 00:00
    const profile = clientProfile({
      timeZone: SH,
      tier: 'Entry',
      birthday: '1990-03-28',
      firstOrderAt: iso(at('2025-06-01 12:00', SH)),
      lastOrderAt: iso(order),
      topCategory: 'leather-goods',
      skus: { WALLET: bought(order, { category: 'leather-goods' }) },
    });
    // Opened earlier, the birthday month came first by its due time alone.
    expect(sent(profile, at('2026-03-25 11:00', SH))).toEqual({ due: ['birthday', 'cross-category'], sent: ['cross-category'] });
  });

  it('gives the hour to a tier thank-you (closes in 7 days) before a run-out reminder open for 5 days (closes in 10; both priority 2)', () => {
    const profile = clientProfile({
      timeZone: SH,
      tier: 'Potential',
      previousTier: 'Entry',
      tierChangedOn: '2026-03-21',
      orderCount: 3,
      firstOrderAt: iso(at('2025-06-01 12:00', SH)),
      lastOrderAt: iso(at('2026-03-20 12:00', SH)),
      topCategory: 'skin',
      // CREAM lasts 90 days: its reminder opened 2026-03-17, the product runs out 2026-04-01.
      skus: { CREAM: bought(at('2026-01-01 12:00', SH), { category: 'skin' }), WALLET: bought(at('2026-03-20 12:00', SH), { category: 'leather-goods' }) },
    });
    expect(sent(profile, at('2026-03-22 11:00', SH))).toEqual({ due: ['replenishment', 'tier-upgrade-thanks'], sent: ['tier-upgrade-thanks'] });
  });
});

describe('decide: audience, consent and suppression, in that order', () => {
  it('marks occasions outside the audience and lets the rest compete', () => {
    const ctx = context({ ...NO_CONTROL, campaigns: [{ kind: 'welcome', audience: { tiers: ['VIC', 'Core'] } }, { kind: 'replenishment' }, { kind: 'winback' }] });
    const decided = run(busyClient({ tier: 'Entry' }), { ctx });
    expect(summary(decided)[0]).toEqual(['welcome', '', 'out-of-audience', '']);
    expect(summary(decided).filter((s) => s[2] === 'send')).toEqual([['replenishment', 'SERUM', 'send', '']]);
  });

  it('filters by stage', () => {
    const ctx = context({ ...NO_CONTROL, campaigns: [{ kind: 'winback', audience: { stages: ['sleeping', 'at-risk'] } }] });
    const lapsed = busyClient({ signedUpAt: iso(NOON - 300 * DAY), firstOrderAt: iso(NOON - 300 * DAY), skus: {} });
    expect(run({ ...lapsed, stage: 'active' }, { ctx }).map((d) => d.decision.outcome)).toEqual(['out-of-audience']);
    expect(run({ ...lapsed, stage: 'sleeping' }, { ctx }).map((d) => d.decision.outcome)).toEqual(['send']);
  });

  it('treats an occasion of an unknown or disabled campaign as out of audience', () => {
    const due = dueOccasions(busyClient(), CATALOG, NOON, CTX);
    const ctx = context({ ...NO_CONTROL, campaigns: [{ kind: 'welcome', enabled: false }, { kind: 'winback' }] });
    expect(summary(run(busyClient(), { due, ctx }))).toEqual([
      ['welcome', '', 'out-of-audience', ''],
      ['replenishment', 'SERUM', 'out-of-audience', ''],
      ['replenishment', 'CREAM', 'out-of-audience', ''],
      ['winback', '', 'send', ''],
    ]);
  });

  it('sends nothing without consent', () => {
    expect(run(busyClient({ acceptsMarketing: false })).map((d) => d.decision.outcome)).toEqual(Array(4).fill('no-consent'));
  });

  it('sends nothing to a suppressed address', () => {
    expect(run(busyClient(), { suppressed: true }).map((d) => d.decision.outcome)).toEqual(Array(4).fill('suppressed'));
  });

  it('reports audience before consent, and consent before suppression', () => {
    const ctx = context({ ...NO_CONTROL, campaigns: [{ kind: 'welcome', audience: { tiers: ['VIC'] } }, { kind: 'winback' }, { kind: 'replenishment' }] });
    const outcomes = run(busyClient({ acceptsMarketing: false }), { ctx, suppressed: true }).map((d) => d.decision.outcome);
    expect(outcomes).toEqual(['out-of-audience', 'no-consent', 'no-consent', 'no-consent']);
    expect(run(busyClient(), { suppressed: true, recentSends: [{ campaignId: 'welcome', sentAt: NOON - HOUR }] })[0]?.decision.outcome).toBe('suppressed');
  });
});

describe('decide: quiet hours and the control group', () => {
  it("defers the winner in the client's quiet hours, to 09:00 local", () => {
    const night = at('2026-03-26T22:30');
    const decided = run(busyClient({ signedUpAt: iso(night - HOUR), firstOrderAt: iso(night - HOUR) }), { now: night });
    expect(decided[0]?.decision).toEqual({ outcome: 'deferred', until: at('2026-03-27T09:00'), reason: 'quiet-hours' });
    expect(decided.slice(1).map((d) => d.decision)).toEqual(Array(3).fill({ outcome: 'capped', reason: 'priority' }));
  });

  it("uses the client's zone, falling back to the brand's", () => {
    // 12:00 in Shanghai is 00:00 in New York.
    const newYorker = busyClient({ timeZone: 'America/New_York' });
    expect(run(newYorker)[0]?.decision).toEqual({ outcome: 'deferred', until: Date.UTC(2026, 2, 26, 13), reason: 'quiet-hours' });
    const noZone = busyClient({ timeZone: undefined });
    expect(run(noZone)[0]?.decision).toEqual({ outcome: 'send' });
    expect(run(noZone, { ctx: context(NO_CONTROL, 'America/New_York') })[0]?.decision.outcome).toBe('deferred');
  });

  it('holds out a control-group client at the moment the email would have gone', () => {
    const ctx = context();
    const client = busyClient({ customerId: heldOutOf('welcome', 0.1) });
    expect(run(client, { ctx })[0]?.decision).toEqual({ outcome: 'held-out' });
    // At night the same client is deferred first: the control group is timed like everyone else.
    const night = at('2026-03-26T22:30');
    expect(run({ ...client, signedUpAt: iso(night - HOUR), firstOrderAt: iso(night - HOUR) }, { ctx, now: night })[0]?.decision.outcome).toBe('deferred');
  });

  it('lets a campaign override the policy share', () => {
    const client = busyClient({ customerId: heldOutOf('welcome', 0.5) });
    const half = context({ policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome', controlShare: 0.5 }, { kind: 'winback' }] });
    expect(run(client, { ctx: half }).map((d) => d.decision.outcome)).toEqual(['held-out', 'capped']);
    const nobody = context({ policy: { controlShare: 0.5 }, campaigns: [{ kind: 'welcome', controlShare: 0 }] });
    expect(run(client, { ctx: nobody })[0]?.decision.outcome).toBe('send');
  });
});

describe('decide: shape of the result', () => {
  it('returns one decision per occasion, in the order given', () => {
    const due = dueOccasions(busyClient(), CATALOG, NOON, CTX).reverse();
    const decided = run(busyClient(), { due });
    expect(decided.map((d) => d.occasion)).toEqual(due);
    expect(decided.find((d) => d.decision.outcome === 'send')?.occasion.kind).toBe('welcome');
  });

  it('sends once even when handed the same occasion twice', () => {
    const [welcome] = dueOccasions(busyClient(), CATALOG, NOON, CTX);
    const decided = run(busyClient(), { due: [welcome!, welcome!] });
    expect(decided.map((d) => d.decision.outcome)).toEqual(['send', 'capped']);
  });

  it('decides nothing for nothing due', () => {
    expect(run(busyClient(), { due: [] })).toEqual([]);
  });
});

describe('companionOccasions', () => {
  const restocker = busyClient({ signedUpAt: iso(NOON - 300 * DAY), firstOrderAt: iso(NOON - 300 * DAY), lastOrderAt: iso(NOON - 10 * DAY) });

  it('lists the other products running low for the same reminder', () => {
    const decided = run(restocker);
    const winner = decided.find((d) => d.decision.outcome === 'send');
    expect(winner?.occasion.details.sku).toBe('SERUM');
    expect(companionOccasions(winner!, decided).map((o) => o.details.sku)).toEqual(['CREAM']);
  });

  it('follows the winner into the control group', () => {
    const ctx = context({ policy: { controlShare: 0.5 } });
    const decided = run({ ...restocker, customerId: heldOutOf('replenishment', 0.5) }, { ctx });
    const winner = decided.find((d) => d.decision.outcome === 'held-out');
    expect(companionOccasions(winner!, decided)).toHaveLength(1);
  });

  it('is empty for other kinds, for a winner that waits, and for losers', () => {
    const busy = run(busyClient());
    expect(companionOccasions(busy[0]!, busy)).toEqual([]);
    expect(companionOccasions(busy[1]!, busy)).toEqual([]);
    const night = at('2026-03-26T22:30');
    const deferred = run(restocker, { now: night });
    expect(companionOccasions(deferred[0]!, deferred)).toEqual([]);
  });
});

describe('decide: category audiences read the products export', () => {
  const CATALOG_NOW = at('2026-11-23 10:00');
  // A Shopify brand: its order lines carry no category; the products export gives it.
  const catalog = new Map<string, ProductRecord>([['SERUM-1', { sku: 'SERUM-1', name: 'Serum', category: 'skincare' }]]);
  const buyer = clientProfile({
    lastOrderAt: iso(CATALOG_NOW - 3 * DAY),
    firstOrderAt: iso(CATALOG_NOW - 3 * DAY),
    skus: { 'SERUM-1': { lastPurchasedAt: iso(CATALOG_NOW - 3 * DAY), quantity: 1, purchases: 1, productName: 'Serum' } },
  });
  const campaigns = campaignsConfigSchema.parse({
    policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } },
    campaigns: [
      { id: 'try-skincare', trigger: { on: 'any-order', daysAfter: 2 }, template: 'cross-category', audience: { neverBoughtCategories: ['skincare'] } },
      { id: 'skincare-tips', trigger: { on: 'any-order', daysAfter: 2 }, template: 'first-order-care', audience: { boughtCategories: ['skincare'] } },
    ],
  });

  it('as the due occasions do: a skincare buyer is in "bought skincare" and out of "never bought skincare"', () => {
    const context = { campaigns, brandTimeZone: 'Asia/Shanghai', catalog };
    const due = dueOccasions(buyer, catalog, CATALOG_NOW, context);
    const outcomes = Object.fromEntries(due.map((occasion) => [occasion.campaignId, decide({ profile: buyer, suppressed: false, recentSends: [] }, [occasion], CATALOG_NOW, context)[0]?.decision.outcome]));
    expect(outcomes).toEqual({ 'try-skincare': 'out-of-audience', 'skincare-tips': 'send' });
  });
});
