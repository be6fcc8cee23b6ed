import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import type { Config } from '#shared/config.ts';
import { oneEntryPerEmail } from '#shared/nightly/campaign-results.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import type { CampaignResults } from '#shared/campaign-results/model.ts';
import { campaignHeadlines } from '#shared/campaign-results/results.ts';
import { campaignResultsKey, reportsBucket } from '#shared/store/buckets.ts';
import type { LedgerEntry } from '#shared/store/ledger-store.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { ledgerEntries, readJson, uploadExport } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { DAY, at } from '#test/support/time.ts';

/**
 * Campaign results end to end on the embedded AWS: a nightly run, the hourly sender the next
 * morning (with a control group), then a nightly run nine days later on an export that carries
 * orders placed after the sends. The results must count exactly the ledger's decisions and the
 * conversions those orders make.
 */

const FIRST_NIGHT = '2026-11-01';
const LATER_NIGHT = '2026-11-10';
const TIME_ZONE = 'Asia/Shanghai';
const CUSTOMERS = 400;
const ORDER_AMOUNT_MINOR = 10_000;

const aws = sharedAws();
const work = scratchDir('results');

async function readResults(config: Config, runDate: string): Promise<CampaignResults> {
  return (await readJson(aws, reportsBucket(config), campaignResultsKey(config, runDate))) as CampaignResults;
}

const nightly = (config: Config, runDate: string): Promise<NightlyRunSummary> =>
  runNightly({ clock: Date.now, runDate, runId: `results-${runDate}`, config, clients: aws.clients });

/** A decision's moment, as the results read it. */
const t0 = (entry: LedgerEntry): number => (entry.status === 'sent' ? (entry.sentAt as number) : entry.claimedAt);

interface LaterOrder {
  customerId: string;
  orderedAt: number;
  status: 'paid' | 'refunded';
}

/**
 * Orders placed after the sends, client by client in turn (held-out clients first, so the
 * control group converts too): paid 2 days after the client's first decision (a conversion),
 * refunded in full after 1 day (none), paid after 8 days (outside the 7-day window), or nothing.
 */
function laterOrders(decided: LedgerEntry[]): LaterOrder[] {
  const firstDecision = new Map<string, number>();
  for (const entry of decided) firstDecision.set(entry.customerId, Math.min(firstDecision.get(entry.customerId) ?? Infinity, t0(entry)));
  const heldOut = new Set(decided.filter((e) => e.status === 'held-out').map((e) => e.customerId));
  const clients = [...firstDecision.keys()].sort();
  const orders: LaterOrder[] = [];
  for (const group of [clients.filter((c) => heldOut.has(c)), clients.filter((c) => !heldOut.has(c))]) {
    group.forEach((customerId, i) => {
      const at = firstDecision.get(customerId) as number;
      if (i % 4 === 0) orders.push({ customerId, orderedAt: at + 2 * DAY, status: 'paid' });
      if (i % 4 === 1) orders.push({ customerId, orderedAt: at + DAY, status: 'refunded' });
      if (i % 4 === 2) orders.push({ customerId, orderedAt: at + 8 * DAY, status: 'paid' });
    });
  }
  return orders;
}

/** The first night's export files again, plus an orders file with the later orders. */
async function laterExport(firstDir: string, orders: LaterOrder[]): Promise<string> {
  const dir = join(work, 'later');
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(firstDir)) await copyFile(join(firstDir, name), join(dir, name));
  const rows = orders.map(
    (o, i) => `L${i},${o.customerId},${new Date(o.orderedAt).toISOString()},,,,1,${(ORDER_AMOUNT_MINOR / 100).toFixed(2)},USD,${o.status},0.00`,
  );
  await writeFile(
    join(dir, 'orders-later.csv'),
    ['order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount', ...rows].join('\n') + '\n',
  );
  return dir;
}

