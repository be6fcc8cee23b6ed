import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { processSesFeedback } from '#shared/feedback/ses-events.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { jsonLog, pseudonym, silentLog } from '#shared/log.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { readAddressBook } from '#shared/store/address-book.ts';
import { isStoredErasure } from '#shared/store/erasure-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { getSuppression } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { recordUnsubscribe } from '#shared/unsubscribe/unsubscribe.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement } from '#test/support/emulator-data.ts';
import { exportDir, LENIENT_GUARDS, scratchDir, SHOPIFY_CUSTOMERS_HEADER, shopifyExportDir, shopifyNovemberOrder as order } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { bounceEvent } from '#test/support/ses-events.ts';
import { at as local } from '#test/support/time.ts';

/**
 * Shopify gives an address to one customer at a time: Mei (41) leaves A for B, and A goes to a
 * newcomer, Wu (77), who buys under it. Whatever ties A to Mei (the address book, her unsubscribe or
 * a bounce of A tagged with her id, the address her profile keeps from the last night), an address
 * another live customer holds now leads only to him: forgetting her leaves him and A alone (her
 * entry of A no longer names her), and forgetting A (his request) erases him, not her.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const work = scratchDir('forget-address-holder');

type How = 'her unsubscribe at A' | 'a hard bounce of A tagged with her id';
type Runner = 'one run' | 'four shards';

function night(config: Config, runner: Runner, runDate: string, clock: string, runId: string, dir: string) {
  const common = { clock: () => local(clock, SH), runDate, runId, config, clients: aws.clients };
  return runner === 'one run' ? runNightly({ ...common, source: directoryExportSource(dir) }) : runNightlySharded({ ...common, shards: 4, source: { kind: 'directory', path: dir } });
}

/** Three nights: Mei at A, Mei at B (with her entry of A written that day), Wu at A buying under it. Each night in the runner's way. */
async function handedOver(tag: string, how: How, runner: Runner) {
  const config = await scenarioConfig(aws, `forget-holder-${tag}`, LENIENT_GUARDS);
  const tables = tableNames(config);
  const a = `mei.old.${tag}@example.com`;
  const b = `mei.new.${tag}@example.com`;
  const others = ['900,Other,One,other.one@example.com,yes', '901,Other,Two,other.two@example.com,yes'];
  const orders = [order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1'), order('#9002', 'other.two@example.com', '03', '40.00', 'SOAP-1'), order('#1001', a, '01', '400.00', 'BAG-1'), order('#1002', a, '10', '150.00', 'COAT-1')];
  const night1 = await shopifyExportDir(work, `${tag}-n1`, [`41,Mei,Lin,${a},yes`, ...others], orders);
  const night2 = await shopifyExportDir(work, `${tag}-n2`, [`41,Mei,Lin,${b},yes`, ...others], [...orders, order('#1003', b, '23', '30.00', 'SOAP-1')]);
  const night3 = await shopifyExportDir(work, `${tag}-n3`, [`41,Mei,Lin,${b},yes`, `77,Wu,Ann,${a},yes`, ...others], [...orders, order('#1003', b, '23', '30.00', 'SOAP-1'), order('#7701', a, '24', '300.00', 'SOAP-1')]);
  await night(config, runner, '2026-11-22', '2026-11-23 02:00', `${tag}-n1`, night1);
  if (how === 'her unsubscribe at A') {
    await recordUnsubscribe({ documents: aws.clients.documents, tables }, { customerId: '41', email: a, at: local('2026-11-23 12:00', SH), source: 'one-click' }, silentLog);
  } else {
    await processSesFeedback({ documents: aws.clients.documents, tables, now: () => local('2026-11-23 12:00', SH) }, bounceEvent([a], 'Permanent', { customerId: '41' }));
  }
  await night(config, runner, '2026-11-23', '2026-11-24 02:00', `${tag}-n2`, night2);
  await night(config, runner, '2026-11-24', '2026-11-25 02:00', `${tag}-n3`, night3);
  expect(await getProfile(aws.clients.documents, tables.profiles, '77')).toMatchObject({ email: a });
  expect(await getSuppression(aws.clients.documents, tables.suppression, a)).toMatchObject({ customerId: '41' });
  return { config, tables, a, b, night3 };
}

const CASES: [How, Runner][] = [
  ['her unsubscribe at A', 'one run'],
  ['her unsubscribe at A', 'four shards'],
  ['a hard bounce of A tagged with her id', 'one run'],
  ['a hard bounce of A tagged with her id', 'four shards'],
];
const tagOf = (how: How, runner: Runner) => `${how.split(' ')[1]}-${runner.split(' ')[0]}`;

describe('forget and an address another client holds now', () => {
  it.each(CASES)('forget by her id, %s: the newcomer holding A keeps his profile, the next night too (%s)', { timeout: 400_000 }, async (how, runner) => {
    const tag = `id-${tagOf(how, runner)}`;
    const { config, tables, a, night3 } = await handedOver(tag, how, runner);
    expect((await readAddressBook(aws.clients.s3, config)).map((e) => e.customerId)).toEqual(['41']);
    const lines: string[] = [];

    const result = await forgetClient({ config, clients: aws.clients, request: { customerId: '41' }, at: local('2026-11-25 08:00', SH), log: jsonLog({ write: (line) => lines.push(line) }) });
    expect(result).toMatchObject({ profiles: 1 });
    expect(await getProfile(aws.clients.documents, tables.profiles, '41')).toBeUndefined();
    expect(await getProfile(aws.clients.documents, tables.profiles, '77')).toMatchObject({ email: a });
    expect(await isStoredErasure(aws.clients.documents, tables.suppression, { email: a })).toBe(false);
    // A's entry stays (it suppresses the address) but no longer names her.
    expect((await getSuppression(aws.clients.documents, tables.suppression, a))?.customerId).toBeUndefined();
    const warning = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.level === 'warn');
    expect(warning).toMatchObject({ email: pseudonym(a), holders: [pseudonym('77')] });
    expect(lines.join('\n')).not.toContain(a);

    // The next night, on the same export (Shopify deleted nobody: Mei's row stays out, Wu's stays in).
    const summary = await night(config, runner, '2026-11-25', '2026-11-26 02:00', `${tag}-n4`, night3);
    expect({ wu: (await getProfile(aws.clients.documents, tables.profiles, '77'))?.email, erasedClients: summary.input.erasedClients }).toEqual({ wu: a, erasedClients: 1 });
  });

  it.each(CASES.filter(([, runner]) => runner === 'one run'))("forget by A, Wu's address now, %s: only Wu is erased, not Mei whom A's entry names", { timeout: 400_000 }, async (how, runner) => {
    const tag = `email-${tagOf(how, runner)}`;
    const { config, tables, a, b } = await handedOver(tag, how, runner);
    const lines: string[] = [];

    const result = await forgetClient({ config, clients: aws.clients, request: { email: a }, at: local('2026-11-25 08:00', SH), log: jsonLog({ write: (line) => lines.push(line) }) });
    expect({ profiles: result.profiles, wu: await getProfile(aws.clients.documents, tables.profiles, '77') }).toEqual({ profiles: 1, wu: undefined });
    expect((await getProfile(aws.clients.documents, tables.profiles, '41'))?.email).toBe(b);
    expect(await isStoredErasure(aws.clients.documents, tables.suppression, { customerId: '41' })).toBe(false);
    expect(await isStoredErasure(aws.clients.documents, tables.suppression, { email: b })).toBe(false);
    expect(await isStoredErasure(aws.clients.documents, tables.suppression, { customerId: '77' })).toBe(true);
    const warning = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.level === 'warn');
    expect(warning).toMatchObject({ email: pseudonym(a), holders: [pseudonym('77')], formerClients: [pseudonym('41')] });
  });
});

