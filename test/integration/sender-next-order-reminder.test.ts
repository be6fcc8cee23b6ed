import { describe, expect, it } from 'vitest';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import type { Config } from '#shared/config.ts';
import type { ClientClv } from '#shared/model.ts';
import { DUE_INDEX_STATE_KEY } from '#shared/store/due-index-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { expireLedgerEntries, ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local, iso } from '#test/support/time.ts';

/**
 * The reorder reminder (a consumable with no cycle, timed by the CLV model's predicted next order)
 * goes once per last order: a refit that moves the predicted date, an order merged before the
 * night refits, an upgrade from the version that keyed it by the predicted date, and the ledger's
 * TTL each leave one email. Through the due index and reading every profile alike.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const BOUGHT = local('2026-09-01 10:00', SH);
const reorder = { policy: { controlShare: 0 }, campaigns: [{ kind: 'replenishment', replenishableCategories: ['fragrance'] }] } as CampaignsConfigInput;

const clv = (predictedNextOrderAt: string): ClientClv => ({
  probabilityAlive: 0.8,
  expectedPurchases90d: 1,
  expectedPurchases365d: 3,
  expectedAverageOrderValueMinor: 20_000,
  clv12mMinor: 60_000,
  rising: false,
  churnRisk: 'low',
  predictedNextOrderAt,
});

/** A perfume buyer (a listed category, no replenish_days, bought once) as the night of `night` wrote them. */
const perfumeBuyer = (customerId: string, predicted: string, night: string, lastOrderAt = BOUGHT) => ({
  ...profileItem(customerId, {
    firstOrderAt: iso(BOUGHT),
    lastOrderAt: iso(lastOrderAt),
    orderCount: lastOrderAt === BOUGHT ? 1 : 2,
    skus: { 'RO-EDP': { lastPurchasedAt: iso(BOUGHT), quantity: 1, purchases: 1, category: 'fragrance', productName: 'Eau de Parfum' } },
    clv: clv(predicted),
  }),
  updatedRunDate: night,
});

async function hour(config: Config, at: number, runId: string, mode: 'index' | 'full-scan') {
  if (mode === 'full-scan') await aws.clients.documents.send(new DeleteCommand({ TableName: tableNames(config).runs, Key: DUE_INDEX_STATE_KEY }));
  return run(aws, config, at, runId);
}

const sentKeys = async (config: Config) => (await ledgerEntries(aws, config)).filter((e) => e.status === 'sent').map((e) => e.occasionKey);

/** A `sent` entry as the version before the last-order key wrote it. */
async function putSentBeforeUpgrade(config: Config, customerId: string, campaignId: string, occasionKey: string, sentAt: number): Promise<void> {
  await aws.clients.documents.send(
    new PutCommand({
      TableName: tableNames(config).sendLedger,
      Item: {
        customerId,
        occasionKey,
        customerOccasion: `${customerId}#${occasionKey}`,
        campaignId,
        status: 'sent',
        runId: 'before-upgrade',
        claimHour: iso(sentAt).slice(0, 13),
        claimedAt: sentAt,
        updatedAt: sentAt,
        sentAt,
        emailId: 'email-before-upgrade',
        claimToken: 'before-upgrade',
      },
    }),
  );
}

