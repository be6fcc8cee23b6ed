import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { allTasks } from '#shared/store/task-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { addDays, startOfLocalDay } from '#shared/time.ts';
import { advisorsConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { ledgerEntries } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local } from '#test/support/time.ts';

/**
 * The recall's last step (365 days without an order) opens on the last day the client's last order
 * is in the trailing 12 months: the night of that day takes it out, and a VIC whose spend was that
 * order becomes Entry while the step is open. A lapse's step is judged by the higher of the tier the
 * client held when it came due and the tier of the hour (shared/campaigns/due.ts lapseTier), so the
 * advisor's task given on day 365 still decides the next morning, and the note goes in the
 * advisor's name, without a discount. A client who moved down before the step came due (a refund)
 * is judged by that lower tier; one moved up since it came due, without an order (a late export,
 * while the step was held on nights behind), by the higher tier of the hour: a VIC's step, never the
 * discount. (From the adversarial probes attack-yearedge-2 and attack-fixes38, which failed before the rule.)
 */

const aws = sharedAws();
const work = scratchDir('recall-vic-lapsed-a-year');
const SH = 'Asia/Shanghai';
const VIC = 'vic365@recall-year.example.com';
const REFUNDED = 'refunded365@recall-year.example.com';
const ADVISOR = 'sophie@recall-year.example.com';
const DISCOUNT = /15%|free shipping/i;

/** The export: both bought 60,000.00 on 2025-12-08; with `refund`, 20,000.00 of the second client's order came back (40,000.00: Core). */
async function exportDir(refund: boolean): Promise<string> {
  const dir = join(work, refund ? 'after-refund' : 'before-refund');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'customers.csv'),
    `customer_id,email,first_name,locale,time_zone,accepts_marketing,advisor_id\nv365,${VIC},Ada,en,${SH},true,A01\nr365,${REFUNDED},Bea,en,${SH},true,A01\n`,
  );
  await writeFile(
    join(dir, 'orders.csv'),
    'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,refunded_amount\n' +
      'o1,v365,2025-12-08T10:00:00+08:00,EDP,Eau de Parfum,fragrance,1,60000.00,0\n' +
      `o2,r365,2025-12-08T10:00:00+08:00,EDP,Eau de Parfum,fragrance,1,60000.00,${refund ? '20000.00' : '0'}\n`,
  );
  await writeFile(join(dir, 'advisors.csv'), `advisor_id,name,email,locale,active\nA01,Sophie Martin,${ADVISOR},en,true\n`);
  return dir;
}

