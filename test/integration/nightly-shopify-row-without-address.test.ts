import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import type { Config } from '#shared/config.ts';
import { normaliseEmail } from '#shared/email.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { shardOf } from '#shared/nightly/shards.ts';
import { readAddressBook } from '#shared/store/address-book.ts';
import { csv, exportFolder, LENIENT_GUARDS, scratchDir, SHOPIFY_CUSTOMERS_HEADER, SHOPIFY_ORDERS_HEADER, shopifyNovemberOrderRow } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, storedState } from '#test/support/nightly-comparison.ts';

/**
 * A Shopify client whose customer row has no usable Email tonight (empty, or malformed and dropped
 * with a warning) while her orders keep the address the last night stored for her. exports.md: "a
 * client ... with an empty field keeps what we know": her stored address is still hers, and so are
 * her orders under it (a VIC stays a VIC), in one run and in a sharded night (her row, keyed by her
 * id, and her address in two shards of four). The address did not change: the book gets no entry.
 * Before the fix her orders were read as an unknown customer's and rejected (VIC to Prospect).
 */

const aws = sharedAws();
const work = scratchDir('shopify-row-without-address');
const SHARDS = 4;

const exportOf = (name: string, files: Record<string, string[][]>) => exportFolder(work, name, files);

const order = shopifyNovemberOrderRow;
const OTHERS = [
  ['900', 'Other', 'One', 'other.one@example.com', 'yes'],
  ['901', 'Other', 'Two', 'other.two@example.com', 'yes'],
];
const OTHER_ORDERS = [order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1'), order('#9002', 'other.two@example.com', '03', '40.00', 'SOAP-1')];

/** An address whose shard (of SHARDS) is not customer 41's: a row without an email is sharded by its id. */
function addressAwayFromHerId(prefix: string): string {
  for (let i = 0; ; i++) {
    const email = `${prefix}${i}@example.com`;
    if (shardOf(normaliseEmail(email), SHARDS) !== shardOf('41', SHARDS)) return email;
  }
}

/** Night 1: she is a VIC at `email`. Night 2: her row's Email is `tonight`, her orders still under `email`. */
async function nights(tag: string, tonight: string) {
  const email = addressAwayFromHerId(`mei.${tag}.`);
  const herOrders = [order('#1001', email, '01', '40000.00', 'BAG-1'), order('#1002', email, '10', '15000.00', 'COAT-1')];
  const night1 = await exportOf(`${tag}-1`, {
    'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['41', 'Mei', 'Lin', email, 'yes'], ...OTHERS],
    'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...herOrders, ...OTHER_ORDERS],
  });
  const night2 = await exportOf(`${tag}-2`, {
    'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['41', 'Mei', 'Lin', tonight, 'yes'], ...OTHERS],
    'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...herOrders, ...OTHER_ORDERS],
  });
  return { email, night1, night2 };
}

const one = (config: Config, runDate: string, dir: string, runId: string) =>
  runNightly({ clock: Date.now, runDate, runId, config, clients: aws.clients, source: directoryExportSource(dir) });
const four = (config: Config, runDate: string, dir: string, runId: string) =>
  runNightlySharded({ clock: Date.now, runDate, runId, config, clients: aws.clients, shards: SHARDS, source: { kind: 'directory', path: dir } });

async function herProfile(config: Config) {
  return (await storedState(aws, config)).profiles.find((p) => p.customerId === '41');
}

describe('nightly, a Shopify client whose customer row has no usable email tonight', () => {
  for (const [name, tonight] of [
    ['an empty Email', ''],
    ['a malformed Email (dropped with a warning)', 'mei at example.com'],
  ] as const) {
    it(`keeps her history with ${name}, in one run and in 4 shards alike, and books no link`, { timeout: 300_000 }, async () => {
      const tag = tonight === '' ? 'empty' : 'bad';
      const { email, night1, night2 } = await nights(tag, tonight);
      const single = await scenarioConfig(aws, `no-address-${tag}-one`, LENIENT_GUARDS);
      const sharded = await scenarioConfig(aws, `no-address-${tag}-four`, LENIENT_GUARDS);
      await one(single, '2026-11-22', night1, `${tag}-one-1`);
      await four(sharded, '2026-11-22', night1, `${tag}-four-1`);
      const before = await herProfile(single);
      expect(before).toMatchObject({ email, tier: 'VIC', orderCount: 2 });

      const s1 = await one(single, '2026-11-23', night2, `${tag}-one-2`);
      const after = await herProfile(single);
      expect({ warned: s1.input.warned, rejected: s1.input.rejected, email: after?.email, tier: after?.tier, orderCount: after?.orderCount, spend: after?.lifetimeSpendMinor, firstOrderAt: after?.firstOrderAt }).toEqual({
        warned: tonight === '' ? 0 : 1,
        rejected: 0,
        email,
        tier: 'VIC',
        orderCount: 2,
        spend: 5_500_000,
        firstOrderAt: before?.firstOrderAt,
      });
      // Her address did not change: nothing for the book to keep (the base keeps it as her email).
      expect(await readAddressBook(aws.clients.s3, single)).toEqual([]);

      const s4 = await four(sharded, '2026-11-23', night2, `${tag}-four-2`);
      // Her row, keyed by her id, lies in another shard than her stored key: that shard rewrites her
      // whatever changed (base.ts, kept), so the write counts and her updatedRunDate differ; nothing else may.
      const figures = ({ distribution, input, clv }: ReturnType<typeof comparable>) => ({ distribution, input, clv });
      expect(figures(comparable(s4))).toEqual(figures(comparable(s1)));
      const state = async (config: Config) => {
        const stored = await storedState(aws, config);
        return { ...stored, profiles: stored.profiles.map(({ updatedRunDate: _rewritten, ...profile }) => profile) };
      };
      expect(await state(sharded)).toEqual(await state(single));
      expect(await readAddressBook(aws.clients.s3, sharded)).toEqual([]);
    });
  }
});
