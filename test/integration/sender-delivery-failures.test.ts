import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendEmailCommand, SendEmailCommandOutput } from '@aws-sdk/client-sesv2';
import { freePort } from '#local/aws.ts';
import { createSesClient } from '#shared/aws/clients.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import type { SesSender } from '#shared/delivery/ses-email.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';
import { jsonLog } from '#shared/log.ts';
import { campaignRunFailure, CampaignRunError } from '#shared/sender/run.ts';
import { ledgerEntriesOf, type LedgerEntry } from '#shared/store/ledger-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour as run, UNSUBSCRIBE_SECRET as SECRET } from '#test/support/campaign-runs.ts';
import { clienteleExit } from '#test/support/cli.ts';
import { aroundDocuments } from '#test/support/crashing-clients.ts';
import { ledgerEntries as allLedgerEntries, seedCatalog, seedProfiles } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { lambdaHarness } from '#test/support/lambda-handler.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem as profile } from '#test/support/profiles.ts';
import { addressedTo, awsError, configurationSetMissing, sesRefusing } from '#test/support/refusing-ses.ts';
import { fakeSecretsExtension } from '#test/support/secrets-extension.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { DAY, HOUR, at as local, iso } from '#test/support/time.ts';

/**
 * What the sender does when the way to SES fails, with the errors the AWS SDK really raises: a
 * closed port (ECONNREFUSED: certainly not sent), a server that hangs up after reading the
 * request without or after handing it to SES (socket hang up: maybe sent). Certainly-not-sent
 * emails are released and sent by a later hour, until their cut-off, then expired; maybe-sent ones
 * are kept and reported, never resent; consecutive failures open the circuit breaker, which leaves
 * the rest untouched and fails the run (the Lambda throws, the CLI exits 1).
 */

const aws = sharedAws();
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:k';
fakeSecretsExtension({ arn: SECRET_ARN, current: SECRET });
const lambda = lambdaHarness();
const work = scratchDir('delivery-failures');
let deadEndpoint: string;
/** Reads the request and hangs up: nothing reached SES. */
let hangUp: Server;
/** Hands the request to the SES emulator, then hangs up instead of answering: SES took it. */
let lostAnswer: Server;
/** Reads the request and never answers, the connection left open: only a timeout ends the wait. */
let silent: Server;
/** The silent endpoint's wait, short for the test (SES_TIMEOUTS in production). */
const SILENT_TIMEOUTS = { connectionMs: 1_000, answerMs: 500 };
const AT = local('2026-11-23 10:00', 'Asia/Shanghai');

const bodyOf = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
  });

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

const endpoints: Record<'dead' | 'hang-up' | 'lost-answer' | 'silent', string> = { dead: '', 'hang-up': '', 'lost-answer': '', silent: '' };