describe('forget the same day the address she left went to a newcomer (her profile keeps it as nightEmail)', () => {
  /** Night: Mei at A. 10:00 increment: Mei moves to B (the 11:00 hour). 18:00 increment: Wu signs up with A (the 19:00 hour). */
  async function sameDay(tag: string) {
    const config = await scenarioConfig(aws, `forget-holder-day-${tag}`, { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
    const a = `mei.old.day-${tag}@example.com`;
    const b = `mei.new.day-${tag}@example.com`;
    const other = `other.day-${tag}@example.com`;
    const orders = [order('#1001', a, '01', '400.00', 'BAG-1'), order('#9001', other, '02', '20.00', 'SOAP-1')];
    const night1 = await shopifyExportDir(work, `day-${tag}-n1`, [`41,Mei,Lin,${a},yes`, `900,Other,One,${other},yes`], orders);
    await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: `day-${tag}-n1`, config, clients: aws.clients, source: directoryExportSource(night1) });
    await dropIncrement(aws, config, '2026-11-23T1000', { 'customers_export_1.csv': `${SHOPIFY_CUSTOMERS_HEADER.join(',')}\n41,Mei,Lin,${b},yes\n` });
    await runCampaignHour(aws, config, local('2026-11-23 11:00', SH), `day-${tag}-h11`);
    await dropIncrement(aws, config, '2026-11-23T1800', { 'customers_export_1.csv': `${SHOPIFY_CUSTOMERS_HEADER.join(',')}\n77,Wu,Ann,${a},yes\n` });
    await runCampaignHour(aws, config, local('2026-11-23 19:00', SH), `day-${tag}-h19`);
    const tables = tableNames(config);
    const mei = await getProfile(aws.clients.documents, tables.profiles, '41');
    expect({ mei: [mei?.email, mei?.nightEmail], wu: (await getProfile(aws.clients.documents, tables.profiles, '77'))?.email }).toEqual({ mei: [b, a], wu: a });
    const night2 = await shopifyExportDir(work, `day-${tag}-n2`, [`41,Mei,Lin,${b},yes`, `77,Wu,Ann,${a},yes`, `900,Other,One,${other},yes`], orders);
    return { config, tables, a, b, night2 };
  }

  it.each(['one run', 'four shards'] as const)('forget by her id at 20:00: Wu keeps A, and the night after (%s) keeps him', { timeout: 400_000 }, async (runner) => {
    const tag = runner.split(' ')[0] ?? runner;
    const { config, tables, a, b, night2 } = await sameDay(tag);
    const result = await forgetClient({ config, clients: aws.clients, request: { customerId: '41' }, at: local('2026-11-23 20:00', SH) });
    expect({ profiles: result.profiles, wu: (await getProfile(aws.clients.documents, tables.profiles, '77'))?.email }).toEqual({ profiles: 1, wu: a });
    expect(await isStoredErasure(aws.clients.documents, tables.suppression, { email: a })).toBe(false);
    expect(await isStoredErasure(aws.clients.documents, tables.suppression, { email: b })).toBe(true);

    const summary = await night(config, runner, '2026-11-23', '2026-11-24 02:00', `day-${tag}-n2b`, night2);
    expect({ wu: (await getProfile(aws.clients.documents, tables.profiles, '77'))?.email, mei: await getProfile(aws.clients.documents, tables.profiles, '41'), erasedClients: summary.input.erasedClients }).toEqual({ wu: a, mei: undefined, erasedClients: 1 });
  });

  it('forget by A at 20:00 (Wu holds it now, her profile as nightEmail): only Wu is erased', { timeout: 400_000 }, async () => {
    const { config, tables, a, b } = await sameDay('by-a');
    const result = await forgetClient({ config, clients: aws.clients, request: { email: a }, at: local('2026-11-23 20:00', SH) });
    expect({ profiles: result.profiles, wu: await getProfile(aws.clients.documents, tables.profiles, '77'), mei: (await getProfile(aws.clients.documents, tables.profiles, '41'))?.email }).toEqual({ profiles: 1, wu: undefined, mei: b });
    expect(await isStoredErasure(aws.clients.documents, tables.suppression, { customerId: '41' })).toBe(false);
  });
});

