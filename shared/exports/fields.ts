import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import { visibleText } from '#shared/display-text.ts';
import { MAX_ID_BYTES } from '#shared/model.ts';
import { parseAmount } from '#shared/money.ts';
import { isIsoDate, isValidTimeZone, MS_PER_DAY, parseTimestamp } from '#shared/time.ts';
import { HandlerFailure } from './errors.ts';
import type { RowContext, RowSink, RowValues } from './types.ts';

/**
 * Building blocks shared by the format modules: value cleaning, zod field schemas (built once,
 * used for every row), reject reasons and proportional allocation of order-level amounts.
 * Messages never quote the value: it may be an email or a name.
 */

/** CSV cell → trimmed value; empty means absent. */
export function cleanCsvValue(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * JSONL value → the same string form CSV gives; non-scalars are kept for the schema to refuse.
 * A number comes as the text it was written with (the reader has it): String(number) would round
 * past 2^53 and past 17 digits. One that still is a number is kept for the schema to refuse.
 */
export function cleanJsonValue(value: unknown): unknown {
  if (typeof value === 'string') return cleanCsvValue(value);
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value;
}

export const text = z.string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be text') });
export const optionalText = text.optional();

/**
 * The longest free text kept (a name, a phone, a product name, a category): a client's profile
 * item carries several, and its 50 SKUs' names, and must stay far under DynamoDB's 400 KB.
 */
export const MAX_TEXT_CHARS = 500;
/** RFC 5321's limit on an address. */
export const MAX_EMAIL_CHARS = 254;

export const longerThan = (max: number): string => `longer than ${max} characters`;

/** Whether an optional text read without zod (the fast paths) is within `max` characters: absent is. */
export function withinChars(value: string | undefined, max: number): boolean {
  return value === undefined || value.length <= max;
}

/** Whether `value` takes at most `max` bytes in UTF-8: absent does. A UTF-16 code unit takes 1 to 3 bytes, so short ids need no count. */
export function withinBytes(value: string | undefined, max: number): boolean {
  if (value === undefined || value.length * 3 <= max) return true;
  return value.length <= max && Buffer.byteLength(value, 'utf8') <= max;
}

/** A rule an optional field read without zod must meet (a length, a storable key), and the reason given when it does not. */
export interface FieldBound {
  within(value: string | undefined): boolean;
  reason: string;
}

/** An id, at most MAX_ID_BYTES (model.ts). */
export const ID_BOUND: FieldBound = { within: (value) => withinBytes(value, MAX_ID_BYTES), reason: `longer than ${MAX_ID_BYTES} bytes (UTF-8)` };
export const TEXT_BOUND: FieldBound = { within: (value) => withinChars(value, MAX_TEXT_CHARS), reason: longerThan(MAX_TEXT_CHARS) };
/**
 * Text that becomes a key of a stored map (a customer, advisor or SKU id, a category, a store)
 * cannot be "__proto__": the DynamoDB marshaller drops that key or refuses the whole item, which
 * failed the night for everyone (a profile's SKUs, the summary's per-store figures). One
 * comparison, cheap on the hot path.
 */
export const MAP_KEY: FieldBound = { within: (value) => value !== '__proto__', reason: 'a reserved name ("__proto__") that cannot be stored as a key' };

/** Past its bound a required id rejects the row, an optional one is dropped. */
export const identifier = text.refine(ID_BOUND.within, ID_BOUND.reason);
export const optionalIdentifier = identifier.optional();
/** An id that keys a stored map: a customer, an advisor, a SKU. */
export const keyIdentifier = identifier.refine(MAP_KEY.within, MAP_KEY.reason);
export const optionalKeyIdentifier = keyIdentifier.optional();
export const boundedText = text.max(MAX_TEXT_CHARS, longerThan(MAX_TEXT_CHARS));
/**
 * Free text an email or a digest may show (a name, a product name, a category): bounded as read,
 * then its visible text (display-text.ts: no control or invisible characters); absent when
 * nothing visible is left, so the base never stores a name of zero-width characters.
 */
export const optionalBoundedText = boundedText.transform(visibleText).optional();
/** Such text that keys a stored map (a category, a store): its visible text is the key, so it is what is checked. */
export const optionalKeyText = boundedText.transform(visibleText).refine(MAP_KEY.within, MAP_KEY.reason).optional();

/** An optional field dropped from a row that was kept, and why (a warning). */
export interface DroppedField {
  field: string;
  reason: string;
}

/** An optional value kept when within `bound`; past it, undefined, and the field and why added to `dropped`. */
export function keptWithin(value: string | undefined, bound: FieldBound, field: string, dropped: DroppedField[]): string | undefined {
  if (bound.within(value)) return value;
  dropped.push({ field, reason: bound.reason });
  return undefined;
}

export const email = text.max(MAX_EMAIL_CHARS, longerThan(MAX_EMAIL_CHARS)).toLowerCase().regex(z.regexes.html5Email, 'invalid email');

const BOOLEANS = new Map<string, boolean>([
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
  ['yes', true],
  ['no', false],
]);

/** true/false/1/0/yes/no in any case. */
export const flag = text.transform((value, ctx) => {
  const parsed = BOOLEANS.get(value.toLowerCase());
  if (parsed === undefined) {
    ctx.issues.push({ code: 'custom', message: 'must be true/false, 1/0 or yes/no', input: value });
    return z.NEVER;
  }
  return parsed;
});

/** Bounds of a believable instant, with the reasons given outside them. */
export interface InstantRange {
  earliest: number;
  latest: number;
  tooEarly: string;
  tooLate: string;
}

/**
 * An ISO 8601 timestamp as epoch ms, within `range` when given (one without an offset is read
 * in `timeZone`), or the reason it is refused.
 */
export function instantOf(value: string, timeZone: string, range?: InstantRange): number | { problem: string } {
  const instant = parseTimestamp(value, timeZone);
  if (instant === undefined) return { problem: 'invalid timestamp (expected ISO 8601)' };
  if (range !== undefined && (instant < range.earliest || instant > range.latest)) {
    return { problem: instant < range.earliest ? range.tooEarly : range.tooLate };
  }
  return instant;
}

/** An ISO 8601 timestamp; one without an offset is read in `timeZone`. Epoch ms, within `range` when given. */
export function timestamp(timeZone: string, range?: InstantRange) {
  return text.transform((value, ctx) => {
    const instant = instantOf(value, timeZone, range);
    if (typeof instant !== 'number') {
      ctx.issues.push({ code: 'custom', message: instant.problem, input: value });
      return z.NEVER;
    }
    return instant;
  });
}

/** 1970-01-01T00:00Z: nothing the brand sold or anyone signed up for happened before. */
export const EPOCH = 0;

/**
 * How far past the run's clock an order (or a sign-up) may be: an export dropped at 04:00 holds
 * the first hours of the next day, which the aggregator leaves to the next night. Anything later
 * is a wrong date, not an early one.
 */
export const FUTURE_TOLERANCE_MS = MS_PER_DAY;

/** ordered_at / Created at: from 1970 to a day after the run's clock. */
export function orderTimeRange(now: number): InstantRange {
  return {
    earliest: EPOCH,
    latest: now + FUTURE_TOLERANCE_MS,
    tooEarly: 'before 1970-01-01',
    tooLate: "more than a day after the run's clock",
  };
}

/** signed_up_at: from 1970 to a day after the run's clock (later sign-ups belong to a later night). */
export function signUpRange(now: number): InstantRange {
  return { earliest: EPOCH, latest: now + FUTURE_TOLERANCE_MS, tooEarly: 'before 1970-01-01', tooLate: 'in the future' };
}

const INTEGER_RE = /^\d+$/;

/** A whole number greater than zero, written without sign or decimals; undefined otherwise. */
export function positiveWholeNumber(value: string): number | undefined {
  const parsed = INTEGER_RE.test(value) ? Number(value) : Number.NaN;
  return parsed > 0 && Number.isSafeInteger(parsed) ? parsed : undefined;
}

/**
 * The most units one order line may count. A client buys a jar, a few, a few dozen as gifts; ten
 * thousand is already a shop's order. More is a wholesale line, or another column's value (a price,
 * an id) in the quantity column: its money is no client's purchase either, and the units would
 * stretch a use-up cycle decades long (or past year 9999). Such a line is a reject, listed with its
 * file, line and column, in both formats (generic: not the 1 a quantity that is no number becomes).
 */
export const MAX_LINE_QUANTITY = 10_000;

/** The longest use-up cycle of one unit, in days: ten years. More is no cycle in days (grams, millilitres, a price). */
export const MAX_REPLENISH_DAYS = 3650;

/** A positive whole number (positiveWholeNumber) of at most `max`; undefined otherwise, above it too. The fast paths' reading of positiveIntegerUpTo. */
export function positiveWholeNumberUpTo(value: string, max: number): number | undefined {
  const parsed = positiveWholeNumber(value);
  return parsed !== undefined && parsed <= max ? parsed : undefined;
}

/** An issue that rejects its row even in a field whose invalid value is otherwise dropped with a warning (schemaSink). */
const REJECTS_ROW = { rejectsRow: true } as const;

function rejectsRow(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'custom' && issue.params?.rejectsRow === true;
}

/**
 * A positive whole number of at most `max`. One written as a larger whole number (of any length)
 * gets the message `above`; with `rejectsRowWhenAbove`, it rejects the row even in an optional field.
 */
export function positiveIntegerUpTo(max: number, above: string, options: { rejectsRowWhenAbove?: boolean } = {}) {
  return text.transform((value, ctx) => {
    const parsed = positiveWholeNumber(value);
    if (parsed !== undefined && parsed <= max) return parsed;
    // Past 2^53 positiveWholeNumber gives up; the digits still say how large the number is.
    if (INTEGER_RE.test(value) && Number(value) > max) {
      ctx.issues.push({ code: 'custom', message: above, input: value, ...(options.rejectsRowWhenAbove === true ? { params: REJECTS_ROW } : {}) });
    } else {
      ctx.issues.push({ code: 'custom', message: 'must be a positive whole number', input: value });
    }
    return z.NEVER;
  });
}

/** An order line's units: `quantity`, Shopify's `Lineitem quantity`. Above MAX_LINE_QUANTITY the line is a reject. */
export const lineQuantity = positiveIntegerUpTo(MAX_LINE_QUANTITY, `more than ${MAX_LINE_QUANTITY} units: not a client's purchase (a wholesale line, or another column's value?)`, {
  rejectsRowWhenAbove: true,
});

/** A product's `replenish_days`: above MAX_REPLENISH_DAYS dropped with a warning, as 0 is (the product then has no catalogue cycle). */
export const replenishDays = positiveIntegerUpTo(MAX_REPLENISH_DAYS, `more than ${MAX_REPLENISH_DAYS} days (ten years): not a use-up cycle in days`);

const CURRENCY_CODE_RE = /^[A-Z]{3}$/;

/** A currency code in any case, written in capitals; undefined when it is not three letters. */
export function currencyCodeOf(value: string): string | undefined {
  const upper = value.toUpperCase();
  return CURRENCY_CODE_RE.test(upper) ? upper : undefined;
}

export const currencyCode = text.toUpperCase().regex(CURRENCY_CODE_RE, 'must be a 3-letter currency code');

export const timeZoneName = text.refine(isValidTimeZone, 'unknown time zone (expected an IANA name such as Asia/Shanghai)');

const LOCALE_RE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/;
const UNDERSCORES = /_/g;

/** A BCP 47 tag; zh_CN is accepted and written zh-CN. */
export const locale = text
  .regex(LOCALE_RE, 'invalid locale (expected a BCP 47 tag such as en-US)')
  .transform((value) => (value.includes('_') ? value.replace(UNDERSCORES, '-') : value));

const MONTH_DAY_RE = /^(\d{2})-(\d{2})$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A month only, when the platform knows no day: "YYYY-MM" or "--MM" (ISO 8601); the birthday campaign counts from the 1st. */
const MONTH_ONLY_RE = /^(?:\d{4}|-)-(0[1-9]|1[0-2])$/;

function isBirthday(value: string): boolean {
  if (value.length === 10) return isIsoDate(value);
  if (MONTH_ONLY_RE.test(value)) return value.startsWith('-') || value.slice(0, 4) >= EARLIEST_BIRTHDAY.slice(0, 4);
  const m = MONTH_DAY_RE.exec(value);
  if (!m) return false;
  const month = Number(m[1]);
  const day = Number(m[2]);
  return month >= 1 && month <= 12 && day >= 1 && day <= (DAYS_IN_MONTH[month - 1] ?? 0);
}

const EARLIEST_BIRTHDAY = '1900-01-01';

/**
 * YYYY-MM-DD from 1900-01-01 to `latestDate` (the run date: nobody is born tomorrow), MM-DD, or
 * a month only (YYYY-MM, --MM). ISO dates compare as strings.
 */
export function birthday(latestDate: string) {
  return text.superRefine((value, ctx) => {
    if (!isBirthday(value)) {
      ctx.addIssue({ code: 'custom', message: 'invalid birthday (expected YYYY-MM-DD, MM-DD, or a month: YYYY-MM or --MM)' });
    } else if (value.length === 7 && value > latestDate.slice(0, 7)) {
      ctx.addIssue({ code: 'custom', message: 'in the future' });
    } else if (value.length === 10 && (value < EARLIEST_BIRTHDAY || value > latestDate)) {
      ctx.addIssue({ code: 'custom', message: value < EARLIEST_BIRTHDAY ? 'before 1900-01-01' : 'in the future' });
    }
  });
}

/** Units of the brand currency per unit of `currency`; undefined when no rate is configured. */
export function rateFor(config: Config, currency: string): string | undefined {
  return currency === config.currency ? '1' : config.exchangeRates[currency];
}

/** The code comes from the file, so the reason does not quote it. */
export const NO_RATE = 'no exchange rate configured for this currency (see exchangeRates in the config)';

/** exports.maxLineTotal in minor units of the brand currency. */
export function maxLineTotalMinor(config: Config): number {
  // The schema allows any decimal; one past 2^53 minor units bounds nothing, so the bound is 2^53.
  return parseAmount(config.exports.maxLineTotal, config.currency) ?? Number.MAX_SAFE_INTEGER;
}

export const ABOVE_MAX_LINE_TOTAL = 'above exports.maxLineTotal, the largest believable line total';

/** "field: problem; field: problem" from a failed parse (at most three problems). */
export function reasonOf(error: z.ZodError): string {
  return reasonOfIssues(error.issues);
}

function reasonOfIssues(issues: readonly z.core.$ZodIssue[]): string {
  const parts: string[] = [];
  for (const issue of issues) {
    const field = fieldOf(issue);
    parts.push(field === '' ? issue.message : `${field}: ${issue.message}`);
    if (parts.length === 3) break;
  }
  return parts.join('; ');
}

/**
 * Splits `total` (minor units, >= 0) over lines in proportion to `weights` (>= 0), by largest
 * remainder: the shares are whole and sum exactly to `total`. Ties go to the earlier line.
 * All zero weights: nothing can be allocated, every share is 0.
 */
export function allocateProportionally(total: number, weights: readonly number[]): number[] {
  const shares = new Array<number>(weights.length).fill(0);
  let sum = 0;
  for (const weight of weights) sum += weight;
  if (total === 0 || sum === 0) return shares;
  if (weights.length === 1) {
    shares[0] = total;
    return shares;
  }
  // Exact in doubles while total * weight stays a safe integer; BigInt beyond (rare: huge orders).
  const safe = total * sum <= Number.MAX_SAFE_INTEGER;
  const remainders = new Array<number | bigint>(weights.length);
  let allocated = 0;
  for (let i = 0; i < weights.length; i++) {
    const weight = weights[i] as number;
    if (safe) {
      const product = total * weight;
      let share = Math.floor(product / sum);
      if (share * sum > product) share -= 1; // the division may round up to the next integer
      shares[i] = share;
      remainders[i] = product - share * sum;
    } else {
      const product = BigInt(total) * BigInt(weight);
      const share = product / BigInt(sum);
      shares[i] = Number(share);
      remainders[i] = product - share * BigInt(sum);
    }
    allocated += shares[i] as number;
  }
  let left = total - allocated;
  if (left > 0) {
    const order = weights.map((_, i) => i);
    order.sort((a, b) => {
      const ra = remainders[a] as number | bigint;
      const rb = remainders[b] as number | bigint;
      return ra === rb ? a - b : ra > rb ? -1 : 1;
    });
    for (let k = 0; left > 0; k++, left--) {
      const i = order[k % order.length] as number;
      shares[i] = (shares[i] as number) + 1;
    }
  }
  return shares;
}

const NO_OPTIONAL_FIELDS: ReadonlySet<string> = new Set();

/**
 * A sink that validates each row with `schema` and hands the result to `emit`, or rejects it.
 * An invalid field named in `optionalFields` is dropped with a warning and the row parsed again
 * without it (rows that parse the first time, nearly all, cost nothing more); a problem with
 * any other field rejects the row.
 */
export function schemaSink<T>(
  schema: z.ZodType<T>,
  context: RowContext,
  emit: (value: T, line: number) => void,
  optionalFields: ReadonlySet<string> = NO_OPTIONAL_FIELDS,
): RowSink {
  return {
    row(values, line) {
      let result = schema.safeParse(values);
      let dropped: z.core.$ZodIssue[] | undefined;
      if (!result.success) {
        const fatal = result.error.issues.filter((issue) => !optionalFields.has(fieldOf(issue)) || rejectsRow(issue));
        if (fatal.length > 0) {
          context.reject(line, reasonOfIssues(fatal));
          return;
        }
        dropped = result.error.issues;
        for (const issue of dropped) values[fieldOf(issue)] = undefined;
        // Object-level rules (amounts, currency) run only once every field parses.
        result = schema.safeParse(values);
        if (!result.success) {
          context.reject(line, reasonOf(result.error));
          return;
        }
      }
      if (dropped !== undefined) {
        let previous = '';
        for (const issue of dropped) {
          const field = fieldOf(issue);
          if (field !== previous) context.warn(line, field, issue.message);
          previous = field;
        }
      }
      try {
        emit(result.data, line);
      } catch (error) {
        throw new HandlerFailure(error);
      }
    },
    end() {},
  };
}

/**
 * A sink that reads each row with `fast` and hands the result to `emit`; a row `fast` cannot
 * read (it returns undefined: invalid, or a shape it does not handle) goes to `fallback`, the
 * schema sink, which reads it the one authoritative way (and rejects or warns with its reasons).
 * `fast` must give, for every row it reads, what the schema gives.
 */
export function fastPathSink<T>(fast: (values: RowValues) => T | undefined, fallback: RowSink, emit: (value: T, line: number) => void): RowSink {
  return {
    row(values, line) {
      const value = fast(values);
      if (value === undefined) {
        fallback.row(values, line);
        return;
      }
      try {
        emit(value, line);
      } catch (error) {
        throw new HandlerFailure(error);
      }
    },
    end() {
      fallback.end();
    },
  };
}

function fieldOf(issue: z.core.$ZodIssue): string {
  return issue.path.length > 0 ? String(issue.path[0]) : '';
}
