import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createAwsClients, destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { jsonLog, silentLog } from '#shared/log.ts';
import { erasedKey, recordErasure } from '#shared/store/erasure-store.ts';
import { getClientSuppression, getSuppression, suppress, suppressClient, suppressedAmong } from '#shared/store/suppression-store.ts';
import { tableNames, type TableNames } from '#shared/store/tables.ts';
import type { UnsubscribeRequest } from '#shared/unsubscribe/request.ts';
import { signUnsubscribeToken } from '#shared/unsubscribe/token.ts';
import { staticKeys } from '#shared/unsubscribe/keys.ts';
import { handleUnsubscribe, recordUnsubscribe, type UnsubscribeContext } from '#shared/unsubscribe/unsubscribe.ts';
import { aroundDocuments } from '#test/support/crashing-clients.ts';
import { scanTable, seedProfiles } from '#test/support/emulator-data.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { loseOneDynamoDbAnswer } from '#test/support/lost-answers.ts';
import { profileItem } from '#test/support/profiles.ts';

const SECRET = 'unsubscribe-test-secret-0123456789abcdef';
const T0 = Date.parse('2026-06-01T10:00:00Z');

const aws = sharedAws();
let tables: TableNames;
let clock = T0;
let context: UnsubscribeContext;
const logged: string[] = [];

/** A Core client with an English name and locale (the pages speak the profile's language). */
const client = (customerId: string, fields: Parameters<typeof profileItem>[1] = {}) =>
  profileItem(customerId, { firstName: 'Lin', locale: 'en-US', tier: 'Core', spend12mMinor: 1_200_000, lifetimeSpendMinor: 2_000_000, orderCount: 4, ...fields });

const suppressionItems = () => scanTable(aws, tables.suppression);

const post = (token: string | undefined, form: Record<string, string> = { 'List-Unsubscribe': 'One-Click' }): UnsubscribeRequest => ({
  method: 'POST',
  form,
  ...(token === undefined ? {} : { token }),
});
const get = (token: string | undefined, acceptLanguage?: string): UnsubscribeRequest => ({
  method: 'GET',
  form: {},
  ...(token === undefined ? {} : { token }),
  ...(acceptLanguage ? { acceptLanguage } : {}),
});

beforeAll(async () => {
  const config = await scenarioConfig(aws, 'unsubscribe');
  tables = tableNames(config);
  await seedProfiles(aws, config, [
    client('alice', { email: 'Alice.Wong@Example.com' }),
    client('bob'),
    client('carol', { locale: 'zh-CN', firstName: '嘉怡' }),
    client('dave'),
    client('yan', { email: 'family@example.com' }),
    client('gil'),
    client('erin'),
    client('noemail', { email: undefined }),
    client('frank', { email: 'frank.new@example.com' }),
  ]);
  context = {
    documents: aws.clients.documents,
    tables,
    keys: staticKeys(SECRET),
    now: () => clock,
    brandName: 'Maison <Lumière>',
    log: jsonLog({ level: 'debug', write: (line) => logged.push(line) }),
  };
});

