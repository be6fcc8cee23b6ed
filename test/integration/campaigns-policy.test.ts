import { describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '#shared/config.ts';
import { processSesFeedback } from '#shared/feedback/ses-events.ts';
import { incrementalPrefix } from '#shared/store/buckets.ts';
import { ledgerEntriesOf, type LedgerEntry } from '#shared/store/ledger-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { getSuppression, isClientSuppressed, suppress } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour, total } from '#test/support/campaign-runs.ts';
import { ledgerEntries, seedCatalog, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { DAY, HOUR, MINUTE, at, iso } from '#test/support/time.ts';

/** Campaign policy on the embedded AWS: consent, suppression, SES feedback, reruns, dry runs, incremental exports. */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const AT = at('2026-11-23 10:00', SH);

const entries = (config: Config, customerId: string): Promise<LedgerEntry[]> =>
  ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, customerId);

const count = async (customerId: string): Promise<number> => (await emailsTo(aws, `${customerId}@example.com`)).length;

/** A client whose welcome is due at AT (first order two hours before). */
const newClient = (id: string, fields: Parameters<typeof profileItem>[1] = {}) =>
  profileItem(id, { stage: 'new', firstOrderAt: iso(AT - 2 * HOUR), lastOrderAt: iso(AT - 2 * HOUR), ...fields });

// A face cream and a toner, each bought twice with a 45-day personal cycle: both reminders are due
// on 2026-11-23 (local), in one email: the cream's occasion is the one sent (the winner), the
// toner's is claimed along with it (the companion).
const CREAM_BOUGHT = iso(at('2026-10-10 12:00', SH));
const TONER_BOUGHT = iso(at('2026-10-12 12:00', SH));
const REMINDERS = { winnerKey: `replenishment#CREAM#${CREAM_BOUGHT}`, companionKey: `replenishment#TONER#${TONER_BOUGHT}` };
/** Both are consumables (replenish_days in the products export); the personal cycle times them. */
const REMINDER_PRODUCTS = [
  { sku: 'CREAM', name: 'Face cream', category: 'skincare', replenishDays: 60 },
  { sku: 'TONER', name: 'Toner', category: 'skincare', replenishDays: 60 },
];
const twoRemindersDue = (id: string) =>
  profileItem(id, {
    firstOrderAt: iso(Date.parse(CREAM_BOUGHT) - 90 * DAY),
    lastOrderAt: TONER_BOUGHT,
    orderCount: 4,
    skus: {
      CREAM: { productName: 'Face cream', lastPurchasedAt: CREAM_BOUGHT, quantity: 1, purchases: 2, personalCycleDays: 45 },
      TONER: { productName: 'Toner', lastPurchasedAt: TONER_BOUGHT, quantity: 1, purchases: 2, personalCycleDays: 45 },
    },
  });

describe('campaign policy on the embedded AWS', () => {
  it('no consent and a suppressed address: recorded, nothing sent', async () => {
    const config = await campaignConfig(aws, 'consent');
    await seedProfiles(aws, config, [
      newClient('cs-ok'),
      newClient('cs-optout', { acceptsMarketing: false }),
      newClient('cs-supp', { email: 'CS-Supp@Example.com' }),
    ]);
    // Suppressed under another spelling of the address: the list is keyed by the normalised email.
    await suppress(aws.clients.documents, tableNames(config).suppression, { email: ' cs-supp@example.com', reason: 'unsubscribe', at: AT - HOUR });

    const summary = await runCampaignHour(aws, config, AT, 'consent-1');
    expect(summary.campaigns.welcome).toMatchObject({ due: 3, sent: 1, 'no-consent': 1, suppressed: 1 });
    expect((await entries(config, 'cs-optout')).map((e) => e.status)).toEqual(['no-consent']);
    expect((await entries(config, 'cs-supp')).map((e) => e.status)).toEqual(['suppressed']);
    expect(await count('cs-ok')).toBe(1);
    expect(await count('cs-optout')).toBe(0);
    expect(await emailsTo(aws, 'cs-supp@example.com')).toEqual([]);

    // Final decisions: a later hour does not reconsider them.
    const later = await runCampaignHour(aws, config, AT + HOUR, 'consent-2');
    expect(later.campaigns.welcome?.due).toBe(0);
  });

  it('rerunning the same hour sends nothing new', async () => {
    const config = await campaignConfig(aws, 'rerun');
    const ids = ['rr-1', 'rr-2', 'rr-3', 'rr-4'];
    await seedProfiles(aws, config, ids.map((id) => newClient(id)));
    const first = await runCampaignHour(aws, config, AT, 'rerun-1');
    expect(first.campaigns.welcome).toMatchObject({ due: 4, sent: 4 });
    // The scenario's tables hold only these clients: their emails are all the runs could send.
    const addresses = ids.map((id) => `${id}@example.com`);
    const before = (await emailsTo(aws, addresses)).length;

    for (const runId of ['rerun-2', 'rerun-1']) {
      const again = await runCampaignHour(aws, config, AT, runId);
      expect(total(again, 'sent'), runId).toBe(0);
      expect(total(again, 'due'), runId).toBe(0);
      expect(again.mailer?.sent, runId).toBe(0);
      expect(again.staleClaims).toEqual([]);
    }
    expect((await emailsTo(aws, addresses)).length).toBe(before);
    for (const id of ids) expect(await count(id), id).toBe(1);
  });

  it('a complaint suppresses for good, a transient bounce does not', async () => {
    const config = await campaignConfig(aws, 'feedback');
    await seedProfiles(aws, config, [newClient('fb-a'), newClient('fb-b')]);
    const context = { documents: aws.clients.documents, tables: tableNames(config), now: () => AT - HOUR };
    const complaint = await processSesFeedback(context, {
      eventType: 'Complaint',
      mail: { messageId: 'm-a', timestamp: iso(AT - 3 * HOUR), tags: { customerId: ['fb-a'] } },
      complaint: { complainedRecipients: [{ emailAddress: 'Client A <fb-a@example.com>' }], feedbackId: 'fb-1', complaintFeedbackType: 'abuse', timestamp: iso(AT - 2 * HOUR) },
    });
    expect(complaint).toMatchObject({ events: 1, suppressed: 1, invalid: 0 });
    // An SNS-delivered transient bounce for B.
    const bounce = await processSesFeedback(context, {
      Records: [
        {
          Sns: {
            MessageId: 'sns-1',
            Message: JSON.stringify({
              eventType: 'Bounce',
              mail: { messageId: 'm-b', tags: { customerId: ['fb-b'] } },
              bounce: { bounceType: 'Transient', bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: 'fb-b@example.com' }], feedbackId: 'fb-2' },
            }),
          },
        },
      ],
    });
    expect(bounce).toMatchObject({ events: 1, suppressed: 0, softBounces: 1, invalid: 0 });
    // A later unsubscribe does not weaken the complaint.
    await suppress(aws.clients.documents, tableNames(config).suppression, { email: 'fb-a@example.com', reason: 'unsubscribe', at: AT - HOUR / 2 });
    expect(await getSuppression(aws.clients.documents, tableNames(config).suppression, 'fb-a@example.com')).toMatchObject({ reason: 'complaint' });
    expect(await isClientSuppressed(aws.clients.documents, tableNames(config).suppression, { customerId: 'fb-b', email: 'fb-b@example.com' })).toBe(false);

    const summary = await runCampaignHour(aws, config, AT, 'feedback-1');
    expect(summary.campaigns.welcome).toMatchObject({ due: 2, sent: 1, suppressed: 1 });
    expect((await entries(config, 'fb-a')).map((e) => e.status)).toEqual(['suppressed']);
    expect((await entries(config, 'fb-b')).map((e) => e.status)).toEqual(['sent']);
    expect(await count('fb-a')).toBe(0);
    expect(await count('fb-b')).toBe(1);
  });

  it('dry run: lists who would get what, writes no ledger entry and sends nothing', async () => {
    const config = await campaignConfig(aws, 'dry');
    await seedProfiles(aws, config, [
      newClient('dry-send'),
      newClient('dry-optout', { acceptsMarketing: false }),
      // 03:00 in Paris when it is 10:00 in Shanghai: quiet hours.
      newClient('dry-night', { timeZone: 'Europe/Paris' }),
    ]);
    const summary = await runCampaignHour(aws, config, AT, 'dry-1', { dryRun: true });
    expect(summary.dryRun).toBe(true);
    expect(summary.plan).toHaveLength(3);
    expect(summary.plan).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ customerId: 'dry-send', campaignId: 'welcome', occasionKey: 'welcome', outcome: 'send' }),
        expect.objectContaining({ customerId: 'dry-optout', campaignId: 'welcome', outcome: 'no-consent' }),
        expect.objectContaining({ customerId: 'dry-night', campaignId: 'welcome', outcome: 'deferred', reason: 'quiet-hours' }),
      ]),
    );
    // Addresses are masked in the plan.
    for (const item of summary.plan ?? []) expect(item.email).not.toBe(`${item.customerId}@example.com`);
    expect(summary.campaigns.welcome).toMatchObject({ due: 3, sent: 1, 'no-consent': 1, deferred: 1 });
    expect(await ledgerEntries(aws, config)).toEqual([]);
    for (const id of ['dry-send', 'dry-optout', 'dry-night']) expect(await count(id), id).toBe(0);
    expect(summary.mailer?.sent).toBe(0);

    // The real run afterwards sends what the plan said.
    const real = await runCampaignHour(aws, config, AT, 'dry-2');
    expect(real.campaigns.welcome).toMatchObject({ due: 3, sent: 1, 'no-consent': 1, deferred: 1 });
    expect(await count('dry-send')).toBe(1);
  });

  it('incremental export: a 10:00 sign-up is welcomed by the 11:00 run, and a folder is merged once', async () => {
    const config = await campaignConfig(aws, 'incr');
    const bucket = config.storage.exportsBucket;
    const put = (folder: string, name: string, body: string) =>
      aws.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${incrementalPrefix(config)}/${folder}/${name}`, Body: body }));
    const header = 'customer_id,email,first_name,time_zone,signed_up_at,accepts_marketing';
    await put('2026-11-23T1000', 'customers.csv', `${header}\ninc-new,inc-new@example.com,Mei,Asia/Shanghai,2026-11-23T10:00:00,true\n`);
    await put('2026-11-23T1000', '_manifest.json', JSON.stringify({ mode: 'incremental' }));
    // Dropped at 12:00: after the 11:00 run's clock.
    await put('2026-11-23T1200', 'customers.csv', `${header}\ninc-noon,inc-noon@example.com,Lin,Asia/Shanghai,2026-11-23T12:00:00,true\n`);
    await put('2026-11-23T1200', '_manifest.json', JSON.stringify({ mode: 'incremental' }));

    const eleven = at('2026-11-23 11:00', SH);
    const first = await runCampaignHour(aws, config, eleven, 'incr-1');
    expect(first.ingested.exports).toHaveLength(1);
    expect(first.ingested.exports[0]).toContain('2026-11-23T1000');
    expect(first.ingested).toMatchObject({ newClients: 1, rejected: 0 });
    expect(first.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'inc-new')).toMatchObject({
      email: 'inc-new@example.com',
      acceptsMarketing: true,
      signedUpAt: '2026-11-23T02:00:00.000Z',
    });
    const [email] = await emailsTo(aws, 'inc-new@example.com');
    expect(email?.subject).toContain('Mei');

    const rerun = await runCampaignHour(aws, config, eleven, 'incr-2');
    expect(rerun.ingested.exports).toEqual([]);
    expect(total(rerun, 'sent')).toBe(0);

    const noon = await runCampaignHour(aws, config, at('2026-11-23 12:30', SH), 'incr-3');
    expect(noon.ingested.exports).toHaveLength(1);
    expect(noon.ingested.exports[0]).toContain('2026-11-23T1200');
    expect(noon.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });
    expect(await count('inc-new')).toBe(1);
    expect(await count('inc-noon')).toBe(1);
  });

  it('two runs racing on a multi-product reminder leave no claim unresolved (companion claimed by the loser)', async () => {
    // KNOWN BUG (shared/sender/run.ts, settle 'send'): the loser of the winner's claim still claims the
    // companions, then returns without sending or resolving them; they stay 'claimed' for good.
    const config = await campaignConfig(aws, 'race');
    await seedCatalog(aws, config, REMINDER_PRODUCTS);
    await seedProfiles(aws, config, [twoRemindersDue('race-1')]);
    const { winnerKey, companionKey } = REMINDERS;

    // Force the interleaving: B reads the ledger, A claims the winner, B loses it, B claims the companion, A loses it.
    const bReadLedger = signal();
    const aClaimedWinner = signal();
    const bClaimedCompanion = signal();
    const documentsA = hookedDocuments({
      before: async (command) => {
        if (claimKey(command) === winnerKey) await bReadLedger.wait();
        if (claimKey(command) === companionKey) await bClaimedCompanion.wait();
      },
      after: (command) => {
        if (claimKey(command) === winnerKey) aClaimedWinner.fire();
      },
    });
    const documentsB = hookedDocuments({
      before: async (command) => {
        if (claimKey(command) === winnerKey) await aClaimedWinner.wait();
      },
      after: (command) => {
        if (command instanceof QueryCommand && command.input.ExpressionAttributeValues?.[':customerId'] === 'race-1') bReadLedger.fire();
        if (claimKey(command) === companionKey) bClaimedCompanion.fire();
      },
    });
    await Promise.all([
      runCampaignHour(aws, config, AT, 'race-a', { clients: { ...aws.clients, documents: documentsA } }),
      runCampaignHour(aws, config, AT, 'race-b', { clients: { ...aws.clients, documents: documentsB } }),
    ]);

    expect(await count('race-1')).toBe(1);
    const ledger = await entries(config, 'race-1');
    expect(ledger.find((e) => e.occasionKey === winnerKey)?.status).toBe('sent');
    // Each occasion ends sent (in the winner's email) or waiting for a later hour, never claimed by nobody.
    expect(ledger.filter((e) => e.status === 'claimed').map((e) => [e.occasionKey, e.runId])).toEqual([]);
    const later = await runCampaignHour(aws, config, AT + 31 * MINUTE, 'race-c');
    expect(later.staleClaims).toEqual([]);
  });

  it('two runs racing on a multi-product reminder send the client one email, not one per run (frequency cap)', async () => {
    // KNOWN BUG (shared/sender/run.ts, recentSends): the cap counts only 'sent' entries, so a run that reads the
    // ledger while another run's claim is in flight sends a second email to the same client in the same hour.
    const config = await campaignConfig(aws, 'race-cap');
    await seedCatalog(aws, config, REMINDER_PRODUCTS);
    await seedProfiles(aws, config, [twoRemindersDue('race-2')]);
    const { winnerKey, companionKey } = REMINDERS;

    // A claims the winner; only then does B read the ledger (winner 'claimed', nothing 'sent' yet) and claim the other product first.
    const aClaimedWinner = signal();
    const bClaimedCompanion = signal();
    const documentsA = hookedDocuments({
      before: async (command) => {
        if (claimKey(command) === companionKey) await bClaimedCompanion.wait();
      },
      after: (command) => {
        if (claimKey(command) === winnerKey) aClaimedWinner.fire();
      },
    });
    const documentsB = hookedDocuments({
      before: async (command) => {
        if (command instanceof QueryCommand && command.input.ExpressionAttributeValues?.[':customerId'] === 'race-2') await aClaimedWinner.wait();
      },
      after: (command) => {
        if (claimKey(command) === companionKey) bClaimedCompanion.fire();
      },
    });
    await Promise.all([
      runCampaignHour(aws, config, AT, 'race-cap-a', { clients: { ...aws.clients, documents: documentsA } }),
      runCampaignHour(aws, config, AT, 'race-cap-b', { clients: { ...aws.clients, documents: documentsB } }),
    ]);

    const ledger = await entries(config, 'race-2');
    expect(ledger.find((e) => e.occasionKey === winnerKey)?.status).toBe('sent');
    // per24h = 1: one email this hour, whichever run sends it.
    expect(await count('race-2')).toBe(1);
  });
});

/** A one-shot signal; wait() gives up after 3 s so a fixed sender (that never fires it) cannot hang the test. */
function signal(): { fire: () => void; wait: () => Promise<void> } {
  let fire = () => undefined as void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fire: () => fire(), wait: () => Promise.race([fired, new Promise<void>((resolve) => setTimeout(resolve, 3000))]) };
}

/** The occasion key of a ledger claim (a PutCommand writing status 'claimed'). */
function claimKey(command: unknown): string | undefined {
  if (!(command instanceof PutCommand)) return undefined;
  const item = command.input.Item;
  return item?.status === 'claimed' && typeof item.occasionKey === 'string' ? item.occasionKey : undefined;
}

/** The document client with hooks around every command (the command's own error is rethrown after `after`). */
function hookedDocuments(hooks: { before?: (command: unknown) => Promise<void>; after?: (command: unknown) => void }): DynamoDBDocumentClient {
  const documents = aws.clients.documents;
  const original = documents.send.bind(documents) as (command: unknown) => Promise<unknown>;
  const send = async (command: unknown): Promise<unknown> => {
    await hooks.before?.(command);
    try {
      return await original(command);
    } finally {
      hooks.after?.(command);
    }
  };
  return new Proxy(documents, { get: (target, property, receiver) => (property === 'send' ? send : Reflect.get(target, property, receiver)) });
}

describe('the frequency cap across two runs at once', () => {
  it('an hour started late beside the next one: no client gets two emails in 24 hours', { timeout: 120_000 }, async () => {
    const config = await campaignConfig(aws, 'cap-overlap', {
      campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'winback' }, { id: 'p1', trigger: { on: 'signed-up' }, template: 'welcome', priority: 1 }] },
    });
    const ids = Array.from({ length: 12 }, (_, i) => `ov-${i}`);
    // A win-back due at 10:00; a priority-1 campaign due from 10:30 (its sign-up then).
    await seedProfiles(
      aws,
      config,
      ids.map((id) =>
        profileItem(id, { stage: 'sleeping', firstOrderAt: iso(AT - 60 * DAY - 5 * HOUR), lastOrderAt: iso(AT - 60 * DAY - 5 * HOUR), orderCount: 1, signedUpAt: iso(AT + 30 * MINUTE) }),
      ),
    );
    const emailsOf = () => Promise.all(ids.map(async (id) => (await emailsTo(aws, `${id}@example.com`)).length));
    const [ten, eleven] = await Promise.all([runCampaignHour(aws, config, AT, 'ov-10'), runCampaignHour(aws, config, AT + HOUR, 'ov-11')]);
    // Never two: the claim that finds the other run's is released (two found at once both are: that client waits an hour).
    const overlapping = await emailsOf();
    expect(overlapping.every((n) => n <= 1)).toBe(true);
    expect(total(ten, 'sent') + total(eleven, 'sent')).toBe(overlapping.reduce((sum, n) => sum + n, 0));
    // The next hour sends to anyone the overlap left without an email, and to nobody else.
    await runCampaignHour(aws, config, AT + 2 * HOUR, 'ov-12');
    expect(await emailsOf()).toEqual(ids.map(() => 1));
    for (const id of ids) {
      const statuses = (await ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, id)).map((e) => e.status);
      expect(statuses.filter((s) => s === 'sent')).toHaveLength(1);
    }
  });
});
