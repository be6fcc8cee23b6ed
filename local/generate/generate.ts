import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatMinor } from '#shared/money.ts';
import { addDays, addYears, isIsoDate, isValidTimeZone, startOfLocalDay } from '#shared/time.ts';
import { buildCatalogue, DEMO_SHOP_URL, usdToMinor } from './catalogue.ts';
import { HISTORY_DAYS, generateClient, productTables, usdMinorFor } from './clients.ts';
import type { ClientContext, GenClient } from './clients.ts';
import { Clocks, DAY_MS } from './clock.ts';
import { ROSTER_HEADER, rosterRows } from './roster.ts';
import { CsvSink } from './csv.ts';
import { GenericWriter, ShopifyWriter } from './formats.ts';
import type { FormatWriter, MalformedOrder } from './formats.ts';
import { marketWeights } from './people.ts';
import { Rng } from './random.ts';

/**
 * A deterministic sample export (../shared/exports.md) with realistic shape: heavy-tailed spend,
 * replenishment cycles, lapsed and churned clients, fresh sign-ups, refunds, cancellations and a
 * few malformed rows. Generated client by client and streamed, so 1M clients / 10M order lines
 * need no more memory than 1,000.
 */

export interface GenerateOptions {
  /** Number of clients. */
  customers: number;
  /** Same seed + options => byte-identical files. */
  seed: number;
  /** YYYY-MM-DD: the export's date; orders up to the end of that day in timeZone. */
  asOf: string;
  /** Brand time zone, default 'Asia/Shanghai'. */
  timeZone?: string;
  /** Default 'USD'. */
  currency?: string;
  /** Default 'generic'. */
  format?: 'generic' | 'shopify';
  /** Default false; gzip every file (.gz). */
  gzip?: boolean;
  /** Split orders into N parts (orders-0001.csv ... / orders_export_1.csv ...), 1-1000; default 1. */
  orderParts?: number;
  /** Deliberately malformed order rows; default ~0.1% of order rows (at least 3 from 100 clients); 0 disables. */
  malformedRows?: number;
  /** Target mean order lines per buyer over the history; default 10. */
  linesPerClient?: number;
  /** Called every 10,000 clients and at the end, for progress bars. */
  onProgress?: (clientsDone: number, clientsTotal: number) => void;
  /** Write the advisors roster (advisors.csv, generic format only); default true. */
  roster?: boolean;
  /**
   * The brand reassigned clients (a handover, as after `clientele advisors plan`): every `every`-th
   * client of advisor `from` (by their order among that advisor's clients, first included) has
   * advisor `to` instead. The rest of the export is the same as without it.
   */
  handover?: { from: string; to: string; every: number };
  /**
   * YYYY-MM-DD, at most asOf: the same world as asOf's export, as it stood at the end of this day
   * (clients signed up and orders placed by then, with the same ids), so that a night before
   * asOf sees the past of tonight's export, not another world. Figures are the cut export's.
   */
  cutAt?: string;
}

export type ExpectedTier = 'VIC' | 'Core' | 'Potential' | 'Entry' | 'Prospect';

/** What a correct reader + tiering should find in the export (default thresholds, trailing 12 months). */
export interface ExpectedFigures {
  currency: string;
  /** Default tier thresholds converted to the export currency, minor units. */
  thresholdsMinor: { vic: number; core: number; potential: number };
  /** The trailing-12-month window: [windowStart, windowEnd), ISO instants. */
  windowStart: string;
  windowEnd: string;
  /**
   * Clients per tier by trailing-12-month net spend, with the rule of shared/tiering/tiers.ts:
   * below Potential, a client with any order of positive net amount (ever, before the end of
   * asOf) is Entry, even with nothing spent in the window; one without is a Prospect.
   */
  tiers: Record<ExpectedTier, number>;
  /** Entry clients with no net spend in the window (last bought over a year ago). */
  noSpend12m: number;
  /** Clients with no order rows at all (signed up, never ordered). */
  neverOrdered: number;
  /** Clients with at least one order of positive net amount (= non-Prospects). */
  buyers: number;
  /** Clients with net spend > 0 in the window. */
  buyers12m: number;
  /** VIC / buyers12m. */
  vicShare: number;
  /** VIC / buyers. */
  vicShareOfBuyers: number;
  /** VIC share of trailing-12-month net revenue. */
  vicRevenueShare: number;
  revenue12mMinor: number;
  revenue12m: string;
  lifetimeRevenueMinor: number;
  /** Signed up in the 24 h before the end of asOf; of those, first order in the same window. */
  signupsLast24h: number;
  firstOrdersLast24h: number;
  /** Buyers whose last order was 60-180 days / 180+ days before the end of asOf. */
  lapsed60to180: number;
  churned180: number;
  cancelledOrders: number;
  refundedOrders: number;
  partiallyRefundedOrders: number;
  /** Order lines (valid rows) per client with any order. */
  meanLinesPerBuyer: number;
  /** Clients with an advisor_id. */
  withAdvisor: number;
}

