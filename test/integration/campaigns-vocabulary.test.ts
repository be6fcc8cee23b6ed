import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { ProfileItem } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, countsOf, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { ledgerEntries, scanTable } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local } from '#test/support/time.ts';

/**
 * Issue 15 point 1 on the embedded AWS: campaigns defined in the config in the trigger vocabulary
 * (birthday -7 days; tier changed up, the day after) are sent by the hourly sender through its due
 * index. The nightly run records the upgrade on the profile (previousTier, tierChangedOn) from the
 * night before; a rerun of that night changes nothing; the next hours send nothing twice.
 */

const aws = sharedAws();
const work = scratchDir('vocabulary');
const SH = 'Asia/Shanghai';

const CAMPAIGNS = {
  policy: { controlShare: 0 },
  campaigns: [
    { id: 'birthday-7', trigger: { on: 'birthday', daysBefore: 7 }, template: { en: 'welcome', 'zh-CN': 'winback' }, offers: { default: { kind: 'sample' } } },
    { id: 'tier-up', trigger: { on: 'tier-changed', direction: 'up', daysAfter: 1 }, template: 'welcome', audience: { tiers: ['Core', 'VIC'] } },
  ],
};

// up: 2,000.00 on the first night (Potential), 6,000.00 after the second (Core). bday: a birthday on 11-29, in Chinese.
const customersCsv = ['customer_id,email,first_name,locale,time_zone,accepts_marketing,birthday', `up,up@vocab.example.com,Ada,en,${SH},true,`, `bday,bday@vocab.example.com,Mei,zh-CN,${SH},true,1990-11-29`, `month,month@vocab.example.com,Lin,en,${SH},true,--12`].join('\n') + '\n';
const ORDERS = ['order_id,customer_id,ordered_at,line_total', 'o1,up,2026-11-02T10:00:00+08:00,2000.00', 'o2,bday,2026-11-03T10:00:00+08:00,300.00', 'o3,month,2026-11-03T10:00:00+08:00,300.00'];

async function night(config: Config, runDate: string, extraOrders: string[] = []) {
  const dir = join(work, config.storage.tablePrefix, runDate);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), customersCsv);
  await writeFile(join(dir, 'orders.csv'), [...ORDERS, ...extraOrders].join('\n') + '\n');
  return runNightly({ clock: Date.now, runDate, runId: `night-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
}

describe('vocabulary campaigns on the embedded AWS', () => {
  it('sends a birthday -7 days and a tier upgrade thank-you through the due index, once each', async () => {
    // Three buyers: the one moving up is far more than the share of a real base the nightly allows.
    const config = await campaignConfig(aws, 'vocabulary', { campaigns: CAMPAIGNS as never, plausibility: { maxUpgradeShare: 1 } });
    await night(config, '2026-11-20');

    // The first hour builds the index: nothing due yet.
    const first = await run(aws, config, local('2026-11-21 10:00', SH), 'hour-1');
    expect(first.selection.mode).toBe('full-scan');
    expect(first.clientsDue).toBe(0);

    // The night of 11-21 sees the upgrade (Potential → Core) and records it; its rerun writes the same profile.
    const byId = async () => (await scanTable<ProfileItem>(aws, tableNames(config).profiles)).sort((a, b) => a.customerId.localeCompare(b.customerId));
    await night(config, '2026-11-21', ['o4,up,2026-11-21T10:00:00+08:00,4000.00']);
    const profiles = await byId();
    await night(config, '2026-11-21', ['o4,up,2026-11-21T10:00:00+08:00,4000.00']);
    expect(await byId()).toEqual(profiles);
    const up = profiles.find((p) => p.customerId === 'up');
    expect(up).toMatchObject({ tier: 'Core', previousTier: 'Potential', tierChangedOn: '2026-11-21' });
    // The index names the day the thank-you is due (the day after the night), from what the night wrote.
    expect(up?.nextDueAt).toBe(local('2026-11-22 00:00', SH));

    // 11-22 10:00: both windows open (birthday 11-29 − 7 days; the day after the upgrade), read through the index.
    const hour = await run(aws, config, local('2026-11-22 10:00', SH), 'hour-2');
    expect(hour.selection.mode).toBe('index');
    expect(hour.clientsScanned).toBe(2);
    expect(countsOf(hour, 'birthday-7').sent).toBe(1);
    expect(countsOf(hour, 'tier-up').sent).toBe(1);
    const sent = (await ledgerEntries(aws, config)).filter((e) => e.status === 'sent').map((e) => [e.customerId, e.occasionKey]);
    expect(sent.sort()).toEqual([
      ['bday', 'birthday-7#2026'],
      ['up', 'tier-up#2026-11-21'],
    ]);
    // The Chinese client got the zh-CN template of the campaign (the win-back's, in this test).
    const [birthdayEmail] = await emailsTo(aws, 'bday@vocab.example.com');
    expect(birthdayEmail?.subject).toContain('Mei');
    expect(birthdayEmail?.body.text).toMatch(/[\u4e00-\u9fff]/);
    expect(await emailsTo(aws, 'up@vocab.example.com')).toHaveLength(1);

    // Later hours: nothing twice; the month-only birthday (December) is due from 11-24 00:00 (12-01 − 7 days).
    const later = await run(aws, config, local('2026-11-23 10:00', SH), 'hour-3');
    expect(later.selection.mode).toBe('index');
    expect(countsOf(later, 'birthday-7').sent + countsOf(later, 'tier-up').sent).toBe(0);
    const december = await run(aws, config, local('2026-11-24 10:00', SH), 'hour-4');
    expect(countsOf(december, 'birthday-7').sent).toBe(1);
    expect((await ledgerEntries(aws, config)).find((e) => e.customerId === 'month')?.occasionKey).toBe('birthday-7#2026');
    expect(await emailsTo(aws, 'up@vocab.example.com')).toHaveLength(1);
    expect(await emailsTo(aws, 'bday@vocab.example.com')).toHaveLength(1);
  }, 240_000);
});
