import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { readAddressBook } from '#shared/store/address-book.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { LENIENT_GUARDS, scratchDir, shopifyExportDir, shopifyNovemberOrder as order } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { at as local } from '#test/support/time.ts';

/**
 * Ann (a@) and Bea (b@) swap addresses on 11-21: the night links a@ to Ann and b@ to Bea, each
 * held by the other now, and rejects the two orders placed between the nights under them (whose
 * they are cannot be told). On 11-22 a bad export's customers file swaps Ann's and Cat's addresses
 * (Ann c@, Cat b@); the night completes, and the operator reruns it on the corrected export (a new
 * run id). README: "A rerun on a corrected export replaces the night: its history rows, clients and
 * summary leave no trace of the bad one." Before, the rerun read what the bad attempt left as the
 * base: its link of c@ to Cat in the address book (kept there for good, read by every later night
 * and hour), and the addresses it wrote on Ann's and Cat's profiles (Cat's b@ made a second claimant
 * of b@, so its orders were no longer split by time and Ann took Bea's and the rejected one). Found
 * by attack-shardfault, probe 2. The bad export also lists a customer the corrected one lacks, Eve, on
 * the address Dan left on 11-21: the rerun reads her (created by the bad night) as no client of the
 * base, so Dan's old orders under it stay his. One run and four shards alike.
 */
const aws = sharedAws();
const SH = 'Asia/Shanghai';
const work = scratchDir('shopify-corrected-rerun-book');
const a = 'ann.crb@example.com';
const b = 'bea.crb@example.com';
const c = 'cat.crb@example.com';
const d = 'dan.crb@example.com';
const other = ['900,Other,One,other.crb@example.com,yes'];
const before = [`41,Ann,Lin,${a},yes`, `42,Bea,Lin,${b},yes`, `43,Cat,Lin,${c},yes`, `44,Dan,Lin,${d},yes`, ...other];
// Dan leaves d@ on 11-21 too (for no one): the book links it to him.
const swapped = [`41,Ann,Lin,${b},yes`, `42,Bea,Lin,${a},yes`, `43,Cat,Lin,${c},yes`, '44,Dan,Lin,dan.new.crb@example.com,yes', ...other];
// The bad export also has a customer the corrected one lacks, on Dan's old address: the bad night created her.
const bad = [`41,Ann,Lin,${c},yes`, `42,Bea,Lin,${a},yes`, `43,Cat,Lin,${b},yes`, '44,Dan,Lin,dan.new.crb@example.com,yes', `99,Eve,Lin,${d},yes`, ...other];
const ordersOn20 = [
  order('#1001', a, '01', '400.00', 'BAG-1'),
  order('#2001', b, '02', '200.00', 'SOAP-1'),
  order('#3001', c, '03', '300.00', 'COAT-1'),
  order('#4001', d, '05', '500.00', 'BAG-1'),
  order('#9001', 'other.crb@example.com', '04', '20.00', 'SOAP-1'),
];
// Placed on 11-21, after the night of 11-20 and before the one that sees the swap: either's, rejected.
const ordersOn21 = [...ordersOn20, order('#1002', a, '21', '150.00', 'SOAP-1'), order('#2002', b, '21', '270.00', 'SOAP-1')];
// After the swap: hers under her new address.
const ordersOn22 = [...ordersOn21, order('#2003', b, '22', '90.00', 'SOAP-1'), order('#3002', c, '22', '60.00', 'SOAP-1')];

/** What a night's summary says of its input, revenue and moves (run ids and timings aside). */
function figures(summary: NightlyRunSummary) {
  const { rejected, unknownCustomerLines } = summary.input;
  return { rejected, unknownCustomerLines, distribution: summary.distribution, changes: summary.changes };
}

