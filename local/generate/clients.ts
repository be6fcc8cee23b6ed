import { CATEGORIES, usdToMinor } from './catalogue.ts';
import type { Product } from './catalogue.ts';
import { DAY_MS } from './clock.ts';
import type { Clocks, ZoneClock } from './clock.ts';
import { MARKETS, NOTES, makePerson } from './people.ts';
import type { MarketId, Person } from './people.ts';
import { Rng } from './random.ts';

/**
 * One client at a time: who they are and every order they placed. A client is a pure function
 * of (options, client index): nothing is carried from one client to the next, so memory stays
 * bounded and both export formats describe exactly the same clients and orders.
 *
 * The model, in short: each buyer has a latent annual budget (log-normal body plus a Pareto
 * tail of big spenders), which sets how often they order and how much an order holds; every
 * purchase of a replenishable product may schedule a rebuy near cycle x quantity; some buyers
 * order once and never return; some lapse (last order 60-200 days ago) or churn (200+ days).
 */

export type GenStatus = 'paid' | 'refunded' | 'cancelled';

export interface GenLine {
  product: Product;
  quantity: number;
  unitMinor: number;
  discountMinor: number;
  /** unit x quantity - discount. */
  totalMinor: number;
  refundedMinor: number;
}

export interface GenOrder {
  orderedAt: number;
  status: GenStatus;
  /** Paid, with part of it refunded (refundedMinor on some line). */
  partiallyRefunded: boolean;
  cancelledAt?: number;
  discountCode: string;
  express: boolean;
  lines: GenLine[];
}

export interface GenClient {
  index: number;
  customerId: string;
  person: Person;
  market: MarketId;
  locale: string;
  timeZone: string;
  signedUpAt: number;
  acceptsMarketing: boolean;
  /** YYYY-MM-DD, MM-DD or ''. */
  birthday: string;
  advisorId: string;
  note: string;
  tags: string[];
  /** Chronological. */
  orders: GenOrder[];
}

export interface ClientContext {
  seed: number;
  customers: number;
  /** Exclusive end of the export: midnight after asOf in the brand zone. */
  endMs: number;
  historyStartMs: number;
  /** Clients with index >= freshFrom signed up in the 24 h before endMs. */
  freshFrom: number;
  asOfYear: number;
  currency: string;
  products: readonly Product[];
  /** Orders-per-year multiplier (from linesPerClient). */
  frequencyFactor: number;
  markets: readonly MarketId[];
  /** Share of clients in each of `markets`. */
  marketShares: readonly number[];
  clocks: Clocks;
  /** Width of the zero-padded number in customer ids. */
  idWidth: number;
  /** Modulus of the scrambled number that makes emails unique (a power of ten > 10 x customers). */
  emailModulus: number;
  /** 1 USD in minor units of the export currency (budgets are drawn in USD). */
  usdMinor: number;
  /** [month * products + i]: season fit x price^0.8 of product i in that month. */
  seasonWeights: Float64Array;
  cheapest: Product;
  /** Reused weight array (one per generation run). */
  scratch: number[];
}

export const HISTORY_DAYS = 3 * 365;

const CATEGORY_AFFINITY: Record<(typeof CATEGORIES)[number], number> = {
  skincare: 1,
  suncare: 0.35,
  bodycare: 0.35,
  makeup: 0.6,
  fragrance: 0.5,
  home: 0.15,
  'gift-sets': 0.25,
  accessories: 0.3,
  'leather-goods': 0.4,
  'ready-to-wear': 0.3,
  shoes: 0.25,
  jewelry: 0.25,
  watches: 0.1,
};

const PROMO_CODES: readonly [string, number][] = [
  ['SPRING15', 15],
  ['VIP10', 10],
  ['BDAY15', 15],
  ['SAMPLE5', 5],
];

export function customerIdFor(index: number, width: number): string {
  return `C${String(index + 1).padStart(width, '0')}`;
}