beforeAll(async () => {
  deadEndpoint = `http://127.0.0.1:${await freePort()}`; // nothing listens there
  endpoints.dead = deadEndpoint;
  hangUp = createServer((request) => void bodyOf(request).then(() => request.socket.destroy()));
  endpoints['hang-up'] = await listen(hangUp);
  lostAnswer = createServer((request) => {
    void bodyOf(request).then(async (body) => {
      const headers = Object.fromEntries(Object.entries(request.headers).filter((e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'host'));
      await fetch(`${aws.endpoints.ses}${request.url ?? '/'}`, { method: request.method ?? 'POST', headers, body });
      request.socket.destroy();
    });
  });
  endpoints['lost-answer'] = await listen(lostAnswer);
  silent = createServer((request) => void bodyOf(request));
  endpoints.silent = await listen(silent);
});

afterAll(async () => {
  hangUp?.close();
  lostAnswer?.close();
  silent?.closeAllConnections();
  silent?.close();
});

type Route = 'ses' | keyof typeof endpoints;

/** SES as the run sees it: each call goes where `route(call number)` says, through a real SDK client. */
function routedSes(config: Config, route: (call: number) => Route): SesSender & { calls: number } {
  const clients = Object.fromEntries(
    (Object.keys(endpoints) as (keyof typeof endpoints)[]).map((name) => {
      const routed = parseConfig({ ...config, endpoints: { ...config.endpoints, ses: endpoints[name] } });
      return [name, name === 'silent' ? createSesClient(routed, SILENT_TIMEOUTS) : createSesClient(routed)];
    }),
  ) as Record<keyof typeof endpoints, ReturnType<typeof createSesClient>>;
  const ses = {
    calls: 0,
    send(command: SendEmailCommand): Promise<SendEmailCommandOutput> {
      const where = route(++ses.calls);
      return where === 'ses' ? aws.clients.ses.send(command) : clients[where].send(command);
    },
  };
  return ses;
}

const newClients = (prefix: string, n: number, firstOrderAt = AT - 2 * HOUR) =>
  Array.from({ length: n }, (_, i) => profile(`${prefix}-${String(i).padStart(3, '0')}`, { stage: 'new', firstOrderAt: iso(firstOrderAt), lastOrderAt: iso(firstOrderAt) }));

const byStatus = (entries: LedgerEntry[]) => entries.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.status]: (acc[e.status] ?? 0) + 1 }), {});

