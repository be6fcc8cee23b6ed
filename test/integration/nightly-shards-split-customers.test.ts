import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import type { Config } from '#shared/config.ts';
import { normaliseEmail } from '#shared/email.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { combineWorkMeasures, measureShardToWork, planNight, repartitionToWork } from '#shared/nightly/distributed.ts';
import { nightContext, runNightly } from '#shared/nightly/run.ts';
import { shardOf, shardsOf } from '#shared/nightly/shards.ts';
import { recordErasure } from '#shared/store/erasure-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { csv, exportFolder, LENIENT_GUARDS, scratchDir, SHOPIFY_CUSTOMERS_HEADER, SHOPIFY_ORDERS_HEADER, shopifyNovemberOrderRow } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, rowObjects, storedState } from '#test/support/nightly-comparison.ts';

/**
 * A Shopify export keys its shards by email (shards.ts): a customer row without a usable email
 * goes to its id's shard. A customer listed twice, once with an email and once without (an empty
 * Email cell, or one dropped as invalid), whose email and id fall to two shards, would be built
 * and written by both, each from half the rows (split-customers.ts). Such a night is refused
 * before any write, naming the customer, the row and what to do; customers without an email
 * (point-of-sale) and a customer whose email and id fall to the same shard store what one run stores.
 * So is a customer of the base listed with two emails that fall to two shards (an address changed
 * between two customer parts), while one whose email moved to another shard, listed once, is stored
 * as one run stores it. A customer forgotten by email (before their first export) listed with that
 * email and without one is refused too: the id's shard cannot see the address, and would store them.
 */

const aws = sharedAws();
const work = scratchDir('split-customers');
const SHARDS = 2;

/** A customer id and email whose shards of SHARDS differ (`apart`) or agree. */
function customer(prefix: string, apart: boolean): { id: string; email: string } {
  for (let i = 0; ; i++) {
    const id = `${prefix}${i}`;
    // FNV-1a modulo 2 is the parity of the key's odd bytes: an 'a' more or less flips it.
    const email = `${prefix}-client${i}${'a'.repeat(i % 2)}@example.com`;
    if ((shardOf(id, SHARDS) !== shardOf(normaliseEmail(email), SHARDS)) === apart) return { id, email };
  }
}

/** An email of the same client in another shard of SHARDS than `email`. */
function otherShardEmail(email: string, prefix: string): string {
  for (let i = 0; ; i++) {
    const other = `${prefix}${i}@example.com`;
    if (shardOf(normaliseEmail(other), SHARDS) !== shardOf(normaliseEmail(email), SHARDS)) return other;
  }
}

const exportOf = (name: string, files: Record<string, string[][]>) => exportFolder(work, name, files);

const order = shopifyNovemberOrderRow;

function runSingle(config: Config, runDate: string, runId: string, dir: string) {
  return runNightly({ clock: Date.now, runDate, runId, config, clients: aws.clients, source: directoryExportSource(dir) });
}

function runSharded(config: Config, runDate: string, runId: string, dir: string) {
  return runNightlySharded({ clock: Date.now, runDate, runId, config, clients: aws.clients, shards: SHARDS, source: { kind: 'directory', path: dir } });
}

