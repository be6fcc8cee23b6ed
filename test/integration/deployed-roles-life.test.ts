import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SNSEvent } from 'aws-lambda';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { readObjectText, writeObject } from '#shared/aws/s3-objects.ts';
import { brandDefaultCampaigns, type CampaignDefinition } from '#shared/campaigns/schema.ts';
import type { Config } from '#shared/config.ts';
import { normaliseEmail } from '#shared/email.ts';
import { forgetClient, type ForgetResult } from '#shared/forget/forget.ts';
import { writeShardFromWork, type NightResult, type PreparedNight } from '#shared/nightly/distributed.ts';
import { nightContext, runNightly } from '#shared/nightly/run.ts';
import { shardOf } from '#shared/nightly/shards.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import type { CampaignRunSummary } from '#shared/sender/run.ts';
import type { SesFeedbackSummary } from '#shared/feedback/ses-events.ts';
import { addressKeyOf, readAddressBook } from '#shared/store/address-book.ts';
import { couponPoolKey, reportPrefix, reportsBucket } from '#shared/store/buckets.ts';
import { readCatalog, readCategoryAffinity } from '#shared/store/catalog-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { getSuppression } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { allTasks } from '#shared/store/task-store.ts';
import { signTaskToken } from '#shared/unsubscribe/task-token.ts';
import { signUnsubscribeToken } from '#shared/unsubscribe/token.ts';
import { deployedRole, type DeployedRole } from '#test/support/deployed-role.ts';
import { crashingAfter } from '#test/support/crashing-clients.ts';
import { dropIncrement, expireWriteLeases, uploadExport } from '#test/support/emulator-data.ts';
import { csv, exportFolder, LENIENT_GUARDS, scratchDir, SHOPIFY_CUSTOMERS_HEADER, SHOPIFY_ORDERS_HEADER, shopifyNovemberOrderRow } from '#test/support/export-files.ts';
import { functionUrlEvent } from '#test/support/function-url.ts';
import { lambdaHarness } from '#test/support/lambda-handler.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { storedState } from '#test/support/nightly-comparison.ts';
import { fakeSecretsExtension } from '#test/support/secrets-extension.ts';
import { bounceEvent, complaintEvent, deliveryEvent, snsEvent } from '#test/support/ses-events.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, DAY } from '#test/support/time.ts';
import { taskLinkToken } from '#test/support/task-links.ts';

/**
 * A short life of the suite with every step run by the Lambda handler that runs it in AWS, under
 * that function's role as the stack deploys it (deployed-role.ts: a call the role does not allow
 * fails as in AWS, and fails the test in afterEach even when the code caught it). The handler
 * tests under the roles seed profiles directly; here nights come before hours, so the calls only a
 * real sequence makes are checked too (the hour after a night deleting its due-index floors and
 * reading the address book were missed that way).
 *
 * - nights (nightly): a generic night with products and an advisors roster, a Monday night with
 *   digests and the team email, its rerun, a night meeting forgotten clients, a handover between
 *   two digest weeks; Shopify nights with an address change and a takeover (the address book),
 *   one of them dying part-way and rerun; the generic and Shopify nights also as the sharded
 *   state machine's phases (4 shards: the work prefix, former addresses handed between shards, a
 *   rerun, a shard's write dying and retried);
 * - hours (campaigns) after each night, with generic and Shopify increments: welcome,
 *   replenishment, win-back with a pool's coupon, an advisor's task and the note it holds back,
 *   a handover's introduction;
 * - SES feedback (ses-events), a one-click unsubscribe (unsubscribe), the advisor's answers
 *   (advisor-task), erasures by id and by address, and one that dies halfway (forget).
 *
 * The crashes are the only steps not run through a handler: the shared code is run with the
 * role's clients wrapped to die at a chosen write, as the function's process would.
 */

const ZONE = 'Asia/Shanghai';
const SHARDS = 4;
const SECRET = 'roles-life-unsubscribe-key-0123456789abcdef';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unsubscribe-key';

const aws = sharedAws();
const work = scratchDir('deployed-roles-life');
const lambda = lambdaHarness();
const nightlyRole = deployedRole(aws, 'nightly');
const shardedNightlyRole = deployedRole(aws, 'nightly', { nightlyShards: SHARDS });
const campaignsRole = deployedRole(aws, 'campaigns');
const sesEventsRole = deployedRole(aws, 'ses-events');
const unsubscribeRole = deployedRole(aws, 'unsubscribe');
const advisorTaskRole = deployedRole(aws, 'advisor-task');
const forgetRole = deployedRole(aws, 'forget');

/** The function whose invocation is running: the one whose extension answers a secret's read. */
let invoking: DeployedRole = nightlyRole;
fakeSecretsExtension({ arn: SECRET_ARN, current: SECRET }, { readBy: { secretAccess: (arn) => invoking.secretAccess(arn) } });

/** The functions the stack gives the unsubscribe key's ARN (the others have none to read). */
const READS_THE_KEY = new Set(['nightly', 'campaigns', 'unsubscribe', 'advisor-task']);