const night = (config: Config, runDate: string, dir: string) =>
  runNightly({ clock: () => startOfLocalDay(addDays(runDate, 1), SH) + 4 * 3_600_000, runDate, runId: `night-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });

/** The advisor's task emails (the weekly digest of night 2026-12-07 goes to them too). */
const taskEmails = async () => (await emailsTo(aws, ADVISOR)).map((e) => e.subject).filter((subject) => !subject.startsWith('Your client book'));

const ledgerOf = async (config: Config, customerId: string) =>
  (await ledgerEntries(aws, config)).filter((e) => e.customerId === customerId).map((e) => ({ key: e.occasionKey.replace(/#[^#]+#365d$/, '#365d'), status: e.status, reason: e.reason, tier: e.tier }));

describe('the recall at 365 days, when the last order leaves the 12 months', () => {
  it('keeps a VIC’s step with their advisor until the task’s send-by, then sends the note in their name, no discount; a client refunded below VIC before the step gets the offer', { timeout: 240_000 }, async () => {
    const config = await advisorsConfig(aws, 'recall-vic-year', {
      timeZone: SH,
      campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'recall' }] },
      plausibility: { maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1, maxUnexplainedLapseShare: 1 },
    });
    const before = await exportDir(false);
    const after = await exportDir(true);
    expect((await night(config, '2026-11-30', before)).distribution.tiers.VIC.clients).toBe(2);
    // The refund: the second client moves down to Core a week before the step.
    expect((await night(config, '2026-12-01', after)).distribution.tiers.VIC.clients).toBe(1);
    await night(config, '2026-12-07', after);

    // Day 365: the VIC's note is their advisor's task first; the client refunded to Core gets the offer.
    await runCampaignHour(aws, config, local('2026-12-08 10:00', SH), 'year-d365');
    expect(await emailsTo(aws, VIC)).toHaveLength(0);
    expect(await taskEmails()).toEqual(['A note for Ada in your name: yours to send']);
    const [offer] = await emailsTo(aws, REFUNDED);
    expect(offer?.from).toBe('hello@maison.example.com');
    expect(offer?.body.text).toMatch(DISCOUNT);

    // The night of day 365: the order leaves the trailing 12 months, both are Entry now.
    expect((await night(config, '2026-12-08', after)).distribution.tiers.VIC.clients).toBe(0);

    // The next morning, two days before the task's wait ends: the advisor's task still decides, in a dry run too.
    const dry = await runCampaignHour(aws, config, local('2026-12-09 10:00', SH), 'year-d366-dry', { dryRun: true });
    expect(dry.plan?.map((p) => [p.customerId, p.outcome, p.reason])).toEqual([['v365', 'deferred', 'advisor-task']]);
    await runCampaignHour(aws, config, local('2026-12-09 10:00', SH), 'year-d366');
    expect(await emailsTo(aws, VIC)).toHaveLength(0);
    expect(await emailsTo(aws, REFUNDED)).toHaveLength(1);
    expect((await allTasks(aws.clients.documents, tableNames(config).advisorTasks)).map((t) => [t.customerId, t.status, t.tier])).toEqual([['v365', 'open', 'VIC']]);
    expect(await ledgerOf(config, 'v365')).toEqual([{ key: 'recall#365d', status: 'deferred', reason: 'advisor-task', tier: 'VIC' }]);

    // No answer by the task's send-by (3 days after it): the note goes in the advisor's name, without a discount
    // (the nights in between run as scheduled: an hour on nights behind holds a lapse's step).
    for (const runDate of ['2026-12-09', '2026-12-10']) await night(config, runDate, after);
    await runCampaignHour(aws, config, local('2026-12-11 10:00', SH), 'year-d368');
    const [note, ...more] = await emailsTo(aws, VIC);
    expect(more).toHaveLength(0);
    expect(note?.from).toContain('Sophie Martin via');
    expect(note?.replyTo).toEqual([ADVISOR]);
    expect(note?.body.text).not.toMatch(DISCOUNT);
    expect((await allTasks(aws.clients.documents, tableNames(config).advisorTasks)).map((t) => [t.customerId, t.status])).toEqual([['v365', 'emailed']]);
    expect(await ledgerOf(config, 'v365')).toEqual([{ key: 'recall#365d', status: 'sent', reason: undefined, tier: 'VIC' }]);
    // The refunded client's step was judged by the Core they held when it came due: recorded so, never a note.
    expect(await ledgerOf(config, 'r365')).toEqual([{ key: 'recall#365d', status: 'sent', reason: undefined, tier: 'Core' }]);
    expect(await emailsTo(aws, REFUNDED)).toHaveLength(1);
  });
});

describe('a recall step held while the nights are behind, when a late export makes the client VIC', () => {
  const UPGRADED = 'cleo120@recall-upgrade.example.com';
  const UP_ADVISOR = 'sophie@recall-upgrade.example.com';

  /** Cleo bought 40,000.00 on 2026-01-10 (Core); with `late`, an order of 30,000.00 of 2025-12-01 the export had missed (70,000.00: VIC). */
  async function upgradeDir(late: boolean): Promise<string> {
    const dir = join(work, late ? 'upgrade-late-order' : 'upgrade-core');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'customers.csv'), `customer_id,email,first_name,locale,time_zone,accepts_marketing,advisor_id\nu120,${UPGRADED},Cleo,en,${SH},true,A01\n`);
    await writeFile(
      join(dir, 'orders.csv'),
      'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,refunded_amount\n' +
        (late ? 'o0,u120,2025-12-01T10:00:00+08:00,EDP,Eau de Parfum,fragrance,1,30000.00,0\n' : '') +
        'o1,u120,2026-01-10T15:00:00+08:00,EDP,Eau de Parfum,fragrance,1,40000.00,0\n',
    );
    await writeFile(join(dir, 'advisors.csv'), `advisor_id,name,email,locale,active\nA01,Sophie Martin,${UP_ADVISOR},en,true\n`);
    return dir;
  }

  it('is judged by the VIC they are at the hour, not the Core they were when it came due: their advisor’s task, no discount', { timeout: 240_000 }, async () => {
    const config = await advisorsConfig(aws, 'recall-vic-upgrade', {
      timeZone: SH,
      campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'recall' }] },
      plausibility: { maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1, maxUnexplainedLapseShare: 1 },
    });
    expect((await night(config, '2026-05-08', await upgradeDir(false))).distribution.tiers.Core.clients).toBe(1);

    // Day 120 (2026-05-10), the night of 05-09 missing: the step is due and held, undecided.
    const held = await runCampaignHour(aws, config, local('2026-05-10 10:00', SH), 'up-d120');
    expect(held.behind).toMatchObject({ lastNight: '2026-05-08', campaigns: ['recall'], occasionsHeld: 1 });
    expect(await emailsTo(aws, UPGRADED)).toHaveLength(0);
    expect((await ledgerEntries(aws, config)).filter((e) => e.customerId === 'u120')).toEqual([]);

    // The catch-up night of 05-10 reads the order the export had missed: VIC, after the step came due, with no order since it.
    expect((await night(config, '2026-05-10', await upgradeDir(true))).distribution.tiers.VIC.clients).toBe(1);

    // The next hour decides the step as a VIC's: their advisor's task, no email from the client care team.
    await runCampaignHour(aws, config, local('2026-05-11 10:00', SH), 'up-d121');
    expect(await emailsTo(aws, UPGRADED)).toHaveLength(0);
    expect((await emailsTo(aws, UP_ADVISOR)).map((e) => e.subject).filter((subject) => !subject.startsWith('Your client book'))).toEqual([
      'A note for Cleo in your name: yours to send',
    ]);
    expect((await ledgerEntries(aws, config)).filter((e) => e.customerId === 'u120').map((e) => [e.occasionKey.replace(/#[^#]+#120d$/, '#120d'), e.status, e.reason, e.tier])).toEqual([
      ['recall#120d', 'deferred', 'advisor-task', 'VIC'],
    ]);
  });
});
