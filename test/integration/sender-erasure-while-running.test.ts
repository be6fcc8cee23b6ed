import { describe, expect, it } from 'vitest';
import type { SendEmailCommand, SendEmailCommandOutput } from '@aws-sdk/client-sesv2';
import type { AwsClients } from '#shared/aws/clients.ts';
import { introductionTask } from '#shared/advisors/handover.ts';
import { answerTask } from '#shared/advisors/tasks.ts';
import type { CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import type { Config } from '#shared/config.ts';
import type { SesSender } from '#shared/delivery/ses-email.ts';
import { createSesMailer, type SesMailer } from '#shared/delivery/ses-mailer.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { batchPutAll } from '#shared/store/batch-writer.ts';
import { erasedKey, recordErasure } from '#shared/store/erasure-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { customerSuppressionKey } from '#shared/store/suppression-store.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { createTask, tasksOfClient } from '#shared/store/task-store.ts';
import { advisorsConfig, campaignConfig, countsOf, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { aroundDocuments } from '#test/support/crashing-clients.ts';
import { dropIncrement, ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { DAY, HOUR, at as local, iso } from '#test/support/time.ts';

/**
 * A client erased while the hour that selected them is still working (`clientele forget` between
 * two clients' emails): each ledger write reads the erasure list first, so they get no email after
 * the erasure, and the run's end erases again what it wrote just before: nothing of them is left.
 * The same holds for the hour's advisor introductions, and for a forget that stopped half-way
 * before the hour (its hashes written, the profile and the task still there), for the task
 * emails that give an advisor a client's occasion, and for the hour's merge of an increment.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const T = local('2026-11-22 11:00', SH);
const WELCOME = { policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome' }] } as CampaignsConfigInput;

/** A prospect who signed up two hours before T: a welcome due. */
const signedUp = (id: string) => profileItem(id, { stage: 'new', tier: 'Prospect', orderCount: 0, signedUpAt: iso(T - 2 * HOUR), firstOrderAt: undefined, lastOrderAt: undefined });

describe('a client erased while the hourly run works', () => {
  it('erased after the selection, before their claim: no email, no entry, and the next hour finds nothing', async () => {
    const config = await campaignConfig(aws, 'erased-running', { campaigns: WELCOME });
    await seedProfiles(aws, config, [signedUp('er-a'), signedUp('er-b')]);
    // Both are due and selected; while er-a's welcome is being sent, er-b asks to be forgotten.
    const summary = await run(aws, config, T, 'er-1', {
      afterClaim: async (key) => {
        if (key.customerId !== 'er-b') await forgetClient({ config, clients: aws.clients, request: { customerId: 'er-b' }, at: Date.now() });
      },
    });
    expect(summary.clientsDue).toBe(2);
    expect(countsOf(summary, 'welcome').sent).toBe(1);
    expect(await emailsTo(aws, 'er-a@example.com')).toHaveLength(1);
    expect(await emailsTo(aws, 'er-b@example.com')).toHaveLength(0);
    expect((await ledgerEntries(aws, config)).map((e) => e.customerId)).toEqual(['er-a']);
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'er-b')).toBeUndefined();

    const next = await run(aws, config, T + HOUR, 'er-2');
    expect(countsOf(next, 'welcome').sent).toBe(0);
    expect((await ledgerEntries(aws, config)).map((e) => e.customerId)).toEqual(['er-a']);
  }, 60_000);

  it('erased between their claim and the send: the entry goes with the erasure, and no later run writes one back', async () => {
    const config = await campaignConfig(aws, 'erased-claimed', { campaigns: WELCOME });
    await seedProfiles(aws, config, [signedUp('ec-a')]);
    // The erasure lands after the claim was written: forget deletes the claimed entry, and the
    // run's outcome finds no claim of its own to record (the email itself may go: SES is called
    // in the same instant, which no check can close).
    await run(aws, config, T, 'ec-1', {
      afterClaim: async () => void (await forgetClient({ config, clients: aws.clients, request: { customerId: 'ec-a' }, at: Date.now() })),
    });
    expect(await ledgerEntries(aws, config)).toEqual([]);
    await run(aws, config, T + HOUR, 'ec-2');
    expect(await ledgerEntries(aws, config)).toEqual([]);
  }, 60_000);
});

/** Two VIC clients handed to A02, whose advisor asked "send it for me" on both: each introduction goes this hour unless erased. */
const INTRO_AT = local('2026-11-24 10:00', SH);

async function askedIntroductions(config: Config, ids: readonly string[]): Promise<void> {
  await writeRoster(aws.clients.s3, config, {
    runDate: '2026-11-15',
    advisors: [{ advisorId: 'A02', name: 'Marc Dubois', email: 'marc@erased-intro.example.com', locale: 'en', active: true, store: 'Paris' }],
  });
  for (const id of ids) {
    await seedProfiles(aws, config, [profileItem(id, { tier: 'VIC', advisorId: 'A02', locale: 'en' })]);
    const task = introductionTask({ customerId: id, from: 'A01', to: 'A02' }, '2026-W48', 'VIC', INTRO_AT - 2 * HOUR);
    const asked = answerTask(task, 'send', 1, INTRO_AT - HOUR);
    if (asked.outcome !== 'recorded') throw new Error('answer not recorded');
    await createTask(aws.clients.documents, tableNames(config).advisorTasks, asked.task, 400);
  }
}

type Command = { constructor: { name: string }; input: Record<string, unknown> };

/** Documents that call `hook` once, on the first command it picks (before or after the real call). */
function hooked(pick: (command: Command) => boolean, hook: 'fail' | (() => Promise<void>)): AwsClients['documents'] {
  const send = aws.clients.documents.send.bind(aws.clients.documents) as (...a: unknown[]) => Promise<unknown>;
  const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
  let done = false;
  documents.send = (async (command: Command, ...rest: unknown[]) => {
    if (done || !pick(command)) return send(command, ...rest);
    done = true;
    if (hook === 'fail') throw new Error('crash: the process died here');
    const output = await send(command, ...rest);
    await hook();
    return output;
  }) as AwsClients['documents']['send'];
  return documents;
}

describe("the hour's advisor introductions and the erasure list", () => {
  it('a forget stopped half-way before the hour: no introduction, no entry, and the run erases the rest', async () => {
    const config = await advisorsConfig(aws, 'erased-intro-halfway');
    const tables = tableNames(config);
    await askedIntroductions(config, ['ih-keep', 'ih-gone']);
    // The request dies right after recording its hashed entries (its first delete): profile and task stay.
    const dying = hooked((command) => command.input.TableName === tables.tierHistory, 'fail');
    await expect(forgetClient({ config, clients: { documents: dying }, request: { customerId: 'ih-gone' }, at: INTRO_AT - 30 * 60_000 })).rejects.toThrow(/crash/);
    expect(await getProfile(aws.clients.documents, tables.profiles, 'ih-gone')).toBeDefined();

    const hour = await run(aws, config, INTRO_AT, 'ih-1');
    expect(hour.introductions).toMatchObject({ sent: 1, erased: 1 });
    expect(await emailsTo(aws, 'ih-keep@example.com')).toHaveLength(1);
    expect(await emailsTo(aws, 'ih-gone@example.com')).toHaveLength(0);
    expect((await ledgerEntries(aws, config)).map((e) => e.customerId)).toEqual(['ih-keep']);
    // Erased again at the run's end: the profile and the task are gone too.
    expect(await getProfile(aws.clients.documents, tables.profiles, 'ih-gone')).toBeUndefined();
    expect(await tasksOfClient(aws.clients.documents, tables.advisorTasks, 'ih-gone')).toEqual([]);
  }, 60_000);

  it('erased between the look-up and the claim: the claim is refused, no email goes', async () => {
    const config = await advisorsConfig(aws, 'erased-intro-claim');
    const tables = tableNames(config);
    await askedIntroductions(config, ['ic-gone']);
    // The request lands just after the introduction looked the client up on the list (found nothing).
    const keyOfClient = erasedKey('customer', 'ic-gone');
    const readsTheClient = (command: Command) =>
      command.constructor.name === 'BatchGetCommand' &&
      JSON.stringify((command.input.RequestItems as Record<string, unknown> | undefined)?.[tables.suppression] ?? null).includes(keyOfClient);
    const documents = hooked(readsTheClient, async () => void (await forgetClient({ config, clients: aws.clients, request: { customerId: 'ic-gone' }, at: Date.now() })));

    const hour = await run(aws, config, INTRO_AT, 'ic-1', { clients: { ...aws.clients, documents } });
    expect(hour.introductions).toMatchObject({ sent: 0, erased: 1 });
    expect(await emailsTo(aws, 'ic-gone@example.com')).toHaveLength(0);
    expect(await ledgerEntries(aws, config)).toEqual([]);
  }, 60_000);
});

describe("the advisors' task emails and the erasure list", () => {
  /** Two lapsed VICs of Sophie's: each occasion's note would go in her name, so each is her task first. */
  async function twoTasksDue(prefix: string): Promise<Config> {
    const config = await advisorsConfig(aws, `erased-task-${prefix}`);
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-22',
      advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: `sophie@${prefix}.example.com`, locale: 'en', active: true }],
    });
    const lapsedVic = (id: string) =>
      profileItem(id, { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', locale: 'en', timeZone: SH, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(local('2026-09-24 12:00', SH)), orderCount: 6 });
    await seedProfiles(aws, config, [lapsedVic(`${prefix}-a`), lapsedVic(`${prefix}-b`)]);
    return config;
  }

  /** A mailer through the SES emulator that runs `during` once, on the hour's first email, before SES takes it. */
  function mailerForgetting(during: (firstEmail: string) => Promise<void>): SesMailer {
    let first = true;
    const ses: SesSender = {
      send: async (command: SendEmailCommand): Promise<SendEmailCommandOutput> => {
        if (first) {
          first = false;
          await during(JSON.stringify(command.input));
        }
        return aws.clients.ses.send(command);
      },
    };
    return createSesMailer(ses, { maxSendRate: 50 });
  }

  const TASK_HOUR = local('2026-11-23 10:00', SH);
  const named = (text: string, ids: readonly string[]) => ids.find((id) => text.includes(id)) ?? 'none';

  it('erased while the first task email goes: the advisor gets nothing about them, and nothing of them is written', async () => {
    const config = await twoTasksDue('etb');
    const tables = tableNames(config);
    let gone = '';
    const mailer = mailerForgetting(async (firstEmail) => {
      gone = named(firstEmail, ['etb-a', 'etb-b']) === 'etb-a' ? 'etb-b' : 'etb-a';
      await forgetClient({ config, clients: aws.clients, request: { customerId: gone }, at: Date.now() });
    });
    await run(aws, config, TASK_HOUR, 'etb-1', { mailer });
    expect(gone).toMatch(/^etb-/);

    const toAdvisor = await emailsTo(aws, 'sophie@etb.example.com');
    expect(toAdvisor).toHaveLength(1);
    expect(JSON.stringify(toAdvisor)).not.toContain(gone);
    expect(JSON.stringify(await ledgerEntries(aws, config))).not.toContain(gone);
    expect(await tasksOfClient(aws.clients.documents, tables.advisorTasks, gone)).toEqual([]);
    expect(await getProfile(aws.clients.documents, tables.profiles, gone)).toBeUndefined();
  }, 120_000);

  it('erased while their own task email goes: that email may go, but its task and entry go at the run end', async () => {
    const config = await twoTasksDue('eto');
    const tables = tableNames(config);
    let gone = '';
    const mailer = mailerForgetting(async (firstEmail) => {
      gone = named(firstEmail, ['eto-a', 'eto-b']);
      await forgetClient({ config, clients: aws.clients, request: { customerId: gone }, at: Date.now() });
    });
    await run(aws, config, TASK_HOUR, 'eto-1', { mailer });
    expect(gone).toMatch(/^eto-/);

    expect(JSON.stringify(await ledgerEntries(aws, config))).not.toContain(gone);
    expect(await tasksOfClient(aws.clients.documents, tables.advisorTasks, gone)).toEqual([]);
    expect(await getProfile(aws.clients.documents, tables.profiles, gone)).toBeUndefined();
  }, 120_000);
});

