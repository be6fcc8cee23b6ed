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
 * An address two clients of the base had (two customer rows sharing it on the last night), who
 * both move to an address of their own: whose the orders under it are cannot be told, so it is
 * linked to neither and its orders are rejected as before (README, Shopify: a documented limit).
 * A sharded night must store exactly what one run stores: before the fix, each shard holding one
 * of them saw only its own claim and took the address's lines, so both became VICs on the same
 * 55,000 USD. The new addresses are picked in shards of four other than the old one's and than each
 * other's; and, in the second case, one of them in the old address's shard (its link made there).
 * The other client missing from tonight's customers file still counts: a shard holding one of
 * them cannot tell whether another bucket has the other's row, so one run does not look either.
 */

const aws = sharedAws();
const work = scratchDir('shopify-address-two-clients-claim');
const SHARDS = 4;

const exportOf = (name: string, files: Record<string, string[][]>) => exportFolder(work, name, files);

const order = shopifyNovemberOrderRow;
const shard = (email: string) => shardOf(normaliseEmail(email), SHARDS);
function pick(prefix: string, accept: (shard: number) => boolean): string {
  for (let i = 0; ; i++) {
    const email = `${prefix}${i}@example.com`;
    if (accept(shard(email))) return email;
  }
}
const OTHERS = [
  ['900', 'Other', 'One', 'other.one@example.com', 'yes'],
  ['901', 'Other', 'Two', 'other.two@example.com', 'yes'],
];
const OTHER_ORDERS = [order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1'), order('#9002', 'other.two@example.com', '03', '40.00', 'SOAP-1')];

// A client missing tonight is a quarter of this small base: the drop is accepted.
const one = (config: Config, runDate: string, dir: string, runId: string) =>
  runNightly({ clock: Date.now, runDate, runId, config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop: true });
const four = (config: Config, runDate: string, dir: string, runId: string) =>
  runNightlySharded({ clock: Date.now, runDate, runId, config, clients: aws.clients, shards: SHARDS, source: { kind: 'directory', path: dir }, acceptDrop: true });

async function spendById(config: Config) {
  return Object.fromEntries((await storedState(aws, config)).profiles.map((p) => [String(p.customerId), { spend: p.lifetimeSpendMinor, tier: p.tier }]));
}

describe('nightly, an address two clients of the base claim', () => {
  for (const [name, tag, sameShardAsOld, boTonight] of [
    ['A, B and C in three shards', 'abc', false, true],
    ['B in A\'s shard, C in another', 'ab', true, true],
    // A shard cannot tell whether a client it holds no row of is in another bucket: one run does not look either.
    ['Bo missing from tonight\'s customers file', 'missing', false, false],
  ] as const) {
    it(`is linked to neither, in one run and in 4 shards alike (${name})`, { timeout: 300_000 }, async () => {
      const a = `shared.${tag}@example.com`;
      const b = pick(`ana.new.${tag}.`, (s) => (sameShardAsOld ? s === shard(a) : s !== shard(a)));
      const c = pick(`bo.new.${tag}.`, (s) => s !== shard(a) && s !== shard(b));
      const underA = [order('#1001', a, '01', '40000.00', 'BAG-1'), order('#1002', a, '10', '15000.00', 'COAT-1')];
      const night1 = await exportOf(`${tag}-1`, {
        'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['41', 'Ana', 'Lin', a, 'yes'], ['42', 'Bo', 'Lin', a, 'yes'], ...OTHERS],
        'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...underA, ...OTHER_ORDERS],
      });
      const night2 = await exportOf(`${tag}-2`, {
        'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['41', 'Ana', 'Lin', b, 'yes'], ...(boTonight ? [['42', 'Bo', 'Lin', c, 'yes']] : []), ...OTHERS],
        'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...underA, ...OTHER_ORDERS],
      });
      const single = await scenarioConfig(aws, `two-claim-${tag}-one`, LENIENT_GUARDS);
      const sharded = await scenarioConfig(aws, `two-claim-${tag}-four`, LENIENT_GUARDS);
      await one(single, '2026-11-22', night1, `${tag}-one-1`);
      await four(sharded, '2026-11-22', night1, `${tag}-four-1`);
      expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));

      const s1 = await one(single, '2026-11-23', night2, `${tag}-one-2`);
      const byId = await spendById(single);
      expect({ rejected: s1.input.rejected, ana: byId['41']?.spend, bo: byId['42']?.spend }).toEqual({ rejected: 2, ana: 0, bo: 0 });
      expect(await readAddressBook(aws.clients.s3, single)).toEqual([]);

      const s4 = await four(sharded, '2026-11-23', night2, `${tag}-four-2`);
      expect({ summary: comparable(s4), byId: await spendById(sharded) }).toEqual({ summary: comparable(s1), byId });
      expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
      expect(await readAddressBook(aws.clients.s3, sharded)).toEqual([]);
    });
  }
});
