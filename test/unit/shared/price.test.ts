import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currencyExponent, formatMinor, MINOR_UNITS_NOT_TWO, parsePrice } from '#shared/money.ts';
import { formatPrice } from '#shared/templates/render.ts';

describe('parsePrice', () => {
  it('reads plain decimals into exact minor units', () => {
    expect(parsePrice('1280', 'USD')).toBe(128_000);
    expect(parsePrice('1280.5', 'USD')).toBe(128_050);
    expect(parsePrice('0.10', 'CNY')).toBe(10);
    expect(parsePrice('5000', 'JPY')).toBe(5000);
  });

  it('refuses what is not a plain price: more decimals than the currency, signs, separators, floats printed long', () => {
    for (const bad of ['12.345', '-5', '+5', '1,280.00', '1 280', '', '.5', '5.', '1e3', '0.30000000000000004', 'abc']) expect(parsePrice(bad, 'USD'), bad).toBeUndefined();
    expect(parsePrice('5000.5', 'JPY')).toBeUndefined();
  });

  it('round-trips with formatMinor, never through a float (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom('USD', 'CNY', 'IDR', 'HUF', ...MINOR_UNITS_NOT_TWO.keys()), (minor, currency) => {
        expect(parsePrice(formatMinor(minor, currency), currency)).toBe(minor);
      }),
    );
  });
});

describe('formatPrice', () => {
  it('writes the price for the email\'s language, exactly', () => {
    expect(formatPrice(128_050, 'USD', 'en')).toBe('$1,280.50');
    expect(formatPrice(128_050, 'CNY', 'zh-CN')).toBe('¥1,280.50');
    expect(formatPrice(900_719_925_474_099, 'USD', 'en')).toBe('$9,007,199,254,740.99');
  });

  it('shows the ISO minor units, never the fewer digits Intl would round to (4990.50 HUF is not "HUF 4,991")', () => {
    expect(formatPrice(499_050, 'HUF', 'en')).toBe('HUF\u00a04,990.50');
    expect(formatPrice(15_000_000, 'IDR', 'en')).toBe('IDR\u00a0150,000.00');
    // Intl puts a no-break space between a code and the amount.
    expect(formatPrice(1_234, 'IQD', 'zh-CN')).toBe('IQD\u00a01.234');
    expect(formatPrice(5_000, 'JPY', 'en')).toBe('¥5,000');
  });

  it('shows exactly the amount formatMinor writes, in every currency of the table and both languages (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom('USD', 'CNY', 'IDR', 'HUF', ...MINOR_UNITS_NOT_TWO.keys()),
        fc.constantFrom('en' as const, 'zh-CN' as const),
        (minor, currency, locale) => {
          const shown = formatPrice(minor, currency, locale);
          const number = /\d[\d,]*(?:\.\d+)?/.exec(shown)?.[0] ?? '';
          expect(number.replace(/,/g, '')).toBe(formatMinor(minor, currency));
          expect(parsePrice(number.replace(/,/g, ''), currency)).toBe(minor);
          expect(currencyExponent(currency)).toBe(number.split('.')[1]?.length ?? 0);
        },
      ),
    );
  });
});