describe("the hour's increment and the erasure list", () => {
  it('erased after the hour read the list, before it wrote their sign-up: the profile written back goes again at once', async () => {
    const config = await campaignConfig(aws, 'erased-increment', { campaigns: WELCOME });
    const tables = tableNames(config);
    await dropIncrement(aws, config, '2026-11-22T1030', {
      'customers.csv': `customer_id,email,first_name,time_zone,accepts_marketing\nei-1,ei-1@example.com,Lin,${SH},true\n`,
    });
    // The request comes in and completes just before the ingest's first profile write (the list was read at the hour's start).
    const send = aws.clients.documents.send.bind(aws.clients.documents) as (...a: unknown[]) => Promise<unknown>;
    const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
    let forgotten = false;
    documents.send = (async (command: Command, ...rest: unknown[]) => {
      if (!forgotten && command.constructor.name === 'PutCommand' && command.input.TableName === tables.profiles) {
        forgotten = true;
        await forgetClient({ config, clients: aws.clients, request: { customerId: 'ei-1', email: 'ei-1@example.com' }, at: Date.now() });
      }
      return send(command, ...rest);
    }) as AwsClients['documents']['send'];

    const hour = await run(aws, config, T, 'ei-1', { clients: { ...aws.clients, documents } });
    expect(forgotten).toBe(true);
    expect(hour.ingested.newClients).toBe(1);
    expect(await getProfile(aws.clients.documents, tables.profiles, 'ei-1')).toBeUndefined();
    expect(await emailsTo(aws, 'ei-1@example.com')).toHaveLength(0);
    expect(await ledgerEntries(aws, config)).toEqual([]);
  }, 60_000);

  it('an hour reads none of the list when there is no increment, and only the keys of its clients when there is one: erased by id or by address, they stay out', async () => {
    const config = await campaignConfig(aws, 'erasure-reads', { campaigns: WELCOME });
    const tables = tableNames(config);
    // Years of unsubscribes and erasures: the table never shrinks.
    await batchPutAll(aws.clients.documents, tables.suppression, Array.from({ length: 3000 }, (_, i) => ({ email: `gone${i}@example.com`, reason: 'unsubscribe', suppressedAt: T - i * HOUR })));
    await recordErasure(aws.clients.documents, tables.suppression, { customerIds: ['er-id', ...Array.from({ length: 500 }, (_, i) => `old-${i}`)], emails: ['er-mail@example.com'] }, T - DAY);
    // Every read of the suppression table: items a Scan went through, keys read one by one or in batches.
    const reading = () => {
      const reads = { scanned: 0, keys: [] as string[] };
      const clients = aroundDocuments(aws.clients, async (name, input, go) => {
        const output = (await go()) as { ScannedCount?: number };
        const request = input as { TableName?: string; Key?: { email?: string }; RequestItems?: Record<string, { Keys?: { email?: string }[] }> };
        if (name === 'ScanCommand' && request.TableName === tables.suppression) reads.scanned += output.ScannedCount ?? 0;
        if (name === 'GetCommand' && request.TableName === tables.suppression) reads.keys.push(String(request.Key?.email));
        for (const key of request.RequestItems?.[tables.suppression]?.Keys ?? []) reads.keys.push(String(key.email));
        return output;
      });
      return { clients, reads };
    };

    const idle = reading();
    await run(aws, config, T, 'reads-1', { clients: idle.clients });
    expect(idle.reads).toEqual({ scanned: 0, keys: [] });

    await dropIncrement(aws, config, '2026-11-22T1130', {
      'customers.csv':
        'customer_id,email,first_name,time_zone,accepts_marketing\n' +
        `er-keep,er-keep@example.com,Lin,${SH},true\ner-id,er-id-new@example.com,Wei,${SH},true\ner-by-mail,er-mail@example.com,Fang,${SH},true\n`,
    });
    const busy = reading();
    const hour = await run(aws, config, T + HOUR, 'reads-2', { clients: busy.clients });
    expect(busy.reads.scanned).toBe(0);
    const increment = [
      ['er-keep', 'er-keep@example.com'],
      ['er-id', 'er-id-new@example.com'],
      ['er-by-mail', 'er-mail@example.com'],
    ];
    const theirKeys = new Set(increment.flatMap(([id, email]) => [erasedKey('customer', id as string), erasedKey('email', email as string), email as string, customerSuppressionKey(id as string)]));
    expect(busy.reads.keys.filter((key) => !theirKeys.has(key))).toEqual([]);
    expect(busy.reads.keys).toEqual(expect.arrayContaining([erasedKey('customer', 'er-id'), erasedKey('email', 'er-mail@example.com')]));
    // Erased by their id (with another address), or by their address (with another id): neither merged.
    expect(hour.ingested.newClients).toBe(1);
    expect(await getProfile(aws.clients.documents, tables.profiles, 'er-keep')).toBeDefined();
    expect(await getProfile(aws.clients.documents, tables.profiles, 'er-id')).toBeUndefined();
    expect(await getProfile(aws.clients.documents, tables.profiles, 'er-by-mail')).toBeUndefined();
    expect(await emailsTo(aws, 'er-mail@example.com')).toHaveLength(0);
    expect(await emailsTo(aws, 'er-id-new@example.com')).toHaveLength(0);
  }, 60_000);
});
