import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, countsOf, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { DAY, at as local } from '#test/support/time.ts';

/**
 * The `tier-upgrade-thanks` play (issue 15 point 2) on the embedded AWS: the nightly run sees
 * clients move up, and the next day's hourly sender thanks those who reached Potential, Core or
 * VIC (recognition, no discount; the tier named in the client's language), never the client whose
 * first order made them Entry. A VIC whose advisor is active is first the advisor's task, then the
 * note in the advisor's name. Nothing is sent twice.
 */

const aws = sharedAws();
const work = scratchDir('plays-tier-upgrade');
const SH = 'Asia/Shanghai';
const PLAY_ONLY = { policy: { controlShare: 0 }, campaigns: [{ kind: 'tier-upgrade-thanks' }] };
// Two or three buyers: the ones moving up are far more than the share of a real base the nightly allows.
const FEW_BUYERS = { maxUpgradeShare: 1 };

const customersCsv =
  [
    'customer_id,email,first_name,locale,time_zone,accepts_marketing',
    `core,core@plays.example.com,Ada,en,${SH},true`,
    `vic,vic@plays.example.com,美玲,zh-CN,${SH},true`,
    `entry,entry@plays.example.com,Tom,en,${SH},true`,
  ].join('\n') + '\n';
// core: 2,000.00 (Potential) then +4,000.00 (Core); vic: 10,000.00 (Core) then +45,000.00 (VIC); entry: no order, then a first one.
const FIRST_NIGHT = ['order_id,customer_id,ordered_at,line_total', 'o1,core,2026-11-02T10:00:00+08:00,2000.00', 'o2,vic,2026-11-03T10:00:00+08:00,10000.00'];
const SECOND_NIGHT = ['o3,core,2026-11-21T10:00:00+08:00,4000.00', 'o4,vic,2026-11-21T11:00:00+08:00,45000.00', 'o5,entry,2026-11-21T12:00:00+08:00,300.00'];