describe('GET: the confirmation page', () => {
  it('shows a page with a button that POSTs back with the token, and writes nothing', async () => {
    const token = signUnsubscribeToken('bob', SECRET);
    const response = await handleUnsubscribe(context, get(token, 'en-US,en;q=0.9'));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.body).toContain('<form method="post" action="?t=' + encodeURIComponent(token) + '">');
    expect(response.body).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(response.body).toContain('<button type="submit"');
    expect(response.body).toContain('Unsubscribe from Maison &lt;Lumière&gt; emails?');
    expect(response.body).toContain('<meta name="viewport"');
    expect(await suppressionItems()).toEqual([]);
  });

  it('speaks Chinese to a Chinese browser, and falls back to the profile locale', async () => {
    const zh = await handleUnsubscribe(context, get(signUnsubscribeToken('bob', SECRET), 'zh-CN,zh;q=0.9,en;q=0.8'));
    expect(zh.body).toContain('<html lang="zh-CN">');
    expect(zh.body).toContain('确认退订');
    expect(zh.headers['content-language']).toBe('zh-CN');
    const profileLocale = await handleUnsubscribe(context, get(signUnsubscribeToken('carol', SECRET)));
    expect(profileLocale.body).toContain('确认退订');
    const en = await handleUnsubscribe(context, get(signUnsubscribeToken('carol', SECRET), 'en-GB'));
    expect(en.body).toContain('<html lang="en">');
  });

  // The address's entry speaks for the address only: a new address from the CRM would leave it
  // behind. "Unsubscribed" is said only once the client's own no is stored; until then the button records it.
  const addressSuppressedForAnotherReason: [string, string, () => Promise<unknown>][] = [
    ['a hard bounce', 'dave', () => suppress(aws.clients.documents, tables.suppression, { email: 'dave@example.com', reason: 'hard-bounce', at: T0 })],
    [
      "another client's unsubscribe of a shared address",
      'yan',
      () => suppress(aws.clients.documents, tables.suppression, { email: 'family@example.com', reason: 'unsubscribe', at: T0, customerId: 'wei' }),
    ],
    ["an earlier version's unsubscribe, stored against the address only", 'gil', () => suppress(aws.clients.documents, tables.suppression, { email: 'gil@example.com', reason: 'unsubscribe', at: T0 })],
  ];
  for (const [why, customerId, suppressAddress] of addressSuppressedForAnotherReason) {
    it(`asks again when only the address is suppressed (${why}); the button keeps the client out under a new address`, async () => {
      await suppressAddress();
      const token = signUnsubscribeToken(customerId, SECRET);
      const before = await suppressionItems();
      const page = await handleUnsubscribe(context, get(token));
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain('You are unsubscribed');
      expect(page.body).toContain('<form method="post"');
      expect(await suppressionItems()).toEqual(before); // a GET still unsubscribes nobody
      expect(await getClientSuppression(aws.clients.documents, tables.suppression, customerId)).toBeUndefined();

      await handleUnsubscribe(context, post(token, { 'List-Unsubscribe': 'One-Click', via: 'page' }));
      const newAddress = { customerId, email: `${customerId}.new@example.com` };
      expect(await suppressedAmong(aws.clients.documents, tables.suppression, [newAddress])).toEqual(new Set([customerId]));
      expect((await handleUnsubscribe(context, get(token))).body).toContain('You are unsubscribed');
    });
  }

  it('says "unsubscribed" once the client said no, under an address they no longer have', async () => {
    await suppressClient(aws.clients.documents, tables.suppression, { customerId: 'frank', reason: 'unsubscribe', at: T0 });
    const response = await handleUnsubscribe(context, get(signUnsubscribeToken('frank', SECRET)));
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('You are unsubscribed');
    expect(response.body).not.toContain('<form');
  });
});

