import { describe, expect, it } from 'vitest';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { dropIncrement, ledgerEntries } from '#test/support/emulator-data.ts';
import { exportDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at } from '#test/support/time.ts';

/**
 * Regression (adversarial probe attack-zones 1): a client's stock-ups and personal cycle are
 * counted in her own days, the days her run-out is counted in, not the brand's.
 *
 * A Paris brand, a client in New York (time_zone column). She buys a serum (45-day catalogue
 * cycle) on her own 2026-02-15 at 18:30 (00:30 on the 16th in Paris) and again on her own
 * 2026-03-09 at 05:30 (10:30 in Paris): 22 of her days apart, so her personal cycle is 22 days,
 * the run-out her 2026-03-31 and the reminder (15 days before) due on her 2026-03-16.
 * The README: "Due on the client's local day 15 days before run-out = the last stock-up's first
 * day + a unit's cycle x its units ... a client buying one jar every 30 days is reminded on their
 * own 30 days"; "N days" are local calendar days of the client's zone.
 */
const aws = sharedAws();
const NY = 'America/New_York';
const CUSTOMERS = 'customer_id,email,first_name,locale,time_zone,accepts_marketing';
const ORDERS = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount';

/** The run-out reminder alone, any hour, no control group, every guard open: the brand's zone is the test's. */
const replenishmentConfig = (name: string, timeZone: string) =>
  campaignConfig(aws, name, {
    timeZone,
    campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'replenishment' }] },
    plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
  });

