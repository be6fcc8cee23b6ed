import { describe, expect, it } from 'vitest';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { nextDueAt, dueIndexing } from '#shared/campaigns/due-index.ts';
import type { Config } from '#shared/config.ts';
import type { ProductRecord } from '#shared/model.ts';
import type { CampaignRunSummary } from '#shared/sender/run.ts';
import { incrementalPrefix } from '#shared/store/buckets.ts';
import { writeCategoryAffinity } from '#shared/store/catalog-store.ts';
import { DUE_INDEX_STATE_KEY, readDueIndexState } from '#shared/store/due-index-store.ts';
import type { ProfileItem } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { crashingAfter } from '#test/support/crashing-clients.ts';
import { ledgerEntries, scanTable, seedCatalog, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { seededRandom } from '#test/support/random.ts';
import { DAY, HOUR, at as local, iso } from '#test/support/time.ts';

/**
 * The hourly sender through the due index on the embedded AWS: over nine days of runs (windows
 * opening and closing with no profile written, a sign-up merged intraday), it decides exactly what
 * runs reading every profile decide; and once indexed, a run reads the clients due, not the base.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const START = local('2026-11-20 00:00', SH);
const ZONES = [SH, 'America/New_York', 'Europe/London'] as const;

const CATALOG: ProductRecord[] = [
  { sku: 'DI-CREAM', name: 'Night Cream', category: 'skin', replenishDays: 40 },
  { sku: 'DI-MIST', name: 'Face Mist', category: 'skin', replenishDays: 25 },
  { sku: 'DI-BAG', name: 'Tote', category: 'bags' },
];

/** A mixed base: welcomes, reminders, next-order reminders and win-backs opening and closing around START..START+9d, many not due at all. */
function mixedBase(prefix: string, count: number): ProfileItem[] {
  const random = seededRandom(17);
  const between = (from: number, to: number) => Math.floor(from + random() * (to - from));
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  return Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${String(i).padStart(3, '0')}`;
    const kind = i % 5;
    const lastOrder = kind === 0 ? between(START - 95 * DAY, START - 50 * DAY) : between(START - 300 * DAY, START - 2 * DAY);
    const fields: Parameters<typeof profileItem>[1] = {
      timeZone: pick(ZONES),
      acceptsMarketing: random() < 0.9,
      firstOrderAt: iso(lastOrder - 30 * DAY),
      lastOrderAt: iso(lastOrder),
    };
    if (kind === 1) {
      // A welcome whose window opens during the test (or just before it).
      const contact = between(START - 4 * DAY, START + 8 * DAY);
      Object.assign(fields, { stage: 'new', tier: 'Prospect', orderCount: 0, signedUpAt: iso(contact), firstOrderAt: undefined, lastOrderAt: undefined });
    }
    if (kind === 2) fields.skus = { [pick(['DI-CREAM', 'DI-MIST'])]: { lastPurchasedAt: iso(between(START - 45 * DAY, START)), quantity: 1, purchases: 1 } };
    if (kind === 4 && i % 10 === 4) {
      // An order 14 to 24 days before START: the cross-category week (21 to 28 days) opens or is open; a VIC is out of its audience.
      // (No draw from `random`: the rest of the base stays as it was.)
      const ordered = START - (14 + (i % 11)) * DAY - 5 * HOUR;
      Object.assign(fields, { tier: i % 20 === 4 ? 'VIC' : 'Entry', topCategory: 'bags', firstOrderAt: iso(ordered - 200 * DAY), lastOrderAt: iso(ordered) });
      fields.skus = { 'DI-BAG': { lastPurchasedAt: iso(ordered), quantity: 1, purchases: 2, category: 'bags' } };
    }
    if (kind === 3) {
      fields.skus = { 'DI-BAG': { lastPurchasedAt: iso(lastOrder), quantity: 1, purchases: 1 } };
      const predicted = iso(between(START + 10 * DAY, START + 30 * DAY)).slice(0, 10);
      fields.clv = { probabilityAlive: 0.7, expectedPurchases90d: 1, expectedPurchases365d: 3, expectedAverageOrderValueMinor: 20_000, clv12mMinor: 60_000, rising: false, churnRisk: 'medium', predictedNextOrderAt: predicted };
    }
    return profileItem(id, fields);
  });
}

async function dropSignUp(config: Config, folder: string, customerId: string): Promise<void> {
  const put = (name: string, body: string) =>
    aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/${folder}/${name}`, Body: body }));
  await put('customers.csv', `customer_id,email,first_name,accepts_marketing,signed_up_at\n${customerId},${customerId}@example.com,Mei,true,2026-11-24T09:10:00+08:00\n`);
  await put('_manifest.json', JSON.stringify({ mode: 'incremental' }));
}