describe('the way to SES fails', () => {
  it('SES goes away mid-run: sent stays sent, the refused are released, the breaker leaves the rest untouched; the next hour sends each once', async () => {
    const config = await campaignConfig(aws, 'outage');
    const clients = newClients('out', 30);
    await seedProfiles(aws, config, clients);
    const ses = routedSes(config, (call) => (call <= 8 ? 'ses' : 'dead'));
    const mailer = createSesMailer(ses, { maxSendRate: 500, baseDelayMs: 1 });

    const summary = await run(aws, config, AT, 'outage-1', { mailer });
    expect(summary.campaigns.welcome).toMatchObject({ due: 30, sent: 8, deferred: 5, failed: 0, 'maybe-sent': 0, left: 17 });
    expect(summary.stopped).toEqual({ reason: 'circuit-breaker', message: expect.stringMatching(/^5 sends in a row failed on the way to SES or had their request refused \(last: unreachable after 3 attempts: ECONNREFUSED/) });
    expect(summary.mailer).toMatchObject({ sent: 8, unreachableRetries: 10 });
    const failure = campaignRunFailure(summary);
    expect(failure).toBeInstanceOf(CampaignRunError);
    expect(failure?.code).toBe('CAMPAIGN_RUN_HALTED');
    expect(failure?.message).toContain('17 due occasions left for a later run');
    const ledger = await allLedgerEntries(aws, config);
    expect(byStatus(ledger)).toEqual({ sent: 8, deferred: 5 });
    for (const e of ledger.filter((x) => x.status === 'deferred')) expect(e.reason).toMatch(/^unreachable after 3 attempts: ECONNREFUSED: connect ECONNREFUSED/);

    const next = await run(aws, config, AT + HOUR, 'outage-2');
    expect(next.campaigns.welcome).toMatchObject({ due: 22, sent: 22, left: 0 });
    expect(next.stopped).toBeUndefined();
    expect(campaignRunFailure(next)).toBeUndefined();
    for (const c of clients) expect((await emailsTo(aws, `${c.customerId}@example.com`)).length, c.customerId).toBe(1);
  });

  it('a connection lost after the request left is maybe-sent: kept, reported, never resent', async () => {
    const config = await campaignConfig(aws, 'maybe');
    const clients = newClients('maybe', 4);
    await seedProfiles(aws, config, clients);
    const routes: Route[] = ['ses', 'lost-answer', 'hang-up', 'ses'];
    const mailer = createSesMailer(routedSes(config, (call) => routes[call - 1] ?? 'ses'), { maxSendRate: 500, baseDelayMs: 1 });

    const summary = await run(aws, config, AT, 'maybe-1', { mailer });
    expect(summary.campaigns.welcome).toMatchObject({ due: 4, sent: 2, 'maybe-sent': 2, deferred: 0 });
    expect(summary.stopped).toBeUndefined();
    expect(summary.maybeSent.map((m) => m.customerId).sort()).toEqual(['maybe-001', 'maybe-002']);
    expect(summary.maybeSent[0]?.reason).toBe('TimeoutError: socket hang up (ECONNRESET)');
    const ledger = await allLedgerEntries(aws, config);
    expect(byStatus(ledger)).toEqual({ sent: 2, 'maybe-sent': 2 });

    const next = await run(aws, config, AT + HOUR, 'maybe-2');
    expect(next.campaigns.welcome).toMatchObject({ due: 0, sent: 0 });
    expect(next.maybeSent.map((m) => m.customerId).sort()).toEqual(['maybe-001', 'maybe-002']);
    // SES did take the one whose answer was lost; the one hung up on never reached it. Neither resent.
    const counts = await Promise.all(clients.map(async (c) => (await emailsTo(aws, `${c.customerId}@example.com`)).length));
    expect(counts).toEqual([1, 1, 0, 1]);
  });

  it('SES that takes a request and never answers: after the client\'s timeout the send is maybe-sent, and the hour goes on', async () => {
    const config = await campaignConfig(aws, 'silent');
    const clients = newClients('silent', 3);
    await seedProfiles(aws, config, clients);
    const routes: Route[] = ['ses', 'silent', 'ses'];
    const mailer = createSesMailer(routedSes(config, (call) => routes[call - 1] ?? 'ses'), { maxSendRate: 500, baseDelayMs: 1 });

    const summary = await run(aws, config, AT, 'silent-1', { mailer });
    expect(summary.campaigns.welcome).toMatchObject({ due: 3, sent: 2, 'maybe-sent': 1 });
    expect(summary.stopped).toBeUndefined();
    expect(summary.maybeSent).toEqual([expect.objectContaining({ customerId: 'silent-001', reason: expect.stringMatching(/^TimeoutError: .*500 ms requestTimeout/) })]);
    expect(byStatus(await allLedgerEntries(aws, config))).toEqual({ sent: 2, 'maybe-sent': 1 });
  });

  it('released until the cut-off, then expired with the reason; nothing sent late', async () => {
    const config = await campaignConfig(aws, 'expiry');
    // First order 71h30 before AT: the welcome's 72 h cut-off is AT + 30 min.
    const [client] = newClients('exp', 1, AT - 71.5 * HOUR);
    if (!client) throw new Error('no client');
    await seedProfiles(aws, config, [client]);
    const mailer = createSesMailer(routedSes(config, () => 'dead'), { maxSendRate: 500, baseDelayMs: 1 });

    const first = await run(aws, config, AT, 'expiry-1', { mailer });
    expect(first.campaigns.welcome).toMatchObject({ due: 1, deferred: 1 });
    const later = await run(aws, config, AT + HOUR, 'expiry-2');
    expect(later.campaigns.welcome).toMatchObject({ due: 0, sent: 0, expired: 1 });
    const [entry] = await ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, client.customerId);
    expect(entry).toMatchObject({
      status: 'expired',
      reason: expect.stringMatching(/^welcome window closed at .+ while deferred: unreachable after 3 attempts: ECONNREFUSED/),
    });
    expect(await emailsTo(aws, `${client.customerId}@example.com`)).toEqual([]);
    // Expired is final: nothing more, however late.
    expect((await run(aws, config, AT + 2 * HOUR, 'expiry-3')).campaigns.welcome).toMatchObject({ due: 0, expired: 0 });
  });
});