async function world(name: string, badNight: boolean, shards: number) {
  const config = await scenarioConfig(aws, name, LENIENT_GUARDS);
  const dir = (tag: string, customers: string[], orders: string[]) => shopifyExportDir(work, `${name}-${tag}`, customers, orders);
  const night = async (runDate: string, at: string, exportDir: string, runId = `${name}-${runDate}`) => {
    const common = { clock: () => local(at, SH), runDate, runId, config, clients: aws.clients };
    if (shards === 1) return runNightly({ ...common, source: directoryExportSource(exportDir) });
    return runNightlySharded({ ...common, shards, source: { kind: 'directory', path: exportDir } });
  };
  const profile = async (id: string) => {
    const p = await getProfile(aws.clients.documents, tableNames(config).profiles, id);
    return { email: p?.email, orderCount: p?.orderCount, spend: p?.lifetimeSpendMinor, tier: p?.tier, segment: p?.rfm?.segment };
  };
  // By client and nights, and whether the entry keeps an erasure key.
  const book = async () => (await readAddressBook(aws.clients.s3, config)).map((e) => `${e.customerId} ${e.seenOn} ${e.hersBefore ?? '-'} ${e.erasureKey === undefined ? 'no key' : 'key'}`).sort();
  const state = async () => ({ ann: await profile('41'), bea: await profile('42'), cat: await profile('43'), dan: await profile('44'), eve: await profile('99'), book: await book() });

  await night('2026-11-20', '2026-11-21 02:00', await dir('n20', before, ordersOn20));
  await night('2026-11-21', '2026-11-22 02:00', await dir('n21', swapped, ordersOn21));
  const corrected = await dir('n22', swapped, ordersOn22);
  let badState: Awaited<ReturnType<typeof state>> | undefined;
  if (badNight) {
    await night('2026-11-22', '2026-11-23 02:00', await dir('n22-bad', bad, ordersOn22));
    badState = await state();
  }
  const n22 = figures(await night('2026-11-22', badNight ? '2026-11-23 03:00' : '2026-11-23 02:00', corrected, `${name}-2026-11-22${badNight ? '-corrected' : ''}`));
  const after22 = await state();
  const n23 = figures(await night('2026-11-23', '2026-11-24 02:00', await dir('n23', swapped, ordersOn22)));
  return { badState, n22, after22, n23, after23: await state() };
}

async function expectNoTraceOfTheBadNight(tag: string, shards: number) {
  const clean = await world(`${tag}-clean`, false, shards);
  // The clean night: the orders of 11-21 rejected, Ann's under b@ since the swap hers.
  expect(clean.n22).toMatchObject({ rejected: 2, unknownCustomerLines: 2 });
  expect(clean.after22).toEqual({
    ann: { email: b, orderCount: 2, spend: 49_000, tier: 'Entry', segment: expect.any(String) },
    bea: { email: a, orderCount: 1, spend: 20_000, tier: 'Entry', segment: expect.any(String) },
    cat: { email: c, orderCount: 2, spend: 36_000, tier: 'Entry', segment: expect.any(String) },
    dan: { email: 'dan.new.crb@example.com', orderCount: 1, spend: 50_000, tier: 'Entry', segment: expect.any(String) },
    eve: { email: undefined, orderCount: undefined, spend: undefined, tier: undefined, segment: undefined },
    book: ['41 2026-11-21 2026-11-20 no key', '42 2026-11-21 2026-11-20 no key', '44 2026-11-21 - key'],
  });
  const corrected = await world(`${tag}-bad`, true, shards);
  // The bad night linked Cat's own address to her (held by Ann's row in its export).
  expect(corrected.badState?.book).toContain('43 2026-11-22 2026-11-21 no key');
  expect(corrected.badState?.eve).toMatchObject({ email: d });
  expect({ n22: corrected.n22, after22: corrected.after22, n23: corrected.n23, after23: corrected.after23 }).toEqual({
    n22: clean.n22,
    after22: clean.after22,
    n23: clean.n23,
    after23: clean.after23,
  });
}

describe('a Shopify night rerun on a corrected export after a bad one completed', () => {
  it('leaves no trace of the bad export in the profiles and the address book: one run', { timeout: 600_000 }, async () => {
    await expectNoTraceOfTheBadNight('crb-1', 1);
  });

  it('leaves no trace of the bad export in the profiles and the address book: four shards', { timeout: 600_000 }, async () => {
    await expectNoTraceOfTheBadNight('crb-4', 4);
  });
});