describe('POST: one-click unsubscribe', () => {
  it("suppresses exactly that client's (normalised) email, and the client by id (a later address stays out)", async () => {
    const before = await suppressionItems();
    clock = T0 + 1000;
    const response = await handleUnsubscribe(context, post(signUnsubscribeToken('alice', SECRET)));
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('You are unsubscribed');
    const after = await suppressionItems();
    expect(after).toHaveLength(before.length + 2);
    expect(await getClientSuppression(aws.clients.documents, tables.suppression, 'alice')).toEqual({
      email: 'customer:alice',
      reason: 'unsubscribe',
      suppressedAt: T0 + 1000,
      reasons: new Set(['unsubscribe']),
      customerId: 'alice',
      source: 'one-click',
    });
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'alice.wong@example.com')).toEqual({
      email: 'alice.wong@example.com',
      reason: 'unsubscribe',
      suppressedAt: T0 + 1000,
      reasons: new Set(['unsubscribe']),
      customerId: 'alice',
      source: 'one-click',
    });
    // Logs carry the client id and a masked address, never the address itself.
    expect(logged.join('\n')).not.toContain('alice.wong@example.com');
    expect(logged.join('\n')).toContain('a***@example.com');
  });

  it('a repeated POST is 200 and keeps the first timestamp', async () => {
    clock = T0 + 60_000;
    const again = await handleUnsubscribe(context, post(signUnsubscribeToken('alice', SECRET)));
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('You are unsubscribed');
    expect((await getSuppression(aws.clients.documents, tables.suppression, 'alice.wong@example.com'))?.suppressedAt).toBe(T0 + 1000);
  });

  it("records the page's button as its source", async () => {
    clock = T0 + 2000;
    const response = await handleUnsubscribe(
      context,
      post(signUnsubscribeToken('erin', SECRET), { 'List-Unsubscribe': 'One-Click', via: 'page' }),
    );
    expect(response.statusCode).toBe(200);
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'erin@example.com')).toMatchObject({
      source: 'confirmation-page',
      customerId: 'erin',
    });
  });

  it('a client without an email gets the done page; the no is kept against the id, for an address given later', async () => {
    const before = await suppressionItems();
    clock = T0 + 3000;
    const response = await handleUnsubscribe(context, post(signUnsubscribeToken('noemail', SECRET)));
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('You are unsubscribed');
    expect(await suppressionItems()).toHaveLength(before.length + 1);
    expect(await getClientSuppression(aws.clients.documents, tables.suppression, 'noemail')).toMatchObject({ reason: 'unsubscribe', suppressedAt: T0 + 3000, customerId: 'noemail' });
  });
});

describe('refusals write nothing', () => {
  const bobSignature = () => signUnsubscribeToken('bob', SECRET).split('.')[1] ?? '';
  const flip = (token: string) => {
    const [id = '', signature = ''] = token.split('.');
    const bytes = Buffer.from(signature, 'base64url');
    bytes[5] = (bytes[5] ?? 0) ^ 0x80;
    return `${id}.${bytes.toString('base64url')}`;
  };

  const cases: [string, () => UnsubscribeRequest, number, RegExp][] = [
    ["another client's id with bob's signature", () => post(`${Buffer.from('carol').toString('base64url')}.${bobSignature()}`), 403, /not valid/],
    ['a flipped byte', () => post(flip(signUnsubscribeToken('carol', SECRET))), 403, /not valid/],
    ['a token signed with another secret', () => post(signUnsubscribeToken('carol', 'some-other-secret-0123456789abcdefgh')), 403, /not valid/],
    ['garbage', () => post('not-a-token'), 403, /not valid/],
    ['an empty token', () => post(''), 400, /incomplete/],
    ['no token at all', () => post(undefined), 400, /incomplete/],
    ['a forged token on GET', () => get(flip(signUnsubscribeToken('carol', SECRET))), 403, /not valid/],
  ];

  for (const [name, request, status, message] of cases) {
    it(`${name} → ${status}`, async () => {
      const before = await suppressionItems();
      const response = await handleUnsubscribe(context, request());
      expect(response.statusCode).toBe(status);
      expect(response.body).toMatch(message);
      expect(response.body).not.toContain('<form');
      expect(await suppressionItems()).toEqual(before);
      expect(await getSuppression(aws.clients.documents, tables.suppression, 'carol@example.com')).toBeUndefined();
    });
  }

  it('an unknown client → 404', async () => {
    const before = await suppressionItems();
    const response = await handleUnsubscribe(context, post(signUnsubscribeToken('ghost', SECRET)));
    expect(response.statusCode).toBe(404);
    expect(response.body).toContain('We could not find your subscription');
    expect((await handleUnsubscribe(context, get(signUnsubscribeToken('ghost', SECRET)))).statusCode).toBe(404);
    expect(await suppressionItems()).toEqual(before);
  });

  it('another method → 405 with Allow', async () => {
    const response = await handleUnsubscribe(context, { method: 'DELETE', form: {}, token: signUnsubscribeToken('carol', SECRET) });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, POST');
  });

  it('the error pages are localised too', async () => {
    const response = await handleUnsubscribe(context, { ...post('x.y'), acceptLanguage: 'zh-CN' });
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain('退订链接无效');
  });
});

