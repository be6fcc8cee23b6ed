import { ClienteleError } from './errors.ts';

/**
 * Money as integer minor units (cents, fen...). Amounts arrive as decimal strings and are never
 * turned into binary floats before being summed.
 */

/**
 * a + b for minor units, refusing a result that is not a safe integer (past 2^53 doubles skip
 * integers, and a total would be silently wrong). `what` names the sum in the error, e.g.
 * "an order's net"; it must not carry values from an export.
 */
export function addMinor(a: number, b: number, what: string): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) throw new AmountOverflowError(what);
  return sum;
}

export class AmountOverflowError extends ClienteleError {
  override name = 'AmountOverflowError';
  constructor(what: string) {
    super(
      'AMOUNT_OVERFLOW',
      `${what} is beyond ${Number.MAX_SAFE_INTEGER} minor units, past which sums are no longer exact; ` +
        'some amounts in the export are not believable (see exports.maxLineTotal)',
    );
  }
}

/**
 * ISO 4217 minor units of the currencies whose exponent is not 2 (List One as of 2025).
 * A fixed table rather than Intl: Intl gives the digits a currency is usually shown with
 * (CLDR), which are 0 for IDR, HUF, COP, PKR... whose ISO minor unit is 2 (and IQD's is 3),
 * so "4990.50" HUF would lose its half forint. Any other code, listed or not, has 2.
 */
export const MINOR_UNITS_NOT_TWO: ReadonlyMap<string, number> = new Map([
  ...'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'.split(' ').map((code) => [code, 0] as const),
  ...'BHD IQD JOD KWD LYD OMR TND'.split(' ').map((code) => [code, 3] as const),
  ...'CLF UYW'.split(' ').map((code) => [code, 4] as const),
]);

/** Number of minor-unit digits of an ISO 4217 currency (2 for USD/CNY/IDR, 0 for JPY, 3 for BHD). */
export function currencyExponent(currency: string): number {
  return MINOR_UNITS_NOT_TWO.get(currency) ?? 2;
}

const AMOUNT_RE = /^([+-])?(\d+)(?:\.(\d*))?$/;

/**
 * Parses a decimal string ("1,299.90" is refused: exports use plain decimals) into minor
 * units of `currency`, rounding half-even past the currency's precision. Undefined if invalid.
 */
export function parseAmount(value: string, currency: string): number | undefined {
  return parsePlainAmount(value, currency) ?? parseAmountByPattern(value, currency);
}

const PLAIN_DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;

/**
 * A price as an export writes it ("1280", "1280.5", "1280.50") in exact minor units of `currency`:
 * unsigned, no separators, at most the currency's decimals (a price is never rounded: "12.345" USD
 * is refused, as is a JSON float that printed as "0.30000000000000004"). Undefined if invalid.
 */
export function parsePrice(value: string, currency: string): number | undefined {
  const m = PLAIN_DECIMAL_RE.exec(value);
  if (!m) return undefined;
  if ((m[2] ?? '').length > currencyExponent(currency)) return undefined;
  return parseAmount(value, currency);
}

/** parseAmount's general reading, by pattern; exported for the test that holds its fast path to it. */
export function parseAmountByPattern(value: string, currency: string): number | undefined {
  const m = AMOUNT_RE.exec(value.trim());
  if (!m) return undefined;
  const exponent = currencyExponent(currency);
  const whole = m[2] ?? '0';
  const fraction = m[3] ?? '';
  const kept = fraction.slice(0, exponent).padEnd(exponent, '0');
  let minor = BigInt(whole + kept);
  const rest = fraction.slice(exponent);
  if (rest.length > 0 && /[1-9]/.test(rest)) {
    const firstDropped = Number(rest[0]);
    const tieOrAbove = firstDropped > 5 || (firstDropped === 5 && /[1-9]/.test(rest.slice(1)));
    const exactTie = firstDropped === 5 && !/[1-9]/.test(rest.slice(1));
    if (tieOrAbove || (exactTie && minor % 2n === 1n)) minor += 1n;
  }
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const result = Number(minor);
  return m[1] === '-' ? -result : result;
}

/** Digits that make an integer below 2^53 whatever they are. */
const SAFE_DIGITS = 15;

/**
 * The common case of parseAmount without a regular expression or BigInt: unsigned digits, at
 * most the currency's decimals, at most SAFE_DIGITS digits once in minor units (so no rounding
 * and no overflow). Undefined for anything else, valid or not: parseAmount reads it the general way.
 */
function parsePlainAmount(value: string, currency: string): number | undefined {
  const length = value.length;
  let minor = 0;
  let point = -1;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code === 46 && point === -1 && i > 0) point = i;
    else if (code >= 48 && code <= 57) minor = minor * 10 + (code - 48);
    else return undefined;
  }
  if (length === 0) return undefined;
  const decimals = point === -1 ? 0 : length - point - 1;
  const exponent = currencyExponent(currency);
  if (decimals > exponent || length - (point === -1 ? 0 : 1) + exponent - decimals > SAFE_DIGITS) return undefined;
  return minor * 10 ** (exponent - decimals);
}

/** Minor units of `currency` to a decimal string ("123456" USD → "1234.56"). */
export function formatMinor(minor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = minor < 0;
  const digits = Math.abs(minor).toString().padStart(exponent + 1, '0');
  const text = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return negative ? `-${text}` : text;
}

/** Minor units with thousands separators and currency code, for people ("USD 1,234.56"). */
export function displayMinor(minor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const [whole, fraction] = formatMinor(minor, currency).split('.');
  const grouped = (whole ?? '0').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${currency} ${exponent === 0 ? grouped : `${grouped}.${fraction ?? ''}`}`;
}

/**
 * Converts minor units of `from` into minor units of `to` at `rate` (units of `to` per unit of
 * `from`, a decimal string), rounding half-even. Exact: done in BigInt.
 */
export function convertMinor(minor: number, from: string, to: string, rate: string): number {
  if (from === to) return minor;
  const m = /^(\d+)(?:\.(\d+))?$/.exec(rate);
  if (!m) throw new RangeError(`Invalid exchange rate ${rate}`);
  const rateScale = (m[2] ?? '').length;
  const rateInt = BigInt((m[1] ?? '0') + (m[2] ?? ''));
  const expFrom = currencyExponent(from);
  const expTo = currencyExponent(to);
  // result = minor / 10^expFrom * rateInt / 10^rateScale * 10^expTo
  let numerator = BigInt(minor) * rateInt * 10n ** BigInt(expTo);
  const denominator = 10n ** BigInt(expFrom + rateScale);
  const negative = numerator < 0n;
  if (negative) numerator = -numerator;
  let quotient = numerator / denominator;
  const remainder = numerator % denominator;
  const twice = remainder * 2n;
  if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) quotient += 1n;
  return Number(negative ? -quotient : quotient);
}

/**
 * Minor units as a short amount for charts and headlines ("USD 1.2M", "CNY 45.3K", "USD 980"):
 * rounded for reading only; tables and emails that need the exact figure use displayMinor.
 */
export function displayMinorCompact(minor: number, currency: string): string {
  const units = minor / 10 ** currencyExponent(currency);
  const magnitude = Math.abs(units);
  const sign = units < 0 ? '-' : '';
  const steps: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, suffix] of steps) {
    // 999,950 rounds to "1000.0K": show it as the next step instead.
    if (magnitude >= size * 0.99995) {
      const scaled = (magnitude / size).toFixed(1).replace(/\.0$/, '');
      return `${currency} ${sign}${scaled}${suffix}`;
    }
  }
  return `${currency} ${sign}${Math.round(magnitude)}`;
}
