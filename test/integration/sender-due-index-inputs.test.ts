import { describe, expect, it } from 'vitest';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import type { Config } from '#shared/config.ts';
import type { ProductRecord } from '#shared/model.ts';
import { writeCategoryAffinity } from '#shared/store/catalog-store.ts';
import { DUE_INDEX_STATE_KEY } from '#shared/store/due-index-store.ts';
import { updateNextDue, type ProfileItem } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { seedCatalog, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { DAY, HOUR, at as local, iso } from '#test/support/time.ts';

/**
 * The due index leaves out a window out of its audience, or with nothing to show, once an hour
 * has read the client's ledger. What else decides that may change with no profile rewritten: the
 * products export, and the campaigns' audience and products in the configuration. Each scenario
 * runs twice, through the index and reading every profile each hour, and both must send the same.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const AT = local('2026-11-24 10:00', SH);
const ORDERED = AT - 5 * DAY;

/** One custom campaign three days after any order, open two weeks. */
const discover = (fields: Record<string, unknown>): CampaignsConfigInput =>
  ({
    policy: { controlShare: 0 },
    campaigns: [{ id: 'discover', trigger: { on: 'any-order', daysAfter: 3 }, timing: { cutoffDays: 14 }, template: 'cross-category', offers: { default: { kind: 'none' } }, ...fields }],
  }) as CampaignsConfigInput;

interface Scenario {
  campaigns: CampaignsConfigInput;
  catalog: ProductRecord[];
  client: (id: string) => ProfileItem;
  /** What changes before the third hour: the products export, or the configuration (returned). */
  change: (config: Config, name: string) => Promise<Config>;
  campaignId: string;
}

/** Emails sent by the campaign at AT − 1 h, AT, AT + 1 h (the change before the last), through the index or reading every profile. */
async function sentEachHour(name: string, scenario: Scenario, mode: 'index' | 'full-scan'): Promise<number[]> {
  let config = await campaignConfig(aws, `${name}-${mode}`, { campaigns: scenario.campaigns });
  await seedCatalog(aws, config, scenario.catalog);
  // Buyers of bags also buy skin care (the cross-category week suggests it).
  await writeCategoryAffinity(aws.clients.s3, config, { buyers: { bags: 40 }, alsoBought: { bags: { skin: 12 } } });
  await seedProfiles(aws, config, [scenario.client(`${name}-${mode}`)]);
  const sent: number[] = [];
  for (const [hour, at] of [AT - HOUR, AT, AT + HOUR].entries()) {
    if (hour === 2) config = await scenario.change(config, `${name}-${mode}`);
    if (mode === 'full-scan') await aws.clients.documents.send(new DeleteCommand({ TableName: tableNames(config).runs, Key: DUE_INDEX_STATE_KEY }));
    const summary = await run(aws, config, at, `${name}-${mode}-${hour}`);
    sent.push(summary.campaigns[scenario.campaignId]?.sent ?? 0);
  }
  return sent;
}

async function expectSameBothWays(name: string, scenario: Scenario, expected: number[]): Promise<void> {
  expect(await sentEachHour(name, scenario, 'full-scan')).toEqual(expected);
  expect(await sentEachHour(name, scenario, 'index')).toEqual(expected);
}

const buyer = (id: string, sku: string, category?: string): ProfileItem =>
  profileItem(id, { firstOrderAt: iso(ORDERED - 100 * DAY), lastOrderAt: iso(ORDERED), skus: { [sku]: { lastPurchasedAt: iso(ORDERED), quantity: 1, purchases: 1, ...(category ? { category } : {}) } } });

describe('the due index when what leaves a window out changes', () => {
  it('a category to suggest that the products export gains: the window was never left out', async () => {
    await expectSameBothWays(
      'dx-unbought',
      {
        campaigns: discover({ products: { from: 'unbought-category', categories: ['makeup'], required: true } }),
        catalog: [{ sku: 'SK-1', name: 'Serum', category: 'skin' }],
        client: (id) => buyer(id, 'SK-1', 'skin'),
        change: async (config) => {
          await seedCatalog(aws, config, [{ sku: 'SK-1', name: 'Serum', category: 'skin' }, { sku: 'MK-1', name: 'Lipstick', category: 'makeup' }]);
          return config;
        },
        campaignId: 'discover',
      },
      [0, 0, 1],
    );
  });

  it('a bought-category audience the products export comes to meet (an order line without a category)', async () => {
    await expectSameBothWays(
      'dx-bought',
      {
        campaigns: discover({ audience: { boughtCategories: ['fragrance'] }, template: 'first-order-care', products: { from: 'trigger' } }),
        catalog: [{ sku: 'SK-1', name: 'Serum', category: 'skin' }],
        client: (id) => buyer(id, 'FR-NEW'),
        change: async (config) => {
          await seedCatalog(aws, config, [{ sku: 'SK-1', name: 'Serum', category: 'skin' }, { sku: 'FR-NEW', name: 'Eau', category: 'fragrance' }]);
          return config;
        },
        campaignId: 'discover',
      },
      [0, 0, 1],
    );
  });

  it('an audience widened in the configuration reads every profile once: the VIC left out of the cross-category week gets it', async () => {
    const ordered = AT - 23 * DAY;
    await expectSameBothWays(
      'dx-widened',
      {
        campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'cross-category' }] } as CampaignsConfigInput,
        catalog: [
          { sku: 'SK-1', name: 'Serum', category: 'skin' },
          { sku: 'BG-1', name: 'Tote', category: 'bags' },
        ],
        client: (id) =>
          profileItem(id, { tier: 'VIC', topCategory: 'bags', firstOrderAt: iso(ordered - 300 * DAY), lastOrderAt: iso(ordered), skus: { 'BG-1': { lastPurchasedAt: iso(ordered), quantity: 1, purchases: 2, category: 'bags' } } }),
        change: (_config, name) =>
          campaignConfig(aws, name, { campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'cross-category', audience: { tiers: ['Potential', 'Entry', 'VIC'] } }] } as CampaignsConfigInput }),
        campaignId: 'cross-category',
      },
      [0, 0, 1],
    );
  });

  it('products no longer required in the configuration reads every profile once: the window with nothing to show comes back', async () => {
    await expectSameBothWays(
      'dx-required',
      {
        // The client has no top category: nothing to show, so the window is left out while products are required.
        campaigns: discover({ products: { from: 'top-category', required: true } }),
        catalog: [{ sku: 'SK-1', name: 'Serum', category: 'skin' }],
        client: (id) => buyer(id, 'SK-1', 'skin'),
        change: (_config, name) => campaignConfig(aws, name, { campaigns: discover({ products: { from: 'top-category', required: false } }) }),
        campaignId: 'discover',
      },
      [0, 0, 1],
    );
  });
});