describe('a client erased while their profile is still there', () => {
  it('gets the done page on GET and POST, and nothing about them is stored in clear', async () => {
    const config = await scenarioConfig(aws, 'unsubscribe-erased');
    const erasedTables = tableNames(config);
    await seedProfiles(aws, config, [client('gone', { email: 'Gone.Person@Example.com' }), client('gone-by-address', { email: 'old.address@example.com' })]);
    // A forget half-way (hashes written, profile not yet deleted), by id and by address.
    await recordErasure(aws.clients.documents, erasedTables.suppression, { customerIds: ['gone'], emails: ['OLD.address@example.com'] }, T0);
    const erasedContext: UnsubscribeContext = { ...context, tables: erasedTables };
    for (const id of ['gone', 'gone-by-address']) {
      const token = signUnsubscribeToken(id, SECRET);
      expect((await handleUnsubscribe(erasedContext, get(token))).body).toContain('unsubscribed');
      const response = await handleUnsubscribe(erasedContext, post(token));
      expect(response.statusCode).toBe(200);
    }
    const items = await scanTable<{ email: string; reason: string }>(aws, erasedTables.suppression);
    expect(items.every((item) => item.email.startsWith('erased:'))).toBe(true);
    expect(items).toHaveLength(2);
  });
});

/**
 * An unsubscribe passes its erasure check (unsubscribingClient), then a forget of that client runs,
 * then the unsubscribe writes: the forget deleted the plain entries before these landed. Its writes
 * must not outlive the erasure (README: forget leaves nothing of hers in clear).
 */
