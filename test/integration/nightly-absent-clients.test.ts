import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { normaliseEmail } from '#shared/email.ts';
import { NightRefusedError } from '#shared/nightly/admission.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { shardOf } from '#shared/nightly/shards.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { recordErasure } from '#shared/store/erasure-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { storedState } from '#test/support/nightly-comparison.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local } from '#test/support/time.ts';

/**
 * Clients of the base that a night's full snapshot has in no file (deleted or merged on the
 * platform): their profile is kept but marked absent since that night and taken out of the due
 * index, so the sender mails them nothing; a later export that has them again clears the mark.
 * Many at once is a broken export: the night is refused unless an operator accepts it. Reruns and
 * sharded runs end where one clean run does.
 */

const aws = sharedAws();
const work = scratchDir('nightly-absent');
const SH = 'Asia/Shanghai';
const ALL = ['c1', 'c2', 'c3', 'c4', 'c5'] as const;
/** Every client ordered on 09-10: 60 days without an order on 11-09, when the win-back is due (for 30 days). */
const [BEFORE, GONE, STILL, BACK] = ['2026-11-08', '2026-11-09', '2026-11-10', '2026-11-11'] as const;

/** A night's export folder with these clients (customer row and order), and an extra order of c5's if asked. */
async function exportOf(name: string, clients: readonly string[], options: { c5Reorders?: boolean } = {}): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  const customers = clients.map((id) => `${id},${id}@absent.example.com,N,en,${SH},true`);
  const orders = clients.map((id) => `${id}-1,${id},2026-09-10T10:00:00+08:00,800.00`);
  if (options.c5Reorders && clients.includes('c5')) orders.push('c5-2,c5,2026-11-08T10:00:00+08:00,900.00');
  await writeFile(join(dir, 'customers.csv'), ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...customers].join('\n') + '\n');
  await writeFile(join(dir, 'orders.csv'), ['order_id,customer_id,ordered_at,line_total', ...orders].join('\n') + '\n');
  return dir;
}

type Night = (config: Config, runDate: string, dir: string, runId?: string) => Promise<NightlyRunSummary>;
const single: Night = (config, runDate, dir, runId = `n-${runDate}`) =>
  runNightly({ clock: Date.now, runDate, runId, config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop: false });
const twoShards: Night = (config, runDate, path, runId = `s-${runDate}`) =>
  runNightlySharded({ clock: Date.now, runDate, runId, config, clients: aws.clients, shards: 2, source: { kind: 'directory', path } });

/** One client of five missing (or moving up a tier) is far above what a real base does in a night: these scenarios allow it. */
const scenario = (name: string, plausibility?: { maxNewlyAbsentShare: number }) =>
  campaignConfig(aws, name, {
    campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'winback' }] } as never,
    plausibility: plausibility ?? { maxNewlyAbsentShare: 0.2, maxUpgradeShare: 0.2 },
  });

const profileOf = (config: Config, customerId: string) => getProfile(aws.clients.documents, tableNames(config).profiles, customerId);