type Handler<E, R> = (event: E) => Promise<R>;

/** A function's handler loaded as the stack deploys it, with `config` as its CLIENTELE_CONFIG; each invocation runs under its role. */
async function deployedFunction<E, R>(role: DeployedRole, config: Config, importModule: () => Promise<{ handler: (event: E) => Promise<R> }>): Promise<Handler<E, R>> {
  const variables: Record<string, string> = READS_THE_KEY.has(role.name) ? { UNSUBSCRIBE_SECRET_ARN: SECRET_ARN } : {};
  const { handler } = await lambda.load(role.environment(config, variables), importModule);
  return (event) => {
    invoking = role;
    return handler(event);
  };
}

type NightlyHandler = Handler<unknown, unknown>;
const nightlyFunction = (role: DeployedRole, config: Config) => deployedFunction<unknown, unknown>(role, config, () => import('#functions/nightly/handler.ts'));
const campaignsFunction = (config: Config) => deployedFunction<unknown, CampaignRunSummary>(campaignsRole, config, () => import('#functions/campaigns/handler.ts'));

/** The hour `local` (brand time) as an operator invokes it by hand: { at }. */
/**
 * Runs `invoke` with the wall clock at `local` (brand time). The link functions read Date.now, and
 * the life's links and tasks carry the dates of its nights and hours: on the real clock they expire
 * as the calendar passes them.
 */
async function atWallClock<T>(local: string, invoke: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['Date'], now: at(local, ZONE) });
  try {
    return await invoke();
  } finally {
    vi.useRealTimers();
  }
}

const hourEvent = (local: string) => ({ at: new Date(at(local, ZONE)).toISOString() });

/** The summary a completed night stored (the handler returns where). */
async function storedSummary(config: Config, result: NightResult): Promise<NightlyRunSummary> {
  const bucket = reportsBucket(config);
  const text = await readObjectText(aws.clients.s3, bucket, result.summaryObject.replace(`s3://${bucket}/`, ''));
  if (text === undefined) throw new Error(`no summary at ${result.summaryObject}`);
  return JSON.parse(text) as NightlyRunSummary;
}

/** A sharded night as the state machine runs it: prepare, the readers' repartitions, measures, combine, writes, finish, one invocation each. */
async function shardedNight(handler: NightlyHandler, runDate: string): Promise<NightResult> {
  const prepared = (await handler({ phase: 'prepare', shards: SHARDS, request: { runDate } })) as PreparedNight;
  const { runId, startedAt } = prepared;
  await Promise.all(prepared.readers.map((reader) => handler({ phase: 'repartition', runDate, runId, shards: SHARDS, reader })));
  await Promise.all(prepared.shards.map((shard) => handler({ phase: 'measure', runDate, runId, shard })));
  await handler({ phase: 'combine', runDate, runId, shards: SHARDS, startedAt, acceptDrop: prepared.acceptDrop });
  await Promise.all(prepared.shards.map((shard) => handler({ phase: 'write', runDate, runId, shard })));
  return (await handler({ phase: 'finish', runDate, runId, startedAt, shards: SHARDS })) as NightResult;
}

const sent = (summary: CampaignRunSummary, campaignId: string) => summary.campaigns[campaignId]?.sent ?? 0;

// ---- the generic brand: products, an advisors roster, its advisors' digests on Mondays ----