describe('the reorder reminder goes once per last order', () => {
  for (const mode of ['index', 'full-scan'] as const) {
    it(`${mode}: a refit that moves the predicted date by 5 days inside the open window sends nothing more`, async () => {
      const config = await campaignConfig(aws, `reorder-moves-${mode}`, { campaigns: reorder });
      const id = `reorder-moves-${mode}`;
      await seedProfiles(aws, config, [perfumeBuyer(id, '2026-12-01', '2026-11-15')]);
      const first = await hour(config, local('2026-11-17 10:00', SH), `${id}-1`, mode);
      expect(first.campaigns.replenishment?.sent).toBe(1);
      // The night moves the date past NEXT_ORDER_TOLERANCE_DAYS (it rewrites the profile): the same occasion, a later window.
      await seedProfiles(aws, config, [perfumeBuyer(id, '2026-12-06', '2026-11-20')]);
      for (const day of ['2026-11-21', '2026-11-25', '2026-12-05']) await hour(config, local(`${day} 10:00`, SH), `${id}-${day}`, mode);
      expect(await sentKeys(config)).toEqual([`replenishment#next-order#${iso(BOUGHT)}`]);
      expect(await emailsTo(aws, `${id}@example.com`)).toHaveLength(1);
    }, 60_000);
  }

  it('keeps the entry until erasure: a window the prediction moves past the ledger retention still finds it', async () => {
    // The shortest retention the config accepts with the default conversion windows.
    const config = await campaignConfig(aws, 'reorder-retention', { campaigns: reorder, sender: { ledgerRetentionDays: 91 } });
    await seedProfiles(aws, config, [perfumeBuyer('reorder-retention', '2026-12-01', '2026-11-15')]);
    await run(aws, config, local('2026-11-17 10:00', SH), 'rr-1');
    expect((await ledgerEntries(aws, config)).map((e) => e.expiresAt)).toEqual([undefined]);
    // The refit moves the date six months on, more than 91 days past the first window's close; DynamoDB's TTL has run meanwhile.
    await seedProfiles(aws, config, [perfumeBuyer('reorder-retention', '2027-06-01', '2027-05-01')]);
    const later = local('2027-05-20 10:00', SH);
    await expireLedgerEntries(aws, config, later);
    expect((await run(aws, config, later, 'rr-2')).campaigns.replenishment?.sent).toBe(0);
  }, 60_000);

  it('an order merged before the night refits is not reminded with the prediction of the order before it', async () => {
    const config = await campaignConfig(aws, 'reorder-ordered', { campaigns: reorder });
    await seedProfiles(aws, config, [perfumeBuyer('reorder-ordered', '2026-12-01', '2026-11-15')]);
    await run(aws, config, local('2026-11-17 10:00', SH), 'ro-1');
    // An increment of 11-19 brings a new order: lastOrderAt moves, the prediction is still the last order's.
    await seedProfiles(aws, config, [perfumeBuyer('reorder-ordered', '2026-12-01', '2026-11-15', local('2026-11-19 15:00', SH))]);
    expect((await run(aws, config, local('2026-11-19 16:00', SH), 'ro-2')).campaigns.replenishment?.sent).toBe(0);
    expect(await emailsTo(aws, 'reorder-ordered@example.com')).toHaveLength(1);
  }, 60_000);

  it('after the upgrade, a reminder the earlier version sent under the predicted date settles the occasion', async () => {
    const config = await campaignConfig(aws, 'reorder-upgrade', { campaigns: reorder });
    const sentAt = local('2026-11-17 10:00', SH);
    // What the earlier version wrote: the reminder keyed by the predicted date, sent inside the window.
    await putSentBeforeUpgrade(config, 'reorder-upgrade', 'replenishment', 'replenishment#next-order#2026-12-01', sentAt);
    await seedProfiles(aws, config, [perfumeBuyer('reorder-upgrade', '2026-12-01', '2026-11-15')]);
    for (const [i, day] of ['2026-11-18', '2026-11-30'].entries()) {
      const summary = await run(aws, config, local(`${day} 10:00`, SH), `ru-${i}`);
      expect(summary.campaigns.replenishment).toMatchObject({ due: 0, sent: 0, expired: 0 });
    }
    expect((await ledgerEntries(aws, config)).map((e) => [e.occasionKey, e.status])).toEqual([['replenishment#next-order#2026-12-01', 'sent']]);
  }, 60_000);
});

describe('a custom `predicted-next-order` campaign goes once per last order', () => {
  const nudge = {
    policy: { controlShare: 0 },
    campaigns: [{ kind: 'custom', id: 'next-order-nudge', template: 'replenishment', trigger: { on: 'predicted-next-order', daysBefore: 7 } }],
  } as CampaignsConfigInput;
  const nudgeKey = `next-order-nudge#next-order#${iso(BOUGHT)}`;

  for (const mode of ['index', 'full-scan'] as const) {
    it(`${mode}: a refit that moves the predicted date by 5 days inside the open window sends nothing more`, async () => {
      const config = await campaignConfig(aws, `nudge-moves-${mode}`, { campaigns: nudge });
      const id = `nudge-moves-${mode}`;
      await seedProfiles(aws, config, [perfumeBuyer(id, '2026-12-01', '2026-11-23')]);
      expect((await hour(config, local('2026-11-24 10:00', SH), `${id}-1`, mode)).campaigns['next-order-nudge']?.sent).toBe(1);
      await seedProfiles(aws, config, [perfumeBuyer(id, '2026-12-06', '2026-11-26')]);
      for (const day of ['2026-11-29', '2026-12-01', '2026-12-05']) await hour(config, local(`${day} 10:00`, SH), `${id}-${day}`, mode);
      expect(await sentKeys(config)).toEqual([nudgeKey]);
      expect(await emailsTo(aws, `${id}@example.com`)).toHaveLength(1);
    }, 60_000);
  }

  it('after the upgrade, an email the earlier version sent under the predicted date alone settles the occasion', async () => {
    const config = await campaignConfig(aws, 'nudge-upgrade', { campaigns: nudge });
    const sentAt = local('2026-11-24 10:00', SH);
    await putSentBeforeUpgrade(config, 'nudge-upgrade', 'next-order-nudge', 'next-order-nudge#2026-12-01', sentAt);
    await seedProfiles(aws, config, [perfumeBuyer('nudge-upgrade', '2026-12-06', '2026-11-26')]);
    for (const [i, day] of ['2026-11-29', '2026-12-05'].entries()) {
      const summary = await run(aws, config, local(`${day} 10:00`, SH), `nu-${i}`);
      expect(summary.campaigns['next-order-nudge']).toMatchObject({ due: 0, sent: 0, expired: 0 });
    }
    expect(await emailsTo(aws, 'nudge-upgrade@example.com')).toHaveLength(0);
  }, 60_000);
});