export interface GenerateSummary {
  customers: number;
  /** Valid orders (cancelled and refunded included; malformed rows excluded). */
  orders: number;
  /** Valid order lines (rows), malformed rows excluded. */
  orderLines: number;
  /** Extra rows a reader must reject (one per malformed order). */
  malformedRows: number;
  /** File names written into outDir, customers first, then order parts, then products and the advisors roster. */
  files: string[];
  expected: ExpectedFigures;
}

const DEFAULT_LINES_PER_CLIENT = 10;
/** Orders-per-year multiplier that yields DEFAULT_LINES_PER_CLIENT with the default model (measured). */
const BASE_FREQUENCY = 0.53;

interface Resolved {
  customers: number;
  seed: number;
  asOf: string;
  timeZone: string;
  currency: string;
  format: 'generic' | 'shopify';
  gzip: boolean;
  orderParts: number;
  malformedRows: number;
  linesPerClient: number;
  roster: boolean;
  handover?: { from: string; to: string; every: number };
  cutAt?: string;
  onProgress?: (clientsDone: number, clientsTotal: number) => void;
}

function resolveOptions(options: GenerateOptions): Resolved {
  const { customers, seed, asOf } = options;
  if (!Number.isSafeInteger(customers) || customers < 0) throw new RangeError(`customers must be a non-negative integer, got ${customers}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!isIsoDate(asOf)) throw new RangeError(`asOf must be a YYYY-MM-DD date, got ${asOf}`);
  const timeZone = options.timeZone ?? 'Asia/Shanghai';
  if (!isValidTimeZone(timeZone)) throw new RangeError(`unknown time zone ${timeZone}`);
  const currency = options.currency ?? 'USD';
  if (!/^[A-Z]{3}$/.test(currency)) throw new RangeError(`currency must be an ISO 4217 code, got ${currency}`);
  const format = options.format ?? 'generic';
  if (format !== 'generic' && format !== 'shopify') throw new RangeError(`unknown format ${String(format)}`);
  const orderParts = options.orderParts ?? 1;
  // Every part is open at once (one file handle and, with gzip, one zlib stream each).
  if (!Number.isSafeInteger(orderParts) || orderParts < 1 || orderParts > 1000) throw new RangeError(`orderParts must be 1-1000, got ${orderParts}`);
  const linesPerClient = options.linesPerClient ?? DEFAULT_LINES_PER_CLIENT;
  if (!(linesPerClient > 0 && linesPerClient <= 1000)) throw new RangeError(`linesPerClient must be in (0, 1000], got ${linesPerClient}`);
  let malformedRows = options.malformedRows;
  if (malformedRows === undefined) {
    const expectedLines = customers * 0.9 * linesPerClient;
    malformedRows = Math.round(expectedLines * 0.001);
    if (customers >= 100) malformedRows = Math.max(3, malformedRows);
  }
  if (!Number.isSafeInteger(malformedRows) || malformedRows < 0) throw new RangeError(`malformedRows must be a non-negative integer, got ${malformedRows}`);
  // A malformed row belongs to some client's stretch of the file; with no clients there is none.
  if (customers === 0) malformedRows = 0;
  const resolved: Resolved = { customers, seed, asOf, timeZone, currency, format, gzip: options.gzip ?? false, orderParts, malformedRows, linesPerClient, roster: options.roster ?? true };
  if (options.onProgress) resolved.onProgress = options.onProgress;
  if (options.handover) {
    if (!Number.isSafeInteger(options.handover.every) || options.handover.every < 1) throw new RangeError(`handover.every must be a whole number >= 1, got ${options.handover.every}`);
    resolved.handover = options.handover;
  }
  if (options.cutAt !== undefined) {
    if (!isIsoDate(options.cutAt) || options.cutAt > asOf) throw new RangeError(`cutAt must be a YYYY-MM-DD date at most asOf (${asOf}), got ${options.cutAt}`);
    resolved.cutAt = options.cutAt;
  }
  return resolved;
}

/** Running totals for ExpectedFigures, fed one client at a time. */
class Tally {
  readonly tiers: Record<ExpectedTier, number> = { VIC: 0, Core: 0, Potential: 0, Entry: 0, Prospect: 0 };
  noSpend12m = 0;
  neverOrdered = 0;
  /** Clients with any order row. */
  ordering = 0;
  buyers = 0;
  buyers12m = 0;
  revenue12m = 0;
  vicRevenue12m = 0;
  lifetimeRevenue = 0;
  signupsLast24h = 0;
  firstOrdersLast24h = 0;
  lapsed60to180 = 0;
  churned180 = 0;
  cancelled = 0;
  refunded = 0;
  partiallyRefunded = 0;
  orders = 0;
  lines = 0;
  withAdvisor = 0;

  constructor(
    private readonly windowStartMs: number,
    private readonly endMs: number,
    readonly thresholds: { vic: number; core: number; potential: number },
  ) {}

  add(client: GenClient): void {
    const dayAgo = this.endMs - DAY_MS;
    if (client.signedUpAt >= dayAgo) this.signupsLast24h += 1;
    if (client.advisorId) this.withAdvisor += 1;
    if (client.orders.length === 0) {
      this.neverOrdered += 1;
      this.tiers.Prospect += 1;
      return;
    }
    this.ordering += 1;
    const first = client.orders[0];
    if (first && client.signedUpAt >= dayAgo && first.orderedAt >= dayAgo) this.firstOrdersLast24h += 1;
    let spend12m = 0;
    let lastAt = 0;
    let counted = 0;
    for (const order of client.orders) {
      this.orders += 1;
      this.lines += order.lines.length;
      lastAt = Math.max(lastAt, order.orderedAt);
      if (order.status === 'cancelled') this.cancelled += 1;
      else if (order.status === 'refunded') this.refunded += 1;
      else if (order.partiallyRefunded) this.partiallyRefunded += 1;
      if (order.status !== 'paid') continue;
      let net = 0;
      for (const line of order.lines) net += line.totalMinor - line.refundedMinor;
      if (net > 0) counted += 1;
      this.lifetimeRevenue += net;
      if (order.orderedAt >= this.windowStartMs) spend12m += net;
    }
    const daysSince = (this.endMs - lastAt) / DAY_MS;
    if (daysSince >= 180) this.churned180 += 1;
    else if (daysSince >= 60) this.lapsed60to180 += 1;
    this.revenue12m += spend12m;
    if (spend12m > 0) this.buyers12m += 1;
    if (counted > 0) this.buyers += 1;
    const t = this.thresholds;
    if (spend12m >= t.vic) {
      this.tiers.VIC += 1;
      this.vicRevenue12m += spend12m;
    } else if (spend12m >= t.core) this.tiers.Core += 1;
    else if (spend12m >= t.potential) this.tiers.Potential += 1;
    else if (spend12m > 0 || counted > 0) {
      this.tiers.Entry += 1;
      if (spend12m <= 0) this.noSpend12m += 1;
    } else this.tiers.Prospect += 1;
  }
}

/**
 * The client as the export of a day before the world's end saw them: undefined when they had not
 * signed up nor ordered yet; their orders placed by then otherwise.
 */
function clientAsOf(client: GenClient, cutEndMs: number): GenClient | undefined {
  const orders = client.orders.filter((order) => order.orderedAt < cutEndMs);
  if (client.signedUpAt >= cutEndMs && orders.length === 0) return undefined;
  return orders.length === client.orders.length ? client : { ...client, orders };
}

export async function generateExport(options: GenerateOptions, outDir: string): Promise<GenerateSummary> {
  const o = resolveOptions(options);
  await mkdir(outDir, { recursive: true });
  // The world ends with asOf; the export (and its expected figures) with cutAt when given.
  const worldEndMs = startOfLocalDay(addDays(o.asOf, 1), o.timeZone);
  const exportDate = o.cutAt ?? o.asOf;
  const endMs = startOfLocalDay(addDays(exportDate, 1), o.timeZone);
  const windowStartMs = startOfLocalDay(addDays(addYears(exportDate, -1), 1), o.timeZone);
  const clocks = new Clocks();
  const products = buildCatalogue(o.currency);
  // About 0.4% of clients signed up in the last 24 h: enough to exercise the welcome campaign.
  const freshCount = o.customers >= 20 ? Math.max(2, Math.round(o.customers * 0.004)) : 0;
  const ctx: ClientContext = {
    seed: o.seed,
    customers: o.customers,
    endMs: worldEndMs,
    historyStartMs: startOfLocalDay(addDays(o.asOf, -HISTORY_DAYS), o.timeZone),
    freshFrom: o.customers - freshCount,
    asOfYear: Number(o.asOf.slice(0, 4)),
    currency: o.currency,
    products,
    // First orders, one-time buyers and replenishment do not scale with the order rate, so
    // lines grow slower than the rate (elasticity ~0.63, measured): compensate.
    frequencyFactor: BASE_FREQUENCY * Math.pow(o.linesPerClient / DEFAULT_LINES_PER_CLIENT, 1.6),
    markets: marketWeights(o.timeZone).map(([market]) => market),
    marketShares: marketWeights(o.timeZone).map(([, share]) => share),
    clocks,
    idWidth: Math.max(7, String(o.customers).length),
    emailModulus: Math.pow(10, Math.max(4, String(o.customers).length + 1)),
    usdMinor: usdMinorFor(o.currency),
    ...productTables(products),
  };
  const writerContext = { currency: o.currency, brandTimeZone: o.timeZone, clocks, endMs };
  const writer: FormatWriter = o.format === 'shopify' ? new ShopifyWriter(writerContext) : new GenericWriter(writerContext);
  const gz = o.gzip ? '.gz' : '';
  const files: string[] = [];
  const thresholds = {
    vic: usdToMinor(50_000, o.currency, false),
    core: usdToMinor(5_000, o.currency, false),
    potential: usdToMinor(1_000, o.currency, false),
  };
  const tally = new Tally(windowStartMs, endMs, thresholds);

  const customersFile = writer.customersFile + gz;
  const customers = new CsvSink(join(outDir, customersFile), o.gzip);
  files.push(customersFile);
  customers.row(writer.customersHeader);

  // Parts take clients in round-robin blocks: sizes stay even although early clients have
  // longer histories, and a client's orders (and Shopify continuation rows) never straddle
  // two files.
  const parts: CsvSink[] = [];
  for (let part = 1; part <= o.orderParts; part++) {
    const name = writer.ordersFile(part, o.orderParts) + gz;
    files.push(name);
    const sink = new CsvSink(join(outDir, name), o.gzip);
    sink.row(writer.ordersHeader);
    parts.push(sink);
  }
  const block = Math.min(1000, Math.max(1, Math.ceil(o.customers / (o.orderParts * 16))));

  let orderNumber = 100_000;
  // The handover: the from-advisor's clients counted as they come, every `every`-th moved.
  let fromClients = 0;
  const handedOver = (client: GenClient): GenClient => {
    if (o.handover === undefined || client.advisorId !== o.handover.from) return client;
    return fromClients++ % o.handover.every === 0 ? { ...client, advisorId: o.handover.to } : client;
  };
  let malformedWritten = 0;
  let malformedKept = 0;
  let clientsWritten = 0;
  const nextMalformedAfter = (k: number): number => Math.floor(((k + 0.5) * o.customers) / o.malformedRows);
  const malformedProducts = products.filter((p) => p.priceUsd < 150);
  try {
    for (let index = 0; index < o.customers; index++) {
      const sink = parts[Math.floor(index / block) % o.orderParts] as CsvSink;
      const whole = generateClient(ctx, index);
      const client = o.cutAt === undefined ? whole : clientAsOf(whole, endMs);
      if (client) {
        customers.row(writer.customerRow(handedOver(client)));
        clientsWritten += 1;
      }
      // Every order of the world takes its number, written or not: a cut export keeps the ids.
      for (const order of whole.orders) {
        orderNumber += 1;
        if (client && order.orderedAt < endMs) sink.text(writer.orderText(client, order, orderNumber));
      }
      while (malformedWritten < o.malformedRows && nextMalformedAfter(malformedWritten) <= index) {
        const rng = new Rng(o.seed, malformedWritten, 2);
        const bad: MalformedOrder = {
          kind: writer.malformedKinds[malformedWritten % writer.malformedKinds.length] ?? 'bad-timestamp',
          client: whole,
          // Some time after the client signed up, within the last 300 days.
          orderedAt: Math.floor((worldEndMs - rng.uniform(0.05, 1) * Math.min(300 * DAY_MS, worldEndMs - whole.signedUpAt)) / 1000) * 1000,
          product: rng.pick(malformedProducts),
          variant: Math.floor(malformedWritten / writer.malformedKinds.length),
        };
        orderNumber += 1;
        if (client && bad.orderedAt < endMs) {
          sink.row(writer.malformedRow(bad, orderNumber));
          malformedKept += 1;
        }
        malformedWritten += 1;
      }
      if (client) tally.add(client);
      await customers.flush();
      await sink.flush();
      if (o.onProgress && (index + 1) % 10_000 === 0) o.onProgress(index + 1, o.customers);
    }
    for (const sink of parts) await sink.close();
    await customers.close();

    if (o.format === 'generic') {
      const name = `products.csv${gz}`;
      const sink = new CsvSink(join(outDir, name), o.gzip);
      // url and price feed the emails' product blocks (no image_url: a demo picture would be a broken link in the local inbox).
      sink.row(['sku', 'name', 'category', 'replenish_days', 'season', 'url', 'price', 'currency']);
      for (const p of products) {
        const url = `${DEMO_SHOP_URL}products/${encodeURIComponent(p.sku.toLowerCase())}`;
        sink.row([p.sku, p.name, p.category, p.replenishDays === undefined ? '' : String(p.replenishDays), p.season, url, formatMinor(p.priceMinor, o.currency), o.currency]);
      }
      await sink.close();
      files.push(name);
      if (o.roster) {
        const rosterName = `advisors.csv${gz}`;
        const roster = new CsvSink(join(outDir, rosterName), o.gzip);
        roster.row(ROSTER_HEADER);
        for (const row of rosterRows(o.customers)) roster.row(row);
        await roster.close();
        files.push(rosterName);
      }
    }
  } catch (error) {
    // Close file handles before reporting; the first error is the one that matters.
    customers.destroy();
    for (const sink of parts) sink.destroy();
    throw error;
  }
  o.onProgress?.(o.customers, o.customers);

  return {
    customers: clientsWritten,
    orders: tally.orders,
    orderLines: tally.lines,
    malformedRows: malformedKept,
    files,
    expected: {
      currency: o.currency,
      thresholdsMinor: thresholds,
      windowStart: new Date(windowStartMs).toISOString(),
      windowEnd: new Date(endMs).toISOString(),
      tiers: { ...tally.tiers },
      noSpend12m: tally.noSpend12m,
      neverOrdered: tally.neverOrdered,
      buyers: tally.buyers,
      buyers12m: tally.buyers12m,
      vicShare: tally.buyers12m === 0 ? 0 : tally.tiers.VIC / tally.buyers12m,
      vicShareOfBuyers: tally.buyers === 0 ? 0 : tally.tiers.VIC / tally.buyers,
      vicRevenueShare: tally.revenue12m === 0 ? 0 : tally.vicRevenue12m / tally.revenue12m,
      revenue12mMinor: tally.revenue12m,
      revenue12m: formatMinor(tally.revenue12m, o.currency),
      lifetimeRevenueMinor: tally.lifetimeRevenue,
      signupsLast24h: tally.signupsLast24h,
      firstOrdersLast24h: tally.firstOrdersLast24h,
      lapsed60to180: tally.lapsed60to180,
      churned180: tally.churned180,
      cancelledOrders: tally.cancelled,
      refundedOrders: tally.refunded,
      partiallyRefundedOrders: tally.partiallyRefunded,
      meanLinesPerBuyer: tally.ordering === 0 ? 0 : tally.lines / tally.ordering,
      withAdvisor: tally.withAdvisor,
    },
  };
}