/** Distinct per client (index < modulus / 10 and 7919 is coprime with powers of ten). */
function emailDigits(index: number, modulus: number): string {
  return String((index * 7919 + 1237) % modulus);
}

/** Discretionary orders per year for an annual budget in USD: richer clients order more often, and bigger. */
function ordersPerYear(budgetUsd: number): number {
  const averageOrderUsd = 110 * Math.pow(budgetUsd / 300, 0.55);
  return budgetUsd / averageOrderUsd;
}

function seasonFactor(season: Product['season'], month: number): number {
  if (season === 'summer') return month >= 4 && month <= 7 ? 2.5 : month === 3 || month === 8 ? 1 : 0.15;
  if (season === 'winter') return month >= 10 || month <= 1 ? 2.5 : month === 9 || month === 2 ? 1 : 0.15;
  return 1;
}

/** The per-run tables ClientContext needs for picking products. */
export function productTables(products: readonly Product[]): Pick<ClientContext, 'seasonWeights' | 'cheapest' | 'scratch'> {
  const seasonWeights = new Float64Array(12 * products.length);
  for (let month = 0; month < 12; month++) {
    products.forEach((p, i) => {
      seasonWeights[month * products.length + i] = seasonFactor(p.season, month) * Math.pow(p.priceMinor, 0.8);
    });
  }
  let cheapest = products[0];
  for (const p of products) if (!cheapest || p.priceMinor < cheapest.priceMinor) cheapest = p;
  if (!cheapest) throw new Error('empty catalogue');
  return { seasonWeights, cheapest, scratch: new Array<number>(products.length).fill(0) };
}

interface Due {
  product: Product;
  quantity: number;
  at: number;
}

/** Per-client state the order builder needs. */
interface Shopper {
  rng: Rng;
  ctx: ClientContext;
  clock: ZoneClock;
  /** Base weight of each product for this client (category affinity x personal taste). */
  taste: number[];
  hasAdvisor: boolean;
}

function quantityFor(rng: Rng, product: Product): number {
  if (product.priceUsd < 150) {
    const r = rng.float();
    return r < 0.85 ? 1 : r < 0.96 ? 2 : 3;
  }
  if (product.priceUsd < 1000 && rng.chance(0.03)) return 2;
  return 1;
}

function includes(lines: readonly { product: Product }[], product: Product): boolean {
  for (const line of lines) if (line.product === product) return true;
  return false;
}

/** Adds discretionary lines worth about `targetMinor` (at least one line when `needOne`). */
function fillOrder(shopper: Shopper, at: number, targetMinor: number, lines: { product: Product; quantity: number }[], needOne: boolean): void {
  const { rng, ctx, taste } = shopper;
  const products = ctx.products;
  const month = shopper.clock.month(at);
  const weights = ctx.scratch;
  let remaining = targetMinor;
  for (const line of lines) remaining -= line.product.priceMinor * line.quantity;
  for (let round = 0; round < 6; round++) {
    if (lines.length > 0 && (remaining < targetMinor * 0.2 || (round > 0 && !rng.chance(0.7)))) break;
    // Products that fit what is left, favouring the pricier ones (weight ~ price^0.8, so a
    // big budget buys a bag rather than twenty cleansers).
    const ceiling = remaining * 1.3;
    let any = false;
    for (let i = 0; i < products.length; i++) {
      const product = products[i] as Product;
      let weight = 0;
      if (product.priceMinor <= ceiling && !includes(lines, product)) {
        weight = (taste[i] ?? 0) * (ctx.seasonWeights[month * products.length + i] ?? 1);
        if (weight > 0) any = true;
      }
      weights[i] = weight;
    }
    if (!any) {
      if (lines.length > 0 || !needOne) break;
      // Nothing fits a small target: the cheapest product.
      lines.push({ product: ctx.cheapest, quantity: 1 });
      break;
    }
    const product = products[rng.weightedIndex(weights)] as Product;
    const quantity = quantityFor(rng, product);
    lines.push({ product, quantity });
    remaining -= product.priceMinor * quantity;
  }
}