describe('campaign results on the embedded AWS', () => {
  it('count the ledger decisions and the conversions the later orders make, sent against control', async () => {
    const config = await campaignConfig(aws, 'results', { timeZone: TIME_ZONE, campaigns: { policy: { controlShare: 0.3 } } });

    // Night 1: profiles. No campaign has decided anything yet: zero everywhere.
    const firstDir = join(work, 'first');
    await generateExport({ customers: CUSTOMERS, seed: 11, asOf: FIRST_NIGHT, timeZone: TIME_ZONE, malformedRows: 0 }, firstDir);
    await uploadExport(aws, config, firstDir, FIRST_NIGHT);
    const first = await nightly(config, FIRST_NIGHT);
    const before = await readResults(config, FIRST_NIGHT);
    // Every configured campaign (the three timed ones, then the plays), in the config's order.
    expect(before.segments.map((s) => [s.campaignId, s.tier, s.sends, s.heldOut])).toEqual(config.campaigns.campaigns.map((c) => [c.id, 'all', 0, 0]));
    expect(before.segments.slice(0, 3).map((s) => s.campaignId)).toEqual(['welcome', 'replenishment', 'winback']);
    expect(before.welcomeDecay).toEqual([]);
    expect(first.report.campaignResultsObject).toBe(`s3://${reportsBucket(config)}/${campaignResultsKey(config, FIRST_NIGHT)}`);

    // The next morning, the hourly sender: sends and held-out decisions in the ledger.
    for (let hour = 9; hour <= 12; hour++) await runCampaignHour(aws, config, at(`2026-11-02 ${String(hour).padStart(2, '0')}:00`, TIME_ZONE), `hour-${hour}`);
    // Clients' decisions only: the ledger also claims the mail to advisors (their tasks and digests: 'advisor#<id>').
    // One member per email: a replenishment reminder's companion products share its message id (sent)
    // or its run's moment (held out), and count once.
    const decided = oneEntryPerEmail((await ledgerEntries(aws, config)).filter((e) => !e.customerId.startsWith('advisor#') && (e.status === 'sent' || e.status === 'held-out'))) as LedgerEntry[];
    const sent = decided.filter((e) => e.status === 'sent');
    // The generated base has reminders listing several products: fewer emails than occasions decided.
    expect((await ledgerEntries(aws, config)).filter((e) => !e.customerId.startsWith('advisor#') && (e.status === 'sent' || e.status === 'held-out')).length).toBeGreaterThan(decided.length);
    const held = decided.filter((e) => e.status === 'held-out');
    expect(sent.length).toBeGreaterThanOrEqual(10);
    expect(held.length).toBeGreaterThanOrEqual(3);
    // The sender keeps each decision's trigger time (the welcome curve needs it).
    expect(decided.every((e) => typeof e.triggerAt === 'number' && e.triggerAt <= t0(e))).toBe(true);

    // Nine nights later: the same export plus the orders placed since.
    const orders = laterOrders(decided);
    const laterDir = await laterExport(firstDir, orders);
    await uploadExport(aws, config, laterDir, LATER_NIGHT);
    const later = await nightly(config, LATER_NIGHT);
    const results = await readResults(config, LATER_NIGHT);
    expect(results).toMatchObject({ runDate: LATER_NIGHT, periodStart: '2026-09-11', windowsDays: [7, 30], confidenceLevel: 0.95 });

    /** What the orders say one group of one campaign did within 7 days of its decisions. */
    const expected = (entries: LedgerEntry[]) => {
      let converted = 0;
      let revenueMinor = 0;
      for (const entry of entries) {
        const within = orders.filter(
          (o) => o.customerId === entry.customerId && o.status === 'paid' && o.orderedAt > t0(entry) && o.orderedAt <= t0(entry) + 7 * DAY,
        );
        if (within.length > 0) converted++;
        revenueMinor += within.length * ORDER_AMOUNT_MINOR;
      }
      return { members: entries.length, converted, revenueMinor };
    };

    const campaigns = [...new Set(decided.map((e) => e.campaignId))];
    const conversions = { sent: 0, control: 0 };
    for (const campaignId of campaigns) {
      const all = results.segments.find((s) => s.campaignId === campaignId && s.tier === 'all');
      const campaignSent = sent.filter((e) => e.campaignId === campaignId);
      const campaignHeld = held.filter((e) => e.campaignId === campaignId);
      expect(all, campaignId).toMatchObject({ sends: campaignSent.length, heldOut: campaignHeld.length });
      const [week, month] = all?.windows ?? [];
      // Seven days have passed since every decision; thirty have not.
      expect(week?.sent, campaignId).toMatchObject(expected(campaignSent));
      expect(week?.control, campaignId).toMatchObject(expected(campaignHeld));
      expect(week?.maturing).toEqual({ sent: 0, control: 0 });
      expect(month?.maturing).toEqual({ sent: campaignSent.length, control: campaignHeld.length });
      expect(month?.sent.members).toBe(0);
      if (campaignSent.length > 0 && campaignHeld.length > 0) expect(week?.conversionUplift).toBeDefined();
      conversions.sent += week?.sent.converted ?? 0;
      conversions.control += week?.control.converted ?? 0;
      // Each decision counts once in its tier too.
      const tiers = results.segments.filter((s) => s.campaignId === campaignId && s.tier !== 'all');
      expect(tiers.reduce((n, s) => n + s.sends, 0)).toBe(campaignSent.length);
      expect(tiers.reduce((n, s) => n + s.heldOut, 0)).toBe(campaignHeld.length);
    }
    // The constructed orders did make conversions on both sides (the checks above were not all zeros).
    expect(conversions.sent).toBeGreaterThan(0);
    expect(conversions.control).toBeGreaterThan(0);

    // What was due: every client email the ledger holds for the period, the unsent ones by status.
    const occasions = oneEntryPerEmail((await ledgerEntries(aws, config)).filter((e) => !e.customerId.startsWith('advisor#'))) as LedgerEntry[];
    for (const segment of results.segments.filter((s) => s.tier === 'all')) {
      const own = occasions.filter((e) => e.campaignId === segment.campaignId);
      expect(segment.due, segment.campaignId).toBe(own.length);
      const unsent: Record<string, number> = {};
      for (const entry of own) if (entry.status !== 'sent' && entry.status !== 'held-out') unsent[entry.status] = (unsent[entry.status] ?? 0) + 1;
      expect(segment.unsent, segment.campaignId).toEqual(unsent);
    }

    // Nothing counted that the ledger does not hold.
    const everyCampaign = results.segments.filter((s) => s.tier === 'all');
    expect(everyCampaign.reduce((n, s) => n + s.sends, 0)).toBe(sent.length);
    expect(everyCampaign.reduce((n, s) => n + s.heldOut, 0)).toBe(held.length);

    // The welcome curve: every matured welcome send in exactly one bucket.
    const welcomeSends = sent.filter((e) => e.campaignId === 'welcome').length;
    expect(welcomeSends).toBeGreaterThan(0);
    expect(results.welcomeDecay.reduce((n, b) => n + b.members, 0)).toBe(welcomeSends);

    // The run summary points at the object and keeps the headline for the trend.
    expect(later.report.campaignResultsObject).toBe(`s3://${reportsBucket(config)}/${campaignResultsKey(config, LATER_NIGHT)}`);
    expect(later.campaignResults).toEqual(campaignHeadlines(results));
  }, 240_000); // two nightly runs and four sender hours on the emulators
});
