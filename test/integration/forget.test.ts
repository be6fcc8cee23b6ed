import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { AwsClients } from '#shared/aws/clients.ts';
import { writeObject } from '#shared/aws/s3-objects.ts';
import { newTask, taskEmailLedgerKey } from '#shared/advisors/tasks.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { processSesFeedback } from '#shared/feedback/ses-events.ts';
import { forgetClient, ForgetRequestError, parseForgetRequest, type ForgetRequest } from '#shared/forget/forget.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { couponPoolKey } from '#shared/store/buckets.ts';
import { codeDrawnFor, occasionRef, takeCode, takenCodes } from '#shared/store/coupon-store.ts';
import { claimOccasion } from '#shared/store/ledger-store.ts';
import { recordErasure } from '#shared/store/erasure-store.ts';
import { readBookPairs, writeBookPairs, writeRoster } from '#shared/store/roster-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { suppress, suppressClient } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { createTask } from '#shared/store/task-store.ts';
import { runCampaignHour, total } from '#test/support/campaign-runs.ts';
import { failingPuts } from '#test/support/crashing-clients.ts';
import { expireLedgerEntries, scanTable, seedProfiles } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { clienteleExit } from '#test/support/cli.ts';
import { erasedNothingStored } from '#local/format.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { bounceEvent, snsEvent } from '#test/support/ses-events.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { DAY, HOUR, at, iso } from '#test/support/time.ts';

/**
 * The right to erasure on the embedded AWS: everything the suite holds of the person goes, the
 * erasure outlives a crash of the request, and wherever a later run meets the person anyway (a
 * night that read the export before the request, a rerun's before-image, a second id sharing the
 * address, a bounce arriving afterwards) it erases them again and mails nothing.
 */

const aws = sharedAws();
const work = scratchDir('forget');
const AT = at('2026-11-23 10:00', 'Asia/Shanghai');

const sendingConfig = (name: string) => scenarioConfig(aws, name, { campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
const forget = (config: Config, request: ForgetRequest, clients: Pick<AwsClients, 'documents'> = aws.clients) => forgetClient({ config, clients, request, at: Date.now() });

/** A welcome due at AT (first order two hours before). */
const welcomeDue = (id: string, email: string) => profileItem(id, { email, stage: 'new', firstOrderAt: iso(AT - 2 * HOUR), lastOrderAt: iso(AT - 2 * HOUR) });

async function exportDir(name: string, ids: readonly string[], orderDays: readonly string[]): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), ['customer_id,email,first_name,accepts_marketing,time_zone', ...ids.map((id) => `${id},${id}@example.com,Name,true,Asia/Shanghai`)].join('\n') + '\n');
  await writeFile(
    join(dir, 'orders.csv'),
    ['order_id,customer_id,ordered_at,sku,line_total', ...ids.flatMap((id) => orderDays.map((day, k) => `${id}-${k},${id},${day}T11:00:00+08:00,SKU-1,120.00`))].join('\n') + '\n',
  );
  return dir;
}

