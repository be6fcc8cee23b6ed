import { describe, expect, it } from 'vitest';
import { inControlGroup } from '#shared/campaigns/policy.ts';
import type { Config } from '#shared/config.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';
import { ledgerEntriesOf, type LedgerEntry } from '#shared/store/ledger-store.ts';
import { CAMPAIGNS_JOB } from '#shared/sender/run.ts';
import { getRun } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, countsOf, runCampaignHour, total } from '#test/support/campaign-runs.ts';
import { ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { addressedTo, awsError, maxSendRateExceeded, sesRefusing } from '#test/support/refusing-ses.ts';
import { emailCounts } from '#test/support/ses-store.ts';
import { HOUR, MINUTE, at, iso } from '#test/support/time.ts';

/** Delivery on the embedded AWS: control group, concurrent runs, SES rejections and throttling, a crash after the claim. */

const aws = sharedAws();
const AT = at('2026-11-23 10:00', 'Asia/Shanghai');

const entries = (config: Config, customerId: string): Promise<LedgerEntry[]> =>
  ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, customerId);

const newClients = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) =>
    profileItem(`${prefix}-${String(i).padStart(4, '0')}`, { stage: 'new', firstOrderAt: iso(AT - 2 * HOUR), lastOrderAt: iso(AT - 2 * HOUR) }),
  );

/** How many emails the emulator holds for each of these clients (at customerId@example.com). */
const countsFor = (clients: readonly { customerId: string }[]) => emailCounts(aws, clients.map((c) => `${c.customerId}@example.com`));