describe('SES refuses the request itself, not the recipient', () => {
  it('every request refused (a BadRequestException): each email is released, not failed; the breaker stops and fails the run; the next hour sends each once', async () => {
    const config = await campaignConfig(aws, 'bad-request');
    const clients = newClients('badreq', 12);
    await seedProfiles(aws, config, clients);
    const refusing = sesRefusing(aws.clients.ses, () => configurationSetMissing());
    const lines: string[] = [];
    const summary = await run(aws, config, AT, 'bad-request-1', { mailer: createSesMailer(refusing, { maxSendRate: 500, log: jsonLog({ write: (line) => lines.push(line) }) }) });
    expect(refusing.sendEmailCalls, 'one SES call per email, until the breaker opens').toBe(5);
    expect(summary.campaigns.welcome).toMatchObject({ due: 12, sent: 0, deferred: 5, failed: 0, left: 7 });
    expect(summary.stopped).toEqual({ reason: 'circuit-breaker', message: expect.stringContaining('last: BadRequestException: Configuration set <clientele-prod-events> does not exist.') });
    expect(campaignRunFailure(summary)?.code).toBe('CAMPAIGN_RUN_HALTED');
    const ledger = await allLedgerEntries(aws, config);
    expect(byStatus(ledger)).toEqual({ deferred: 5 });
    for (const e of ledger) expect(e.reason).toMatch(/^BadRequestException: .*not the recipient: looks like a request or configuration problem/);
    const notSent = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'email not sent');
    expect(notSent).toHaveLength(5);
    for (const l of notSent) expect(l).toMatchObject({ level: 'error', errorName: 'BadRequestException', scope: 'request', reason: expect.stringContaining('request or configuration problem') });

    // The configuration set restored: the next hour sends every one, once.
    const next = await run(aws, config, AT + HOUR, 'bad-request-2');
    expect(next.campaigns.welcome).toMatchObject({ due: 12, sent: 12, failed: 0, left: 0 });
    expect(next.stopped).toBeUndefined();
    for (const c of clients) expect((await emailsTo(aws, `${c.customerId}@example.com`)).length, c.customerId).toBe(1);
  });

  it('one address refused as a bad request (an address our check let through): released, not failed, and it does not stop the run', async () => {
    const config = await campaignConfig(aws, 'bad-address', { sender: { circuitBreakerFailures: 2 } });
    const clients = newClients('badaddr', 5);
    await seedProfiles(aws, config, clients);
    const refused = `${clients[0]?.customerId ?? ''}@example.com`;
    const picky = sesRefusing(aws.clients.ses, (command) => (addressedTo(command, refused) ? awsError('BadRequestException', 'Invalid email address.', 400) : undefined));
    const summary = await run(aws, config, AT, 'bad-address-1', { mailer: createSesMailer(picky, { maxSendRate: 500 }) });
    expect(summary.campaigns.welcome).toMatchObject({ due: 5, sent: 4, deferred: 1, failed: 0, left: 0 });
    expect(summary.stopped).toBeUndefined();
    const ledger = await allLedgerEntries(aws, config);
    expect(byStatus(ledger)).toEqual({ sent: 4, deferred: 1 });
    // Tried again by a later hour, while its window is open (then expired with the reason).
    const next = await run(aws, config, AT + HOUR, 'bad-address-2', { mailer: createSesMailer(picky, { maxSendRate: 500 }) });
    expect(next.campaigns.welcome).toMatchObject({ due: 1, deferred: 1, sent: 0, failed: 0 });
    expect(next.stopped).toBeUndefined();
  });
});