/** Documents whose send fails (as a process dying there would) for the first command `dies` picks. */
function dyingAt(dies: (command: { constructor: { name: string }; input: Record<string, unknown> }) => boolean): AwsClients['documents'] {
  const send = aws.clients.documents.send.bind(aws.clients.documents);
  const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
  let died = false;
  documents.send = ((command: { constructor: { name: string }; input: Record<string, unknown> }, ...rest: unknown[]) => {
    if (!died && dies(command)) {
      died = true;
      return Promise.reject(new Error('crash: the process died here'));
    }
    return (send as (...a: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as AwsClients['documents']['send'];
  return documents;
}

const plainSuppressions = async (config: Config) => (await scanTable(aws, tableNames(config).suppression)).filter((i) => !String(i.email).startsWith('erased:'));

/** The advisors' book pairs of a last week's digests: client id beside their advisor's. */
const bookPairs = (ids: readonly string[]) => {
  const pairs = Object.fromEntries(ids.map((id) => [id, 'A01']));
  return { week: '2026-W47', before: pairs, now: pairs };
};

/** The clients, with the S3 calls on keys containing `keyPart` noted (command name), in order. */
function notingS3(clients: AwsClients, keyPart: string): { clients: AwsClients; calls: string[] } {
  const calls: string[] = [];
  const send = clients.s3.send.bind(clients.s3);
  const s3 = Object.create(clients.s3) as AwsClients['s3'];
  s3.send = ((command: { constructor: { name: string }; input: { Key?: string } }, ...rest: unknown[]) => {
    if (command.input.Key?.includes(keyPart)) calls.push(command.constructor.name);
    return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as AwsClients['s3']['send'];
  return { clients: { ...clients, s3 }, calls };
}

describe('forget', () => {
  it('deletes the tasks about the client and their advisor\'s task emails, and suppressions of earlier addresses', async () => {
    const config = await scenarioConfig(aws, 'forget-traces');
    const tables = tableNames(config);
    await seedProfiles(aws, config, [profileItem('t01', { email: 'new-t01@example.com' }), profileItem('t02')]);
    await createTask(aws.clients.documents, tables.advisorTasks, newTask({ customerId: 't01', occasionKey: 'winback#2026-11', campaignId: 'winback', expiresAt: AT + 30 * 24 * HOUR }, 'A01', AT, 'VIC'), 400);
    await claimOccasion(aws.clients.documents, tables.sendLedger, { customerId: 'advisor#A01', occasionKey: 'advisor-task#t01#winback#2026-11', campaignId: 'advisor-task', runId: 'r1', now: AT, retentionDays: 400 });
    await claimOccasion(aws.clients.documents, tables.sendLedger, { customerId: 'advisor#A01', occasionKey: 'advisor-task#t02#winback#2026-11', campaignId: 'advisor-task', runId: 'r1', now: AT, retentionDays: 400 });
    await claimOccasion(aws.clients.documents, tables.sendLedger, { customerId: 't01', occasionKey: 'winback#2026-11', campaignId: 'winback', runId: 'r1', now: AT, retentionDays: 400 });
    // A hard bounce of an address the client had before.
    await suppress(aws.clients.documents, tables.suppression, { email: 'old-t01@example.com', reason: 'hard-bounce', at: AT, customerId: 't01', source: 'ses-bounce:x' });

    const result = await forget(config, { customerId: 't01' });
    expect(result).toMatchObject({ profiles: 1, ledgerEntries: 2, tasks: 1, suppressionEntries: 1, erasureKeys: 3 });
    expect((await scanTable(aws, tables.advisorTasks)).filter((t) => t.customerId === 't01')).toEqual([]);
    const ledger = await scanTable(aws, tables.sendLedger);
    expect(ledger.filter((e) => JSON.stringify(e).includes('t01'))).toEqual([]);
    // The advisor's entry about another client stays.
    expect(ledger.filter((e) => e.customerId === 'advisor#A01')).toHaveLength(1);
    expect(await plainSuppressions(config)).toEqual([]);
    // Nothing of the person is kept in clear: three hashes (the id, the address, the earlier address).
    expect(JSON.stringify(await scanTable(aws, tables.suppression))).not.toMatch(/t01/);
  });

  it('forgets which occasions their coupon codes went to; the codes stay taken', async () => {
    const config = await scenarioConfig(aws, 'forget-coupons');
    const tables = tableNames(config);
    const coupons = { documents: aws.clients.documents, table: tables.couponCodes };
    await seedProfiles(aws, config, [profileItem('k01'), profileItem('k02')]);
    for (const [customerId, code] of [['k01', 'CODE-A'], ['k02', 'CODE-B']] as const) {
      await claimOccasion(aws.clients.documents, tables.sendLedger, { customerId, occasionKey: 'winback#2026-11', campaignId: 'winback', runId: 'r1', now: AT, retentionDays: 400 });
      expect(await takeCode(coupons, 'winback', code, { customerId, occasionKey: 'winback#2026-11' }, AT, 'r1')).toBe('taken');
    }

    expect(await forget(config, { customerId: 'k01' })).toMatchObject({ couponCodes: 1, ledgerEntries: 1 });
    expect(await codeDrawnFor(coupons, 'winback', occasionRef('k01', 'winback#2026-11'))).toBeUndefined();
    const items = await scanTable<{ entry: string; claimedFor?: string }>(aws, tables.couponCodes);
    expect(items.find((item) => item.entry === 'code#CODE-A')).toEqual(expect.not.objectContaining({ claimedFor: expect.anything() }));
    expect(await takenCodes(coupons, 'winback')).toEqual(new Set(['CODE-A', 'CODE-B']));
    // The other client's code is theirs still.
    expect(await codeDrawnFor(coupons, 'winback', occasionRef('k02', 'winback#2026-11'))).toBe('CODE-B');
    // Run again: nothing left to forget, nothing fails.
    expect(await forget(config, { customerId: 'k01' })).toMatchObject({ couponCodes: 0 });
  });

  describe('a coupon code drawn for one of their occasions that no send-ledger entry names', () => {
    async function poolConfig(name: string, kind: 'welcome' | 'winback'): Promise<Config> {
      const config = await scenarioConfig(aws, name, {
        campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind, offers: { default: { kind: 'coupon', discountPercent: 10, couponFrom: { from: 'pool' } } } }] },
        sender: { ...aws.config.sender, maxSendRate: 500 },
        coupons: { poolsPrefix: `pools-${aws.scope}-${name}`, lowBelow: 0 },
      });
      await writeObject(aws.clients.s3, { bucket: config.storage.exportsBucket, key: couponPoolKey(config, kind), body: 'code\nCODE-A\nCODE-B\nCODE-C\n', contentType: 'text/csv' });
      return config;
    }
    /** The occasion's item and the code's link to it. */
    const couponItemsNaming = async (config: Config, ref: string) =>
      (await scanTable<{ entry: string; claimedFor?: string }>(aws, tableNames(config).couponCodes)).filter((i) => i.entry === `for#${ref}` || i.claimedFor === ref);

    it('an hour that drew the code and died before its claim: forget still unties it', async () => {
      const config = await poolConfig('forget-coupon-unclaimed', 'welcome');
      const tables = tableNames(config);
      await seedProfiles(aws, config, [welcomeDue('cu1', 'cu1@example.com')]);
      // The code first, then the ledger claim, where the hour dies.
      const dying = dyingAt((command) => command.constructor.name === 'PutCommand' && command.input.TableName === tables.sendLedger);
      await expect(runCampaignHour({ clients: { ...aws.clients, documents: dying } }, config, AT, 'cu-dies')).rejects.toThrow(/crash/);
      const ref = occasionRef('cu1', 'welcome');
      expect(await couponItemsNaming(config, ref)).toHaveLength(2);

      expect(await forget(config, { customerId: 'cu1' })).toMatchObject({ profiles: 1, couponCodes: 1 });
      expect(await couponItemsNaming(config, ref)).toEqual([]);
      expect(await takenCodes({ documents: aws.clients.documents, table: tables.couponCodes }, 'welcome')).toEqual(new Set(['CODE-A']));
    });

    it('a win-back code whose ledger entry expired: forget still unties it', async () => {
      const config = await poolConfig('forget-coupon-expired', 'winback');
      const zone = 'Asia/Shanghai';
      await seedProfiles(aws, config, [
        profileItem('ce1', { email: 'ce1@example.com', stage: 'sleeping', timeZone: zone, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', zone)), orderCount: 2 }),
      ]);
      expect(total(await runCampaignHour(aws, config, AT, 'ce-1'), 'sent')).toBe(1);
      const [entry] = (await scanTable<{ customerId: string; occasionKey: string; expiresAt?: number }>(aws, tableNames(config).sendLedger)).filter((e) => e.customerId === 'ce1');
      const ref = occasionRef('ce1', entry?.occasionKey ?? '');
      expect(await couponItemsNaming(config, ref)).toHaveLength(2);
      // Past the ledger's retention its TTL deletes the entry; the coupon-codes table has none.
      const later = (entry?.expiresAt ?? 0) * 1000 + DAY;
      expect(await expireLedgerEntries(aws, config, later)).toBe(1);

      expect(await forgetClient({ config, clients: aws.clients, request: { customerId: 'ce1' }, at: later })).toMatchObject({ profiles: 1, couponCodes: 1 });
      expect(await couponItemsNaming(config, ref)).toEqual([]);
    });
  });

  it('stopped at its last delete, then run again, leaves no address in clear', async () => {
    const config = await scenarioConfig(aws, 'forget-crash');
    const tables = tableNames(config);
    await seedProfiles(aws, config, [profileItem('k01', { email: 'k01@example.com' })]);
    await suppress(aws.clients.documents, tables.suppression, { email: 'k01@example.com', reason: 'unsubscribe', at: AT, customerId: 'k01', source: 'one-click' });
    const dying = dyingAt((command) => command.constructor.name === 'DeleteCommand' && command.input.TableName === tables.suppression);
    await expect(forget(config, { customerId: 'k01' }, { documents: dying })).rejects.toThrow(/crash/);
    // Until it goes, the profile still names the address: the rerun finds it.
    await forget(config, { customerId: 'k01' });
    expect(await plainSuppressions(config)).toEqual([]);
    expect(await getProfile(aws.clients.documents, tables.profiles, 'k01')).toBeUndefined();
  });

  it('by an earlier address, stopped at any of its writes, then run again, ends as a clean forget does', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'forget-crash-every-step');
    const tables = tableNames(config);
    await seedProfiles(aws, config, [profileItem('b01', { email: 'b01@example.com' })]);
    const isWrite = (command: { constructor: { name: string } }) => /^(Put|Delete|Update|BatchWrite|TransactWrite)Command$/.test(command.constructor.name);
    let steps = 0;
    for (let step = 1; step < 40; step += 1) {
      // The person: a bounce of the address she had before names her id; her profile's current
      // address is shared by a second id (one person); a send-ledger entry and her own no.
      const [id, sharer, old, current] = [`z${step}`, `w${step}`, `old-z${step}@example.com`, `new-z${step}@example.com`];
      await seedProfiles(aws, config, [profileItem(id, { email: current }), profileItem(sharer, { email: current })]);
      await suppress(aws.clients.documents, tables.suppression, { email: old, reason: 'hard-bounce', at: AT, customerId: id });
      await suppressClient(aws.clients.documents, tables.suppression, { customerId: id, reason: 'unsubscribe', at: AT, source: 'one-click' });
      await claimOccasion(aws.clients.documents, tables.sendLedger, { customerId: id, occasionKey: 'winback#2026-11', campaignId: 'winback', runId: 'r1', now: AT, retentionDays: 400 });

      let writes = 0;
      const dying = dyingAt((command) => isWrite(command) && ++writes === step);
      const first = await forget(config, { email: old }, { documents: dying }).then(() => 'done' as const, (error: unknown) => error);
      if (first === 'done') break;
      expect(String(first)).toMatch(/crash/);
      steps = step;

      const rerun = await forget(config, { email: old });
      expect(erasedNothingStored(rerun), `stopped at write ${step}: the rerun found nothing`).toBe(false);
      for (const gone of [id, sharer]) expect(await getProfile(aws.clients.documents, tables.profiles, gone), `stopped at write ${step}: ${gone}`).toBeUndefined();
    }
    // Every write of the request was a place to stop at (the erasure entries, the deletes, the profiles, the bounce last).
    expect(steps).toBeGreaterThan(8);
    expect(await plainSuppressions(config)).toEqual([]);
    expect((await scanTable(aws, tables.profiles)).map((p) => p.customerId)).toEqual(['b01']);
    expect(await scanTable(aws, tables.sendLedger)).toEqual([]);
    expect((await scanTable<{ email: string }>(aws, tables.suppression)).filter((e) => e.email.startsWith('erased:'))).toHaveLength(4 * (steps + 1));
  });

  it("by address, stopped at the advisors' book pairs, then run again by address: her id leaves them as in a clean forget", async () => {
    const config = await scenarioConfig(aws, 'forget-book-pairs-rerun');
    const tables = tableNames(config);
    await seedProfiles(aws, config, [profileItem('bp11', { email: 'bp11@example.com' }), profileItem('bp12', { email: 'bp12@example.com' })]);
    await writeBookPairs(aws.clients.s3, config, bookPairs(['bp11', 'bp12']));
    await expect(forgetClient({ config, clients: failingPuts(aws.clients, 'advisor-pairs'), request: { email: 'bp11@example.com' }, at: AT })).rejects.toThrow(/crash/);
    // Her profile, which leads a request by address to her id, goes after the pairs.
    expect(await getProfile(aws.clients.documents, tables.profiles, 'bp11')).toBeDefined();

    expect(await forgetClient({ config, clients: aws.clients, request: { email: 'bp11@example.com' }, at: AT + HOUR })).toMatchObject({ profiles: 1, bookPairs: 1 });
    expect(await readBookPairs(aws.clients.s3, config)).toEqual(bookPairs(['bp12']));
    expect(await getProfile(aws.clients.documents, tables.profiles, 'bp11')).toBeUndefined();
  });

  it("deletes the unsubscribe kept against the client's id, also when a first request stopped at that delete", async () => {
    const config = await scenarioConfig(aws, 'forget-client-no');
    const tables = tableNames(config);
    await seedProfiles(aws, config, [profileItem('u01', { email: 'u01@example.com' })]);
    await suppress(aws.clients.documents, tables.suppression, { email: 'u01@example.com', reason: 'unsubscribe', at: AT, customerId: 'u01', source: 'one-click' });
    await suppressClient(aws.clients.documents, tables.suppression, { customerId: 'u01', reason: 'unsubscribe', at: AT, source: 'one-click' });
    const dying = dyingAt((command) => command.constructor.name === 'DeleteCommand' && command.input.TableName === tables.suppression);
    await expect(forget(config, { customerId: 'u01' }, { documents: dying })).rejects.toThrow(/crash/);

    const result = await forget(config, { customerId: 'u01' });
    expect(result).toMatchObject({ profiles: 1, suppressionEntries: 2, erasureKeys: 2 });
    expect(await plainSuppressions(config)).toEqual([]);
    expect(JSON.stringify(await scanTable(aws, tables.suppression))).not.toMatch(/u01/);
  });

  it('forgets every id holding the address: another id sharing it is not mailed there', async () => {
    const config = await sendingConfig('forget-shared');
    await seedProfiles(aws, config, [welcomeDue('s01', 'same@example.com'), welcomeDue('s02', 'same@example.com'), welcomeDue('s03', 's03@example.com')]);
    expect(await forget(config, { customerId: 's01' })).toMatchObject({ profiles: 2 });
    const hour = await runCampaignHour(aws, config, AT, 'after-forget');
    expect(total(hour, 'sent')).toBe(1);
    expect(await emailsTo(aws, 'same@example.com')).toHaveLength(0);
    expect(await emailsTo(aws, 's03@example.com')).toHaveLength(1);
  });

  it('by an earlier address only: the client an unsubscribe or bounce of that address names is forgotten too', async () => {
    const config = await sendingConfig('forget-old-address');
    await seedProfiles(aws, config, [welcomeDue('p05', 'zelda.new@example.com'), welcomeDue('p06', 'p06@example.com')]);
    const tables = tableNames(config);
    // A bounce of the address the client had before, tagged with their id.
    await suppress(aws.clients.documents, tables.suppression, { email: 'zelda.old@example.com', reason: 'hard-bounce', at: Date.now(), customerId: 'p05' });
    expect(await forget(config, { email: 'Zelda.Old@example.com' })).toMatchObject({ profiles: 1 });
    expect(await getProfile(aws.clients.documents, tables.profiles, 'p05')).toBeUndefined();
    expect(await getProfile(aws.clients.documents, tables.profiles, 'p06')).toBeDefined();
    const items = await scanTable<{ email: string }>(aws, tables.suppression);
    expect(items.every((item) => item.email.startsWith('erased:'))).toBe(true);
    // The id and both addresses are on the list: a later export with either does not bring them back.
    expect(items).toHaveLength(3);
  });

  it('accepts every address the export accepts (the export\'s rule), any case', () => {
    for (const email of ['tom&jerry@example.com', 'a/b@example.com', 'a#b=c@example.com', 'user@xn--fsqu00a.xn--fiqs8s', 'Alice.Wong@Example.COM']) {
      expect(parseForgetRequest({ email }).email, email).toBe(email.toLowerCase());
    }
    expect(() => parseForgetRequest({ email: 'not an address' })).toThrow(/^Invalid erasure request: email: must be an email address/);
  });

  it('refuses an id or address past the exports\' bounds, naming the field: none is in the base, and DynamoDB would refuse the key mid-erasure', () => {
    const address = (chars: number) => `${'a'.repeat(chars - '@example.com'.length)}@example.com`;
    expect(parseForgetRequest({ customerId: 'X'.repeat(256), email: address(254) })).toEqual({ customerId: 'X'.repeat(256), email: address(254) });
    expect(() => parseForgetRequest({ customerId: 'X'.repeat(3000) })).toThrow(/^Invalid erasure request: customerId: longer than 256 bytes \(UTF-8\)$/);
    expect(() => parseForgetRequest({ customerId: '客'.repeat(86) })).toThrow(ForgetRequestError);
    expect(() => parseForgetRequest({ email: address(255) })).toThrow(/^Invalid erasure request: email: longer than 254 characters$/);
  });
});

/**
 * A complaint about the email sent to `customerId` at `address`, processed while that client's forget
 * runs: the request completes just before the complaint's `nth` write to the suppression table (1:
 * the address's entry, 2: the client's). Returns how many such writes there were.
 */
async function complaintDuringForget(config: Config, customerId: string, address: string, nth: number): Promise<number> {
  const tables = tableNames(config);
  const send = aws.clients.documents.send.bind(aws.clients.documents) as (...a: unknown[]) => Promise<unknown>;
  const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
  let writes = 0;
  documents.send = (async (command: { constructor: { name: string }; input: Record<string, unknown> }, ...rest: unknown[]) => {
    if (command.constructor.name === 'UpdateCommand' && command.input.TableName === tables.suppression && ++writes === nth) await forget(config, { customerId });
    return send(command, ...rest);
  }) as AwsClients['documents']['send'];
  const complaint = {
    eventType: 'Complaint',
    mail: { messageId: `m-${customerId}`, tags: { customerId: [customerId] } },
    complaint: { complainedRecipients: [{ emailAddress: address }], feedbackId: `fb-${customerId}`, timestamp: new Date(AT).toISOString() },
  };
  await processSesFeedback({ documents, tables, now: () => AT }, { Records: [{ Sns: { Message: JSON.stringify(complaint) } }] });
  return writes;
}

describe('an erased client met again', () => {
  it('by a night that read the export before the request and wrote after it: not mailed, and erased again by the sender', { timeout: 180_000 }, async () => {
    const config = await sendingConfig('forget-race');
    const tables = tableNames(config);
    const dir = await exportDir('race', ['r01', 'r02'], ['2026-11-22']);
    // The request lands while the night is between its read and its profile writes.
    const send = aws.clients.documents.send.bind(aws.clients.documents);
    const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
    let forgotten = false;
    documents.send = (async (command: { constructor: { name: string }; input: { RequestItems?: Record<string, unknown> } }, ...rest: unknown[]) => {
      if (!forgotten && command.constructor.name === 'BatchWriteCommand' && command.input.RequestItems?.[tables.profiles]) {
        forgotten = true;
        await forget(config, { customerId: 'r01' });
      }
      return (send as (...a: unknown[]) => Promise<unknown>)(command, ...rest);
    }) as AwsClients['documents']['send'];
    await runNightly({ clock: Date.now, runDate: '2026-11-22', runId: 'race-1', config, clients: { ...aws.clients, documents }, source: directoryExportSource(dir) });
    expect(await getProfile(aws.clients.documents, tables.profiles, 'r01')).toBeDefined();

    // The sender's next hour mails nobody erased, and erases them again.
    const hour = await runCampaignHour(aws, config, AT, 'race-send');
    expect(await emailsTo(aws, 'r01@example.com')).toHaveLength(0);
    expect(await emailsTo(aws, 'r02@example.com')).toHaveLength(1);
    expect(total(hour, 'sent')).toBe(1);
    expect(await getProfile(aws.clients.documents, tables.profiles, 'r01')).toBeUndefined();
    expect((await scanTable(aws, tables.sendLedger)).filter((e) => e.customerId === 'r01')).toEqual([]);
  });

  it('by the next night, when the sender did not meet them first', { timeout: 180_000 }, async () => {
    const config = await scenarioConfig(aws, 'forget-next-night');
    const tables = tableNames(config);
    const dir = await exportDir('next-night', ['n01', 'n02'], ['2026-11-20']);
    await runNightly({ clock: Date.now, runDate: '2026-11-22', runId: 'nn-1', config, clients: aws.clients, source: directoryExportSource(dir) });
    // As the race leaves it: the erasure recorded, the profile written after it.
    const stored = await getProfile(aws.clients.documents, tables.profiles, 'n01');
    await forget(config, { customerId: 'n01' });
    await seedProfiles(aws, config, [stored as NonNullable<typeof stored>]);

    const next = await runNightly({ clock: Date.now, runDate: '2026-11-23', runId: 'nn-2', config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop: true });
    expect(next.input.erasedClients).toBe(1);
    expect(await getProfile(aws.clients.documents, tables.profiles, 'n01')).toBeUndefined();
    expect(await getProfile(aws.clients.documents, tables.profiles, 'n02')).toBeDefined();
    expect((await scanTable(aws, tables.tierHistory)).filter((h) => h.customerId === 'n01')).toEqual([]);
  });

  it("by the next night, after a forget that stopped before her traces: a former advisor's task email about her goes too", { timeout: 180_000 }, async () => {
    const config = await scenarioConfig(aws, 'forget-next-night-advisor');
    const tables = tableNames(config);
    const dir = await exportDir('next-night-advisor', ['na01', 'na02'], ['2026-11-20']);
    await runNightly({ clock: Date.now, runDate: '2026-11-22', runId: 'nna-1', config, clients: aws.clients, source: directoryExportSource(dir) });
    // The roster's A01 held her book once: his task email about her was deferred, and she was handed over before it went.
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@fnna.example.com', locale: 'en', active: true }] });
    const taskEmail = { ...taskEmailLedgerKey('A01', { customerId: 'na01', occasionKey: 'winback#2026-11-20' }), campaignId: 'winback', runId: 'h-1', now: AT, retentionDays: 400 };
    await claimOccasion(aws.clients.documents, tables.sendLedger, taskEmail, 'deferred');
    // The request stopped once her erasure was recorded: nothing of hers deleted yet.
    await recordErasure(aws.clients.documents, tables.suppression, { customerIds: ['na01'], emails: ['na01@example.com'] }, AT);

    await runNightly({ clock: Date.now, runDate: '2026-11-23', runId: 'nna-2', config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop: true });
    expect(await getProfile(aws.clients.documents, tables.profiles, 'na01')).toBeUndefined();
    expect((await scanTable(aws, tables.sendLedger)).filter((entry) => JSON.stringify(entry).includes('na01'))).toEqual([]);
  });

  it("by the next night, after a forget that stopped once her erasure was recorded: her id leaves the advisors' book pairs, as in a clean forget", { timeout: 180_000 }, async () => {
    const config = await scenarioConfig(aws, 'forget-next-night-pairs');
    const tables = tableNames(config);
    const dir = await exportDir('next-night-pairs', ['bp01', 'bp02', 'bp03'], ['2026-11-20']);
    await runNightly({ clock: () => at('2026-11-23 04:00', 'Asia/Shanghai'), runDate: '2026-11-22', runId: 'nnp-1', config, clients: aws.clients, source: directoryExportSource(dir) });
    await writeBookPairs(aws.clients.s3, config, bookPairs(['bp01', 'bp02', 'bp03']));
    // A clean forget takes bp03 out at once.
    expect(await forgetClient({ config, clients: aws.clients, request: { customerId: 'bp03' }, at: AT })).toMatchObject({ profiles: 1, bookPairs: 1 });
    expect(await readBookPairs(aws.clients.s3, config)).toEqual(bookPairs(['bp01', 'bp02']));
    // bp01's request stopped once her erasure was recorded: nothing of hers deleted yet.
    await recordErasure(aws.clients.documents, tables.suppression, { customerIds: ['bp01'], emails: ['bp01@example.com'] }, AT);

    await runNightly({ clock: () => at('2026-11-24 04:00', 'Asia/Shanghai'), runDate: '2026-11-23', runId: 'nnp-2', config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop: true });
    expect(await getProfile(aws.clients.documents, tables.profiles, 'bp01')).toBeUndefined();
    // The night's erase-again ends where bp03's clean forget did.
    expect(await readBookPairs(aws.clients.s3, config)).toEqual(bookPairs(['bp02']));
  });

  it("by the hour, after forgets that stopped once their erasure was recorded: their ids leave the advisors' book pairs, in one write, and none when the pairs name none of them", { timeout: 180_000 }, async () => {
    const config = await sendingConfig('forget-hour-pairs');
    const tables = tableNames(config);
    await seedProfiles(aws, config, [welcomeDue('hp01', 'hp01@example.com'), welcomeDue('hp02', 'hp02@example.com'), welcomeDue('hp03', 'hp03@example.com')]);
    await writeBookPairs(aws.clients.s3, config, bookPairs(['hp01', 'hp02', 'hp03']));
    await recordErasure(aws.clients.documents, tables.suppression, { customerIds: ['hp01', 'hp02'], emails: ['hp01@example.com', 'hp02@example.com'] }, AT - HOUR);

    const first = notingS3(aws.clients, 'advisor-pairs');
    await runCampaignHour(first, config, AT, 'hp-1');
    expect(await emailsTo(aws, 'hp01@example.com')).toHaveLength(0);
    expect(await emailsTo(aws, 'hp03@example.com')).toHaveLength(1);
    for (const id of ['hp01', 'hp02']) expect(await getProfile(aws.clients.documents, tables.profiles, id)).toBeUndefined();
    expect(await readBookPairs(aws.clients.s3, config)).toEqual(bookPairs(['hp03']));
    // One read and one write of the pairs for both.
    expect(first.calls).toEqual(['GetObjectCommand', 'PutObjectCommand']);

    // A due client erased whom the pairs do not name: read, not written.
    await seedProfiles(aws, config, [welcomeDue('hp04', 'hp04@example.com')]);
    await recordErasure(aws.clients.documents, tables.suppression, { customerIds: ['hp04'], emails: ['hp04@example.com'] }, AT);
    const second = notingS3(aws.clients, 'advisor-pairs');
    await runCampaignHour(second, config, AT + HOUR, 'hp-2');
    expect(await getProfile(aws.clients.documents, tables.profiles, 'hp04')).toBeUndefined();
    expect(second.calls).toEqual(['GetObjectCommand']);
    expect(await readBookPairs(aws.clients.s3, config)).toEqual(bookPairs(['hp03']));
  });

  it('by the next night after a forget of a big client: not refused for the fall she leaves, a real drop besides still is', { timeout: 180_000 }, async () => {
    const config = await scenarioConfig(aws, 'forget-guards');
    // A boutique base: v00 a VIC of 60,000, the 29 others 6,000 each (she is 26% of the revenue).
    const ids = Array.from({ length: 30 }, (_, i) => `v${String(i).padStart(2, '0')}`);
    const night = async (name: string, buying: readonly string[]) => {
      const dir = join(work, name);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'customers.csv'), ['customer_id,email,first_name,accepts_marketing,time_zone', ...ids.map((id) => `${id},${id}@example.com,Name,true,Asia/Shanghai`)].join('\n') + '\n');
      await writeFile(join(dir, 'orders.csv'), ['order_id,customer_id,ordered_at,sku,line_total', ...buying.map((id) => `${id}-1,${id},2026-10-05T11:00:00+08:00,SKU-1,${id === 'v00' ? '60000.00' : '6000.00'}`)].join('\n') + '\n');
      return directoryExportSource(dir);
    };
    const full = await night('guards-full', ids);
    await runNightly({ clock: Date.now, runDate: '2026-11-22', runId: 'g-1', config, clients: aws.clients, source: full });
    await forget(config, { customerId: 'v00' });

    // Her rows still in the export, and eight other clients' orders missing: a real drop, refused.
    const broken = await night('guards-broken', ids.slice(0, 22));
    await expect(runNightly({ clock: Date.now, runDate: '2026-11-23', runId: 'g-2a', config, clients: aws.clients, source: broken })).rejects.toThrow(
      '12-month revenue fell by 27.59% since 2026-11-22 (USD 126,000.00 against USD 174,000.00, its 1 client(s) erased since left out)',
    );
    // The export as it was: the forget alone refuses nothing.
    const next = await runNightly({ clock: Date.now, runDate: '2026-11-23', runId: 'g-2b', config, clients: aws.clients, source: full });
    expect(next.input.erasedClients).toBe(1);
    expect(next.admission?.accepted).toBeUndefined();
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'v00')).toBeUndefined();
  });

  it('by the rerun of a night that crashed before the request: the before-image is not put back', { timeout: 180_000 }, async () => {
    const config = await scenarioConfig(aws, 'forget-rerun');
    const tables = tableNames(config);
    const ids = Array.from({ length: 10 }, (_, i) => `x${String(i).padStart(2, '0')}`);
    await runNightly({ clock: Date.now, runDate: '2026-11-22', runId: 'x-1', config, clients: aws.clients, source: directoryExportSource(await exportDir('x-1', ids, ['2026-11-20'])) });
    const night2 = await exportDir('x-2', ids, ['2026-11-20', '2026-11-22']);
    // Night 2 dies at its first profile write, its before-images saved.
    const dying = dyingAt((command) => command.constructor.name === 'BatchWriteCommand' && (command.input.RequestItems as Record<string, unknown> | undefined)?.[tables.profiles] !== undefined);
    await expect(runNightly({ clock: Date.now, runDate: '2026-11-23', runId: 'x-2a', config, clients: { ...aws.clients, documents: dying }, source: directoryExportSource(night2) })).rejects.toThrow(/crash/);
    await forget(config, { customerId: 'x03' });

    const rerun = await runNightly({ clock: Date.now, runDate: '2026-11-23', runId: 'x-2b', config, clients: aws.clients, source: directoryExportSource(night2), acceptDrop: true });
    expect(rerun.input.erasedClients).toBe(1);
    expect(await getProfile(aws.clients.documents, tables.profiles, 'x03')).toBeUndefined();
    expect((await scanTable(aws, tables.profiles)).length).toBe(9);
  });

  it('by a bounce or complaint arriving after the request: nothing stored in clear', async () => {
    const config = await scenarioConfig(aws, 'forget-feedback');
    const tables = tableNames(config);
    await seedProfiles(aws, config, [profileItem('f01', { email: 'f01@example.com' })]);
    await forget(config, { customerId: 'f01' });
    const complaint = {
      eventType: 'Complaint',
      mail: { messageId: 'm1', tags: { customerId: ['f01'] } },
      complaint: { complainedRecipients: [{ emailAddress: 'f01@example.com' }], feedbackId: 'fb1', timestamp: new Date(AT).toISOString() },
    };
    const summary = await processSesFeedback({ documents: aws.clients.documents, tables, now: () => AT }, { Records: [{ Sns: { Message: JSON.stringify(complaint) } }] });
    expect(summary).toMatchObject({ complaints: 1, suppressed: 0, erased: 1 });
    expect(await plainSuppressions(config)).toEqual([]);
  });

  // The complaint's writes: the address's entry, then the client's. The request completes just before the one named.
  for (const [before, nth] of [["the address's entry", 1], ["the client's entry", 2]] as const) {
    it(`by a complaint stored while the request runs (before ${before} is written): nothing stays in clear`, async () => {
      const config = await scenarioConfig(aws, `forget-feedback-race-${nth}`);
      const tables = tableNames(config);
      await seedProfiles(aws, config, [profileItem('f02', { email: 'f02@example.com' })]);
      const writes = await complaintDuringForget(config, 'f02', 'f02@example.com', nth);
      expect(writes).toBeGreaterThanOrEqual(nth);
      expect(await plainSuppressions(config)).toEqual([]);
      expect(await getProfile(aws.clients.documents, tables.profiles, 'f02')).toBeUndefined();
    });
  }

  it("by a complaint at an address that is another client's now, stored while the request runs: that client's entry stays", async () => {
    const config = await scenarioConfig(aws, 'forget-feedback-race-other');
    const tables = tableNames(config);
    // f03 once used the household address; it is f04's now, whose mailbox there hard-bounced. f03's profile has moved on.
    await seedProfiles(aws, config, [profileItem('f03', { email: 'f03-new@example.com' }), profileItem('f04', { email: 'house@example.com' })]);
    await suppress(aws.clients.documents, tables.suppression, { email: 'house@example.com', reason: 'hard-bounce', at: AT - DAY, customerId: 'f04', source: 'ses' });
    // A complaint about an email sent to f03 at the household address before it changed; f03's forget
    // completes between the look-up and the address's write.
    const writes = await complaintDuringForget(config, 'f03', 'house@example.com', 1);
    expect(writes).toBeGreaterThanOrEqual(1);
    // The address itself was not erased (f03's id and current address were): f04 stays suppressed there.
    expect(await plainSuppressions(config)).toMatchObject([{ email: 'house@example.com', customerId: 'f04' }]);
  });
});

