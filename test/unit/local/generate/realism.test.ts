import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import type { GenerateSummary } from '#local/generate/generate.ts';
import { parseAmount } from '#shared/money.ts';
import { MS_PER_DAY, addDays, addYears, parseTimestamp, startOfLocalDay } from '#shared/time.ts';
import { lineNet, readCsv, tempDir, validateGenericOrder } from './helpers.ts';
import type { GenericOrderLine, Row } from './helpers.ts';

/**
 * The realism requirements, checked on 5,000 clients by reading the generated CSV directly
 * (not through the generator's own bookkeeping), plus the Shopify rendering of the same data.
 */

const AS_OF = '2026-11-22';
const ZONE = 'Asia/Shanghai';
const OPTIONS = { customers: 5000, seed: 20261122, asOf: AS_OF } as const;
const END = startOfLocalDay(addDays(AS_OF, 1), ZONE);
const WINDOW_START = startOfLocalDay(addDays(addYears(AS_OF, -1), 1), ZONE);
const usd = (units: number): number => units * 100;

let dir: string;
let summary: GenerateSummary;
let shopifySummary: GenerateSummary;
let customers: Row[];
let products: Row[];
let orderRows: Row[];
let lines: GenericOrderLine[];
let rejects: string[];
let byClient: Map<string, GenericOrderLine[]>;

