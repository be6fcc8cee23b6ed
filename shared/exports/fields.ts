import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import { isIsoDate, isValidTimeZone, parseTimestamp } from '#shared/time.ts';
import { HandlerFailure } from './errors.ts';
import type { RowContext, RowSink } from './types.ts';

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

/** JSONL value → the same string form CSV gives; non-scalars are kept for the schema to refuse. */
export function cleanJsonValue(value: unknown): unknown {
  if (typeof value === 'string') return cleanCsvValue(value);
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value;
}

export const text = z.string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be text') });
export const optionalText = text.optional();

export const email = text.toLowerCase().regex(z.regexes.html5Email, 'invalid email');

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

/** An ISO 8601 timestamp; one without an offset is read in `timeZone`. Epoch ms. */
export function timestamp(timeZone: string) {
  return text.transform((value, ctx) => {
    const instant = parseTimestamp(value, timeZone);
    if (instant === undefined) {
      ctx.issues.push({ code: 'custom', message: 'invalid timestamp (expected ISO 8601)', input: value });
      return z.NEVER;
    }
    return instant;
  });
}

const INTEGER_RE = /^\d+$/;

/** A whole number greater than zero, written without sign or decimals. */
export const positiveInteger = text.transform((value, ctx) => {
  const parsed = INTEGER_RE.test(value) ? Number(value) : Number.NaN;
  if (!(parsed > 0) || !Number.isSafeInteger(parsed)) {
    ctx.issues.push({ code: 'custom', message: 'must be a positive whole number', input: value });
    return z.NEVER;
  }
  return parsed;
});

export const currencyCode = text.toUpperCase().regex(/^[A-Z]{3}$/, 'must be a 3-letter currency code');

export const timeZoneName = text.refine(isValidTimeZone, 'unknown time zone (expected an IANA name such as Asia/Shanghai)');

const LOCALE_RE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/;
const UNDERSCORES = /_/g;

/** A BCP 47 tag; zh_CN is accepted and written zh-CN. */
export const locale = text
  .regex(LOCALE_RE, 'invalid locale (expected a BCP 47 tag such as en-US)')
  .transform((value) => (value.includes('_') ? value.replace(UNDERSCORES, '-') : value));

const MONTH_DAY_RE = /^(\d{2})-(\d{2})$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isBirthday(value: string): boolean {
  if (value.length === 10) return isIsoDate(value);
  const m = MONTH_DAY_RE.exec(value);
  if (!m) return false;
  const month = Number(m[1]);
  const day = Number(m[2]);
  return month >= 1 && month <= 12 && day >= 1 && day <= (DAYS_IN_MONTH[month - 1] ?? 0);
}

export const birthday = text.refine(isBirthday, 'invalid birthday (expected YYYY-MM-DD or MM-DD)');

/** Units of the brand currency per unit of `currency`; undefined when no rate is configured. */
export function rateFor(config: Config, currency: string): string | undefined {
  return currency === config.currency ? '1' : config.exchangeRates[currency];
}

/** "field: problem; field: problem" from a failed parse (at most three problems). */
export function reasonOf(error: z.ZodError): string {
  const parts: string[] = [];
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : '';
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

/** A sink that validates each row with `schema` and hands the result to `emit`, or rejects it. */
export function schemaSink<T>(schema: z.ZodType<T>, context: RowContext, emit: (value: T) => void): RowSink {
  return {
    row(values, line) {
      const result = schema.safeParse(values);
      if (!result.success) {
        context.reject(line, reasonOf(result.error));
        return;
      }
      try {
        emit(result.data);
      } catch (error) {
        throw new HandlerFailure(error);
      }
    },
    end() {},
  };
}