describe('a ledger call fails between the claim and SES', () => {
  /** DynamoDB unreachable past the SDK's retries: the request never reached it. */
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED', syscall: 'connect' });

  it('the frequency cap re-read fails: the claim is deferred, not left claimed, and the next hour sends the welcome once', async () => {
    const config = await campaignConfig(aws, 'cap-read-fails');
    const [client] = newClients('capread', 1);
    if (!client) throw new Error('no client');
    await seedProfiles(aws, config, [client]);
    const ledger = tableNames(config).sendLedger;
    let claimed = false;
    let failed = false;
    const faulty = aroundDocuments(aws.clients, (name, input, go) => {
      if (name === 'PutCommand' && input.TableName === ledger) claimed = true;
      if (claimed && !failed && name === 'QueryCommand' && input.TableName === ledger) {
        failed = true;
        return Promise.reject(refused());
      }
      return go();
    });

    await expect(run({ clients: faulty }, config, AT, 'capread-1')).rejects.toThrow(/ECONNREFUSED/);
    expect(failed).toBe(true);
    expect(await emailsTo(aws, `${client.customerId}@example.com`)).toEqual([]);
    const [entry] = await ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, client.customerId);
    // As for an email not composed: certainly not sent, tried again from the next hour.
    expect(entry).toMatchObject({ status: 'deferred', deferredUntil: AT + HOUR, reason: expect.stringMatching(/^CapCheckError: .*ECONNREFUSED/) });

    const next = await run(aws, config, AT + HOUR, 'capread-2');
    expect(next.campaigns.welcome).toMatchObject({ sent: 1 });
    expect(next.staleClaims).toEqual([]);
    expect(await emailsTo(aws, `${client.customerId}@example.com`)).toHaveLength(1);
  });

  it('a claim of a reminder listing two products fails: the claims made are handed back, and the rerun sends the one email', async () => {
    const config = await campaignConfig(aws, 'claim-fails');
    const bought = iso(AT - 30 * DAY);
    await seedCatalog(aws, config, ['A', 'B'].map((s) => ({ sku: `SK-${s}`, name: `Cream ${s}`, category: 'skincare', replenishDays: 40 })));
    const client = profile('twocreams', {
      stage: 'active',
      firstOrderAt: iso(AT - 400 * DAY),
      lastOrderAt: bought,
      skus: Object.fromEntries(['A', 'B'].map((s) => [`SK-${s}`, { lastPurchasedAt: bought, quantity: 1, purchases: 1, productName: `Cream ${s}`, category: 'skincare' }])),
    });
    await seedProfiles(aws, config, [client]);
    const ledger = tableNames(config).sendLedger;
    let claims = 0;
    const faulty = aroundDocuments(aws.clients, (name, input, go) => {
      // The second claim is written, but its answer is lost: this run cannot know it holds it.
      if (name === 'PutCommand' && input.TableName === ledger && ++claims === 2) return go().then(() => Promise.reject(refused()));
      return go();
    });

    await expect(run({ clients: faulty }, config, AT, 'claimfail-1')).rejects.toThrow(/ECONNREFUSED/);
    expect(await emailsTo(aws, `${client.customerId}@example.com`)).toEqual([]);
    const entries = await ledgerEntriesOf(aws.clients.documents, ledger, client.customerId);
    expect(entries.map((e) => [e.campaignId, e.status, e.reason])).toEqual([
      ['replenishment', 'deferred', 'claim-interrupted'],
      ['replenishment', 'deferred', 'claim-interrupted'],
    ]);

    const again = await run(aws, config, AT, 'claimfail-2');
    expect(again.campaigns.replenishment).toMatchObject({ sent: 2 });
    expect((await ledgerEntriesOf(aws.clients.documents, ledger, client.customerId)).map((e) => e.status)).toEqual(['sent', 'sent']);
    expect(await emailsTo(aws, `${client.customerId}@example.com`)).toHaveLength(1);
  });
});