describe('a client whose id SES tags cannot carry as it is (C.001, 客户001)', () => {
  /** The real SES client, keeping each SendEmail's tags by recipient, as SES hands them back in events. */
  function taggingClients(): { clients: AwsClients; tagsTo: Map<string, Record<string, string[]>> } {
    const tagsTo = new Map<string, Record<string, string[]>>();
    const ses = Object.create(aws.clients.ses) as AwsClients['ses'];
    const send = aws.clients.ses.send.bind(aws.clients.ses) as (...a: unknown[]) => Promise<unknown>;
    ses.send = ((command: SendEmailCommand, ...rest: unknown[]) => {
      if (command instanceof SendEmailCommand) {
        const to = command.input.Destination?.ToAddresses?.[0] ?? '';
        tagsTo.set(to, Object.fromEntries((command.input.EmailTags ?? []).map((t) => [t.Name ?? '', [t.Value ?? '']])));
      }
      return send(command, ...rest);
    }) as AwsClients['ses']['send'];
    return { clients: { ...aws.clients, ses }, tagsTo };
  }

  /** A hard bounce of the email sent to `email`, with the tags it was sent with. */
  const bounceOf = (email: string, tagsTo: Map<string, Record<string, string[]>>) => snsEvent(bounceEvent([email], 'Permanent', { tags: tagsTo.get(email) ?? {}, feedbackId: `fb-${email}` }));
  const feedback = (config: Config, event: unknown) => processSesFeedback({ documents: aws.clients.documents, tables: tableNames(config), now: () => AT + 2 * HOUR }, event);
  const hex = (id: string) => Buffer.from(id).toString('hex');

  for (const id of ['C.001', '客户001']) {
    it(`${id}: a bounce of their old address is found by forget, after the address changed`, async () => {
      const config = await sendingConfig(`forget-tag-a-${hex(id)}`);
      const old = `old-${hex(id)}@example.com`;
      await seedProfiles(aws, config, [welcomeDue(id, old)]);
      const { clients, tagsTo } = taggingClients();
      expect(total(await runCampaignHour({ clients }, config, AT, 'tag-a'), 'sent')).toBe(1);
      expect(await feedback(config, bounceOf(old, tagsTo))).toMatchObject({ suppressed: 1 });
      expect(await plainSuppressions(config)).toMatchObject([{ email: old, customerId: id, reason: 'hard-bounce' }]);
      // The brand fixes the address after the bounce.
      await seedProfiles(aws, config, [welcomeDue(id, `new-${hex(id)}@example.com`)]);

      expect(await forget(config, { customerId: id })).toMatchObject({ suppressionEntries: 1 });
      expect(await plainSuppressions(config)).toEqual([]);
    });

    it(`${id}: a bounce arriving after forget, of an address they had before, is not stored in clear`, async () => {
      const config = await sendingConfig(`forget-tag-b-${hex(id)}`);
      const old = `old-${hex(id)}@example.com`;
      await seedProfiles(aws, config, [welcomeDue(id, old)]);
      const { clients, tagsTo } = taggingClients();
      expect(total(await runCampaignHour({ clients }, config, AT, 'tag-b'), 'sent')).toBe(1);
      await seedProfiles(aws, config, [welcomeDue(id, `new-${hex(id)}@example.com`)]);
      await forget(config, { customerId: id });

      // Only the client's id can tie this address to them: forget never knew it.
      expect(await feedback(config, bounceOf(old, tagsTo))).toMatchObject({ hardBounces: 1, suppressed: 0, erased: 1 });
      expect(await plainSuppressions(config)).toEqual([]);
    });
  }

  it('C.001 and C_001 are two clients: forgetting one leaves the other\'s bounce alone', async () => {
    const config = await sendingConfig('forget-tag-pair');
    await seedProfiles(aws, config, [welcomeDue('C.001', 'dot@example.com'), welcomeDue('C_001', 'underscore@example.com')]);
    const { clients, tagsTo } = taggingClients();
    expect(total(await runCampaignHour({ clients }, config, AT, 'tag-pair'), 'sent')).toBe(2);
    await feedback(config, bounceOf('dot@example.com', tagsTo));
    await feedback(config, bounceOf('underscore@example.com', tagsTo));

    expect(await forget(config, { customerId: 'C_001' })).toMatchObject({ profiles: 1, suppressionEntries: 1, erasureKeys: 2 });
    expect(await plainSuppressions(config)).toMatchObject([{ email: 'dot@example.com', customerId: 'C.001' }]);
  });

  it('`clientele forget` of an id nothing stored holds: exit 0, the erasure kept, and it says that nothing matched and that the id is blocked from now on', async () => {
    const config = await sendingConfig('forget-cli');
    const file = join(work, 'forget-cli.json');
    await writeFile(file, JSON.stringify(config));
    await seedProfiles(aws, config, [welcomeDue('FC-1', 'fc1@example.com')]);

    const nothing = await clienteleExit(['forget', '--customer', 'NOPE', '--config', file]);
    expect(nothing.code, nothing.stderr).toBe(0);
    expect(nothing.stdout).toMatch(/^Nothing stored matched that customer id: no profile, .* 1 hashed erasure entry recorded all the same: from now on it keeps that customer id out of later exports and campaigns/);
    expect((await scanTable<{ email: string }>(aws, tableNames(config).suppression)).filter((e) => e.email.startsWith('erased:'))).toHaveLength(1);

    const json = await clienteleExit(['forget', '--email', 'nobody@example.com', '--json', '--config', file]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ profiles: 0, erasureKeys: 1, nothingStoredMatched: true });
    expect(json.stderr).toMatch(/^clientele: Nothing stored matched that address: /);

    const stored = await clienteleExit(['forget', '--customer', 'FC-1', '--config', file]);
    expect(stored.code).toBe(0);
    expect(stored.stdout).toMatch(/^Erased: 1 profile\(s\), .* 2 hashed erasure entries keep the person out/);
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'FC-1')).toBeUndefined();
  });

  it('`clientele forget` of an id past the exports\' bound: exit 2 with one line naming the field, nothing written', async () => {
    const config = await sendingConfig('forget-cli-oversize');
    const file = join(work, 'forget-cli-oversize.json');
    await writeFile(file, JSON.stringify(config));
    const result = await clienteleExit(['forget', '--customer', 'Y'.repeat(3000), '--config', file]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/customerId: longer than 256 bytes/);
    expect(result.stderr).not.toMatch(/unexpected error|\n\s+at /);
    expect(await scanTable(aws, tableNames(config).suppression)).toEqual([]);
  }, 60_000);
});
