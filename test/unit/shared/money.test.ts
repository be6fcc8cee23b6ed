import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { convertMinor, currencyExponent, displayMinor, displayMinorCompact, formatMinor, MINOR_UNITS_NOT_TWO, parseAmount } from '#shared/money.ts';

describe('money', () => {
  it('knows currency precision', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('CNY')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
  });

  it('takes the minor units from ISO 4217, not from the digits Intl shows (0 for IDR, HUF, COP, IQD...)', () => {
    for (const code of 'IDR HUF COP PKR IRR LAK MMK ALL LBP SYP SOS MGA AFN KPW SLL YER'.split(' ')) expect(currencyExponent(code), code).toBe(2);
    expect(currencyExponent('IQD')).toBe(3);
    expect(currencyExponent('BHD')).toBe(3);
    expect(currencyExponent('KRW')).toBe(0);
    expect(currencyExponent('CLF')).toBe(4);
    expect(currencyExponent('XYZ')).toBe(2); // any other 3-letter code, as before
    expect(parseAmount('4990.50', 'HUF')).toBe(499_050);
    expect(parseAmount('0.50', 'IDR')).toBe(50);
    expect(parseAmount('1.234', 'IQD')).toBe(1234);
    expect(formatMinor(499_050, 'HUF')).toBe('4990.50');
    expect(displayMinor(499_050, 'HUF')).toBe('HUF 4,990.50');
    expect(displayMinor(12_345, 'CLF')).toBe('CLF 1.2345');
  });

  it('parse then format round-trips for every currency of the table (property)', () => {
    const codes = [...MINOR_UNITS_NOT_TWO.keys(), 'USD', 'IDR', 'HUF', 'IQD'];
    fc.assert(
      fc.property(fc.constantFrom(...codes), fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (currency, minor) => {
        const text = formatMinor(minor, currency);
        expect(text.split('.')[1]?.length ?? 0).toBe(currencyExponent(currency));
        expect(parseAmount(text, currency)).toBe(minor);
        expect(displayMinor(minor, currency).replace(/,/g, '')).toBe(`${currency} ${text}`);
      }),
    );
  });

  it('parses decimal strings to minor units without floats', () => {
    expect(parseAmount('50000', 'USD')).toBe(5_000_000);
    expect(parseAmount('0.1', 'USD')).toBe(10);
    expect(parseAmount('4999.99', 'USD')).toBe(499_999);
    expect(parseAmount('-12.50', 'USD')).toBe(-1250);
    expect(parseAmount('1200', 'JPY')).toBe(1200);
    expect(parseAmount(' 7.00 ', 'USD')).toBe(700);
  });

  it('rounds half to even past the currency precision', () => {
    expect(parseAmount('0.125', 'USD')).toBe(12);
    expect(parseAmount('0.135', 'USD')).toBe(14);
    expect(parseAmount('0.1251', 'USD')).toBe(13);
  });

  it('refuses what is not a plain decimal', () => {
    for (const bad of ['1,299.90', 'abc', '', '1e3', '12.3.4', '$5']) expect(parseAmount(bad, 'USD'), bad).toBeUndefined();
  });

  it('formats minor units back', () => {
    expect(formatMinor(123456, 'USD')).toBe('1234.56');
    expect(formatMinor(-5, 'USD')).toBe('-0.05');
    expect(formatMinor(1200, 'JPY')).toBe('1200');
    expect(displayMinor(123456789, 'USD')).toBe('USD 1,234,567.89');
  });

  it('converts exactly at a decimal rate', () => {
    expect(convertMinor(10_000, 'EUR', 'USD', '1.08')).toBe(10_800);
    expect(convertMinor(100_000, 'JPY', 'USD', '0.0067')).toBe(67_000);
    expect(convertMinor(1, 'CNY', 'USD', '0.5')).toBe(0); // 0.5 cent rounds half to even
    expect(convertMinor(3, 'CNY', 'USD', '0.5')).toBe(2);
  });

  it('sums the same whatever the order (integer arithmetic)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 99_999_999 }), { maxLength: 50 }), (cents) => {
        const strings = cents.map((c) => formatMinor(c, 'USD'));
        const total = strings.reduce((sum, s) => sum + (parseAmount(s, 'USD') ?? 0), 0);
        const reversed = [...strings].reverse().reduce((sum, s) => sum + (parseAmount(s, 'USD') ?? 0), 0);
        expect(total).toBe(reversed);
        expect(total).toBe(cents.reduce((a, b) => a + b, 0));
      }),
    );
  });

  it('compact amounts for charts: K, M, B with one decimal, whole units below a thousand', () => {
    expect(displayMinorCompact(0, 'USD')).toBe('USD 0');
    expect(displayMinorCompact(98_049, 'USD')).toBe('USD 980');
    expect(displayMinorCompact(123_456, 'USD')).toBe('USD 1.2K');
    expect(displayMinorCompact(100_000_000, 'USD')).toBe('USD 1M');
    expect(displayMinorCompact(99_999_000, 'USD')).toBe('USD 1M');
    expect(displayMinorCompact(-250_000_000, 'CNY')).toBe('CNY -2.5M');
    expect(displayMinorCompact(3_400_000_000_00, 'USD')).toBe('USD 3.4B');
    expect(displayMinorCompact(1500, 'JPY')).toBe('JPY 1.5K');
  });
});
