import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { readDueIndexState } from '#shared/store/due-index-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, ledgerEntries } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at } from '#test/support/time.ts';

/**
 * The expiry horizon (DueIndexState.expiryFrom) through a dry run of the catch-up hour, a
 * catch-up hour that dies after recording its state but before clearing expiryFrom, then its
 * rerun, a hold that ends and starts again before any hour caught up, and a configuration change
 * during the hold: each window closed while held is recorded once, on the caught-up profile.
 */

const aws = sharedAws();
const work = scratchDir('sender-behind-nights-expiry-faults');
const ORDER_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount';
// X and Y last ordered on 2025-12-25 (win-back 02-23 to 03-25 00:00); Y ordered again on 03-20.
const ORDERS = [
  { id: 'x-1', customer: 'X', at: '2025-12-25T10:00:00+08:00' },
  { id: 'y-1', customer: 'Y', at: '2025-12-25T10:00:00+08:00' },
  { id: 'y-2', customer: 'Y', at: '2026-03-20T10:00:00+08:00' },
];

async function night(config: Config, runDate: string, runAt: number): Promise<void> {
  const dir = join(work, config.storage.exportsPrefix, runDate);
  await mkdir(dir, { recursive: true });
  const end = at(`${runDate} 23:59`);
  const customers = ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...['X', 'Y'].map((id) => `${id},${id.toLowerCase()}@holds.example.com,Ada,en,Asia/Shanghai,true`)];
  const orders = [ORDER_HEADER, ...ORDERS.filter((o) => Date.parse(o.at) <= end).map((o) => `${o.id},${o.customer},${o.at},BAG,Bag,leather-goods,1,2400.00,USD,paid,`)];
  await writeFile(join(dir, 'customers.csv'), `${customers.join('\n')}\n`);
  await writeFile(join(dir, 'orders.csv'), `${orders.join('\n')}\n`);
  await writeFile(join(dir, 'products.csv'), 'sku,name,category,replenish_days,price\nBAG,Bag,leather-goods,,2400\n');
  await runNightly({ clock: () => runAt, runDate, runId: `n-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
}

/** The clients, failing the first write that clears expiryFrom (the hour dies there). */
function dyingAtClear(): AwsClients {
  const send = aws.clients.documents.send.bind(aws.clients.documents);
  const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
  let done = false;
  documents.send = (async (command: { input: { UpdateExpression?: string } }, ...rest: unknown[]) => {
    if (!done && command.input.UpdateExpression === 'REMOVE expiryFrom') {
      done = true;
      throw new Error('injected: the hour dies before clearing expiryFrom');
    }
    // The document client's overloads cannot be spelled for a wrapper; it passes the call on as it came.
    return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as AwsClients['documents']['send'];
  return { ...aws.clients, documents };
}

const decisions = async (config: Config) => (await ledgerEntries(aws, config)).map((e) => `${e.customerId} ${e.campaignId} ${e.status}`).sort();

describe('the expiry horizon through dry runs, a crash before the clear, a hold that starts again', () => {
  it('a dry run shows the catch-up; a catch-up hour dying before the clear, run again, records each window once', async () => {
    const config = await campaignConfig(aws, 'behind-expiry-crash', {
      campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'winback' }] },
      plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
    });
    await night(config, '2026-03-18', at('2026-03-19 02:00'));
    await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'hc-0324-11');
    await runCampaignHour(aws, config, at('2026-03-25 01:00'), 'hc-0325-01');
    for (let day = 19; day <= 27; day++) await night(config, `2026-03-${day}`, at(`2026-03-28 02:${String(day).padStart(2, '0')}`));
    const runs = tableNames(config).runs;
    const noted = (await readDueIndexState(aws.clients.documents, runs))?.expiryFrom;
    expect(noted).toBeDefined();
    const dry = await runCampaignHour(aws, config, at('2026-03-28 05:00'), 'hc-0328-05-dry', { dryRun: true });
    expect(dry.plan?.map((p) => `${p.customerId} ${p.campaignId} ${p.outcome}`)).toEqual(['X winback expired']);
    expect((await readDueIndexState(aws.clients.documents, runs))?.expiryFrom).toBe(noted);
    await expect(runCampaignHour({ clients: dyingAtClear() }, config, at('2026-03-28 05:00'), 'hc-0328-05')).rejects.toThrow(/injected/);
    expect(await decisions(config)).toEqual(['X winback expired']);
    const rerun = await runCampaignHour(aws, config, at('2026-03-28 06:00'), 'hc-0328-06');
    expect(countsOf(rerun, 'winback').expired).toBe(0);
    expect((await readDueIndexState(aws.clients.documents, runs))?.expiryFrom).toBeUndefined();
    expect(await decisions(config)).toEqual(['X winback expired']);
  }, 300_000);

  it('a hold that ends and starts again before any hour caught up keeps the first expiryFrom', async () => {
    const config = await campaignConfig(aws, 'behind-expiry-again', {
      campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'winback' }] },
      plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
    });
    await night(config, '2026-03-18', at('2026-03-19 02:00'));
    await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'ha-0324-11');
    // Caught up at 03-27 02:30 (night 03-26 due until 04:30 of 03-27 is complete)... but no hour runs; night 03-27 is missed.
    for (let day = 19; day <= 26; day++) await night(config, `2026-03-${day}`, at(`2026-03-27 02:${String(day).padStart(2, '0')}`));
    const again = await runCampaignHour(aws, config, at('2026-03-28 10:00'), 'ha-0328-10');
    expect(again.behind).toMatchObject({ lastNight: '2026-03-26' });
    expect(countsOf(again, 'winback').expired).toBe(0);
    await night(config, '2026-03-27', at('2026-03-28 11:00'));
    const caughtUp = await runCampaignHour(aws, config, at('2026-03-28 12:00'), 'ha-0328-12');
    expect(caughtUp.behind).toBeUndefined();
    expect(countsOf(caughtUp, 'winback').expired).toBe(1);
    expect(await decisions(config)).toEqual(['X winback expired']);
  }, 300_000);

  it('a configuration change during the hold (a full scan behind) and an increment with an order merged meanwhile: X recorded once, Y (ordered) never', async () => {
    const config = await campaignConfig(aws, 'behind-expiry-config', {
      campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'winback' }] },
      plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
    });
    await night(config, '2026-03-18', at('2026-03-19 02:00'));
    await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'hg-0324-11');
    // Y's order of 03-20, merged by an hour behind from an increment (before the nights know it).
    await dropIncrement(aws, config, '2026-03-24T1150', {
      'orders.csv': `${ORDER_HEADER}\ny-2,Y,2026-03-20T10:00:00+08:00,BAG,Bag,leather-goods,1,2400.00,USD,paid,\n`,
    });
    const merged = await runCampaignHour(aws, config, at('2026-03-24 12:00'), 'hg-0324-12');
    expect(merged.behind).toBeDefined();
    // The configuration changes during the hold (a second win-back added): the next hour behind reads every profile.
    const changed = { ...config, campaigns: { ...config.campaigns, campaigns: [...config.campaigns.campaigns, { ...config.campaigns.campaigns[0]!, id: 'winback-2', priority: 9 }] } };
    const scan = await runCampaignHour(aws, changed, at('2026-03-25 01:00'), 'hg-0325-01');
    expect(scan.selection).toMatchObject({ mode: 'full-scan' });
    expect(countsOf(scan, 'winback').expired + countsOf(scan, 'winback-2').expired).toBe(0);
    for (let day = 19; day <= 27; day++) await night(changed, `2026-03-${day}`, at(`2026-03-28 02:${String(day).padStart(2, '0')}`));
    const caughtUp = await runCampaignHour(aws, changed, at('2026-03-28 05:00'), 'hg-0328-05');
    expect(caughtUp.behind).toBeUndefined();
    const next = await runCampaignHour(aws, changed, at('2026-03-28 06:00'), 'hg-0328-06');
    expect(countsOf(next, 'winback').expired + countsOf(next, 'winback-2').expired).toBe(0);
    // winback-2 counts as enabled from 03-25 01:00: X's window closed at 03-25 00:00, before it: not lost to the hold.
    expect(await decisions(config)).toEqual(['X winback expired']);
  }, 300_000);
});