describe('clients absent from a full snapshot', () => {
  it('keeps them marked absent and unmailed while the exports lack them, and mails them again once an export has them', { timeout: 240_000 }, async () => {
    const config = await scenario('absent-lifecycle');
    await single(config, BEFORE, await exportOf('life-before', ALL));
    const stored = await profileOf(config, 'c5');
    expect(stored).toMatchObject({ tier: 'Entry', nextDueDay: expect.any(String) });

    const gone = await single(config, GONE, await exportOf('life-gone', ALL.slice(0, 4)));
    expect(gone.admission?.tonight).toMatchObject({ newlyAbsent: 1, stillAbsent: 0 });
    const marked = await profileOf(config, 'c5');
    // What we knew is kept; the mark is added and the due index entry goes.
    const { nextDueAt: _at, nextDueDay: _day, ...kept } = stored!;
    expect(marked).toEqual({ ...kept, absentSince: GONE });
    // The win-back is due for all five at 60 days: the four the export still has get it.
    const hour = await runCampaignHour(aws, config, local(`${GONE} 10:00`, SH), 'h-gone');
    expect(countsOf(hour, 'winback').sent).toBe(4);

    const still = await single(config, STILL, await exportOf('life-still', ALL.slice(0, 4)));
    expect(still.admission?.tonight).toMatchObject({ newlyAbsent: 0, stillAbsent: 1 });
    expect(await profileOf(config, 'c5')).toEqual(marked);
    expect(countsOf(await runCampaignHour(aws, config, local(`${STILL} 10:00`, SH), 'h-still'), 'winback').sent).toBe(0);

    const back = await single(config, BACK, await exportOf('life-back', ALL));
    expect(back.admission?.tonight).toMatchObject({ newlyAbsent: 0, stillAbsent: 0 });
    const returned = await profileOf(config, 'c5');
    expect(returned).not.toHaveProperty('absentSince');
    expect(returned).toMatchObject({ nextDueDay: expect.any(String) });
    // Still inside the win-back's 30 days: it goes now.
    expect(countsOf(await runCampaignHour(aws, config, local(`${BACK} 10:00`, SH), 'h-back'), 'winback').sent).toBe(1);
  });

  it('refuses a night whose export lacks more than the allowed share of the last night\u2019s clients, writing nothing', { timeout: 120_000 }, async () => {
    const config = await scenario('absent-refused', { maxNewlyAbsentShare: 0.02 });
    // Twenty clients, ten of them lost: a move refuses only from ten clients (guards.ts MIN_CLIENTS_MOVED).
    const twenty = Array.from({ length: 20 }, (_, i) => `c${i + 1}`);
    await single(config, BEFORE, await exportOf('refused-before', twenty));
    const before = await storedState(aws, config);
    const night = single(config, GONE, await exportOf('refused-gone', twenty.slice(0, 10)));
    await expect(night).rejects.toThrow(NightRefusedError);
    await expect(night).rejects.toThrow(/10 clients are in no file of tonight's export \(no customer row, no order line\), 50% of the 20 clients of 2026-11-08, more than the 2% allowed/);
    expect(await storedState(aws, config)).toEqual(before);
  });

  it('ends where a clean run ends when a night is rerun on a corrected export, either way, and when it runs in shards', { timeout: 400_000 }, async () => {
    const withC5 = await exportOf('rerun-with', ALL, { c5Reorders: true });
    const withoutC5 = await exportOf('rerun-without', ALL.slice(0, 4));
    const before = await exportOf('rerun-before', ALL);
    const cleanRun = async (name: string, dir: string, night: Night = single) => {
      const config = await scenario(name);
      await night(config, BEFORE, before);
      await night(config, GONE, dir);
      return config;
    };
    const cleanWithout = await storedState(aws, await cleanRun('absent-clean-without', withoutC5));
    const cleanWith = await storedState(aws, await cleanRun('absent-clean-with', withC5));
    expect(cleanWithout.profiles.find((p) => p.customerId === 'c5')).toMatchObject({ absentSince: GONE });
    expect(cleanWith.profiles.find((p) => p.customerId === 'c5')).not.toHaveProperty('absentSince');

    // Run first on the export without c5 (marked), then on the corrected one (c5 back, with a new order).
    const markedFirst = await cleanRun('absent-rerun-with', withoutC5);
    await single(markedFirst, GONE, withC5, 'n-corrected');
    expect(await storedState(aws, markedFirst)).toEqual(cleanWith);

    // Run first on an export where c5 reordered (written), then on one that lacks c5: put back as before, marked.
    const writtenFirst = await cleanRun('absent-rerun-without', withC5);
    await single(writtenFirst, GONE, withoutC5, 'n-corrected');
    expect(await storedState(aws, writtenFirst)).toEqual(cleanWithout);

    // Two shards, each marking the absent clients it owns.
    const sharded = await cleanRun('absent-sharded', withoutC5, twoShards);
    expect(await storedState(aws, sharded)).toEqual(cleanWithout);
  });

  it('clears the mark when an increment newer than the night\u2019s snapshot has the client, and only then', { timeout: 180_000 }, async () => {
    const config = await scenario('absent-increment');
    const at = (runDate: string) => () => local(`${runDate} 02:00`, SH);
    const night = (runDate: string, dir: string, acceptDrop = false) =>
      runNightly({ clock: at(runDate), runDate, runId: `n-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop });
    await night(BEFORE, await exportOf('increment-before', ALL));
    // The night of 11-09 begins at 02:00 and lacks c4 and c5 (two of five: accepted).
    await night(GONE, await exportOf('increment-gone', ALL.slice(0, 3)), true);
    const row = (id: string) => `customer_id,email,first_name\n${id},${id}@absent.example.com,N\n`;
    // Dropped at 01:00, before the night began: its snapshot may be newer, and lacked c4.
    await dropIncrement(aws, config, `${GONE}T0100`, { 'customers.csv': row('c4') });
    // Dropped at 09:00: newer than the snapshot, so c5 is on the platform again.
    await dropIncrement(aws, config, `${GONE}T0900`, { 'customers.csv': row('c5') });
    const hour = await runCampaignHour(aws, config, local(`${GONE} 10:00`, SH), 'h-gone');
    expect(await profileOf(config, 'c4')).toMatchObject({ absentSince: GONE });
    expect(await profileOf(config, 'c5')).not.toHaveProperty('absentSince');
    // c1-c3 and c5: their win-back is due; c4's is not sent.
    expect(countsOf(hour, 'winback').sent).toBe(4);
  });

  it('does not mark a client an increment dropped after the night\u2019s cut-off brought (the snapshot may predate them), and marks one from before it', { timeout: 180_000 }, async () => {
    const config = await scenario('absent-new-by-increment');
    const night = (runDate: string, dir: string, at: string) =>
      runNightly({ clock: () => local(at, SH), runDate, runId: `n-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop: false });
    await night(BEFORE, await exportOf('new-before', ALL), `${GONE} 01:00`);
    const signUp = (id: string) => `customer_id,email,first_name,time_zone,accepts_marketing\n${id},${id}@absent.example.com,N,${SH},true\n`;
    // c7 signed up during the 9th, c6 after midnight: the night of the 9th, at 02:00 on the 10th, has neither.
    await dropIncrement(aws, config, `${GONE}T1500`, { 'customers.csv': signUp('c7') });
    await runCampaignHour(aws, config, local(`${GONE} 16:00`, SH), 'h-1600');
    await dropIncrement(aws, config, `${STILL}T0100`, { 'customers.csv': signUp('c6') });
    await runCampaignHour(aws, config, local(`${STILL} 01:30`, SH), 'h-0130');
    const summary = await night(GONE, await exportOf('new-gone', ALL), `${STILL} 02:00`);
    expect(summary.admission?.tonight).toMatchObject({ newlyAbsent: 1, stillAbsent: 0 });
    expect(await profileOf(config, 'c7')).toMatchObject({ absentSince: GONE });
    expect(await profileOf(config, 'c6')).not.toHaveProperty('absentSince');
  });

  it('merging for the first time after the night (the sender was down), creates no client its snapshot lacks from an increment dropped before its cut-off, nor welcomes them; creates those dropped after it', { timeout: 180_000 }, async () => {
    const config = await campaignConfig(aws, 'absent-new-after-outage');
    const night = (runDate: string, dir: string, at: string) =>
      runNightly({ clock: () => local(at, SH), runDate, runId: `n-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop: false });
    await night(BEFORE, await exportOf('outage-before', ALL), `${GONE} 02:00`);
    const signUp = (id: string, at: string) => `customer_id,email,first_name,time_zone,accepts_marketing,signed_up_at\n${id},${id}@absent.example.com,N,${SH},true,${at}+08:00\n`;
    // o7 signed up during the 9th and was deleted before the snapshot; o6 after midnight (the snapshot
    // may predate them); o8 after the night began. No hour runs meanwhile: the sender is down.
    await dropIncrement(aws, config, `${GONE}T1500`, { 'customers.csv': signUp('o7', `${GONE}T14:50:00`) });
    await dropIncrement(aws, config, `${STILL}T0100`, { 'customers.csv': signUp('o6', `${STILL}T00:50:00`) });
    await dropIncrement(aws, config, `${STILL}T0900`, { 'customers.csv': signUp('o8', `${STILL}T08:50:00`) });
    await night(GONE, await exportOf('outage-gone', ALL), `${STILL} 02:00`);

    const hour = await runCampaignHour(aws, config, local(`${STILL} 10:00`, SH), 'h-back');
    expect(hour.ingested).toMatchObject({ exports: [expect.stringContaining(`${GONE}T1500`), expect.stringContaining(`${STILL}T0100`), expect.stringContaining(`${STILL}T0900`)], newClients: 2, updatedClients: 0 });
    expect(await profileOf(config, 'o7')).toBeUndefined();
    expect(await profileOf(config, 'o6')).toMatchObject({ lastNight: null });
    expect(await profileOf(config, 'o8')).toMatchObject({ lastNight: null });
    expect(countsOf(hour, 'welcome').sent).toBe(2);
    expect(await emailsTo(aws, 'o7@absent.example.com')).toEqual([]);
  });

  it('in a sharded Shopify night (keyed by email), marks the client who is gone and not the one whose row lost its email', { timeout: 300_000 }, async () => {
    // A prospect whose email and id send them to different shards: tonight's row (no email) is keyed by the id.
    const moved = Array.from({ length: 50 }, (_, k) => ({ id: '90', email: `moved${k}@absent.example.com` })).find(
      (c) => shardOf(normaliseEmail(c.email), 2) !== shardOf(c.id, 2),
    )!;
    const buyers = ['1', '2', '3', '4', '5', '6'];
    const shopify = async (name: string, options: { movedEmail: boolean; without?: string }) => {
      const kept = buyers.filter((id) => id !== options.without);
      const dir = join(work, name);
      await mkdir(dir, { recursive: true });
      const customers = [...kept.map((id) => `${id},b${id}@absent.example.com,yes`), `${moved.id},${options.movedEmail ? moved.email : ''},yes`];
      const orders = kept.map((id) => `#${id},b${id}@absent.example.com,paid,800.00,2026-09-10 10:00:00 +0800,1,800.00,SKU-1`);
      await writeFile(join(dir, 'customers_export.csv'), ['Customer ID,Email,Accepts Email Marketing', ...customers].join('\n') + '\n');
      await writeFile(join(dir, 'orders_export.csv'), ['Name,Email,Financial Status,Subtotal,Created at,Lineitem quantity,Lineitem price,Lineitem sku', ...orders].join('\n') + '\n');
      return dir;
    };
    const nights = [
      { runDate: BEFORE, dir: await shopify('shopify-before', { movedEmail: true }) },
      { runDate: GONE, dir: await shopify('shopify-gone', { movedEmail: false }) },
      { runDate: STILL, dir: await shopify('shopify-still', { movedEmail: false, without: '6' }) },
    ];
    const run = async (name: string, night: Night) => {
      const config = await scenario(name);
      const summaries = [];
      for (const { runDate, dir } of nights) summaries.push(await night(config, runDate, dir));
      return { config, summaries };
    };
    const one = await run('absent-shopify-single', single);
    const two = await run('absent-shopify-sharded', twoShards);
    for (const { summaries } of [one, two]) {
      expect(summaries.map((s) => s.admission?.tonight.newlyAbsent)).toEqual([0, 0, 1]);
    }
    const state = await storedState(aws, two.config);
    expect(state.profiles.find((p) => p.customerId === '6')).toMatchObject({ absentSince: STILL });
    expect(state.profiles.find((p) => p.customerId === moved.id)).toMatchObject({ email: moved.email });
    expect(state.profiles.find((p) => p.customerId === moved.id)).not.toHaveProperty('absentSince');
    // The same as one process, but for the night the sharded run rewrote that client on (its key moved).
    const withoutRunDate = (profiles: Record<string, unknown>[]) => profiles.map(({ updatedRunDate: _night, ...rest }) => rest);
    const alone = await storedState(aws, one.config);
    expect(withoutRunDate(state.profiles)).toEqual(withoutRunDate(alone.profiles));
    expect(state.history).toEqual(alone.history);
  });
});

describe('an erased client whose profile came back, absent from the export', () => {
  // A night that read the export before a forget request and wrote after it puts the profile back
  // (forget.test.ts); a restore from a backup does too. The export then lacks the person.
  for (const [name, night] of [['one run', single], ['two shards', twoShards]] as const) {
    it(`is erased again by the next night, not kept marked absent (${name})`, { timeout: 180_000 }, async () => {
      const config = await scenario(`absent-erased-${name.replace(' ', '-')}`);
      await night(config, BEFORE, await exportOf(`erased-before-${name}`, ALL));
      // The erasure recorded (by the address, as `forget --email` does), the profile left standing: what the race leaves behind.
      const tables = tableNames(config);
      await recordErasure(aws.clients.documents, tables.suppression, { customerIds: [], emails: ['C5@Absent.example.com'] }, Date.now());
      expect(await profileOf(config, 'c5')).toBeDefined();

      const gone = await night(config, GONE, await exportOf(`erased-gone-${name}`, ALL.slice(0, 4)));
      expect(await profileOf(config, 'c5')).toBeUndefined();
      // Forgotten, not absent: it counts towards neither the guard nor the summary's absences.
      expect(gone.admission?.tonight).toMatchObject({ newlyAbsent: 0, stillAbsent: 0 });
      expect(await profileOf(config, 'c4')).toMatchObject({ customerId: 'c4' });
      expect((await profileOf(config, 'c4'))?.absentSince).toBeUndefined();
    });
  }
});