/** Prices, discount and status for the chosen lines. */
function finishOrder(shopper: Shopper, at: number, picked: { product: Product; quantity: number }[], first: boolean, endMs: number): GenOrder {
  const { rng, hasAdvisor } = shopper;
  let discountCode = '';
  let percent = 0;
  if (first && rng.chance(0.25)) {
    discountCode = 'WELCOME10';
    percent = 10;
  } else if (rng.chance(hasAdvisor ? 0.04 : 0.12)) {
    // Advised clients get recognition rather than discounts.
    const [code, pct] = rng.pick(PROMO_CODES);
    discountCode = code;
    percent = pct;
  }
  const lines: GenLine[] = picked.map(({ product, quantity }) => {
    const gross = product.priceMinor * quantity;
    const discountMinor = Math.round((gross * percent) / 100);
    return { product, quantity, unitMinor: product.priceMinor, discountMinor, totalMinor: gross - discountMinor, refundedMinor: 0 };
  });
  const order: GenOrder = { orderedAt: at, status: 'paid', partiallyRefunded: false, discountCode, express: rng.chance(0.3), lines };
  const r = rng.float();
  if (r < 0.012) {
    order.status = 'cancelled';
    order.cancelledAt = Math.min(at + rng.int(10, 360) * 60_000, endMs - 1000);
  } else if (r < 0.022) {
    order.status = 'refunded';
    for (const line of lines) line.refundedMinor = line.totalMinor;
  } else if (r < 0.037) {
    order.partiallyRefunded = true;
    const line = rng.pick(lines);
    if (lines.length > 1) line.refundedMinor = line.totalMinor;
    else {
      // A goodwill or damaged-item refund: part of a single line, in whole units.
      const unit = Math.max(1, Math.round(shopper.ctx.usdMinor));
      line.refundedMinor = Math.min(line.totalMinor, Math.max(unit, Math.round((line.totalMinor * rng.uniform(0.2, 0.5)) / unit) * unit));
    }
  }
  return order;
}

/** Clients per advisor id in the sample: enough that a book holds a few dozen clients (the handbook's 30-50). */
const CLIENTS_PER_ADVISOR = 1500;

/**
 * How many advisors (A01..) the sample's clients are shared between: one per 1,500 clients, 2 to
 * 20. A fixed twenty would leave a 2,000-client demo with books of two or three clients each.
 */
export function advisorCountFor(customers: number): number {
  return Math.min(20, Math.max(2, Math.round(customers / CLIENTS_PER_ADVISOR)));
}