describe('an unsubscribe racing a forget', () => {
  const clientsMade: AwsClients[] = [];
  afterAll(() => Promise.all(clientsMade.map((clients) => destroyAwsClients(clients))));
  /** The suppression entries in clear (every one but the hashed erasure entries). */
  const inClear = (items: { email: string }[]) => items.filter((item) => !item.email.startsWith('erased:')).map((item) => item.email);

  it('a forget that completes between the check and the writes leaves only the hashed entries, and the POST is answered as done', async () => {
    const config = await scenarioConfig(aws, 'unsubscribe-forget-race');
    const raceTables = tableNames(config);
    await seedProfiles(aws, config, [client('ann', { email: 'Ann.Lee@example.com' })]);
    let forgotten = false;
    // The forget request runs to its end just as the unsubscribe's first write leaves (after its erasure check).
    const racing = aroundDocuments(aws.clients, async (name, input, go) => {
      if (!forgotten && input.TableName === raceTables.suppression && (name === 'UpdateCommand' || name === 'PutCommand')) {
        forgotten = true;
        await forgetClient({ config, clients: aws.clients, request: { customerId: 'ann' }, at: T0 });
      }
      return go();
    });
    const response = await handleUnsubscribe({ ...context, documents: racing.documents, tables: raceTables, now: () => T0 + 1000, log: silentLog }, post(signUnsubscribeToken('ann', SECRET)));
    expect(forgotten).toBe(true);
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('You are unsubscribed');
    const items = await scanTable<{ email: string; customerId?: string }>(aws, raceTables.suppression);
    // Only the hashed erasure entries: no 'ann.lee@example.com', no 'customer:ann', no customerId 'ann'.
    expect(inClear(items)).toEqual([]);
    expect(items.filter((item) => item.customerId === 'ann')).toEqual([]);
    expect(items.map((item) => item.email).sort()).toEqual([erasedKey('customer', 'ann'), erasedKey('email', 'ann.lee@example.com')].sort());
  });

  it('a forget half-way (hashes recorded, its deletes still to come) loses nothing: an entry of hers stored before keeps its SES feedback id on the erasure entry', async () => {
    const config = await scenarioConfig(aws, 'unsubscribe-forget-halfway');
    const raceTables = tableNames(config);
    // Her complaint, stored before the forget began: its entry holds the SES feedback's id.
    await suppress(aws.clients.documents, raceTables.suppression, { email: 'bo@example.com', reason: 'complaint', at: T0, customerId: 'bo', source: 'ses-complaint:fb-bo', feedbackId: 'ses-complaint:fb-bo' });
    let erased = false;
    const racing = aroundDocuments(aws.clients, async (name, input, go) => {
      if (!erased && input.TableName === raceTables.suppression && name === 'UpdateCommand') {
        erased = true;
        await recordErasure(aws.clients.documents, raceTables.suppression, { customerIds: ['bo'], emails: ['bo@example.com'] }, T0);
      }
      return go();
    });
    const stored = await recordUnsubscribe({ documents: racing.documents, tables: raceTables }, { customerId: 'bo', email: 'bo@example.com', at: T0 + 1000, source: 'one-click' }, silentLog);
    expect(erased).toBe(true);
    expect(stored).toBe('erased');
    expect(inClear(await scanTable<{ email: string }>(aws, raceTables.suppression))).toEqual([]);
    const erasure = await aws.clients.documents.send(new GetCommand({ TableName: raceTables.suppression, Key: { email: erasedKey('email', 'bo@example.com') }, ConsistentRead: true }));
    expect(erasure.Item?.feedbackIds).toEqual(new Set(['ses-complaint:fb-bo']));
  });

  it("an answer lost on the write (the SDK's retry finds the entry there) still leaves nothing in clear", async () => {
    const config = await scenarioConfig(aws, 'unsubscribe-forget-lost');
    const raceTables = tableNames(config);
    await seedProfiles(aws, config, [client('cy', { email: 'cy@example.com' })]);
    await forgetClient({ config, clients: aws.clients, request: { customerId: 'cy' }, at: T0 });
    const clients = createAwsClients(config);
    clientsMade.push(clients);
    // The retried UpdateItem of her address's entry sees the first attempt's write: not created by this call, as far as its answer says.
    const lost = loseOneDynamoDbAnswer(clients, (command, input) => command === 'UpdateItemCommand' && JSON.stringify(input.Key ?? {}).includes('cy@example.com'));
    const stored = await recordUnsubscribe({ documents: clients.documents, tables: raceTables }, { customerId: 'cy', email: 'cy@example.com', at: T0 + 1000, source: 'operator' }, silentLog);
    expect(lost()).toBe(true);
    expect(stored).toBe('erased');
    expect(inClear(await scanTable<{ email: string }>(aws, raceTables.suppression))).toEqual([]);
  });

  it("an address another client's entry names stays (a shared address): only her own entries go", async () => {
    const config = await scenarioConfig(aws, 'unsubscribe-forget-shared');
    const raceTables = tableNames(config);
    await suppress(aws.clients.documents, raceTables.suppression, { email: 'home@example.com', reason: 'unsubscribe', at: T0, customerId: 'dan' });
    await recordErasure(aws.clients.documents, raceTables.suppression, { customerIds: ['di'], emails: [] }, T0);
    const stored = await recordUnsubscribe({ documents: aws.clients.documents, tables: raceTables }, { customerId: 'di', email: 'home@example.com', at: T0 + 1000, source: 'one-click' }, silentLog);
    expect(stored).toBe('erased');
    expect(inClear(await scanTable<{ email: string }>(aws, raceTables.suppression))).toEqual(['home@example.com']);
    expect(await getSuppression(aws.clients.documents, raceTables.suppression, 'home@example.com')).toMatchObject({ customerId: 'dan', suppressedAt: T0 });
  });
});
