import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import type { Config } from '#shared/config.ts';
import { HISTORY_FIELDS } from '#shared/model.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, scanTable, uploadExport } from '#test/support/emulator-data.ts';
import { exportDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { comparable } from '#test/support/nightly-comparison.ts';
import { at as local } from '#test/support/time.ts';

/**
 * The night's moves do not depend on whether the hourly sender merged increments that day: a
 * client an increment created is first seen by the night (a new client, no move, no upgrade
 * thanks), and a prospect whose first order an increment merged (moving their stage to new) still
 * enters their stage that night, with its stage-entered email. Reruns of the night and a sharded
 * run record the same.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const RUN_DATE = '2026-11-23';
const ORDERS_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\n';
const CUSTOMERS_HEADER = 'customer_id,email,first_name,locale,time_zone,signed_up_at,accepts_marketing\n';
const customer = (id: string, signedUpAt: string, name = 'Lin') => `${id},${id}@example.com,${name},en,Asia/Shanghai,${signedUpAt},true\n`;
const orderLine = (orderId: string, customerId: string, orderedAt: string, total: string) => `${orderId},${customerId},${orderedAt},SKU-1,Bag,leather,1,${total},USD,paid,\n`;

// c1 a buyer since October; p1 a prospect since 11-01 whose first order (500.00: Entry, no upgrade thanks) comes on 11-23;
// n1 signs up on 11-23 at 10:00 and orders 6,000.00 (Core) at 14:00.
const C1 = customer('c1', '2026-10-01T10:00:00+08:00');
const P1 = customer('p1', '2026-11-01T10:00:00+08:00');
const N1 = customer('n1', '2026-11-23T10:00:00+08:00');
const C1_ORDER = orderLine('o-c1', 'c1', '2026-10-05T10:00:00+08:00', '100.00');
const P1_ORDER = orderLine('o-p1', 'p1', '2026-11-23T09:30:00+08:00', '500.00');
const N1_ORDER = orderLine('o-n1', 'n1', '2026-11-23T14:00:00+08:00', '6000.00');
const NIGHT_BEFORE = { 'customers.csv': CUSTOMERS_HEADER + C1 + P1, 'orders.csv': ORDERS_HEADER + C1_ORDER };
const SNAPSHOT = { 'customers.csv': CUSTOMERS_HEADER + C1 + P1 + N1, 'orders.csv': ORDERS_HEADER + C1_ORDER + P1_ORDER + N1_ORDER };
const CAMPAIGNS = {
  policy: { controlShare: 0 },
  campaigns: [{ kind: 'tier-upgrade-thanks' }, { id: 'became-buyer', trigger: { on: 'stage-entered', stages: ['new'] }, template: 'welcome' }],
};

type Night = (config: Config, runDate: string, runId: string) => Promise<NightlyRunSummary>;
const single: Night = (config, runDate, runId) => runNightly({ clock: Date.now, runDate, runId, config, clients: aws.clients });
const twoShards: Night = (config, runDate, runId) => runNightlySharded({ clock: Date.now, runDate, runId, config, clients: aws.clients, shards: 2 });

async function night(config: Config, runDate: string, files: Record<string, string>, run: Night = single, runId = `n-${runDate}`) {
  await uploadExport(aws, config, await exportDir(files), runDate);
  return run(config, runDate, runId);
}

const profileOf = (config: Config, customerId: string) => getProfile(aws.clients.documents, tableNames(config).profiles, customerId);

/** What the night recorded of each client's moves, and its tier history rows. */
async function movesOf(config: Config) {
  const moves: Record<string, Record<string, unknown>> = {};
  for (const id of ['c1', 'p1', 'n1']) {
    const profile = await profileOf(config, id);
    moves[id] = Object.fromEntries((['tier', 'stage', ...HISTORY_FIELDS] as const).map((field) => [field, profile?.[field]]));
  }
  const history = (await scanTable(aws, tableNames(config).tierHistory)).filter((row) => row.runDate === RUN_DATE).sort((a, b) => String(a.customerId).localeCompare(String(b.customerId)));
  return { moves, history };
}

/** The night before, the day's increments merged by the hourly sender (or none), the night of RUN_DATE. */
async function scenario(name: string, options: { increments: boolean; run?: Night }) {
  const config = await campaignConfig(aws, name, { campaigns: CAMPAIGNS as never });
  await night(config, '2026-11-22', NIGHT_BEFORE, options.run);
  if (options.increments) {
    await dropIncrement(aws, config, '2026-11-23T1000', { 'customers.csv': CUSTOMERS_HEADER + N1, 'orders.csv': ORDERS_HEADER + P1_ORDER });
    await runCampaignHour(aws, config, local('2026-11-23 11:00', SH), 'h-1100');
    await dropIncrement(aws, config, '2026-11-23T1400', { 'orders.csv': ORDERS_HEADER + N1_ORDER });
    await runCampaignHour(aws, config, local('2026-11-23 15:00', SH), 'h-1500');
  }
  const summary = await night(config, RUN_DATE, SNAPSHOT, options.run);
  return { config, summary };
}

describe('the night after increments', () => {
  it('records the moves and counts a night without increments records; an upgrade thanks does not go to a new client, the stage-entered email goes', { timeout: 240_000 }, async () => {
    const plain = await scenario('inc-moves-plain', { increments: false });
    const merged = await scenario('inc-moves-merged', { increments: true });

    expect(plain.summary.changes).toMatchObject({ newClients: 1, upgrades: 0, downgrades: 0, tierMovements: { 'Prospect→Entry': 1 }, stageMovements: { 'prospect→new': 1 } });
    expect(comparable(merged.summary)).toEqual(comparable(plain.summary));
    const recorded = await movesOf(plain.config);
    expect(recorded.moves.n1).toEqual({ tier: 'Core', stage: 'new', ...Object.fromEntries(HISTORY_FIELDS.map((field) => [field, undefined])) });
    expect(recorded.moves.p1).toMatchObject({ tier: 'Entry', stage: 'new', previousTier: 'Prospect', tierChangedOn: RUN_DATE, previousStage: 'prospect', stageEnteredOn: RUN_DATE });
    expect(recorded.history).toMatchObject([
      { customerId: 'n1', toTier: 'Core', toStage: 'new' },
      { customerId: 'p1', fromTier: 'Prospect', toTier: 'Entry', fromStage: 'prospect', toStage: 'new' },
    ]);
    expect(recorded.history[0]).not.toHaveProperty('fromTier');
    expect(await movesOf(merged.config)).toEqual(recorded);
    // The night's write leaves out what the increments kept for it.
    expect(await profileOf(merged.config, 'n1')).not.toHaveProperty('lastNight');
    expect(await profileOf(merged.config, 'p1')).not.toHaveProperty('lastNight');

    for (const { config } of [plain, merged]) {
      const hour = await runCampaignHour(aws, config, local('2026-11-24 10:00', SH), 'h-next');
      expect(countsOf(hour, 'tier-upgrade-thanks').sent).toBe(0);
      expect(countsOf(hour, 'became-buyer').sent).toBe(1);
    }
  });

  it('keeps, between the increments and the night, the tier and stage the last night wrote: none for a client an increment created', { timeout: 120_000 }, async () => {
    const config = await campaignConfig(aws, 'inc-moves-intraday', { campaigns: CAMPAIGNS as never });
    await night(config, '2026-11-22', NIGHT_BEFORE);
    await dropIncrement(aws, config, '2026-11-23T1000', { 'customers.csv': CUSTOMERS_HEADER + N1, 'orders.csv': ORDERS_HEADER + P1_ORDER });
    await runCampaignHour(aws, config, local('2026-11-23 11:00', SH), 'h-1100');
    await dropIncrement(aws, config, '2026-11-23T1400', { 'orders.csv': ORDERS_HEADER + N1_ORDER });
    await runCampaignHour(aws, config, local('2026-11-23 15:00', SH), 'h-1500');
    expect(await profileOf(config, 'n1')).toMatchObject({ tier: 'Prospect', stage: 'new', spend12mMinor: 600_000, lastNight: null });
    expect(await profileOf(config, 'p1')).toMatchObject({ tier: 'Prospect', stage: 'new', lastNight: { tier: 'Prospect', stage: 'prospect' } });
    expect(await profileOf(config, 'c1')).not.toHaveProperty('lastNight');
  });

  it('records the same on a rerun of the completed night, on a rerun on a corrected export, and in a sharded run', { timeout: 300_000 }, async () => {
    const merged = await scenario('inc-moves-rerun', { increments: true });
    expect(merged.summary.changes).toMatchObject({ newClients: 1, upgrades: 0, tierMovements: { 'Prospect→Entry': 1 }, stageMovements: { 'prospect→new': 1 } });
    const recorded = await movesOf(merged.config);
    expect(recorded.moves.n1).toMatchObject({ tier: 'Core', previousTier: undefined, tierChangedOn: undefined });
    expect(recorded.moves.p1).toMatchObject({ previousStage: 'prospect', stageEnteredOn: RUN_DATE });

    const rerun = await single(merged.config, RUN_DATE, 'n-rerun');
    expect(rerun.rerun).toBeDefined();
    expect(comparable(rerun)).toEqual(comparable(merged.summary));
    expect(await movesOf(merged.config)).toEqual(recorded);

    // A corrected export: the night is redone, measured against the items as they were before it (its before-images).
    const corrected = await night(merged.config, RUN_DATE, { ...SNAPSHOT, 'customers.csv': CUSTOMERS_HEADER + customer('c1', '2026-10-01T10:00:00+08:00', 'Lina') + P1 + N1 }, single, 'n-corrected');
    expect(corrected.rerun).toBeUndefined();
    const movesCounted = ({ newClients, upgrades, downgrades, tierMovements, stageMovements, rfmSegmentMovements }: NightlyRunSummary['changes']) => ({ newClients, upgrades, downgrades, tierMovements, stageMovements, rfmSegmentMovements });
    expect(movesCounted(corrected.changes)).toEqual(movesCounted(merged.summary.changes));
    expect(await movesOf(merged.config)).toEqual(recorded);
    expect(await profileOf(merged.config, 'c1')).toMatchObject({ firstName: 'Lina' });

    const sharded = await scenario('inc-moves-sharded', { increments: true, run: twoShards });
    expect(sharded.summary.shards).toBe(2);
    expect(comparable(sharded.summary)).toEqual(comparable(merged.summary));
    expect(await movesOf(sharded.config)).toEqual(recorded);
  });
});