export function generateClient(ctx: ClientContext, index: number): GenClient {
  const rng = new Rng(ctx.seed, index, 1);
  const market = MARKETS[ctx.markets[rng.weightedIndex(ctx.marketShares)] ?? 'CN'];
  const clock = ctx.clocks.get(market.timeZone);
  const person = makePerson(rng, market, emailDigits(index, ctx.emailModulus));
  const { endMs, historyStartMs } = ctx;

  // Sign-up: customer ids follow sign-up order, with more sign-ups recently (a growing
  // brand); the last few ids signed up in the final 24 hours.
  const fresh = index >= ctx.freshFrom;
  let signedUpAt: number;
  if (fresh) {
    const freshCount = ctx.customers - ctx.freshFrom;
    const position = (index - ctx.freshFrom + rng.float()) / freshCount;
    signedUpAt = Math.floor((endMs - DAY_MS + 60_000 + position * (DAY_MS - 120_000)) / 1000) * 1000;
  } else {
    // Sign-up density grows linearly from 1 to 2 over the history: invert F(x) = (x + x^2/2) / 1.5.
    const f = (index + rng.float()) / Math.max(1, ctx.freshFrom);
    const share = Math.sqrt(1 + 3 * f) - 1;
    signedUpAt = clock.randomTimeOnDay(historyStartMs + share * (endMs - DAY_MS - historyStartMs), rng);
    while (signedUpAt >= endMs - DAY_MS) signedUpAt -= DAY_MS;
  }

  const prospect = fresh ? rng.chance(0.5) : rng.chance(0.09);
  // Latent annual budget in USD: a log-normal body and a Pareto tail of big spenders.
  const whale = rng.chance(0.04);
  const budgetUsd = whale ? Math.min(rng.pareto(55_000, 2.5), 400_000) : Math.min(rng.logNormal(650, 1.25), 45_000);

  const hasAdvisor = !prospect && (budgetUsd >= 40_000 ? rng.chance(0.9) : budgetUsd >= 8_000 ? rng.chance(0.35) : rng.chance(0.005));
  const acceptsMarketing = rng.chance(0.85);
  let birthday = '';
  if (rng.chance(0.4)) {
    const year = ctx.asOfYear - rng.int(22, 62);
    const month = rng.int(1, 12);
    // Real month lengths, so a few clients are born on Feb 29 (a birthday campaign edge case).
    const day = rng.int(1, new Date(Date.UTC(year, month, 0)).getUTCDate());
    const monthDay = `${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    birthday = rng.chance(0.8) ? `${year}-${monthDay}` : monthDay;
  }
  // One draw whatever the count, so the rest of the client's random stream does not move.
  const advisorId = hasAdvisor ? `A${String(rng.int(1, advisorCountFor(ctx.customers))).padStart(2, '0')}` : '';
  const tags: string[] = [];
  if (advisorId) tags.push(`advisor:${advisorId}`);
  if (market.id === 'CN' && rng.chance(0.3)) tags.push('wechat');
  if (acceptsMarketing && rng.chance(0.3)) tags.push('newsletter');
  const note = rng.chance(0.03) ? rng.pick(NOTES) : '';

  const client: GenClient = {
    index,
    customerId: customerIdFor(index, ctx.idWidth),
    person,
    market: market.id,
    locale: market.locale,
    timeZone: market.timeZone,
    signedUpAt,
    acceptsMarketing,
    birthday,
    advisorId,
    note,
    tags,
    orders: [],
  };
  if (prospect) return client;

  // First order: most clients sign up at checkout; others come back days or months later.
  let firstAt: number;
  if (fresh) {
    firstAt = signedUpAt + rng.int(2, 45) * 60_000 + rng.int(0, 59) * 1000;
    if (firstAt >= endMs) return client;
  } else {
    const r = rng.float();
    if (r < 0.55) firstAt = signedUpAt + rng.int(2, 40) * 60_000 + rng.int(0, 59) * 1000;
    else {
      const delayDays = r < 0.8 ? rng.uniform(1, 30) : rng.exponential(120);
      firstAt = clock.randomTimeOnDay(signedUpAt + delayDays * DAY_MS, rng);
      if (firstAt <= signedUpAt) firstAt = signedUpAt + 30 * 60_000;
      if (firstAt >= endMs) firstAt = clock.randomTimeOnDay(signedUpAt + rng.uniform(0.05, 0.9) * (endMs - signedUpAt), rng);
      if (firstAt <= signedUpAt || firstAt >= endMs) firstAt = signedUpAt + 20 * 60_000;
    }
  }

  const taste = ctx.products.map((p) => CATEGORY_AFFINITY[CATEGORIES[p.categoryIndex] ?? 'skincare'] * rng.logNormal(1, 0.7));
  const shopper: Shopper = { rng, ctx, clock, taste, hasAdvisor };
  const rate = ordersPerYear(budgetUsd) * ctx.frequencyFactor;
  const averageOrderMinor = (budgetUsd / rate) * ctx.usdMinor;
  const rebuyChance = Math.min(0.85, Math.max(0.35, 0.45 + 0.1 * Math.log10(budgetUsd / 300)));
  const personalCycle = rng.uniform(0.85, 1.2);
  const oneTimer = rng.chance(budgetUsd < 1000 ? 0.45 : budgetUsd < 5000 ? 0.2 : 0.05);

  // Lapse: big spenders stay more often; a lapse date before the first order means "active".
  const lapse = rng.float();
  const lapseDays = lapse < (whale ? 0.86 : 0.55) ? 0 : lapse < (whale ? 0.96 : 0.8) ? rng.uniform(60, 200) : rng.uniform(200, 900);
  let stopAt = lapseDays > 0 ? clock.randomTimeOnDay(endMs - lapseDays * DAY_MS, rng) : endMs;
  if (stopAt <= firstAt + DAY_MS) stopAt = endMs;

  const dues: Due[] = [];
  let at = firstAt;
  let trigger: 'first' | 'random' | 'due' = 'first';
  for (let guard = 0; guard < 3000; guard++) {
    const picked: { product: Product; quantity: number }[] = [];
    // Everything due within the next two weeks goes into this order.
    for (let i = dues.length - 1; i >= 0; i--) {
      const due = dues[i] as Due;
      if (due.at <= at + 14 * DAY_MS) {
        if (!includes(picked, due.product)) picked.push({ product: due.product, quantity: due.quantity });
        dues.splice(i, 1);
      }
    }
    if (trigger !== 'due') fillOrder(shopper, at, averageOrderMinor * rng.logNormal(1, 0.35), picked, true);
    else if (rng.chance(0.25)) fillOrder(shopper, at, Math.min(averageOrderMinor, 150 * ctx.usdMinor) * 0.5 + picked.reduce((s, p) => s + p.product.priceMinor * p.quantity, 0), picked, false);
    const order = finishOrder(shopper, at, picked, trigger === 'first', endMs);
    client.orders.push(order);
    if (oneTimer) break;

    // Replenishment: a unit lasts about its cycle; quantity stretches it; clients differ.
    if (order.status !== 'cancelled') {
      for (const line of order.lines) {
        const cycle = line.product.replenishDays;
        if (cycle === undefined || !rng.chance(rebuyChance)) continue;
        const days = cycle * line.quantity * personalCycle * Math.exp(0.08 * rng.normal());
        dues.push({ product: line.product, quantity: rng.chance(0.75) ? line.quantity : rng.int(1, 2), at: at + days * DAY_MS });
      }
    }
    const nextRandom = at + Math.max(1, rng.exponential(365 / rate)) * DAY_MS;
    let nextDue = Infinity;
    for (const due of dues) nextDue = Math.min(nextDue, due.at);
    let next: number;
    if (nextDue < nextRandom) {
      next = nextDue + rng.normal() * 2 * DAY_MS;
      trigger = 'due';
    } else {
      next = nextRandom;
      trigger = 'random';
    }
    // At least a calendar day later, at a plausible local time.
    next = clock.randomTimeOnDay(Math.max(next, at + DAY_MS), rng);
    if (next <= at) next += DAY_MS;
    if (next >= stopAt) break;
    at = next;
  }

  // A lapsed client's last order is the lapse date itself, so "last order 60-200 days ago" holds.
  const last = client.orders[client.orders.length - 1];
  if (!oneTimer && stopAt < endMs && last && last.orderedAt < stopAt - 7 * DAY_MS) {
    const picked: { product: Product; quantity: number }[] = [];
    fillOrder(shopper, stopAt, averageOrderMinor * rng.logNormal(1, 0.35), picked, true);
    client.orders.push(finishOrder(shopper, stopAt, picked, false, endMs));
  }
  return client;
}

/** 1 USD in minor units of `currency` (rough rate). */
export function usdMinorFor(currency: string): number {
  return usdToMinor(1, currency, false);
}