describe('forget the day after the night that booked her former address, which an hour has given to a newcomer since', () => {
  it.each(['one run', 'four shards'] as const)('the book entry keeps its erasure key, but Wu holds the address now: it is not recorded, and the night after (%s) keeps him', { timeout: 400_000 }, async (runner) => {
    const tag = `book-${runner.split(' ')[0] ?? runner}`;
    const config = await scenarioConfig(aws, `forget-holder-${tag}`, { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
    const tables = tableNames(config);
    const a = `mei.old.${tag}@example.com`;
    const b = `mei.new.${tag}@example.com`;
    const other = `other.${tag}@example.com`;
    const orders = [order('#1001', a, '01', '400.00', 'BAG-1'), order('#9001', other, '02', '20.00', 'SOAP-1')];
    const night1 = await shopifyExportDir(work, `${tag}-n1`, [`41,Mei,Lin,${a},yes`, `900,Other,One,${other},yes`], orders);
    const night2 = await shopifyExportDir(work, `${tag}-n2`, [`41,Mei,Lin,${b},yes`, `900,Other,One,${other},yes`], orders);
    const night3 = await shopifyExportDir(work, `${tag}-n3`, [`41,Mei,Lin,${b},yes`, `77,Wu,Ann,${a},yes`, `900,Other,One,${other},yes`], orders);
    await night(config, runner, '2026-11-22', '2026-11-23 02:00', `${tag}-n1`, night1);
    await night(config, runner, '2026-11-23', '2026-11-24 02:00', `${tag}-n2`, night2);
    expect((await readAddressBook(aws.clients.s3, config)).map((e) => [e.customerId, e.erasureKey !== undefined])).toEqual([['41', true]]);
    await dropIncrement(aws, config, '2026-11-24T1800', { 'customers_export_1.csv': `${SHOPIFY_CUSTOMERS_HEADER.join(',')}\n77,Wu,Ann,${a},yes\n` });
    await runCampaignHour(aws, config, local('2026-11-24 19:00', SH), `${tag}-h19`);
    expect((await getProfile(aws.clients.documents, tables.profiles, '77'))?.email).toBe(a);

    const lines: string[] = [];
    const result = await forgetClient({ config, clients: aws.clients, request: { customerId: '41' }, at: local('2026-11-24 20:00', SH), log: jsonLog({ write: (line) => lines.push(line) }) });
    expect(result).toMatchObject({ profiles: 1, formerAddresses: 1 });
    expect(await isStoredErasure(aws.clients.documents, tables.suppression, { email: a })).toBe(false);
    expect(await readAddressBook(aws.clients.s3, config)).toEqual([]);
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.level === 'warn')).toMatchObject({ email: pseudonym(a), holders: [pseudonym('77')], formerClients: [pseudonym('41')] });

    const summary = await night(config, runner, '2026-11-24', '2026-11-25 02:00', `${tag}-n3`, night3);
    expect({ wu: (await getProfile(aws.clients.documents, tables.profiles, '77'))?.email, erasedClients: summary.input.erasedClients }).toEqual({ wu: a, erasedClients: 1 });
  });
});