const G = '@roleslife.example.com';
const ADVISORS = '@roleslife-advisors.example.com';
const TEAM = 'crm@roleslife-team.example.com';
const SHARDED_TEAM = 'crm.sharded@roleslife-team.example.com';
const HANDOVER_TEAM = 'crm.handover@roleslife-team.example.com';
const CUSTOMERS_HEADER = ['customer_id', 'email', 'first_name', 'last_name', 'locale', 'signed_up_at', 'accepts_marketing', 'advisor_id'];
const ORDERS_HEADER = ['order_id', 'customer_id', 'ordered_at', 'sku', 'product_name', 'category', 'quantity', 'line_total'];
/** v1 a VIC of Sophie's and w1 an Entry client, both 60 days past their last order (win-back); r1's cream runs out on 8 December (replenishment on the 23rd); k1 Core, Fang's; o1 a recent buyer. */
const GENERIC_CUSTOMERS = [
  ['v1', `v1${G}`, 'Vera', 'Lane', 'en', '2025-01-05T10:00:00+08:00', 'true', 'A01'],
  ['w1', `w1${G}`, 'Wes', 'Hart', 'en', '2025-03-01T10:00:00+08:00', 'true', ''],
  ['r1', `r1${G}`, 'Rita', 'Moss', 'en', '2025-04-01T10:00:00+08:00', 'true', ''],
  ['k1', `k1${G}`, 'Kai', 'Sun', 'en', '2025-05-01T10:00:00+08:00', 'true', 'A02'],
  ['o1', `o1${G}`, 'Olga', 'Berg', 'en', '2025-06-01T10:00:00+08:00', 'true', ''],
];
const GENERIC_ORDERS = [
  ['ov1', 'v1', '2025-12-10T10:00:00+08:00', 'BAG-1', 'Bag', 'leather-goods', '1', '30000.00'],
  ['ov2', 'v1', '2026-09-24T12:00:00+08:00', 'COAT-1', 'Coat', 'outerwear', '1', '25000.00'],
  ['ow1', 'w1', '2026-09-24T12:00:00+08:00', 'SOAP-1', 'Soap', 'bath', '1', '40.00'],
  ['or1', 'r1', '2026-10-24T12:00:00+08:00', 'CREAM-1', 'Cream', 'skincare', '1', '80.00'],
  ['ok1', 'k1', '2026-11-02T12:00:00+08:00', 'BAG-1', 'Bag', 'leather-goods', '1', '8000.00'],
  ['oo1', 'o1', '2026-11-10T12:00:00+08:00', 'SOAP-1', 'Soap', 'bath', '1', '40.00'],
];
const PRODUCTS = [
  ['sku', 'name', 'category', 'replenish_days', 'url', 'price'],
  ['CREAM-1', 'Cream', 'skincare', '45', 'https://shop.roleslife.example.com/cream', '80.00'],
  ['SOAP-1', 'Soap', 'bath', '', 'https://shop.roleslife.example.com/soap', '40.00'],
  ['BAG-1', 'Bag', 'leather-goods', '', 'https://shop.roleslife.example.com/bag', '8000.00'],
  ['COAT-1', 'Coat', 'outerwear', '', 'https://shop.roleslife.example.com/coat', '25000.00'],
];
const ROSTER = [
  ['advisor_id', 'name', 'email', 'locale', 'active', 'signature', 'store'],
  ['A01', 'Sophie Martin', `sophie${ADVISORS}`, 'en', 'true', 'Your advisor at the Paris store', 'Paris'],
  ['A02', 'Wang Fang', `fang${ADVISORS}`, 'zh-CN', 'true', '', 'Shanghai'],
];
/** The day's increment: Nina signs up and orders; Kai orders again (no row of his); Olga says no. */
const INCREMENT_CUSTOMERS = [
  ['customer_id', 'email', 'first_name', 'signed_up_at', 'accepts_marketing'],
  ['n1', `n1${G}`, 'Nina', '2026-11-23T09:00:00+08:00', 'true'],
  ['o1', `o1${G}`, 'Olga', '', 'false'],
];
const INCREMENT_ORDERS = [
  ['on1', 'n1', '2026-11-23T09:05:00+08:00', 'SOAP-1', 'Soap', 'bath', '1', '40.00'],
  ['ok2', 'k1', '2026-11-23T09:10:00+08:00', 'CREAM-1', 'Cream', 'skincare', '1', '80.00'],
];

/** The built-in campaigns and plays, the win-back's code drawn from the campaign's pool (a VIC keeps the note in their advisor's name). */
function campaignsWithPool(): CampaignDefinition[] {
  return brandDefaultCampaigns().map((campaign) =>
    campaign.kind === 'winback' ? { ...campaign, offers: { ...campaign.offers, default: { kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 15, couponFrom: { from: 'pool' } } } } : campaign,
  );
}

async function genericConfig(name: string, team: string): Promise<Config> {
  const config = await scenarioConfig(aws, name, {
    ...LENIENT_GUARDS,
    campaigns: { policy: { controlShare: 0 }, campaigns: campaignsWithPool() },
    sender: { ...aws.config.sender, maxSendRate: 500, shopUrl: 'https://shop.roleslife.example.com/' },
    coupons: { poolsPrefix: `pools-${aws.scope}-${name}` },
    advisors: { taskWaitDays: 3, taskBaseUrl: 'https://tasks.roleslife.example.com/' },
    reports: { advisorDigestWeekday: 'monday', teamAddresses: [team] },
  });
  await writeObject(aws.clients.s3, { bucket: config.storage.exportsBucket, key: couponPoolKey(config, 'winback'), body: 'code\nWB-0001\nWB-0002\nWB-0003\n', contentType: 'text/csv' });
  return config;
}

/** The generic brand's two nights: Sunday 22 November, and Monday 23rd, whose snapshot has what the day's increment brought. */
async function genericNights(config: Config): Promise<void> {
  const night1 = await exportFolder(work, 'generic-1', {
    'customers.csv': [CUSTOMERS_HEADER, ...GENERIC_CUSTOMERS],
    'orders.csv': [ORDERS_HEADER, ...GENERIC_ORDERS],
    'products.csv': PRODUCTS,
    'advisors.csv': ROSTER,
  });
  const night2 = await exportFolder(work, 'generic-2', {
    'customers.csv': [
      CUSTOMERS_HEADER,
      ...GENERIC_CUSTOMERS.map((row) => (row[0] === 'o1' ? row.map((cell, i) => (i === 6 ? 'false' : cell)) : row)),
      ['n1', `n1${G}`, 'Nina', '', 'en', '2026-11-23T09:00:00+08:00', 'true', ''],
    ],
    'orders.csv': [ORDERS_HEADER, ...GENERIC_ORDERS, ...INCREMENT_ORDERS],
    'products.csv': PRODUCTS,
    'advisors.csv': ROSTER,
  });
  await uploadExport(aws, config, night1, '2026-11-22');
  await uploadExport(aws, config, night2, '2026-11-23');
  // Night 3 has the same snapshot: the clients forgotten since are still in it.
  await uploadExport(aws, config, night2, '2026-11-24');
}