beforeAll(async () => {
  dir = await tempDir('realism');
  summary = await generateExport(OPTIONS, join(dir, 'generic'));
  shopifySummary = await generateExport({ ...OPTIONS, format: 'shopify' }, join(dir, 'shopify'));
  customers = await readCsv(join(dir, 'generic', 'customers.csv'));
  products = await readCsv(join(dir, 'generic', 'products.csv'));
  lines = [];
  rejects = [];
  orderRows = await readCsv(join(dir, 'generic', 'orders.csv'));
  for (const row of orderRows) {
    const line = validateGenericOrder(row, 'USD');
    if (typeof line === 'string') rejects.push(line);
    else lines.push(line);
  }
  byClient = new Map();
  for (const line of lines) {
    const list = byClient.get(line.customerId) ?? [];
    list.push(line);
    byClient.set(line.customerId, list);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function spend12m(clientLines: readonly GenericOrderLine[]): number {
  let total = 0;
  for (const line of clientLines) if (line.at >= WINDOW_START && line.at < END) total += lineNet(line);
  return total;
}

function lastOrderAt(clientLines: readonly GenericOrderLine[]): number {
  return Math.max(...clientLines.map((l) => l.at));
}

describe('generic export of 5,000 clients', () => {
  it('writes the files and counts the summary reports', () => {
    expect(summary.files).toEqual(['customers.csv', 'orders.csv', 'products.csv', 'advisors.csv']);
    expect(customers).toHaveLength(5000);
    expect(lines).toHaveLength(summary.orderLines);
    expect(new Set(lines.map((l) => l.orderId)).size).toBe(summary.orders);
    expect(summary.customers).toBe(5000);
    // ~10 lines per buyer by default.
    expect(summary.orderLines / byClient.size).toBeGreaterThan(7);
    expect(summary.orderLines / byClient.size).toBeLessThan(14);
    expect(summary.expected.meanLinesPerBuyer).toBeCloseTo(summary.orderLines / byClient.size, 10);
  });

  it('has malformed rows of several kinds, counted, each still a well-formed CSV row', () => {
    // readCsv would have thrown on a row with a wrong number of fields.
    expect(summary.malformedRows).toBeGreaterThanOrEqual(3);
    expect(rejects).toHaveLength(summary.malformedRows);
    expect(new Set(rejects)).toEqual(
      new Set(['missing order_id', 'missing customer_id', 'bad ordered_at', 'bad line_total', 'bad quantity', 'unknown status']),
    );
    // About 0.1% of the order rows.
    expect(summary.malformedRows / (summary.orderLines + summary.malformedRows)).toBeLessThan(0.003);
  });

  it('has ~10% prospects, never-ordering clients', () => {
    const prospects = customers.filter((c) => !byClient.has(c.customer_id ?? '')).length;
    expect(prospects / customers.length).toBeGreaterThan(0.07);
    expect(prospects / customers.length).toBeLessThan(0.13);
    expect(prospects).toBe(summary.expected.neverOrdered);
    // A client whose only orders were cancelled or refunded is a Prospect too.
    expect(summary.expected.tiers.Prospect).toBeGreaterThanOrEqual(prospects);
    expect(summary.expected.tiers.Prospect).toBeLessThan(prospects * 1.2);
  });

  it('has a heavy-tailed spend: VIC 1-3% of buyers with 30-50% of 12-month revenue', () => {
    const spends = [...byClient.values()].map(spend12m).filter((s) => s > 0);
    const revenue = spends.reduce((a, b) => a + b, 0);
    const vic = spends.filter((s) => s >= usd(50_000));
    const vicRevenue = vic.reduce((a, b) => a + b, 0);
    expect(vic.length / spends.length).toBeGreaterThanOrEqual(0.01);
    expect(vic.length / spends.length).toBeLessThanOrEqual(0.03);
    // Also as a share of everyone who ever bought.
    expect(vic.length / byClient.size).toBeGreaterThanOrEqual(0.01);
    expect(vic.length / byClient.size).toBeLessThanOrEqual(0.03);
    expect(vicRevenue / revenue).toBeGreaterThanOrEqual(0.3);
    expect(vicRevenue / revenue).toBeLessThanOrEqual(0.5);
    // Core + Potential: a sizeable middle.
    const middle = spends.filter((s) => s >= usd(1_000) && s < usd(50_000)).length;
    expect(middle / spends.length).toBeGreaterThan(0.2);
    expect(middle / spends.length).toBeLessThan(0.5);
    // The summary's expectation agrees with the independent computation.
    expect(summary.expected.tiers.VIC).toBe(vic.length);
    expect(summary.expected.buyers12m).toBe(spends.length);
    expect(summary.expected.vicShare).toBeCloseTo(vic.length / spends.length, 10);
    const tiers = summary.expected.tiers;
    expect(tiers.VIC + tiers.Core + tiers.Potential + tiers.Entry + tiers.Prospect).toBe(5000);
    expect(tiers.Core).toBe(spends.filter((s) => s >= usd(5_000) && s < usd(50_000)).length);
    expect(tiers.Potential).toBe(spends.filter((s) => s >= usd(1_000) && s < usd(5_000)).length);
    expect(summary.expected.revenue12mMinor).toBe(revenue);
    expect(summary.expected.vicRevenueShare).toBeCloseTo(vicRevenue / revenue, 10);
  });

  it('spans 2-3 years of history, all of it before the end of asOf', () => {
    const first = Math.min(...lines.map((l) => l.at));
    const last = Math.max(...lines.map((l) => l.at));
    expect((END - first) / MS_PER_DAY).toBeGreaterThan(2 * 365);
    expect((END - first) / MS_PER_DAY).toBeLessThanOrEqual(3 * 365 + 1);
    expect(last).toBeLessThan(END);
    expect(END - last).toBeLessThan(MS_PER_DAY);
    expect(customers.filter((c) => !((parseTimestamp(c.signed_up_at ?? '', ZONE) ?? Infinity) < END))).toEqual([]);
  });

  it('has sign-ups in the last 24 hours, some with a first order in that window and some without', () => {
    const fresh = customers.filter((c) => (parseTimestamp(c.signed_up_at ?? '', ZONE) ?? 0) >= END - MS_PER_DAY);
    const ordered = fresh.filter((c) => byClient.has(c.customer_id ?? ''));
    expect(fresh.length).toBeGreaterThanOrEqual(5);
    expect(ordered.length).toBeGreaterThan(0);
    expect(ordered.length).toBeLessThan(fresh.length);
    for (const c of ordered) {
      const clientLines = byClient.get(c.customer_id ?? '') ?? [];
      expect(Math.min(...clientLines.map((l) => l.at))).toBeGreaterThanOrEqual(parseTimestamp(c.signed_up_at ?? '', ZONE) ?? Infinity);
    }
    expect(summary.expected.signupsLast24h).toBe(fresh.length);
    expect(summary.expected.firstOrdersLast24h).toBe(ordered.length);
  });

  it('has a sizeable group lapsed 60-200 days and some churned 180+ days', () => {
    const daysSinceLast = [...byClient.values()].map((l) => (END - lastOrderAt(l)) / MS_PER_DAY);
    const lapsed = daysSinceLast.filter((d) => d >= 60 && d <= 200).length;
    const churned = daysSinceLast.filter((d) => d >= 180).length;
    expect(lapsed / byClient.size).toBeGreaterThan(0.15);
    expect(churned / byClient.size).toBeGreaterThan(0.1);
    // And an active core that ordered in the last 60 days.
    expect(daysSinceLast.filter((d) => d < 60).length / byClient.size).toBeGreaterThan(0.2);
  });

  it('has refunds (full and partial) and cancellations, a few percent of orders', () => {
    const orders = new Map<string, GenericOrderLine[]>();
    for (const line of lines) orders.set(line.orderId, [...(orders.get(line.orderId) ?? []), line]);
    const all = [...orders.values()];
    const refunded = all.filter((o) => o.every((l) => l.status === 'refunded'));
    const partial = all.filter((o) => o.every((l) => l.status === 'paid') && o.some((l) => l.refundedMinor > 0));
    const cancelled = all.filter((o) => o.every((l) => l.status === 'cancelled'));
    // An order's lines share one status.
    expect(refunded.length + cancelled.length + all.filter((o) => o.every((l) => l.status === 'paid')).length).toBe(all.length);
    for (const group of [refunded, partial, cancelled]) {
      expect(group.length / all.length).toBeGreaterThan(0.003);
      expect(group.length / all.length).toBeLessThan(0.05);
    }
    expect(refunded.flat().filter((l) => l.refundedMinor !== l.totalMinor)).toEqual([]);
    expect(partial.flat().filter((l) => l.refundedMinor > l.totalMinor)).toEqual([]);
    expect(summary.expected.refundedOrders).toBe(refunded.length);
    expect(summary.expected.partiallyRefundedOrders).toBe(partial.length);
    expect(summary.expected.cancelledOrders).toBe(cancelled.length);
  });

  it('prices lines from the catalogue: line_total = unit x quantity - discount, quantities mostly 1', () => {
    const catalogue = new Set(products.map((p) => p.sku));
    expect(catalogue.size).toBeGreaterThan(20);
    expect(lines.filter((l) => !catalogue.has(l.sku))).toEqual([]);
    const quantities = lines.map((l) => l.quantity);
    expect(quantities.filter((q) => q === 1).length / quantities.length).toBeGreaterThan(0.85);
    expect(quantities.some((q) => q >= 2)).toBe(true);
    expect(Math.max(...quantities)).toBeLessThanOrEqual(3);
    // One catalogue price per SKU, less at most a 15% discount (Shopify's unit prices are checked below).
    const unit = new Map<string, Set<number>>();
    for (const line of lines) {
      if (line.totalMinor % line.quantity !== 0) continue;
      const set = unit.get(line.sku) ?? new Set<number>();
      set.add(line.totalMinor / line.quantity);
      unit.set(line.sku, set);
    }
    expect([...unit.values()].filter((v) => Math.max(...v) > Math.min(...v) / 0.85 + 1)).toEqual([]);
  });

  it('has a product catalogue with replenishment cycles and seasons', () => {
    const cycle = (category: string, name: RegExp): string[] =>
      products.filter((p) => p.category === category && name.test(p.name ?? '')).map((p) => p.replenish_days ?? '');
    expect(cycle('skincare', /Face Cream/)).toContain('90');
    expect(cycle('skincare', /Serum/)).toContain('60');
    expect(cycle('skincare', /Cleanser/)).toContain('45');
    expect(new Set(cycle('fragrance', /./))).toEqual(new Set(['']));
    expect(products.some((p) => p.category === 'suncare' && p.season === 'summer' && p.replenish_days)).toBe(true);
    expect(Object.keys(products[0] ?? {})).toEqual(['sku', 'name', 'category', 'replenish_days', 'season', 'url', 'price', 'currency']);
    // The emails' product blocks: a link to the demo shop and the price in the export currency.
    expect(products.every((p) => p.url?.startsWith('https://shop.example.com/products/') && /^\d+(\.\d{2})?$/.test(p.price ?? ''))).toBe(true);
  });

  it('has repeat buyers rebuying replenishable products near cycle x quantity', () => {
    const cycles = new Map(products.filter((p) => p.replenish_days).map((p) => [p.sku ?? '', Number(p.replenish_days)]));
    const ratios: number[] = [];
    for (const clientLines of byClient.values()) {
      const bySku = new Map<string, GenericOrderLine[]>();
      for (const l of clientLines) if (cycles.has(l.sku) && l.status === 'paid') bySku.set(l.sku, [...(bySku.get(l.sku) ?? []), l]);
      for (const [sku, purchases] of bySku) {
        purchases.sort((a, b) => a.at - b.at);
        for (let i = 1; i < purchases.length; i++) {
          const prev = purchases[i - 1] as GenericOrderLine;
          const expected = (cycles.get(sku) ?? 0) * prev.quantity;
          ratios.push((purchases[i] as GenericOrderLine).at - prev.at > 0 ? ((purchases[i] as GenericOrderLine).at - prev.at) / MS_PER_DAY / expected : 0);
        }
      }
    }
    expect(ratios.length).toBeGreaterThan(1000);
    const near = ratios.filter((r) => r >= 0.75 && r <= 1.35).length;
    // Most rebuys are replenishment; the rest are discretionary purchases of the same item.
    expect(near / ratios.length).toBeGreaterThan(0.5);
    const sorted = [...ratios].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    expect(median).toBeGreaterThan(0.85);
    expect(median).toBeLessThan(1.25);
  });

  it('describes clients plausibly: locales, zones, names, consent, birthdays, advisors', () => {
    const byLocale = (locale: string): Row[] => customers.filter((c) => c.locale === locale);
    expect(byLocale('zh-CN').length / customers.length).toBeGreaterThan(0.6);
    expect(byLocale('en-US').length).toBeGreaterThan(0);
    expect(byLocale('en-GB').length).toBeGreaterThan(0);
    const han = /^\p{Script=Han}+$/u;
    expect(
      byLocale('zh-CN').filter(
        (c) => c.time_zone !== 'Asia/Shanghai' || !han.test(c.first_name ?? '') || !han.test(c.last_name ?? '') || !c.signed_up_at?.endsWith('+08:00'),
      ),
    ).toEqual([]);
    expect(new Set(byLocale('en-US').map((c) => c.time_zone))).toEqual(new Set(['America/New_York', 'America/Los_Angeles']));
    expect(byLocale('en-GB').filter((c) => c.time_zone !== 'Europe/London' || !/\+0[01]:00$/.test(c.signed_up_at ?? ''))).toEqual([]);
    expect(byLocale('en-US').filter((c) => !/-0[4578]:00$/.test(c.signed_up_at ?? ''))).toEqual([]);
    const marketing = customers.filter((c) => c.accepts_marketing === 'true').length / customers.length;
    expect(marketing).toBeGreaterThan(0.7);
    expect(marketing).toBeLessThan(0.97);
    expect(new Set(customers.map((c) => c.accepts_marketing))).toEqual(new Set(['true', 'false']));
    const birthdays = customers.filter((c) => c.birthday);
    expect(birthdays.length / customers.length).toBeGreaterThan(0.2);
    expect(birthdays.filter((c) => !/^(\d{4}-)?\d{2}-\d{2}$/.test(c.birthday ?? ''))).toEqual([]);
    expect(customers.filter((c) => c.advisor_id && !/^A(0[1-9]|1\d|20)$/.test(c.advisor_id))).toEqual([]);
    // 5,000 clients are shared between 3 advisors (one per 1,500), so each book holds a few dozen.
    const bookSizes = new Map<string, number>();
    for (const c of customers) if (c.advisor_id) bookSizes.set(c.advisor_id, (bookSizes.get(c.advisor_id) ?? 0) + 1);
    expect([...bookSizes.keys()].sort()).toEqual(['A01', 'A02', 'A03']);
    for (const size of bookSizes.values()) expect(size).toBeGreaterThanOrEqual(25);
    // VIC-ish clients have an advisor; some Core too; almost nobody else.
    const spendOf = (c: Row): number => spend12m(byClient.get(c.customer_id ?? '') ?? []);
    const vics = customers.filter((c) => spendOf(c) >= usd(50_000));
    const core = customers.filter((c) => spendOf(c) >= usd(5_000) && spendOf(c) < usd(50_000));
    const entry = customers.filter((c) => spendOf(c) > 0 && spendOf(c) < usd(1_000));
    const advised = (group: Row[]): number => group.filter((c) => c.advisor_id).length / group.length;
    expect(advised(vics)).toBeGreaterThan(0.75);
    expect(advised(core)).toBeGreaterThan(0.1);
    expect(advised(entry)).toBeLessThan(0.05);
  });

  it('gives every client a unique lower-case email on an example domain', () => {
    const emails = customers.map((c) => c.email ?? '');
    expect(new Set(emails).size).toBe(emails.length);
    expect(emails.filter((e) => !/^[a-z0-9._]+@example\.(com|cn)$/.test(e))).toEqual([]);
    expect(new Set(customers.map((c) => c.customer_id)).size).toBe(customers.length);
  });

  it('writes ISO 8601 timestamps with the client zone offset', () => {
    const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;
    expect(customers.filter((c) => !iso.test(c.signed_up_at ?? ''))).toEqual([]);
    // Each order's offset is its client's (all zh-CN clients are +08:00, the others never are).
    const zoneOf = new Map(customers.map((c) => [c.customer_id, c.time_zone]));
    const valid = orderRows.filter((r) => typeof validateGenericOrder(r, 'USD') !== 'string');
    expect(valid.filter((r) => !iso.test(r.ordered_at ?? ''))).toEqual([]);
    expect(valid.filter((r) => (zoneOf.get(r.customer_id) === 'Asia/Shanghai') !== r.ordered_at?.endsWith('+08:00'))).toEqual([]);
    // Local order hours look like people's: few in the small hours.
    const hours = customers.map((c) => Number((c.signed_up_at ?? '').slice(11, 13)));
    expect(hours.filter((h) => h >= 2 && h < 6).length / hours.length).toBeLessThan(0.05);
  });
});

describe('Shopify export of the same seed and options', () => {
  let shopCustomers: Row[];
  let shopOrders: Row[];

  beforeAll(async () => {
    shopCustomers = await readCsv(join(dir, 'shopify', 'customers_export.csv'));
    shopOrders = await readCsv(join(dir, 'shopify', 'orders_export.csv'));
  });

  it('describes the same clients and orders', () => {
    expect(shopifySummary.files).toEqual(['customers_export.csv', 'orders_export.csv']);
    expect(shopifySummary.orders).toBe(summary.orders);
    expect(shopifySummary.orderLines).toBe(summary.orderLines);
    expect(shopifySummary.expected).toEqual(summary.expected);
    expect(shopCustomers.map((c) => c['Customer ID'])).toEqual(customers.map((c) => c.customer_id));
    expect(shopCustomers.map((c) => c.Email)).toEqual(customers.map((c) => c.email));
    expect(shopOrders).toHaveLength(summary.orderLines + shopifySummary.malformedRows);
    expect(Object.keys(shopCustomers[0] ?? {})).toEqual([
      'Customer ID', 'First Name', 'Last Name', 'Email', 'Accepts Email Marketing', 'Default Address Company',
      'Default Address Address1', 'Default Address City', 'Default Address Country Code', 'Default Address Zip',
      'Phone', 'Total Spent', 'Total Orders', 'Note', 'Tax Exempt', 'Tags',
    ]);
    const advisorOf = new Map(customers.map((c) => [c.customer_id, c.advisor_id]));
    const tagged = (c: Row): boolean => {
      const advisor = advisorOf.get(c['Customer ID']);
      return advisor ? (c.Tags ?? '').split(', ').includes(`advisor:${advisor}`) : !(c.Tags ?? '').includes('advisor:');
    };
    expect(shopCustomers.filter((c) => !tagged(c))).toEqual([]);
    expect(shopCustomers.some((c) => c.Tags?.includes('advisor:'))).toBe(true);
    expect(new Set(shopCustomers.map((c) => c['Accepts Email Marketing']))).toEqual(new Set(['yes', 'no']));
  });

  it('gives every client the same net spend per order as the generic export', () => {
    const idByEmail = new Map(shopCustomers.map((c) => [c.Email, c['Customer ID'] ?? '']));
    const shopNet = new Map<string, number>();
    const names = new Set<string>();
    const problems: string[] = [];
    let bad = 0;
    for (const row of shopOrders) {
      if (!row.Email) {
        // A following line of the same order: only Name and the Lineitem columns.
        if (!/^#\d+$/.test(row.Name ?? '') || row['Financial Status'] || row.Subtotal || row['Created at'] || row.Id || !row['Lineitem sku']) {
          problems.push(`continuation ${row.Name}`);
        }
        continue;
      }
      const created = parseTimestamp(row['Created at'] ?? '', ZONE);
      const subtotal = parseAmount(row.Subtotal ?? '', 'USD');
      const total = parseAmount(row.Total ?? '', 'USD');
      const refunded = parseAmount(row['Refunded Amount'] ?? '', 'USD');
      const price = parseAmount(row['Lineitem price'] ?? '', 'USD');
      if (created === undefined || subtotal === undefined || total === undefined || refunded === undefined || price === undefined) {
        bad += 1;
        continue;
      }
      const status = row['Financial Status'] ?? '';
      if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0800$/.test(row['Created at'] ?? '')) problems.push(`created ${row.Name}`);
      if (created >= END) problems.push(`future ${row.Name}`);
      if (total !== subtotal) problems.push(`total ${row.Name}`);
      if (!/^\d+$/.test(row.Id ?? '')) problems.push(`id ${row.Name}`);
      if (!['paid', 'refunded', 'partially_refunded', 'voided'].includes(status)) problems.push(`status ${row.Name}`);
      if ((status === 'voided') !== (row['Cancelled at'] !== '')) problems.push(`cancelled at ${row.Name}`);
      if ((status === 'partially_refunded' || status === 'refunded') !== refunded > 0) problems.push(`refund ${row.Name}`);
      if (status === 'refunded' && refunded !== subtotal) problems.push(`full refund ${row.Name}`);
      names.add(row.Name ?? '');
      const net = status === 'voided' || status === 'refunded' ? 0 : subtotal - refunded;
      const id = idByEmail.get(row.Email) ?? '?';
      shopNet.set(id, (shopNet.get(id) ?? 0) + net);
    }
    expect(problems).toEqual([]);
    expect(bad).toBe(shopifySummary.malformedRows);
    expect(names.size).toBe(summary.orders);
    const genericNet = new Map<string, number>();
    for (const [id, clientLines] of byClient) genericNet.set(id, clientLines.reduce((sum, l) => sum + lineNet(l), 0));
    expect(shopNet).toEqual(genericNet);
    // Customer Total Spent is the lifetime net.
    expect(shopCustomers.filter((c) => parseAmount(c['Total Spent'] ?? '', 'USD') !== (genericNet.get(c['Customer ID'] ?? '') ?? 0))).toEqual([]);
  });

  it('keeps Subtotal = sum of line prices x quantity - Discount Amount for every order', () => {
    let order: { name: string; subtotal: number; gross: number; discount: number } | undefined;
    const wrong: string[] = [];
    let checked = 0;
    const check = (): void => {
      if (order && order.gross - order.discount !== order.subtotal) wrong.push(order.name);
    };
    for (const row of shopOrders) {
      const price = parseAmount(row['Lineitem price'] ?? '', 'USD');
      if (row.Email) {
        check();
        order = undefined;
        const subtotal = parseAmount(row.Subtotal ?? '', 'USD');
        const discount = parseAmount(row['Discount Amount'] ?? '', 'USD');
        if (subtotal === undefined || discount === undefined || price === undefined) continue;
        order = { name: row.Name ?? '', subtotal, discount, gross: price * Number(row['Lineitem quantity']) };
        checked += 1;
      } else if (order && price !== undefined) {
        order.gross += price * Number(row['Lineitem quantity']);
      }
    }
    check();
    expect(wrong).toEqual([]);
    // Every valid order, plus the malformed ones whose amounts are fine (bad Created at).
    expect(checked).toBeGreaterThanOrEqual(summary.orders);
    expect(checked).toBeLessThanOrEqual(summary.orders + shopifySummary.malformedRows);
  });
});

describe('the generated advisors roster', () => {
  it('names every advisor the clients name, in both languages; with three or more, the last has left (a handover to plan)', async () => {
    const { rosterRows } = await import('#local/generate/roster.ts');
    expect(rosterRows(2000).map((r) => [r[0], r[1], r[3], r[4]])).toEqual([
      ['A01', 'Sophie Martin', 'en', 'true'],
      ['A02', '王芳', 'zh-CN', 'true'],
    ]);
    const six = rosterRows(9000);
    expect(six.map((r) => r[0])).toEqual(['A01', 'A02', 'A03', 'A04', 'A05', 'A06']);
    expect(six.map((r) => r[4])).toEqual(['true', 'true', 'true', 'true', 'true', 'false']);
    expect(six[4]?.[1]).toBe('Sophie Martin 2');
  });
});