async function night(config: Config, runDate: string, orders: string[]) {
  const dir = join(work, config.storage.tablePrefix, runDate);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), customersCsv);
  await writeFile(join(dir, 'orders.csv'), orders.join('\n') + '\n');
  return runNightly({ clock: Date.now, runDate, runId: `night-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
}

describe('tier upgrade thank-you on the embedded AWS', () => {
  it('thanks the clients who moved up, the day after, in their language, once', async () => {
    const config = await campaignConfig(aws, 'plays-tier-upgrade', { campaigns: PLAY_ONLY as never, plausibility: FEW_BUYERS });
    await night(config, '2026-11-20', FIRST_NIGHT);
    expect((await run(aws, config, local('2026-11-21 10:00', SH), 'hour-1')).clientsDue).toBe(0);
    await night(config, '2026-11-21', [...FIRST_NIGHT, ...SECOND_NIGHT]);

    // The night's own day: not yet (the day after the move).
    expect(countsOf(await run(aws, config, local('2026-11-21 23:00', SH), 'hour-2'), 'tier-upgrade-thanks').sent).toBe(0);
    const hour = await run(aws, config, local('2026-11-22 10:00', SH), 'hour-3');
    expect(countsOf(hour, 'tier-upgrade-thanks').sent).toBe(2);
    const sent = (await ledgerEntries(aws, config)).filter((e) => e.status === 'sent').map((e) => [e.customerId, e.occasionKey]);
    expect(sent.sort()).toEqual([
      ['core', 'tier-upgrade-thanks#2026-11-21'],
      ['vic', 'tier-upgrade-thanks#2026-11-21'],
    ]);

    const [core] = await emailsTo(aws, 'core@plays.example.com');
    expect(core?.subject).toBe('Thank you, Ada: you are now one of our Core clients');
    expect(core?.body.text).toContain('Your recent purchases have made you one of our Core clients');
    expect(core?.body.text).not.toMatch(/%|Code:|coupon/i);
    // The VIC without an advisor: the client care team's note, in Chinese, naming the tier in Chinese.
    const [vic] = await emailsTo(aws, 'vic@plays.example.com');
    expect(vic?.subject).toBe('美玲，一份来自我们的诚挚感谢');
    expect(vic?.body.text).toContain('您已成为我们的VIC 贵宾');
    expect(vic?.body.text).toContain('客户关怀团队');
    expect(vic?.body.text).not.toMatch(/优惠码|%/);
    expect(await emailsTo(aws, 'entry@plays.example.com')).toEqual([]);

    // The same hour again and the next days: nothing twice.
    for (const [i, when] of [local('2026-11-22 10:00', SH), local('2026-11-23 10:00', SH), local('2026-11-27 10:00', SH)].entries()) {
      expect(countsOf(await run(aws, config, when, `again-${i}`), 'tier-upgrade-thanks').sent).toBe(0);
    }
    for (const id of ['core', 'vic']) expect(await emailsTo(aws, `${id}@plays.example.com`)).toHaveLength(1);
  }, 240_000);

  it("makes a VIC's thank-you the advisor's task first, then sends it in the advisor's name", async () => {
    const config = await campaignConfig(aws, 'plays-tier-upgrade-advisor', { campaigns: PLAY_ONLY as never, plausibility: FEW_BUYERS });
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-21',
      advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@advisors.example.com', locale: 'en', active: true }],
    });
    await seedProfiles(aws, config, [
      profileItem('new-vic', { tier: 'VIC', previousTier: 'Core', tierChangedOn: '2026-11-21', advisorId: 'A01', locale: 'en', timeZone: SH, firstName: 'Grace', orderCount: 9, spend12mMinor: 6_000_000 }),
    ]);
    const NOW = local('2026-11-22 10:00', SH);
    const first = await run(aws, config, NOW, 'advisor-1');
    expect(countsOf(first, 'tier-upgrade-thanks')).toMatchObject({ sent: 0, deferred: 1 });
    const [task] = await emailsTo(aws, 'sophie@advisors.example.com');
    expect(task?.body.text).toContain('new-vic');
    expect(await emailsTo(aws, 'new-vic@example.com')).toEqual([]);

    // No answer within advisors.taskWaitDays (3): the note goes out in her name, inside the play's week.
    const late = await run(aws, config, NOW + 3 * DAY, 'advisor-2');
    expect(countsOf(late, 'tier-upgrade-thanks').sent).toBe(1);
    const [note] = await emailsTo(aws, 'new-vic@example.com');
    expect(note?.from).toMatch(/^Sophie Martin via .+ </);
    expect(note?.replyTo).toEqual(['sophie@advisors.example.com']);
    expect(note?.body.text).toContain('I wanted to thank you personally. Your loyalty has made you one of our VIC clients');
    expect(note?.body.text).toContain('Warm regards,\nSophie Martin');
    expect(countsOf(await run(aws, config, NOW + 3 * DAY, 'advisor-3'), 'tier-upgrade-thanks').sent).toBe(0);
    expect(await emailsTo(aws, 'new-vic@example.com')).toHaveLength(1);
  }, 240_000);

  it('thanks a stored prospect for a first order of 1,500.00 once (first-purchase thanks), not again as a tier upgrade', async () => {
    // A first purchase from Prospect is no upgrade: a prospect some night stored and a client no
    // night had seen, with the same first order, get the same emails.
    const config = await campaignConfig(aws, 'plays-tier-upgrade-prospect', {
      campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome' }, { kind: 'first-purchase-thanks' }, { kind: 'tier-upgrade-thanks' }] } as never,
      plausibility: { maxUpgradeShare: 1, maxDropShare: 1 },
    });
    const address = (id: string) => `${id}@first-purchase.example.com`;
    const nightOf = async (runDate: string, ids: string[], orders: string[]) => {
      const dir = join(work, config.storage.tablePrefix, runDate);
      await mkdir(dir, { recursive: true });
      const customers = ['customer_id,email,first_name,locale,time_zone,signed_up_at,accepts_marketing', ...ids.map((id) => `${id},${address(id)},Ada,en,${SH},2026-11-10T10:00:00+08:00,true`)];
      await writeFile(join(dir, 'customers.csv'), customers.join('\n') + '\n');
      await writeFile(join(dir, 'orders.csv'), ['order_id,customer_id,ordered_at,line_total', ...orders].join('\n') + '\n');
      return runNightly({ clock: Date.now, runDate, runId: `night-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
    };
    const OLD = ['o0,base,2026-06-01T10:00:00+08:00,300.00'];
    // Night of 11-20: 'prospect' signed up on 11-10, no order yet; 'unseen' is not in the export yet.
    await nightOf('2026-11-20', ['base', 'prospect'], OLD);
    // Both place the same first order (1,500.00: Potential) on 11-21.
    const firstOrders = ['p1,prospect,2026-11-21T10:00:00+08:00,1500.00', 'u1,unseen,2026-11-21T10:00:00+08:00,1500.00'];
    await nightOf('2026-11-21', ['base', 'prospect', 'unseen'], [...OLD, ...firstOrders]);
    for (const [i, hour] of ['2026-11-22 10:00', '2026-11-23 10:00', '2026-11-24 10:00'].entries()) await run(aws, config, local(hour, SH), `prospect-${i}`);

    const sent = (await ledgerEntries(aws, config)).filter((e) => e.status === 'sent').map((e) => `${e.customerId} ${e.occasionKey}`);
    expect(sent.filter((s) => s.startsWith('prospect '))).toEqual(['prospect first-purchase-thanks']);
    expect(sent.filter((s) => s.startsWith('unseen '))).toEqual(['unseen first-purchase-thanks']);
    expect(await emailsTo(aws, address('prospect'))).toHaveLength(1);
  }, 240_000);

  it('does not thank a client back in the tier she left days ago (a refund, then a new order); one back after more than a month is thanked again', async () => {
    const config = await campaignConfig(aws, 'plays-tier-upgrade-dip', {
      campaigns: PLAY_ONLY as never,
      plausibility: { maxUpgradeShare: 1, maxDowngradeShare: 1, maxDropShare: 1, maxUnexplainedLapseShare: 1 },
    });
    const address = (id: string) => `${id}@tier-dip.example.com`;
    const nightOf = async (runDate: string, orders: string[]) => {
      const dir = join(work, config.storage.tablePrefix, runDate);
      await mkdir(dir, { recursive: true });
      const customers = ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...['dip', 'away', 'base'].map((id) => `${id},${address(id)},Ada,en,${SH},true`)];
      await writeFile(join(dir, 'customers.csv'), customers.join('\n') + '\n');
      await writeFile(join(dir, 'orders.csv'), ['order_id,customer_id,ordered_at,line_total,status,refunded_amount', ...orders].join('\n') + '\n');
      const summary = await runNightly({ clock: () => local(`${runDate} 23:30`, SH), runDate, runId: `night-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
      expect(summary.status).toBe('completed');
    };
    const hour = async (when: string) => countsOf(await run(aws, config, local(when, SH), `dip-${when}`), 'tier-upgrade-thanks').sent;
    // Both Core (10,000.00), then VIC with a 45,000.00 order, thanked; the order is refunded: Core again.
    const core = ['d1,dip,2026-11-03T10:00:00+08:00,10000.00,paid,', 'a1,away,2026-11-03T10:00:00+08:00,10000.00,paid,', 'b1,base,2026-06-01T10:00:00+08:00,300.00,paid,'];
    const vic = (status: string, refund: string) => [`d2,dip,2026-11-21T10:00:00+08:00,45000.00,${status},${refund}`, `a2,away,2026-11-21T10:00:00+08:00,45000.00,${status},${refund}`];
    await nightOf('2026-11-20', core);
    await nightOf('2026-11-21', [...core, ...vic('paid', '')]);
    expect(await hour('2026-11-22 10:00')).toBe(2);
    await nightOf('2026-11-25', [...core, ...vic('refunded', '45000.00')]);
    // 'dip' buys again five days after leaving VIC: back in it, no second thank-you.
    const dipBack = 'd3,dip,2026-11-30T10:00:00+08:00,50000.00,paid,';
    await nightOf('2026-11-30', [...core, ...vic('refunded', '45000.00'), dipBack]);
    for (const when of ['2026-12-01 10:00', '2026-12-02 10:00', '2026-12-05 10:00']) expect(await hour(when)).toBe(0);
    // 'away' comes back 32 days after leaving it: reaching VIC again is a move of its own.
    await nightOf('2026-12-27', [...core, ...vic('refunded', '45000.00'), dipBack, 'a3,away,2026-12-27T10:00:00+08:00,50000.00,paid,']);
    expect(await hour('2026-12-28 10:00')).toBe(1);
    const sent = (await ledgerEntries(aws, config)).filter((e) => e.status === 'sent').map((e) => `${e.customerId} ${e.occasionKey}`);
    expect(sent.sort()).toEqual(['away tier-upgrade-thanks#2026-11-21', 'away tier-upgrade-thanks#2026-12-27', 'dip tier-upgrade-thanks#2026-11-21']);
    expect(await emailsTo(aws, address('dip'))).toHaveLength(1);
  }, 240_000);

  it('does not thank a VIC refunded down two tiers on two nights who buys again days after leaving VIC', async () => {
    const config = await campaignConfig(aws, 'plays-tier-upgrade-chain', { campaigns: PLAY_ONLY as never, plausibility: { maxUpgradeShare: 1, maxDowngradeShare: 1, maxDropShare: 1, maxUnexplainedLapseShare: 1 } });
    const header = 'order_id,customer_id,ordered_at,line_total,status,refunded_amount';
    const order = (id: string, day: string, total: string, refunded = '') => `${id},chain,2026-${day}T10:00:00+08:00,${total},${refunded === '' ? 'paid' : 'refunded'},${refunded}`;
    const nightOf = async (runDate: string, tier: string, orders: string[]) => {
      const dir = join(work, config.storage.tablePrefix, runDate);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'customers.csv'), `customer_id,email,first_name,locale,time_zone,accepts_marketing\nchain,chain@tier-dip.example.com,Ada,en,${SH},true\n`);
      await writeFile(join(dir, 'orders.csv'), [header, ...orders].join('\n') + '\n');
      await runNightly({ clock: () => local(`${runDate} 23:30`, SH), runDate, runId: `night-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
      expect((await getProfile(aws.clients.documents, tableNames(config).profiles, 'chain'))?.tier).toBe(tier);
    };
    await nightOf('2026-03-01', 'Core', [order('o1', '03-01', '5000.00')]);
    await nightOf('2026-03-02', 'VIC', [order('o1', '03-01', '5000.00'), order('o2', '03-02', '50000.00')]);
    await run(aws, config, local('2026-03-03 10:00', SH), 'chain-1');
    // 03-10: the VIC order refunded (Core); 03-12: the first one in part (Potential); 03-15: a new order, VIC 5 days after leaving it.
    await nightOf('2026-03-10', 'Core', [order('o1', '03-01', '5000.00'), order('o2', '03-02', '50000.00', '50000.00')]);
    await nightOf('2026-03-12', 'Potential', [order('o1', '03-01', '5000.00', '3000.00'), order('o2', '03-02', '50000.00', '50000.00')]);
    await nightOf('2026-03-15', 'VIC', [order('o1', '03-01', '5000.00', '3000.00'), order('o2', '03-02', '50000.00', '50000.00'), order('o3', '03-15', '49000.00')]);
    for (const when of ['2026-03-16 10:00', '2026-03-17 10:00']) await run(aws, config, local(when, SH), `chain-${when}`);
    expect((await ledgerEntries(aws, config)).map((e) => `${e.occasionKey} ${e.status}`)).toEqual(['tier-upgrade-thanks#2026-03-02 sent']);
  }, 240_000);
});