// ---- the Shopify brand: Mei changes her address, Ana too, and Bo takes Ana's old one ----

const S = '@roleslife-shop.example.com';

/** An address of the same client in another shard of SHARDS than `email`: the hand-over of her former address crosses shards. */
function otherShardEmail(email: string, prefix: string): string {
  for (let i = 0; ; i++) {
    const other = `${prefix}${i}${S}`;
    if (shardOf(normaliseEmail(other), SHARDS) !== shardOf(normaliseEmail(email), SHARDS)) return other;
  }
}

const MEI_OLD = `mei.old${S}`;
const MEI_NEW = otherShardEmail(MEI_OLD, 'mei.new.');
const ANA_OLD = `ana.old${S}`;
const ANA_NEW = otherShardEmail(ANA_OLD, 'ana.new.');
const order = shopifyNovemberOrderRow;
const OTHERS = [
  ['900', 'Other', 'One', `other.one${S}`, 'yes'],
  ['901', 'Other', 'Two', `other.two${S}`, 'yes'],
];
const HISTORY = [
  order('#1001', MEI_OLD, '01', '40000.00', 'BAG-1'),
  order('#1002', MEI_OLD, '10', '15000.00', 'COAT-1'),
  order('#2001', ANA_OLD, '01', '6000.00', 'BAG-1'),
  order('#9001', `other.one${S}`, '02', '20.00', 'SOAP-1'),
  order('#9002', `other.two${S}`, '03', '40.00', 'SOAP-1'),
];

/** Night 1 (22 November): Mei and Ana at their old addresses. Night 2 (23rd): both moved, Bo signed up with Ana's old one, and an order under it placed between the two nights (whose it is cannot be told: rejected). */
async function shopifyNights(): Promise<readonly (readonly [string, string])[]> {
  const night1 = await exportFolder(work, 'shopify-1', {
    'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['41', 'Mei', 'Lin', MEI_OLD, 'yes'], ['51', 'Ana', 'Ruiz', ANA_OLD, 'yes'], ...OTHERS],
    'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...HISTORY],
  });
  const night2 = await exportFolder(work, 'shopify-2', {
    'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['41', 'Mei', 'Lin', MEI_NEW, 'yes'], ['51', 'Ana', 'Ruiz', ANA_NEW, 'yes'], ['53', 'Bo', 'Chen', ANA_OLD, 'yes'], ...OTHERS],
    'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...HISTORY, order('#1003', MEI_NEW, '22', '30.00', 'SOAP-1'), order('#2004', ANA_OLD, '23', '30.00', 'SOAP-1')],
  });
  return [['2026-11-22', night1], ['2026-11-23', night2]];
}

/**
 * The morning after night 2: someone new signs up and orders; Mei's row comes with her first order,
 * placed under her former address and sent again by the platform (hers by the address book, counted
 * once: by the night); 900 orders again with no row of his; 901 says no.
 */
async function dropShopifyIncrement(config: Config): Promise<void> {
  await dropIncrement(aws, config, '2026-11-24T0750', {
    'customers_export_1.csv': csv([SHOPIFY_CUSTOMERS_HEADER, ['77', 'New', 'Comer', `new.comer${S}`, 'yes'], ['41', 'Mei', 'Lin', MEI_NEW, 'yes'], ['901', 'Other', 'Two', `other.two${S}`, 'no']]),
    'orders_export_1.csv': csv([
      SHOPIFY_ORDERS_HEADER,
      ['#7701', `new.comer${S}`, 'paid', '2026-11-24 07:30:00 +0800', 'USD', '60.00', '1', 'SOAP-1', '60.00', 'SOAP-1'],
      order('#1001', MEI_OLD, '01', '40000.00', 'BAG-1'),
      ['#9003', `other.one${S}`, 'paid', '2026-11-24 07:00:00 +0800', 'USD', '25.00', '1', 'SOAP-1', '25.00', 'SOAP-1'],
    ]),
  });
}

const shopifyConfig = (name: string) => scenarioConfig(aws, name, { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });

describe('a life of the suite, every step under the role of the function that runs it in AWS', () => {
  it(
    'generic brand: a night with products and a roster, the hours (increment, welcome, replenishment, win-back with a pool code, an advisor task), feedback, unsubscribe, the task answered, a Monday night with digests and the team email, its rerun, the hour after, forgets',
    { timeout: 300_000 },
    async () => {
      const config = await genericConfig('generic', TEAM);
      const tables = tableNames(config);
      await genericNights(config);

      // Night of Sunday 22 November: the catalogue, the category affinity and the roster stored.
      const nightly = await nightlyFunction(nightlyRole, config);
      const first = await storedSummary(config, (await nightly({ runDate: '2026-11-22' })) as NightResult);
      expect(first.written.profiles).toBe(5);
      // The team's email of every night.
      expect(await emailsTo(aws, TEAM)).toHaveLength(1);
      expect([...(await readCatalog(aws.clients.s3, config)).keys()].sort()).toEqual(['BAG-1', 'COAT-1', 'CREAM-1', 'SOAP-1']);
      expect(await getProfile(aws.clients.documents, tables.profiles, 'v1')).toMatchObject({ tier: 'VIC', advisorId: 'A01' });

      // 09:30 the platform drops the morning's increment; the 10:00 hour merges it and sends.
      await dropIncrement(aws, config, '2026-11-23T0930', {
        'customers.csv': csv(INCREMENT_CUSTOMERS),
        'orders.csv': csv([ORDERS_HEADER, ...INCREMENT_ORDERS]),
      });
      const campaigns = await campaignsFunction(config);
      const ten = await campaigns(hourEvent('2026-11-23 10:00'));
      expect(ten.ingested).toMatchObject({ rejected: 0, quarantined: [] });
      expect({ welcome: sent(ten, 'welcome'), replenishment: sent(ten, 'replenishment'), winback: sent(ten, 'winback') }).toEqual({ welcome: 1, replenishment: 1, winback: 1 });
      expect(ten.coupons?.winback).toMatchObject({ drawn: 1, left: 2 });
      expect(await getProfile(aws.clients.documents, tables.profiles, 'k1')).toMatchObject({ orderCount: 2 });
      expect(await getProfile(aws.clients.documents, tables.profiles, 'o1')).toMatchObject({ acceptsMarketing: false });
      // Vera's note waits for Sophie: her task email went, the client's did not.
      const taskEmails = await emailsTo(aws, `sophie${ADVISORS}`);
      expect(taskEmails).toHaveLength(1);
      expect(await emailsTo(aws, `v1${G}`)).toEqual([]);
      expect(await allTasks(aws.clients.documents, tables.advisorTasks)).toEqual([expect.objectContaining({ customerId: 'v1', advisorId: 'A01', status: 'open' })]);

      // SES tells of a bounce (Nina's welcome), a complaint (Wes's win-back) and a delivery (Rita's reminder).
      const sesEvents = await deployedFunction<SNSEvent, SesFeedbackSummary>(sesEventsRole, config, () => import('#functions/ses-events/handler.ts'));
      await sesEvents(snsEvent(bounceEvent([`n1${G}`], 'Permanent', { customerId: 'n1' }), complaintEvent([`w1${G}`], { customerId: 'w1' }), deliveryEvent([`r1${G}`], { customerId: 'r1' })));
      expect(await getSuppression(aws.clients.documents, tables.suppression, `n1${G}`)).toMatchObject({ reason: 'hard-bounce' });
      expect(await getSuppression(aws.clients.documents, tables.suppression, `w1${G}`)).toMatchObject({ reason: 'complaint' });

      // Rita unsubscribes from her reminder's one-click link.
      const unsubscribe = await deployedFunction<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(unsubscribeRole, config, () => import('#functions/unsubscribe/handler.ts'));
      expect((await unsubscribe(functionUrlEvent('POST', signUnsubscribeToken('r1', SECRET), { body: 'List-Unsubscribe=One-Click' }))).statusCode).toBe(200);
      expect(await getSuppression(aws.clients.documents, tables.suppression, `r1${G}`)).toMatchObject({ reason: 'unsubscribe', customerId: 'r1' });

      // Sophie asks for the note to go; the 11:00 hour sends it in her name.
      const advisorTask = await deployedFunction<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(advisorTaskRole, config, () => import('#functions/advisor-task/handler.ts'));
      const asked = await atWallClock('2026-11-23 10:30', () => advisorTask(functionUrlEvent('POST', taskLinkToken(taskEmails[0], 'Send the email for me'))));
      expect(asked.statusCode).toBe(200);
      const eleven = await campaigns(hourEvent('2026-11-23 11:00'));
      expect(sent(eleven, 'winback')).toBe(1);
      const notes = await emailsTo(aws, `v1${G}`);
      expect(notes.map((n) => n.from)).toEqual([expect.stringContaining('Sophie Martin')]);

      // Night of Monday 23 November: the advisors' digests and the team's email; then its rerun writes and sends nothing.
      const second = await storedSummary(config, (await nightly({ runDate: '2026-11-23' })) as NightResult);
      expect(second.advisorDigests?.advisors.find((a) => a.advisorId === 'A01')).toMatchObject({ outcome: 'sent' });
      expect(await emailsTo(aws, TEAM)).toHaveLength(2);
      const rerun = (await nightly({ runDate: '2026-11-23' })) as NightResult;
      expect(rerun).toMatchObject({ runId: second.runId, rerun: { of: second.runId } });
      expect(await emailsTo(aws, TEAM)).toHaveLength(2);
      expect(await emailsTo(aws, `sophie${ADVISORS}`)).toHaveLength(2);

      // The first hour after that night (its due-index floor deleted) sends nothing twice.
      const after = await campaigns(hourEvent('2026-11-24 10:00'));
      expect(Object.values(after.campaigns).reduce((n, c) => n + c.sent, 0)).toBe(0);

      // Erasures: Wes by his id, Kai by his address, Vera by her id.
      const forget = await deployedFunction<unknown, ForgetResult>(forgetRole, config, () => import('#functions/forget/handler.ts'));
      expect(await forget({ customerId: 'w1' })).toMatchObject({ profiles: 1, couponCodes: 1 });
      expect(await forget({ email: `k1${G}` })).toMatchObject({ profiles: 1 });
      // Vera: her task, the task email in Sophie's ledger, her place in Sophie's digest and in the stored book pairs.
      expect(await forget({ customerId: 'v1' })).toMatchObject({ profiles: 1, tasks: 1, bookPairs: 1 });
      for (const id of ['w1', 'k1', 'v1']) expect(await getProfile(aws.clients.documents, tables.profiles, id)).toBeUndefined();

      // Night 3 meets them in the snapshot: they stay out. The hour after it runs.
      const third = await storedSummary(config, (await nightly({ runDate: '2026-11-24' })) as NightResult);
      expect(third.input.erasedClients).toBe(3);
      for (const id of ['w1', 'k1', 'v1']) expect(await getProfile(aws.clients.documents, tables.profiles, id)).toBeUndefined();
      await campaigns(hourEvent('2026-11-25 10:00'));
    },
  );

  it('generic brand a week later: Kai handed from Fang to Sophie between two digest nights, his introduction given as her task, asked for, and mailed by the hour', { timeout: 300_000 }, async () => {
    const config = await genericConfig('handover', HANDOVER_TEAM);
    const tables = tableNames(config);
    const week1 = await exportFolder(work, 'handover-1', { 'customers.csv': [CUSTOMERS_HEADER, ...GENERIC_CUSTOMERS], 'orders.csv': [ORDERS_HEADER, ...GENERIC_ORDERS], 'products.csv': PRODUCTS, 'advisors.csv': ROSTER });
    const week2 = await exportFolder(work, 'handover-2', {
      'customers.csv': [CUSTOMERS_HEADER, ...GENERIC_CUSTOMERS.map((row) => (row[0] === 'k1' ? row.map((cell, i) => (i === 7 ? 'A01' : cell)) : row))],
      'orders.csv': [ORDERS_HEADER, ...GENERIC_ORDERS],
      'products.csv': PRODUCTS,
      'advisors.csv': ROSTER,
    });
    await uploadExport(aws, config, week1, '2026-11-23');
    await uploadExport(aws, config, week2, '2026-11-30');
    const nightly = await nightlyFunction(nightlyRole, config);
    // Monday 23rd: the books as they stand (last week's for the next digests).
    await nightly({ runDate: '2026-11-23' });
    // Monday 30th: Kai is Sophie's now; her digest introduces him, with a task for the introduction email.
    const week = await storedSummary(config, (await nightly({ runDate: '2026-11-30' })) as NightResult);
    expect(week.advisorDigests).toMatchObject({ handovers: 1 });
    expect(week.advisorDigests?.advisors.find((a) => a.advisorId === 'A01')).toMatchObject({ outcome: 'sent', introductions: 1, introductionTasks: 1 });
    const [introduction] = (await allTasks(aws.clients.documents, tables.advisorTasks)).filter((task) => task.customerId === 'k1');
    expect(introduction).toMatchObject({ advisorId: 'A01', status: 'open' });
    if (!introduction) return;
    // Sophie asks for it from her digest's link; the next hour sends it in her name.
    const advisorTask = await deployedFunction<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(advisorTaskRole, config, () => import('#functions/advisor-task/handler.ts'));
    const token = signTaskToken({ customerId: introduction.customerId, occasionKey: introduction.occasionKey, action: 'send', version: introduction.version, expiresAt: at('2026-12-01 09:00', ZONE) + DAY }, SECRET);
    expect((await atWallClock('2026-12-01 09:00', () => advisorTask(functionUrlEvent('POST', token)))).statusCode).toBe(200);
    const hour = await (await campaignsFunction(config))(hourEvent('2026-12-01 10:00'));
    expect(hour.introductions).toMatchObject({ sent: 1 });
  });

  it('generic brand in four shards: the nights with products, roster, digests and the team email run as the state machine\'s phases, and a rerun of the completed night', { timeout: 300_000 }, async () => {
    const config = await genericConfig('generic-sharded', SHARDED_TEAM);
    await genericNights(config);
    const four = await nightlyFunction(shardedNightlyRole, config);
    const first = await storedSummary(config, await shardedNight(four, '2026-11-22'));
    expect(first).toMatchObject({ shards: SHARDS, written: { profiles: 5 } });
    expect([...(await readCatalog(aws.clients.s3, config)).keys()].sort()).toEqual(['BAG-1', 'COAT-1', 'CREAM-1', 'SOAP-1']);
    expect(Object.keys((await readCategoryAffinity(aws.clients.s3, config)).buyers).length).toBeGreaterThan(0);
    await dropIncrement(aws, config, '2026-11-23T0930', { 'customers.csv': csv(INCREMENT_CUSTOMERS), 'orders.csv': csv([ORDERS_HEADER, ...INCREMENT_ORDERS]) });
    const ten = await (await campaignsFunction(config))(hourEvent('2026-11-23 10:00'));
    expect({ welcome: sent(ten, 'welcome'), replenishment: sent(ten, 'replenishment'), winback: sent(ten, 'winback') }).toEqual({ welcome: 1, replenishment: 1, winback: 1 });
    const second = await storedSummary(config, await shardedNight(four, '2026-11-23'));
    expect(second.advisorDigests?.advisors.find((a) => a.advisorId === 'A01')).toMatchObject({ outcome: 'sent' });
    expect(await emailsTo(aws, SHARDED_TEAM)).toHaveLength(2);
    const rerun = await shardedNight(four, '2026-11-23');
    expect(rerun).toMatchObject({ runId: second.runId, rerun: { of: second.runId } });
    expect(await emailsTo(aws, SHARDED_TEAM)).toHaveLength(2);
    await (await campaignsFunction(config))(hourEvent('2026-11-24 10:00'));
  });

  it(
    'Shopify brand, one run and four shards: an address change and a takeover (the address book written and handed over between shards), the hour after with an increment (a sign-up, a repeat order without a row, an order under a former address, an opt-out), a forget by address',
    { timeout: 400_000 },
    async () => {
      const single = await shopifyConfig('shopify-single');
      const sharded = await shopifyConfig('shopify-sharded');
      const nights = await shopifyNights();
      for (const [runDate, dir] of nights) for (const config of [single, sharded]) await uploadExport(aws, config, dir, runDate);
      let completedRunId = '';
      const one = await nightlyFunction(nightlyRole, single);
      const four = await nightlyFunction(shardedNightlyRole, sharded);
      for (const [runDate] of nights) {
        const oneNight = await storedSummary(single, (await one({ runDate })) as NightResult);
        const fourNight = await storedSummary(sharded, await shardedNight(four, runDate));
        completedRunId = fourNight.runId;
        expect(fourNight.shards).toBe(SHARDS);
        // Night 2's order under Ana's old address between the two nights: neither hers nor Bo's.
        expect([oneNight.input.rejected, fourNight.input.rejected]).toEqual(runDate === '2026-11-23' ? [1, 1] : [0, 0]);
        expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
        if (runDate !== '2026-11-22') continue;
        // The hour after night 1, in each: nothing due (no first order within a day, no lapse), its floors deleted.
        for (const config of [single, sharded]) expect(sent(await (await campaignsFunction(config))(hourEvent('2026-11-23 10:00')), 'welcome')).toBe(0);
      }
      // The state machine run again on the completed night: the summary returned, nothing written.
      const again = await shardedNight(four, '2026-11-23');
      expect(again).toMatchObject({ runId: completedRunId, rerun: { of: completedRunId } });
      for (const config of [single, sharded]) {
        expect(await getProfile(aws.clients.documents, tableNames(config).profiles, '41')).toMatchObject({ email: MEI_NEW, tier: 'VIC', orderCount: 3 });
        expect((await readAddressBook(aws.clients.s3, config)).map((entry) => [entry.customerId, entry.sha256]).sort()).toEqual(
          [['41', addressKeyOf(MEI_OLD).sha256], ['51', addressKeyOf(ANA_OLD).sha256]].sort(),
        );
      }

      // The morning after (09:00, the end of the default quiet hours), in each: the increment merged whole, the newcomer welcomed.
      for (const config of [single, sharded]) {
        await dropShopifyIncrement(config);
        const hour = await (await campaignsFunction(config))(hourEvent('2026-11-24 09:00'));
        // 900's order is the one reject: a Shopify order names its client by address, and the hour reads
        // the stored profiles of the increment's rows only (the next night takes it). Mei's is hers.
        expect(hour.ingested).toMatchObject({ rejected: 1, quarantined: [] });
        expect(sent(hour, 'welcome')).toBe(1);
        const profiles = tableNames(config).profiles;
        expect(await getProfile(aws.clients.documents, profiles, '41')).toMatchObject({ email: MEI_NEW, orderCount: 3 });
        expect(await getProfile(aws.clients.documents, profiles, '900')).toMatchObject({ orderCount: 1 });
        expect(await getProfile(aws.clients.documents, profiles, '901')).toMatchObject({ acceptsMarketing: false });
        expect(await getProfile(aws.clients.documents, profiles, '77')).toMatchObject({ email: `new.comer${S}`, orderCount: 1 });
      }

      // Mei asks to be forgotten by her address: her former one leaves the address book with her.
      const forget = await deployedFunction<unknown, ForgetResult>(forgetRole, single, () => import('#functions/forget/handler.ts'));
      expect(await forget({ email: MEI_NEW })).toMatchObject({ profiles: 1 });
      expect((await readAddressBook(aws.clients.s3, single)).map((entry) => entry.customerId)).toEqual(['51']);
      expect(await getProfile(aws.clients.documents, tableNames(single).profiles, '41')).toBeUndefined();
    },
  );

  it('Shopify brand: the night that records the address change dies part-way (under the role) and the function reruns it, its before-images read back; a forget that dies halfway, finished by the next night', { timeout: 300_000 }, async () => {
    const config = await shopifyConfig('shopify-crash');
    const nights = await shopifyNights();
    for (const [runDate, dir] of nights) await uploadExport(aws, config, dir, runDate);
    const nightly = await nightlyFunction(nightlyRole, config);
    await nightly({ runDate: '2026-11-22' });
    // The process dies at its 9th DynamoDB write, after it saved its before-images.
    const dying = crashingAfter(nightlyRole.clients(config), 8);
    await expect(runNightly({ clock: Date.now, runDate: '2026-11-23', runId: 'shopify-crash-dies', config, clients: dying, unsubscribeSecret: SECRET })).rejects.toThrow(/crash/);
    await dying.settled();
    // It had saved its before-images: the rerun reads them back.
    const attempts = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: reportsBucket(config), Prefix: `${reportPrefix(config, 'nightly', '2026-11-23')}/attempts/` }));
    expect((attempts.Contents ?? []).map((o) => o.Key?.split('/').slice(-2).join('/'))).toEqual(['shopify-crash-dies/before-s0-0.jsonl.gz']);
    // The dead attempt's write lease runs out.
    expect(await expireWriteLeases(aws, config, '2026-11-23')).toBe(1);
    const rerun = await storedSummary(config, (await nightly({ runDate: '2026-11-23' })) as NightResult);
    expect(rerun.input.rejected).toBe(1);
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, '41')).toMatchObject({ email: MEI_NEW, tier: 'VIC', orderCount: 3 });
    expect((await readAddressBook(aws.clients.s3, config)).map((entry) => entry.customerId).sort()).toEqual(['41', '51']);

    // A forget of 900 dies once his erasure is recorded, before his traces go: the next night, which
    // meets his profile, erases him again; the hour after it runs.
    const forgetting = crashingAfter(forgetRole.clients(config), 1);
    await expect(forgetClient({ config, clients: forgetting, request: { customerId: '900' }, at: Date.now() })).rejects.toThrow(/crash/);
    await forgetting.settled();
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, '900')).toBeDefined();
    await uploadExport(aws, config, nights[1]?.[1] ?? '', '2026-11-24');
    await nightly({ runDate: '2026-11-24' });
    await (await campaignsFunction(config))(hourEvent('2026-11-25 10:00'));
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, '900')).toBeUndefined();
  });

  it('Shopify brand in four shards: the write of the shard holding Mei dies part-way (under the role) and the state machine\'s retry writes it again; the night ends as in one run', { timeout: 300_000 }, async () => {
    const config = await shopifyConfig('shopify-shard-crash');
    const nights = await shopifyNights();
    for (const [runDate, dir] of nights) await uploadExport(aws, config, dir, runDate);
    const four = await nightlyFunction(shardedNightlyRole, config);
    await shardedNight(four, '2026-11-22');
    const runDate = '2026-11-23';
    const prepared = (await four({ phase: 'prepare', shards: SHARDS, request: { runDate } })) as PreparedNight;
    const { runId, startedAt } = prepared;
    await Promise.all(prepared.readers.map((reader) => four({ phase: 'repartition', runDate, runId, shards: SHARDS, reader })));
    await Promise.all(prepared.shards.map((shard) => four({ phase: 'measure', runDate, runId, shard })));
    await four({ phase: 'combine', runDate, runId, shards: SHARDS, startedAt, acceptDrop: prepared.acceptDrop });
    const meis = { index: shardOf(normaliseEmail(MEI_NEW), SHARDS), count: SHARDS };
    // The write phase of her shard dies at its 3rd DynamoDB write, as the function's process would.
    const dying = crashingAfter(shardedNightlyRole.clients(config), 2);
    await expect(writeShardFromWork(nightContext({ runDate, runId, config, clients: dying, clock: Date.now }), meis)).rejects.toThrow(/crash/);
    await dying.settled();
    const attempts = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: reportsBucket(config), Prefix: `${reportPrefix(config, 'nightly', runDate)}/attempts/` }));
    // It had saved its shard's before-images: the retry reads them back.
    expect((attempts.Contents ?? []).map((o) => o.Key?.split('/').slice(-2).join('/'))).toEqual([`${runId}/before-s${meis.index}-0.jsonl.gz`]);
    expect(await expireWriteLeases(aws, config, runDate)).toBe(1);
    // The Distributed Map retries her shard's item; the other shards' items run as planned.
    await Promise.all(prepared.shards.map((shard) => four({ phase: 'write', runDate, runId, shard })));
    const summary = await storedSummary(config, (await four({ phase: 'finish', runDate, runId, startedAt, shards: SHARDS })) as NightResult);
    expect(summary.input.rejected).toBe(1);
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, '41')).toMatchObject({ email: MEI_NEW, tier: 'VIC', orderCount: 3 });
    expect((await readAddressBook(aws.clients.s3, config)).map((entry) => entry.customerId).sort()).toEqual(['41', '51']);
  });
});