describe('replenishment: a personal cycle counted in the client\'s own days', () => {
  it('does not remind a New York client a day before her own cycle says', async () => {
    const config = await replenishmentConfig('probe-zones-1', 'Europe/Paris');
    const dir = await exportDir({
      'customers.csv': `${CUSTOMERS}\nny1,ny1@zones.example.com,Ada,en,${NY},true\nfr1,fr1@zones.example.com,Bea,en,Europe/Paris,true\n`,
      'orders.csv': [
        ORDERS,
        'o1,ny1,2026-02-16T00:30:00+01:00,SERUM,Serum,skincare,1,300.00,USD,paid,',
        'o2,ny1,2026-03-09T10:30:00+01:00,SERUM,Serum,skincare,1,300.00,USD,paid,',
        'o3,fr1,2026-01-10T10:00:00+01:00,BAG,Bag,leather-goods,1,2400.00,USD,paid,',
      ].join('\n') + '\n',
      'products.csv': 'sku,name,category,replenish_days,price\nSERUM,Serum,skincare,45,300\nBAG,Bag,leather-goods,,2400\n',
    });
    await runNightly({ clock: () => at('2026-03-10 04:00', 'Europe/Paris'), runDate: '2026-03-09', runId: 'n1', config, clients: aws.clients, source: directoryExportSource(dir) });
    // Each hour after the brand's night before it: on a night behind the last one due, an hour decides no run-out (nights-behind.ts).
    await runNightly({ clock: () => at('2026-03-15 04:00', 'Europe/Paris'), runDate: '2026-03-14', runId: 'n2', config, clients: aws.clients, source: directoryExportSource(dir) });
    // Her 2026-03-15 at noon: 21 of her days after her last purchase, a day early by her own cycle.
    await runCampaignHour(aws, config, at('2026-03-15 12:00', NY), 'h1');
    const early = (await ledgerEntries(aws, config)).filter((e) => e.customerId === 'ny1' && e.status === 'sent');
    await runNightly({ clock: () => at('2026-03-16 04:00', 'Europe/Paris'), runDate: '2026-03-15', runId: 'n3', config, clients: aws.clients, source: directoryExportSource(dir) });
    await runCampaignHour(aws, config, at('2026-03-16 12:00', NY), 'h2');
    const onTime = (await ledgerEntries(aws, config)).filter((e) => e.customerId === 'ny1' && e.status === 'sent');
    expect({ early: early.length, onTime: onTime.length }).toEqual({ early: 0, onTime: 1 });
  }, 600_000);

  /**
   * A Tokyo brand, a client in London: sunscreen on her 2026-10-08 at 01:00 (09:00 in Tokyo) and on
   * her 2026-10-23 at 19:00 (03:00 on the 24th in Tokyo). 15 of her days apart: a 15-day cycle,
   * the reminder due on her 2026-10-23, not after that purchase: none (README). Counted in Tokyo's
   * days (16) and added to her own day, it is due on her 2026-10-24: "running out" the day after
   * she bought it.
   */
  it('does not tell a London client her sunscreen runs out the day after she bought it', async () => {
    const config = await replenishmentConfig('probe-zones-1b', 'Asia/Tokyo');
    const dir = await exportDir({
      'customers.csv': `${CUSTOMERS}\nuk1,uk1@zones.example.com,Ada,en,Europe/London,true\njp1,jp1@zones.example.com,Bea,en,Asia/Tokyo,true\n`,
      'orders.csv': [
        ORDERS,
        'o1,uk1,2026-10-08T09:00:00+09:00,SUN,Sunscreen,suncare,1,60.00,USD,paid,',
        'o2,uk1,2026-10-24T03:00:00+09:00,SUN,Sunscreen,suncare,1,60.00,USD,paid,',
        'o3,jp1,2026-01-10T10:00:00+09:00,BAG,Bag,leather-goods,1,2400.00,USD,paid,',
      ].join('\n') + '\n',
      'products.csv': 'sku,name,category,replenish_days,price\nSUN,Sunscreen,suncare,90,60\nBAG,Bag,leather-goods,,2400\n',
    });
    await runNightly({ clock: () => at('2026-10-25 04:00', 'Asia/Tokyo'), runDate: '2026-10-24', runId: 'n1', config, clients: aws.clients, source: directoryExportSource(dir) });
    await runCampaignHour(aws, config, at('2026-10-25 11:00', 'Europe/London'), 'h1');
    const sent = (await ledgerEntries(aws, config)).filter((e) => e.customerId === 'uk1' && e.status === 'sent').map((e) => e.occasionKey);
    expect(sent).toEqual([]);
  }, 600_000);

  /**
   * The first case with the second serum merged by the hourly ingest from an increment of orders
   * only (no customer row): her stored zone counts the gap, 22 of her days, as the next night will.
   */
  it('the hourly merge counts her cycle in her stored zone too', async () => {
    const config = await replenishmentConfig('probe-zones-1c', 'Europe/Paris');
    const header = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount';
    const dir = await exportDir({
      'customers.csv': `${CUSTOMERS}\nny1,ny1@zones.example.com,Ada,en,${NY},true\nfr1,fr1@zones.example.com,Bea,en,Europe/Paris,true\n`,
      'orders.csv': [header, 'o1,ny1,2026-02-16T00:30:00+01:00,SERUM,Serum,skincare,1,300.00,USD,paid,', 'o3,fr1,2026-01-10T10:00:00+01:00,BAG,Bag,leather-goods,1,2400.00,USD,paid,'].join('\n') + '\n',
      'products.csv': 'sku,name,category,replenish_days,price\nSERUM,Serum,skincare,45,300\nBAG,Bag,leather-goods,,2400\n',
    });
    await runNightly({ clock: () => at('2026-03-09 04:00', 'Europe/Paris'), runDate: '2026-03-08', runId: 'n1', config, clients: aws.clients, source: directoryExportSource(dir) });
    await dropIncrement(aws, config, '2026-03-09T1030', { 'orders.csv': `${header}\no2,ny1,2026-03-09T10:30:00+01:00,SERUM,Serum,skincare,1,300.00,USD,paid,\n` });
    await runCampaignHour(aws, config, at('2026-03-09 11:00', 'Europe/Paris'), 'h0');
    const profile = await getProfile(aws.clients.documents, tableNames(config).profiles, 'ny1');
    expect(profile?.skus.SERUM).toMatchObject({ personalCycleDays: 22, purchases: 2, quantity: 1 });
    // Each hour after the brand's night before it (nights-behind.ts), whose snapshot has the merged order too.
    const nightly = await exportDir({
      'customers.csv': `${CUSTOMERS}\nny1,ny1@zones.example.com,Ada,en,${NY},true\nfr1,fr1@zones.example.com,Bea,en,Europe/Paris,true\n`,
      'orders.csv': [header, 'o1,ny1,2026-02-16T00:30:00+01:00,SERUM,Serum,skincare,1,300.00,USD,paid,', 'o2,ny1,2026-03-09T10:30:00+01:00,SERUM,Serum,skincare,1,300.00,USD,paid,', 'o3,fr1,2026-01-10T10:00:00+01:00,BAG,Bag,leather-goods,1,2400.00,USD,paid,'].join('\n') + '\n',
      'products.csv': 'sku,name,category,replenish_days,price\nSERUM,Serum,skincare,45,300\nBAG,Bag,leather-goods,,2400\n',
    });
    await runNightly({ clock: () => at('2026-03-15 04:00', 'Europe/Paris'), runDate: '2026-03-14', runId: 'n2', config, clients: aws.clients, source: directoryExportSource(nightly) });
    await runCampaignHour(aws, config, at('2026-03-15 12:00', NY), 'h1');
    const early = (await ledgerEntries(aws, config)).filter((e) => e.customerId === 'ny1' && e.status === 'sent');
    await runNightly({ clock: () => at('2026-03-16 04:00', 'Europe/Paris'), runDate: '2026-03-15', runId: 'n3', config, clients: aws.clients, source: directoryExportSource(nightly) });
    await runCampaignHour(aws, config, at('2026-03-16 12:00', NY), 'h2');
    const onTime = (await ledgerEntries(aws, config)).filter((e) => e.customerId === 'ny1' && e.status === 'sent');
    expect({ early: early.length, onTime: onTime.length }).toEqual({ early: 0, onTime: 1 });
  }, 600_000);
});