/**
 * What a run decided, without the figures that differ by design: how the clients were found,
 * timings, and the occasions out of their audience, which only the hours that read the client
 * meet (the index leaves such a window out once an hour has read the client's ledger).
 */
const decisions = (summary: CampaignRunSummary) => ({
  clientsDue: summary.clientsDue,
  campaigns: Object.fromEntries(Object.entries(summary.campaigns).map(([id, { 'out-of-audience': _met, ...counts }]) => [id, counts])),
  ingested: summary.ingested.newClients + summary.ingested.updatedClients,
});
const outOfAudience = (summary: CampaignRunSummary) => Object.values(summary.campaigns).reduce((sum, counts) => sum + counts['out-of-audience'], 0);

const ledgerOf = async (config: Config) =>
  (await ledgerEntries(aws, config))
    .map((e) => ({ customerId: e.customerId, occasionKey: e.occasionKey, campaignId: e.campaignId, status: e.status, reason: e.reason, claimedAt: e.claimedAt, sentAt: e.sentAt, runId: e.runId }))
    .sort((a, b) => `${a.customerId}#${a.occasionKey}`.localeCompare(`${b.customerId}#${b.occasionKey}`));

describe('the hourly sender through the due index', () => {
  it('decides, run after run over nine days, exactly what runs reading every profile decide', async () => {
    const indexed = await campaignConfig(aws, 'indexed');
    const scanned = await campaignConfig(aws, 'scanned');
    const base = mixedBase('di', 100);
    for (const config of [indexed, scanned]) {
      await seedCatalog(aws, config, CATALOG);
      // Buyers of bags also buy skin care: the cross-category week suggests it.
      await writeCategoryAffinity(aws.clients.s3, config, { buyers: { bags: 40 }, alsoBought: { bags: { skin: 12 } } });
      await seedProfiles(aws, config, base);
      await dropSignUp(config, '2026-11-24T0915', 'di-signup');
    }

    const modes: string[] = [];
    let read = { indexed: 0, scanned: 0 };
    let met = { indexed: 0, scanned: 0 };
    // Every 11 hours: runs land at every hour of the day (quiet hours, local midnights).
    for (let at = START; at < START + 9 * DAY; at += 11 * HOUR) {
      const runId = `di-${at}`;
      // The reference reads every profile: its index state is removed before each run.
      await aws.clients.documents.send(new DeleteCommand({ TableName: tableNames(scanned).runs, Key: DUE_INDEX_STATE_KEY }));
      const viaIndex = await run(aws, indexed, at, runId);
      const viaScan = await run(aws, scanned, at, runId);
      expect(viaScan.selection.mode).toBe('full-scan');
      expect(decisions(viaIndex), `run at ${iso(at)}`).toEqual(decisions(viaScan));
      modes.push(viaIndex.selection.mode);
      read = { indexed: read.indexed + viaIndex.clientsScanned, scanned: read.scanned + viaScan.clientsScanned };
      met = { indexed: met.indexed + outOfAudience(viaIndex), scanned: met.scanned + outOfAudience(viaScan) };
    }
    expect(await ledgerOf(indexed)).toEqual(await ledgerOf(scanned));
    const sent = (await ledgerOf(indexed)).filter((e) => e.status === 'sent').map((e) => e.campaignId);
    // The scenario exercises the three timed campaigns, the recall play (lapses up to 300 days) and the sign-up merged intraday.
    expect(new Set(sent)).toEqual(new Set(['welcome', 'replenishment', 'winback', 'recall', 'cross-category']));
    // The VICs' cross-category weeks: met by every run reading every profile, by the index only until an hour read their ledger.
    expect(met.indexed).toBeGreaterThan(0);
    expect(met.indexed).toBeLessThan(met.scanned / 2);
    expect((await ledgerOf(indexed)).some((e) => e.customerId === 'di-signup' && e.status === 'sent')).toBe(true);
    expect((await ledgerOf(indexed)).some((e) => e.status === 'expired')).toBe(true);
    // The first run builds the index; every later one reads through it, and reads less. This base is
    // made to be due a lot (about half of it is inside a window at any time; see the next test for
    // 1%), but a client whose email went, or who is out of the audience, is read once more, not for
    // the rest of the window: 281 of the 2,010 profiles the full scans read, against 1,261 when the
    // index kept every open window.
    expect(modes[0]).toBe('full-scan');
    expect(modes.slice(1).every((mode) => mode === 'index')).toBe(true);
    expect(read.indexed).toBeLessThan(read.scanned * 0.25);
  }, 300_000);

  it('once indexed, reads the clients due that hour, not the base (1% due of 1,000)', async () => {
    const config = await campaignConfig(aws, 'reads');
    const at = local('2026-11-24 10:00', SH);
    // 990 clients with nothing due for weeks (win-back 60 days after an order 10 days ago), 10 signing up half an hour before `at`.
    const quiet = Array.from({ length: 990 }, (_, i) => profileItem(`dr-q${i}`, { firstOrderAt: iso(at - 400 * DAY), lastOrderAt: iso(at - 10 * DAY) }));
    const due = Array.from({ length: 10 }, (_, i) => profileItem(`dr-d${i}`, { stage: 'new', tier: 'Prospect', orderCount: 0, signedUpAt: iso(at - 30 * 60_000) }));
    await seedProfiles(aws, config, [...quiet, ...due]);

    const first = await run(aws, config, at - HOUR, 'dr-1');
    expect(first.selection).toEqual({ mode: 'full-scan', reason: 'no-index-yet', reindexed: expect.any(Number) });
    expect(first.clientsScanned).toBe(1000);
    expect(await readDueIndexState(aws.clients.documents, tableNames(config).runs)).toMatchObject({ lastRunAt: at - HOUR });

    const second = await run(aws, config, at, 'dr-2');
    expect(second.selection).toEqual({ mode: 'index', reindexed: 0 });
    expect(second.clientsScanned).toBe(10);
    expect(second.clientsDue).toBe(10);
    expect(second.campaigns.welcome).toMatchObject({ due: 10, sent: 10 });

    // Every stored value is the pure function's as of the last indexed run, or later.
    const indexing = dueIndexing(config, new Map(), at - HOUR);
    const stored = await scanTable<ProfileItem>(aws, tableNames(config).profiles);
    for (const item of stored) expect(item.nextDueAt).toBe(nextDueAt(item, indexing));
  });

  it('the hour after an email went, its client leaves the index; a maybe-sent one stays until a person settles it', async () => {
    const config = await campaignConfig(aws, 'settled');
    const at = local('2026-11-24 10:00', SH);
    // 5 sign-ups half an hour before `at` (the welcome is open 72 hours), 95 clients with nothing open.
    const quiet = Array.from({ length: 95 }, (_, i) => profileItem(`ds-q${i}`, { firstOrderAt: iso(at - 400 * DAY), lastOrderAt: iso(at - 40 * DAY) }));
    const signUps = Array.from({ length: 5 }, (_, i) => profileItem(`ds-w${i}`, { stage: 'new', tier: 'Prospect', orderCount: 0, signedUpAt: iso(at - 30 * 60_000) }));
    // A VIC in the cross-category week (an order 23 days ago), out of its audience (Potential, Entry):
    // nothing due (no affinity stored, no category to suggest), left out once an hour read the ledger.
    const vic = profileItem('ds-vic', { tier: 'VIC', topCategory: 'bags', firstOrderAt: iso(at - 300 * DAY), lastOrderAt: iso(at - 23 * DAY) });
    await seedProfiles(aws, config, [...quiet, ...signUps, vic]);
    const first = await run(aws, config, at - HOUR, 'ds-0');
    expect(first.clientsScanned).toBe(101);

    const sending = await run(aws, config, at, 'ds-1');
    expect(sending.clientsScanned).toBe(5);
    expect(sending.campaigns.welcome).toMatchObject({ due: 5, sent: 5 });
    // SES's answer for one of them was lost: maybe sent.
    const ledger = tableNames(config).sendLedger;
    const setStatus = (customerId: string, status: string) =>
      aws.clients.documents.send(
        new UpdateCommand({ TableName: ledger, Key: { customerId, occasionKey: 'welcome' }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': status } }),
      );
    await setStatus('ds-w0', 'maybe-sent');

    // The next hour reads them once more (their values were computed before the sends) and drops the ones sent.
    const after = await run(aws, config, at + HOUR, 'ds-2');
    expect(after.clientsScanned).toBe(5);
    expect(after.clientsDue).toBe(0);
    const stored = new Map((await scanTable<ProfileItem>(aws, tableNames(config).profiles)).map((item) => [item.customerId, item]));
    expect(['ds-w1', 'ds-w2', 'ds-w3', 'ds-w4'].map((id) => stored.get(id)?.nextDueAt)).toEqual([undefined, undefined, undefined, undefined]);
    expect(stored.get('ds-w0')?.nextDueAt).toBe(at - 30 * 60_000);

    // Only the maybe-sent client is read: never resent by itself.
    const waiting = await run(aws, config, at + 2 * HOUR, 'ds-3');
    expect(waiting.clientsScanned).toBe(1);
    expect(waiting.clientsDue).toBe(0);
    expect(waiting.maybeSent.map((e) => e.customerId)).toEqual(['ds-w0']);

    // The runbook: the client did not get it, release it. The next hour sends it, and the hour after drops the client.
    await setStatus('ds-w0', 'deferred');
    const released = await run(aws, config, at + 3 * HOUR, 'ds-4');
    expect(released.clientsScanned).toBe(1);
    expect(released.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });
    expect((await run(aws, config, at + 4 * HOUR, 'ds-5')).clientsScanned).toBe(1);
    expect((await run(aws, config, at + 5 * HOUR, 'ds-6')).clientsScanned).toBe(0);
  });

  it('a changed campaign timing makes the next run read every profile once and rebuild the index: no client is missed', async () => {
    const config = await campaignConfig(aws, 'retimed');
    const at = local('2026-11-24 10:00', SH);
    // Lapsed 40 days: the built-in win-back (60 days) is weeks away, so the index holds it ahead.
    await seedProfiles(aws, config, [profileItem('rt-1', { firstOrderAt: iso(at - 300 * DAY), lastOrderAt: iso(at - 40 * DAY) })]);
    const before = await run(aws, config, at, 'rt-1');
    expect(before.campaigns.winback?.due).toBe(0);
    // The marketers move the win-back to 30 days: the client is due now, with nothing rewritten.
    const retimed = await campaignConfig(aws, 'retimed', {
      campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome' }, { kind: 'replenishment' }, { kind: 'winback', timing: { afterDays: 30, windowDays: 30 } }] },
    });
    const after = await run(aws, retimed, at + HOUR, 'rt-2');
    expect(after.selection).toMatchObject({ mode: 'full-scan', reason: 'configuration-or-catalogue-changed' });
    expect(after.campaigns.winback).toMatchObject({ due: 1, sent: 1 });
    const next = await run(aws, retimed, at + 2 * HOUR, 'rt-3');
    expect(next.selection.mode).toBe('index');
    expect(next.clientsScanned).toBe(1);
    expect(next.campaigns.winback?.due).toBe(0);
  });

  it('a rebuild under a new configuration that dies, then a rollback: the hours after read every profile until a rebuild completes, and no due email is lost', async () => {
    const N = 20;
    const at = local('2026-11-20 10:00', SH);
    // Lapsed 55 days: the win-back (days 60 to 89) opens in five days.
    const lapsed = (prefix: string) => Array.from({ length: N }, (_, i) => profileItem(`${prefix}-${String(i).padStart(2, '0')}`, { firstOrderAt: iso(at - 200 * DAY), lastOrderAt: iso(at - 55 * DAY - i * 60_000), orderCount: 2 }));
    const campaignsA = { policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome' as const }, { kind: 'winback' as const }] };
    const winbacksSent = async (config: Config) => (await ledgerEntries(aws, config)).filter((e) => e.campaignId === 'winback' && e.status === 'sent').length;

    const configA = await campaignConfig(aws, 'rolled-back', { campaigns: campaignsA });
    await seedProfiles(aws, configA, lapsed('rb'));
    await run(aws, configA, at, 'rb-0');
    // Configuration B turns the win-back off; its first hour reads every profile and dies after 10 writes.
    const configB: Config = { ...configA, campaigns: { ...configA.campaigns, campaigns: configA.campaigns.campaigns.map((c) => (c.id === 'winback' ? { ...c, enabled: false } : c)) } };
    const dying = crashingAfter(aws.clients, 10);
    await expect(run({ clients: dying }, configB, at + HOUR, 'rb-b')).rejects.toThrow(/crash/);
    await dying.settled();
    expect(await readDueIndexState(aws.clients.documents, tableNames(configA).runs)).toMatchObject({ rebuildingUnder: expect.any(String) });

    // Rolled back to A: six days later every win-back is due, as on a base that never saw B.
    const after = await run(aws, configA, at + 6 * DAY, 'rb-1');
    expect(after.selection).toMatchObject({ mode: 'full-scan', reason: 'rebuild-unfinished' });
    expect(after.clientsScanned).toBe(N);
    expect(await winbacksSent(configA)).toBe(N);
    const state = await readDueIndexState(aws.clients.documents, tableNames(configA).runs);
    expect(state).toMatchObject({ lastRunAt: at + 6 * DAY });
    expect(state?.rebuildingUnder).toBeUndefined();
    expect((await run(aws, configA, at + 6 * DAY + HOUR, 'rb-2')).selection.mode).toBe('index');
  });
});