describe('campaign delivery on the embedded AWS', () => {
  // 300 clients through the sender twice: past the default minute when the machine is busy.
  it('control group: ~10% of 300 due clients held out, exactly the hashed ones, stable on a rerun', { timeout: 180_000 }, async () => {
    const config = await campaignConfig(aws, 'control', {
      campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome', controlShare: 0.1 }, { kind: 'replenishment' }, { kind: 'winback' }] },
    });
    const n = 300;
    const clients = newClients('ctl', n);
    await seedProfiles(aws, config, clients);

    const summary = await runCampaignHour(aws, config, AT, 'control-1');
    const held = countsOf(summary, 'welcome')['held-out'];
    const expectedHeld = clients.filter((c) => inControlGroup(c.customerId, 'welcome', 0.1)).length;
    expect(held).toBe(expectedHeld);
    // Binomial(300, 0.1): mean 30, sd sqrt(300 × 0.1 × 0.9) ≈ 5.2; ±3 sd ≈ [14, 46] holds with 99.7%.
    expect(held).toBeGreaterThanOrEqual(14);
    expect(held).toBeLessThanOrEqual(46);
    expect(summary.campaigns.welcome).toMatchObject({ due: n, sent: n - held });
    // The run is recorded in the runs table (clientele status shows the sender's runs and missed hours).
    const record = await getRun(aws.clients.documents, tableNames(config).runs, { job: CAMPAIGNS_JOB, runDate: `${summary.at}#${summary.runId}` });
    expect(record).toMatchObject({ runId: summary.runId, clientsDue: summary.clientsDue, campaigns: summary.campaigns, maybeSent: 0 });

    const ledger = await ledgerEntries(aws, config);
    expect(ledger).toHaveLength(n);
    const heldOut = ledger.filter((e) => e.status === 'held-out');
    expect(heldOut).toHaveLength(held);
    expect(heldOut.every((e) => e.reason === 'control-group')).toBe(true);
    const counts = await countsFor(clients);
    for (const e of ledger) expect(counts.get(`${e.customerId}@example.com`) ?? 0, e.customerId).toBe(e.status === 'sent' ? 1 : 0);

    const statuses = new Map(ledger.map((e) => [`${e.customerId}#${e.occasionKey}`, e.status]));
    const again = await runCampaignHour(aws, config, AT, 'control-2');
    expect(again.campaigns.welcome).toMatchObject({ due: 0, sent: 0, 'held-out': 0 });
    const after = await ledgerEntries(aws, config);
    expect(new Map(after.map((e) => [`${e.customerId}#${e.occasionKey}`, e.status]))).toEqual(statuses);
  });

  it('two runs of the same hour at once: each email exactly once', async () => {
    const config = await campaignConfig(aws, 'concurrent');
    const n = 40;
    const clients = newClients('cc', n);
    await seedProfiles(aws, config, clients);

    const [a, b] = await Promise.all([runCampaignHour(aws, config, AT, 'concurrent-a'), runCampaignHour(aws, config, AT, 'concurrent-b')]);
    expect(countsOf(a, 'welcome').sent + countsOf(b, 'welcome').sent).toBe(n);
    expect((a.mailer?.sent ?? 0) + (b.mailer?.sent ?? 0)).toBe(n);
    const counts = await countsFor(clients);
    for (const c of clients) expect(counts.get(`${c.customerId}@example.com`), c.customerId).toBe(1);
    const ledger = await ledgerEntries(aws, config);
    expect(ledger.map((e) => e.status)).toEqual(Array.from({ length: n }, () => 'sent'));
  });

  it('one rejected recipient among several: that one fails, the others go once, a rerun resends none', async () => {
    const config = await campaignConfig(aws, 'rejected');
    const clients = newClients('rej', 6);
    await seedProfiles(aws, config, clients);
    const bad = 'rej-0003@example.com';
    const mailer = createSesMailer(
      sesRefusing(aws.clients.ses, (command) => (addressedTo(command, bad) ? awsError('MessageRejected', 'Illegal address') : undefined)),
      { maxSendRate: 50 },
    );

    const summary = await runCampaignHour(aws, config, AT, 'rejected-1', { mailer });
    expect(summary.campaigns.welcome).toMatchObject({ due: 6, sent: 5, failed: 1 });
    expect(summary.mailer).toMatchObject({ sent: 5, failed: 1 });
    const [entry] = await entries(config, 'rej-0003');
    expect(entry).toMatchObject({ status: 'failed' });
    expect(entry?.reason).toContain('MessageRejected');

    // The rerun goes through the plain emulator, which would accept the address: still nothing resent.
    const rerun = await runCampaignHour(aws, config, AT + HOUR, 'rejected-2');
    expect(total(rerun, 'sent')).toBe(0);
    expect(rerun.mailer?.sent).toBe(0);
    const counts = await countsFor(clients);
    for (const c of clients) expect(counts.get(`${c.customerId}@example.com`) ?? 0, c.customerId).toBe(c.email === bad ? 0 : 1);
  });

  it('throttling slows the run instead of losing emails', async () => {
    const config = await campaignConfig(aws, 'throttled');
    const clients = newClients('thr', 8);
    await seedProfiles(aws, config, clients);
    const throttles = 5;
    const mailer = createSesMailer(
      sesRefusing(aws.clients.ses, (_, call) => (call <= throttles ? maxSendRateExceeded() : undefined)),
      { maxSendRate: 50, baseDelayMs: 5 },
    );

    const summary = await runCampaignHour(aws, config, AT, 'throttled-1', { mailer });
    expect(summary.campaigns.welcome).toMatchObject({ due: 8, sent: 8, failed: 0, deferred: 0 });
    expect(summary.mailer?.throttledRetries).toBeGreaterThanOrEqual(throttles);
    const counts = await countsFor(clients);
    for (const c of clients) expect(counts.get(`${c.customerId}@example.com`), c.customerId).toBe(1);
  });

  it('throttled past the retries: the email is released (deferred) and the next hour sends it, once', async () => {
    const config = await campaignConfig(aws, 'throttled-long');
    const clients = newClients('thl', 3);
    await seedProfiles(aws, config, clients);
    // maxAttempts 6: the first email is refused six times and given up for this hour.
    const mailer = createSesMailer(
      sesRefusing(aws.clients.ses, (_, call) => (call <= 6 ? maxSendRateExceeded() : undefined)),
      { maxSendRate: 50, baseDelayMs: 5 },
    );
    const first = await runCampaignHour(aws, config, AT, 'throttled-long-1', { mailer });
    expect(first.campaigns.welcome).toMatchObject({ due: 3, sent: 2, deferred: 1, failed: 0 });
    const deferred = (await ledgerEntries(aws, config)).filter((e) => e.status === 'deferred');
    expect(deferred).toHaveLength(1);
    expect(deferred[0]?.reason).toContain('TooManyRequestsException');

    const next = await runCampaignHour(aws, config, AT + HOUR, 'throttled-long-2');
    expect(next.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });
    const counts = await countsFor(clients);
    for (const c of clients) expect(counts.get(`${c.customerId}@example.com`), c.customerId).toBe(1);
  });

  it('a crash between claim and SES: the claim stays, is reported as stale, and is never resent', async () => {
    const config = await campaignConfig(aws, 'crash');
    const clients = newClients('crash', 5);
    await seedProfiles(aws, config, clients);
    const victim = 'crash-0002';

    await expect(
      runCampaignHour(aws, config, AT, 'crash-1', {
        afterClaim: async (key) => {
          if (key.customerId === victim) throw new Error('injected crash after the claim');
        },
      }),
    ).rejects.toThrow('injected crash');
    expect(await entries(config, victim)).toEqual([expect.objectContaining({ status: 'claimed', runId: 'crash-1', occasionKey: 'welcome' })]);

    const later = AT + (config.sender.staleClaimMinutes + 1) * MINUTE;
    const second = await runCampaignHour(aws, config, later, 'crash-2');
    expect(second.staleClaims).toEqual([{ customerId: victim, occasionKey: 'welcome', claimedAt: iso(AT), runId: 'crash-1' }]);
    const counts = await countsFor(clients);
    expect(counts.get(`${victim}@example.com`) ?? 0).toBe(0);
    for (const c of clients.filter((c) => c.customerId !== victim)) expect(counts.get(`${c.customerId}@example.com`), c.customerId).toBe(1);

    // Still not resent an hour later, still reported, still 'claimed' for a person to look at.
    const third = await runCampaignHour(aws, config, AT + 2 * HOUR, 'crash-3');
    expect(third.staleClaims.map((s) => s.customerId)).toEqual([victim]);
    expect(total(third, 'sent')).toBe(0);
    expect((await countsFor(clients)).get(`${victim}@example.com`) ?? 0).toBe(0);
    expect((await entries(config, victim))[0]?.status).toBe('claimed');
  });

  it('a claim still being sent by the hour before (started late) is not stale for the next hour; a stopped run\u2019s is, once stale in real time', async () => {
    const config = await campaignConfig(aws, 'in-flight');
    const [client, stopped] = newClients('inflight', 2);
    if (!client || !stopped) throw new Error('two clients expected');
    await seedProfiles(aws, config, [client]);
    let release!: () => void;
    const latch = new Promise<void>((resolve) => (release = resolve));
    let claimedSignal!: () => void;
    const claimed = new Promise<void>((resolve) => (claimedSignal = resolve));
    // The 10:00 run, started 50 minutes late (a scheduler retry), claims the welcome and waits (its pacing turn, a slow SES).
    const late = runCampaignHour(aws, config, AT, 'inflight-h', {
      realClock: () => AT + 50 * MINUTE,
      afterClaim: async () => {
        claimedSignal();
        await latch;
      },
    });
    await claimed;
    // The 11:00 run, on time, finishes meanwhile: the claim is an hour old by its hour, 15 minutes by the real clock.
    const next = await runCampaignHour(aws, config, AT + HOUR, 'inflight-h1', { realClock: () => AT + HOUR + 5 * MINUTE });
    expect(next.staleClaims).toEqual([]);
    release();
    expect((await late).campaigns.welcome?.sent).toBe(1);
    expect((await countsFor([client])).get(`${client.customerId}@example.com`)).toBe(1);
    expect((await entries(config, client.customerId)).map((e) => e.status)).toEqual(['sent']);

    // A run that stopped after its claim: not stale while a run could still be sending it, stale past staleClaimMinutes since the claim was written.
    await seedProfiles(aws, config, [stopped]);
    await expect(
      runCampaignHour(aws, config, AT + HOUR, 'inflight-stopped', {
        realClock: () => AT + HOUR + 50 * MINUTE,
        afterClaim: async () => {
          throw new Error('injected crash after the claim');
        },
      }),
    ).rejects.toThrow('injected crash');
    const soon = await runCampaignHour(aws, config, AT + 2 * HOUR, 'inflight-h2', { realClock: () => AT + 2 * HOUR + 5 * MINUTE });
    expect(soon.staleClaims).toEqual([]);
    const past = await runCampaignHour(aws, config, AT + 2 * HOUR, 'inflight-h2-late', { realClock: () => AT + HOUR + (50 + config.sender.staleClaimMinutes + 1) * MINUTE });
    expect(past.staleClaims).toEqual([{ customerId: stopped.customerId, occasionKey: 'welcome', claimedAt: iso(AT + HOUR), runId: 'inflight-stopped' }]);
    expect((await countsFor([stopped])).get(`${stopped.customerId}@example.com`) ?? 0).toBe(0);
  });
});