describe('a run the circuit breaker stopped fails after reporting', () => {
  it('the campaigns Lambda logs its summary and throws CAMPAIGN_RUN_HALTED (the errors alarm)', async () => {
    const config = await campaignConfig(aws, 'handler-outage', { sender: { circuitBreakerFailures: 3 } });
    await seedProfiles(aws, config, newClients('hdl', 6));
    // Imported afresh with this environment: another file may have loaded the handler with its own.
    const { handler, CampaignRunError: HandlerRunError } = await lambda.load(
      { UNSUBSCRIBE_SECRET_ARN: SECRET_ARN, CLIENTELE_CONFIG: JSON.stringify({ ...config, endpoints: { ...config.endpoints, ses: deadEndpoint } }) },
      // The error class as the handler's fresh copy of the sender defines it.
      async () => ({ ...(await import('#functions/campaigns/handler.ts')), ...(await import('#shared/sender/run.ts')) }),
    );
    const error: unknown = await handler({ at: iso(AT) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandlerRunError);
    expect(error).toMatchObject({ code: 'CAMPAIGN_RUN_HALTED', message: expect.stringContaining('circuit-breaker') });
    const report = lambda.output.logs().find((l) => l.message === 'campaign run stopped sending') as { level: string; correlation_id: string; summary?: { runId: string; stopped?: { reason: string } } } | undefined;
    expect(report?.summary?.stopped?.reason).toBe('circuit-breaker');
    // Logged at ERROR with the run id as correlation id; the run's figures published before it failed.
    expect(report).toMatchObject({ level: 'ERROR', correlation_id: report?.summary?.runId });
    expect(lambda.output.emf().some((r) => 'Sent' in r && 'UnresolvedSends' in r)).toBe(true);
    const ledger = await allLedgerEntries(aws, config);
    expect(byStatus(ledger)).toEqual({ deferred: 3 });
  });

  it('`clientele run campaigns` prints the summary and exits 1', async () => {
    const config = await campaignConfig(aws, 'cli-outage', { sender: { circuitBreakerFailures: 2 } });
    await seedProfiles(aws, config, newClients('cli', 4));
    const file = join(work, 'config.json');
    await writeFile(file, JSON.stringify({ ...config, endpoints: { ...config.endpoints, ses: deadEndpoint } }));
    const { code, stdout, stderr } = await clienteleExit(['run', 'campaigns', '--at', iso(AT), '--config', file], { env: { UNSUBSCRIBE_SECRET: SECRET } });
    expect(code).toBe(1);
    expect(stdout).toContain('sending stopped (circuit-breaker)');
    expect(stderr).toMatch(/clientele: Campaign run .* stopped sending \(circuit-breaker\)/);
  });

  it('`clientele run campaigns` refuses an hour ahead of the clock and a date that does not exist; reads --at without an offset in the brand time zone', async () => {
    const config = await campaignConfig(aws, 'cli-clock');
    await seedProfiles(aws, config, newClients('clock', 2));
    const file = join(work, 'clock-config.json');
    await writeFile(file, JSON.stringify(config));
    const cli = (...args: string[]) => clienteleExit(['run', 'campaigns', ...args, '--config', file], { env: { UNSUBSCRIBE_SECRET: SECRET } });

    const ahead = await cli('--at', '2099-11-23T10:00:00+08:00');
    expect(ahead.code).toBe(2);
    expect(ahead.stderr).toMatch(/^clientele: --at 2099-11-23T10:00:00\+08:00: the hour 2099-11-23T02:00:00\.000Z is ahead of the clock/);
    const impossible = await cli('--at', '2026-02-30T10:00:00+08:00', '--dry-run');
    expect(impossible.code).toBe(2);
    expect(impossible.stderr).toContain('--at 2026-02-30T10:00:00+08:00: expected a real date and time');
    // A look ahead is allowed as a dry run, which sends and writes nothing.
    expect((await cli('--at', '2099-11-23T10:00:00+08:00', '--dry-run', '--json')).code).toBe(0);
    expect(await allLedgerEntries(aws, config)).toEqual([]);

    const wallTime = await cli('--at', '2026-11-23T10:00', '--dry-run', '--json');
    expect(wallTime.code).toBe(0);
    expect((JSON.parse(wallTime.stdout) as { at: string }).at).toBe(new Date(local('2026-11-23 10:00', config.timeZone)).toISOString());
  });
});