describe('sharded night, a Shopify customer listed with and without an email', () => {
  for (const [variant, missingEmail] of [
    ['an empty Email', ''],
    ['an invalid Email, dropped with a warning', 'not-an-address'],
  ] as const) {
    it(`refuses before any write when the rows fall to two shards (${variant}); one run merges them`, async () => {
      const split = customer('31', true);
      const night1 = await exportOf(`night1-${missingEmail || 'empty'}`, {
        'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, [split.id, 'Mei', 'Lin', split.email, 'yes'], ['999', 'Other', 'One', 'other@example.com', 'yes']],
        'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, order('#1002', 'other@example.com', '02', '20.00', 'SOAP-1')],
      });
      const night2 = await exportOf(`night2-${missingEmail || 'empty'}`, {
        'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, [split.id, 'Mei', 'Lin', split.email, 'yes'], ['999', 'Other', 'One', 'other@example.com', 'yes']],
        // The same client in a later part: a new last name, no usable email, consent withdrawn.
        'customers_export_2.csv': [SHOPIFY_CUSTOMERS_HEADER, [split.id, '', 'Lin-Wang', missingEmail, 'no']],
        'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, order('#1001', split.email, '01', '1500.00', 'BAG-1'), order('#1002', 'other@example.com', '02', '20.00', 'SOAP-1')],
      });
      const tag = missingEmail === '' ? 'empty' : 'invalid';
      const single = await scenarioConfig(aws, `split-${tag}-single`, { maxRejectShare: 1 });
      const sharded = await scenarioConfig(aws, `split-${tag}-sharded`, { maxRejectShare: 1 });
      await runSingle(single, '2026-11-22', `split-${tag}-single-1`, night1);
      await runSharded(sharded, '2026-11-22', `split-${tag}-sharded-1`, night1);
      const before = await storedState(aws, sharded);
      expect(before).toEqual(await storedState(aws, single));

      // One run merges the rows in file order: the email kept, the later name and the withdrawal applied.
      await runSingle(single, '2026-11-23', `split-${tag}-single-2`, night2);
      const merged = (await storedState(aws, single)).profiles.find((p) => p.customerId === split.id);
      expect(merged).toMatchObject({ tier: 'Potential', email: split.email, acceptsMarketing: false, lastName: 'Lin-Wang' });

      const refused = runSharded(sharded, '2026-11-23', `split-${tag}-sharded-2`, night2);
      await expect(refused).rejects.toMatchObject({ name: 'NightRefusedError' });
      await expect(refused).rejects.toThrow(
        new RegExp(`customer ${split.id} is listed with an email and without one \\(customers_export_2\\.csv line 2\\).*Nothing was written: run this night as one shard`),
      );
      // Nothing written: the tables hold night 1 as it was.
      expect(await storedState(aws, sharded)).toEqual(before);
    }, 180_000);
  }

  it('refuses before any write a customer of the base listed with two emails that fall to two shards; one run merges them', async () => {
    const oldEmail = 'mei.old@example.com';
    const newEmail = otherShardEmail(oldEmail, 'mei.new');
    const night1 = await exportOf('two-emails-1', {
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['41', 'Mei', 'Lin', oldEmail, 'yes'], ['999', 'Other', 'One', 'other@example.com', 'yes']],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, order('#1001', oldEmail, '01', '1500.00', 'BAG-1'), order('#1002', 'other@example.com', '02', '20.00', 'SOAP-1')],
    });
    const night2 = await exportOf('two-emails-2', {
      // She said no on the platform, then changed her address: the later part has the new address and a "yes".
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['41', 'Mei', 'Lin', oldEmail, 'no'], ['999', 'Other', 'One', 'other@example.com', 'yes']],
      'customers_export_2.csv': [SHOPIFY_CUSTOMERS_HEADER, ['41', 'Mei', 'Lin', newEmail, 'yes']],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, order('#1002', 'other@example.com', '02', '20.00', 'SOAP-1'), order('#1003', newEmail, '20', '30.00', 'SOAP-1')],
    });
    const single = await scenarioConfig(aws, 'two-emails-single', LENIENT_GUARDS);
    const sharded = await scenarioConfig(aws, 'two-emails-sharded', LENIENT_GUARDS);
    await runSingle(single, '2026-11-22', 'two-emails-single-1', night1);
    await runSharded(sharded, '2026-11-22', 'two-emails-sharded-1', night1);
    const before = await storedState(aws, sharded);
    expect(before).toEqual(await storedState(aws, single));

    // One run merges the rows: the later email, and the earlier row's "no" stands.
    await runSingle(single, '2026-11-23', 'two-emails-single-2', night2);
    expect((await storedState(aws, single)).profiles.find((p) => p.customerId === '41')).toMatchObject({ email: newEmail, acceptsMarketing: false });

    const refused = runSharded(sharded, '2026-11-23', 'two-emails-sharded-2', night2);
    await expect(refused).rejects.toMatchObject({ name: 'NightRefusedError' });
    const [oldShard, newShard] = [oldEmail, newEmail].map((email) => shardOf(normaliseEmail(email), SHARDS));
    await expect(refused).rejects.toThrow(
      new RegExp(
        `customer 41 is listed with two emails that fall to two shards \\(customers_export_1\\.csv line 2 to shard ${oldShard}/${SHARDS}, customers_export_2\\.csv line 2 to shard ${newShard}/${SHARDS}\\).*Nothing was written: run this night as one shard`,
      ),
    );
    expect(await storedState(aws, sharded)).toEqual(before);
  }, 240_000);

  it('refuses a customer listed with two emails in combine (the phases one by one, as in AWS), before any write', async () => {
    const oldEmail = 'lin.old@example.com';
    const newEmail = otherShardEmail(oldEmail, 'lin.new');
    const night1 = await exportOf('two-emails-phases-1', {
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['43', 'Lin', 'Wu', oldEmail, 'yes']],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, order('#3001', oldEmail, '01', '150.00', 'SOAP-1')],
    });
    const night2 = await exportOf('two-emails-phases-2', {
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['43', 'Lin', 'Wu', newEmail, 'yes'], ['998', 'Other', 'One', 'other@example.com', 'yes']],
      'customers_export_2.csv': [SHOPIFY_CUSTOMERS_HEADER, ['43', 'Lin', 'Wu', oldEmail, 'no']],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, order('#3001', oldEmail, '01', '150.00', 'SOAP-1'), order('#3002', 'other@example.com', '02', '20.00', 'SOAP-1')],
    });
    const config = await scenarioConfig(aws, 'two-emails-phases', LENIENT_GUARDS);
    await runSingle(config, '2026-11-22', 'two-emails-phases-1', night1);
    const before = await storedState(aws, config);
    const source = directoryExportSource(night2);
    const context = nightContext({ runDate: '2026-11-23', runId: 'two-emails-phases-2', config, clients: aws.clients, clock: Date.now });
    const { readers } = await planNight(context, SHARDS, source);
    for (const reader of readers) await repartitionToWork(context, { shards: SHARDS, reader }, source);
    for (const shard of shardsOf(SHARDS)) await measureShardToWork(context, shard);
    await expect(combineWorkMeasures(context, { shards: SHARDS, startedAt: Date.now() })).rejects.toThrow(
      /customer 43 is listed with two emails that fall to two shards \(customers_export_1\.csv line 2 to shard \d\/2, customers_export_2\.csv line 2 to shard \d\/2\).*Nothing was written/,
    );
    expect(await storedState(aws, config)).toEqual(before);
  }, 180_000);

  it('stores what one run stores for a customer whose email moved to another shard, listed once', async () => {
    const oldEmail = 'ana.old@example.com';
    const newEmail = otherShardEmail(oldEmail, 'ana.new');
    const night1 = await exportOf('moved-1', {
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['44', 'Ana', 'Ruiz', oldEmail, 'yes'], ['997', 'Other', 'One', 'other@example.com', 'yes']],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, order('#4001', oldEmail, '01', '900.00', 'COAT-1'), order('#4002', 'other@example.com', '02', '20.00', 'SOAP-1')],
    });
    const night2 = await exportOf('moved-2', {
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['997', 'Other', 'One', 'other@example.com', 'yes']],
      'customers_export_2.csv': [SHOPIFY_CUSTOMERS_HEADER, ['44', 'Ana', 'Ruiz', newEmail, 'no']],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, order('#4002', 'other@example.com', '02', '20.00', 'SOAP-1'), order('#4003', newEmail, '20', '30.00', 'SOAP-1')],
    });
    const single = await scenarioConfig(aws, 'moved-single', LENIENT_GUARDS);
    const sharded = await scenarioConfig(aws, 'moved-sharded', LENIENT_GUARDS);
    for (const [night, dir] of [['2026-11-22', night1], ['2026-11-23', night2]] as const) {
      await runSingle(single, night, `moved-single-${night}`, dir);
      await runSharded(sharded, night, `moved-sharded-${night}`, dir);
      expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
    }
    expect((await storedState(aws, sharded)).profiles.find((p) => p.customerId === '44')).toMatchObject({ email: newEmail, acceptsMarketing: false });
  }, 240_000);

  it('refuses in the measure of the shard holding the email (the phases one by one, as in AWS), the other shard measuring', async () => {
    const split = customer('47', true);
    const dir = await exportOf('phases', {
      // The row without the email first, in another file (another reader).
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, [split.id, 'Mei', '', '', '']],
      'customers_export_2.csv': [SHOPIFY_CUSTOMERS_HEADER, [split.id, 'Mei', 'Lin', split.email, 'yes'], ['998', 'Other', 'One', 'other@example.com', 'yes']],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, order('#1001', split.email, '01', '1500.00', 'BAG-1'), order('#1002', 'other@example.com', '02', '20.00', 'SOAP-1')],
    });
    const config = await scenarioConfig(aws, 'split-phases');
    const source = directoryExportSource(dir);
    const context = nightContext({ runDate: '2026-11-23', runId: 'split-phases', config, clients: aws.clients, clock: Date.now });
    const { readers } = await planNight(context, SHARDS, source);
    for (const reader of readers) await repartitionToWork(context, { shards: SHARDS, reader }, source);
    const holder = shardOf(normaliseEmail(split.email), SHARDS);
    for (const shard of shardsOf(SHARDS)) {
      if (shard.index === holder) {
        await expect(measureShardToWork(context, shard)).rejects.toThrow(
          new RegExp(`customer ${split.id} is listed with an email and without one \\(customers_export_1\\.csv line 2\\): .* shard ${holder}/${SHARDS}, .* shard ${shardOf(split.id, SHARDS)} \\(by its customer id\\)`),
        );
      } else {
        await expect(measureShardToWork(context, shard)).resolves.toMatchObject({ shard });
      }
    }
    expect((await storedState(aws, config)).profiles).toEqual([]);
  }, 120_000);

  describe('a customer forgotten by email, listed with that email and without one', () => {
    /** Night 1 without her; night 2 lists her twice, the email-less row last and in another part, with an order. */
    async function forgottenNights(tag: string) {
      const forgotten = customer('61', true);
      const others = [['998', 'Other', 'One', 'other@example.com', 'yes'], ['997', 'Ann', 'Lee', 'ann@example.com', 'yes']];
      const otherOrders = [order('#5001', 'other@example.com', '02', '20.00', 'SOAP-1'), order('#5002', 'ann@example.com', '03', '40.00', 'SOAP-1')];
      const night1 = await exportOf(`forgotten-${tag}-1`, { 'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ...others], 'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...otherOrders] });
      const night2 = await exportOf(`forgotten-${tag}-2`, {
        'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ...others, [forgotten.id, 'Mei', 'Wang', forgotten.email, 'yes']],
        'customers_export_2.csv': [SHOPIFY_CUSTOMERS_HEADER, [forgotten.id, 'Mei', 'Wang', '', 'yes']],
        'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...otherOrders, order('#5003', forgotten.email, '10', '900.00', 'BAG-1')],
      });
      const single = await scenarioConfig(aws, `forgotten-${tag}-single`, LENIENT_GUARDS);
      const sharded = await scenarioConfig(aws, `forgotten-${tag}-sharded`, LENIENT_GUARDS);
      // `clientele forget --email` before she was ever exported: nothing stored matched, the entry is recorded.
      for (const config of [single, sharded]) await recordErasure(aws.clients.documents, tableNames(config).suppression, { customerIds: [], emails: [forgotten.email] }, Date.now());
      await runSingle(single, '2026-11-22', `forgotten-${tag}-single-1`, night1);
      await runSharded(sharded, '2026-11-22', `forgotten-${tag}-sharded-1`, night1);
      // One run merges her rows, meets the address and leaves her out.
      await runSingle(single, '2026-11-23', `forgotten-${tag}-single-2`, night2);
      expect((await storedState(aws, single)).profiles.map((p) => p.customerId)).toEqual(['997', '998']);
      return { forgotten, night2, sharded, before: await storedState(aws, sharded) };
    }

    /** The refusal names her row's file and line, not her id. */
    const refusalOf = (holder: number, idShard: number) =>
      new RegExp(
        `^a customer who asked to be forgotten by email is listed with that email and without one \\(customers_export_2\\.csv line 2\\): ` +
          `the rows with an email fall to shard ${holder}/${SHARDS}, the row without one to shard ${idShard} \\(by its customer id\\), which cannot see the forgotten email.*Nothing was written: run this night as one shard`,
      );

    it('refuses the night in the workers of clientele run nightly --shards, before any write', async () => {
      const { forgotten, night2, sharded, before } = await forgottenNights('cli');
      const refused = runSharded(sharded, '2026-11-23', 'forgotten-cli-sharded-2', night2);
      await expect(refused).rejects.toMatchObject({ name: 'NightRefusedError' });
      await expect(refused).rejects.toThrow(refusalOf(shardOf(normaliseEmail(forgotten.email), SHARDS), shardOf(forgotten.id, SHARDS)));
      await expect(refused).rejects.not.toThrow(forgotten.id);
      expect(await storedState(aws, sharded)).toEqual(before);
    }, 240_000);

    it('refuses the night in the measure of the shard of her address (the phases one by one, as in AWS), before any write', async () => {
      const { forgotten, night2, sharded, before } = await forgottenNights('phases');
      const source = directoryExportSource(night2);
      const context = nightContext({ runDate: '2026-11-23', runId: 'forgotten-phases-sharded-2', config: sharded, clients: aws.clients, clock: Date.now });
      const { readers } = await planNight(context, SHARDS, source);
      for (const reader of readers) await repartitionToWork(context, { shards: SHARDS, reader }, source);
      const holder = shardOf(normaliseEmail(forgotten.email), SHARDS);
      // The id's shard first: it measures her, and writes nothing yet.
      const shards = shardsOf(SHARDS);
      for (const shard of [...shards.filter((s) => s.index !== holder), ...shards.filter((s) => s.index === holder)]) {
        if (shard.index === holder) await expect(measureShardToWork(context, shard)).rejects.toThrow(refusalOf(holder, shardOf(forgotten.id, SHARDS)));
        else await expect(measureShardToWork(context, shard)).resolves.toMatchObject({ shard });
      }
      expect(await storedState(aws, sharded)).toEqual(before);
    }, 240_000);
  });

  it('stores what one run stores for customers without an email (point-of-sale) and for one whose email and id fall to the same shard', async () => {
    const together = customer('52', false);
    const buyer = customer('53', true);
    const dir = await exportOf('point-of-sale', {
      'customers_export_1.csv': [
        SHOPIFY_CUSTOMERS_HEADER,
        [together.id, 'Ana', 'Ruiz', together.email, 'yes'],
        [buyer.id, 'Bo', 'Chen', buyer.email, 'yes'],
        ...Array.from({ length: 12 }, (_, i) => [`POS-${i}`, 'Walk', `In${i}`, '', i % 2 === 0 ? 'yes' : '']),
      ],
      'customers_export_2.csv': [
        SHOPIFY_CUSTOMERS_HEADER,
        // Listed again without an email: merged with the row above in whichever shard holds both.
        [together.id, '', 'Ruiz-Lee', '', 'no'],
        // Point-of-sale customers listed again, still without an email, and one whose address is invalid.
        ['POS-1', 'Walker', '', '', 'no'],
        ['POS-4', '', 'Inn', 'not-an-address', 'yes'],
      ],
      'orders_export_1.csv': [
        SHOPIFY_ORDERS_HEADER,
        order('#2001', together.email, '03', '800.00', 'COAT-1'),
        order('#2002', buyer.email, '04', '60.00', 'SOAP-1'),
        order('#2003', buyer.email, '05', '60.00', 'SOAP-1'),
      ],
    });
    const single = await scenarioConfig(aws, 'pos-single', { maxRejectShare: 1 });
    const sharded = await scenarioConfig(aws, 'pos-sharded', { maxRejectShare: 1 });
    const one = await runSingle(single, '2026-11-23', 'pos-single', dir);
    const two = await runSharded(sharded, '2026-11-23', 'pos-sharded', dir);
    expect(two.shards).toBe(SHARDS);
    expect(comparable(two)).toEqual(comparable(one));
    expect(await rowObjects(aws, two)).toEqual(await rowObjects(aws, one));
    const stored = await storedState(aws, single);
    expect(await storedState(aws, sharded)).toEqual(stored);
    expect(stored.profiles.find((p) => p.customerId === together.id)).toMatchObject({ email: together.email, acceptsMarketing: false, lastName: 'Ruiz-Lee' });
    expect(stored.profiles.filter((p) => String(p.customerId).startsWith('POS-'))).toHaveLength(12);
  }, 180_000);

  it('refuses, before reading, Shopify orders beside a generic orders file (ids and emails would fall to different shards); one run links both', async () => {
    const archived = customer('41', true);
    const dir = await exportOf('mixed-orders', {
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, [archived.id, 'Mei', 'Lin', archived.email, 'yes']],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, order('#2001', archived.email, '01', '375.00', 'BAG-1')],
      // The orders from before the move to Shopify, naming the client by the Shopify customer id.
      'orders-archive.csv': [['order_id', 'customer_id', 'ordered_at', 'line_total'], ['A-1', archived.id, '2026-06-01T10:00:00+08:00', '4800.00']],
    });
    const single = await scenarioConfig(aws, 'mixed-single');
    const sharded = await scenarioConfig(aws, 'mixed-sharded');
    const one = await runSingle(single, '2026-11-23', 'mixed-single-1', dir);
    expect(one.input.rejected).toBe(0);
    expect((await storedState(aws, single)).profiles.find((p) => p.customerId === archived.id)).toMatchObject({ tier: 'Core', orderCount: 2 });
    const refused = runSharded(sharded, '2026-11-23', 'mixed-sharded-1', dir);
    await expect(refused).rejects.toMatchObject({ name: 'NightRefusedError' });
    await expect(refused).rejects.toThrow(/cannot read Shopify orders beside generic orders files \(orders-archive\.csv\).*Nothing read or written: run this night as one shard/);
    expect((await storedState(aws, sharded)).profiles).toEqual([]);
  }, 120_000);
});