describe('updateNextDue', () => {
  it('writes the value only over the profile it was computed from: not after a night changed the churn risk or rising', async () => {
    const config = await campaignConfig(aws, 'dx-update');
    const table = tableNames(config).profiles;
    const clv = { probabilityAlive: 0.7, expectedPurchases90d: 1, expectedPurchases365d: 3, expectedAverageOrderValueMinor: 20_000, clv12mMinor: 60_000, rising: false, churnRisk: 'low' as const };
    const read = profileItem('dx-u1', { clv });
    await seedProfiles(aws, config, [read]);
    expect(await updateNextDue(aws.clients.documents, table, read, AT)).toBe(true);
    // A rerun of the night rewrote the prediction (same digest): the value computed from the older item is not written.
    await seedProfiles(aws, config, [{ ...read, clv: { ...clv, churnRisk: 'high' } }]);
    expect(await updateNextDue(aws.clients.documents, table, read, undefined)).toBe(false);
    await seedProfiles(aws, config, [{ ...read, clv: { ...clv, rising: true } }]);
    expect(await updateNextDue(aws.clients.documents, table, read, undefined)).toBe(false);
    // A profile without a prediction.
    const bare = profileItem('dx-u2', {});
    await seedProfiles(aws, config, [bare]);
    expect(await updateNextDue(aws.clients.documents, table, bare, AT)).toBe(true);
  });
});
