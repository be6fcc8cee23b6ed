import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMinor, parsePrice } from '#shared/money.ts';
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
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom('USD', 'CNY', 'JPY', 'BHD'), (minor, currency) => {
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
});