describe('a generic base: two ids of one email at the last night, moved apart since, the address another client\'s now', () => {
  it('forget of one still takes the other (one person at the night), and neither the address nor its new holder', { timeout: 400_000 }, async () => {
    const SH = 'Asia/Shanghai';
    const customers = 'customer_id,email,first_name,locale,time_zone,accepts_marketing';
    const orders = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount';
    const config = await scenarioConfig(aws, 'forget-holder-generic-pair', { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
    const tables = tableNames(config);
    const e = 'pair.fh@example.com';
    const f = 'g3.fh@example.com';
    const dir = await exportDir({
      'customers.csv': `${customers}\ng1,${e},Ann,en,${SH},true\ng2,${e},Ann,en,${SH},true\ng3,${f},Bo,en,${SH},true\n`,
      'orders.csv': `${orders}\no1,g1,2026-11-01T10:00:00+08:00,SOAP,Soap,care,1,20.00,USD,paid,\no2,g2,2026-11-02T10:00:00+08:00,SOAP,Soap,care,1,20.00,USD,paid,\no3,g3,2026-11-03T10:00:00+08:00,SOAP,Soap,care,1,20.00,USD,paid,\n`,
      'products.csv': 'sku,name,category,replenish_days,price\nSOAP,Soap,care,,20\n',
    });
    await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: 'fhg-n1', config, clients: aws.clients, source: directoryExportSource(dir) });
    // Hours move g1 and g2 to addresses of their own, then g3 to the pair's.
    await dropIncrement(aws, config, '2026-11-23T1000', { 'customers.csv': `${customers}\ng1,one.fh@example.com,Ann,en,${SH},true\ng2,two.fh@example.com,Ann,en,${SH},true\n` });
    await runCampaignHour(aws, config, local('2026-11-23 11:00', SH), 'fhg-h11');
    await dropIncrement(aws, config, '2026-11-23T1200', { 'customers.csv': `${customers}\ng3,${e},Bo,en,${SH},true\n` });
    await runCampaignHour(aws, config, local('2026-11-23 13:00', SH), 'fhg-h13');
    const read = async (id: string) => {
      const profile = await getProfile(aws.clients.documents, tables.profiles, id);
      return [profile?.email, profile?.nightEmail];
    };
    expect({ g1: await read('g1'), g2: await read('g2'), g3: await read('g3') }).toEqual({ g1: ['one.fh@example.com', e], g2: ['two.fh@example.com', e], g3: [e, f] });

    const result = await forgetClient({ config, clients: aws.clients, request: { customerId: 'g1' }, at: local('2026-11-23 20:00', SH) });
    expect({ profiles: result.profiles, g2: await getProfile(aws.clients.documents, tables.profiles, 'g2'), g3: (await getProfile(aws.clients.documents, tables.profiles, 'g3'))?.email }).toEqual({ profiles: 2, g2: undefined, g3: e });
    expect(await isStoredErasure(aws.clients.documents, tables.suppression, { customerId: 'g3', email: e })).toBe(false);
  });
});
