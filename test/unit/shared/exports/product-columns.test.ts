import { afterAll, describe, expect, it } from 'vitest';
import { csv, CUSTOMERS_CSV, readFiles, removeExportDirs } from '#test/support/export-files.ts';

afterAll(removeExportDirs);

const ORDERS_CSV = 'order_id,customer_id,ordered_at,line_total\nO1,C1,2026-11-22T10:00:00Z,10.00\n';

describe('products: url, image_url, price, currency (emails that sell)', () => {
  it('reads links and prices in exact minor units, in the row\'s currency or the brand\'s', async () => {
    const { products, result } = await readFiles({
      'products.csv': csv([
        ['sku', 'name', 'url', 'image_url', 'price', 'currency'],
        ['P1', 'Serum', 'https://shop.example.com/p/serum?ref=1', 'https://cdn.example.com/serum.jpg', '1280.50', 'cny'],
        ['P2', 'Cream', '', '', '95', ''],
        ['P3', 'Oil', '', '', '', ''],
      ]),
      'customers.csv': CUSTOMERS_CSV,
      'orders.csv': ORDERS_CSV,
    });
    expect(result.rejects).toEqual([]);
    expect(products[0]).toMatchObject({ sku: 'P1', url: 'https://shop.example.com/p/serum?ref=1', imageUrl: 'https://cdn.example.com/serum.jpg', priceMinor: 128_050, currency: 'CNY' });
    expect(products[1]).toMatchObject({ sku: 'P2', priceMinor: 9500, currency: 'USD' });
    expect(products[1]).not.toHaveProperty('url');
    expect(products[2]).not.toHaveProperty('priceMinor');
  });

  it('a bad price or currency is a listed reject (never a float, never rounded); a bad link is dropped with a warning', async () => {
    const { products, result } = await readFiles({
      'products.csv': csv([
        ['sku', 'price', 'currency', 'url', 'image_url'],
        ['P1', '12.345', '', '', ''],
        ['P2', '1,280.00', '', '', ''],
        ['P3', '10', 'DOLLARS', '', ''],
        ['P4', '', 'USD', '', ''],
        ['P5', '10', '', 'javascript:alert(1)', 'data:image/png;base64,AAAA'],
        ['P6', '-3', '', '', ''],
      ]),
      'customers.csv': CUSTOMERS_CSV,
      'orders.csv': ORDERS_CSV,
    });
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, expect.stringContaining('price')],
      [3, expect.stringContaining('price')],
      [4, expect.stringContaining('currency')],
      [5, expect.stringContaining('currency without a price')],
      [7, expect.stringContaining('price')],
    ]);
    expect(products.map((p) => p.sku)).toEqual(['P5']);
    expect(products[0]).toMatchObject({ priceMinor: 1000 });
    expect(products[0]).not.toHaveProperty('url');
    expect(result.warnings.map((w) => w.field).sort()).toEqual(['image_url', 'url']);
  });

  it('prices and line totals with the ISO 4217 decimals of currencies Intl shows without any (IDR, HUF, IQD) are read exactly', async () => {
    const { products, result } = await readFiles({
      'products.csv': csv([
        ['sku', 'name', 'price', 'currency'],
        ['P1', 'Serum', '150000.00', 'IDR'],
        ['P2', 'Cream', '4990.50', 'HUF'],
        ['P3', 'Oil', '12.345', 'IQD'],
        ['P4', 'Balm', '1280.50', 'USD'],
      ]),
      'customers.csv': CUSTOMERS_CSV,
      'orders.csv': ORDERS_CSV,
    });
    expect(result.rejects).toEqual([]);
    expect(products.map((p) => [p.sku, p.priceMinor, p.currency])).toEqual([
      ['P1', 15_000_000, 'IDR'],
      ['P2', 499_050, 'HUF'],
      ['P3', 12_345, 'IQD'],
      ['P4', 128_050, 'USD'],
    ]);
  });

  it('an IDR brand whose exports write two decimals reads every product and order (none is a reject)', async () => {
    const rows = [['sku', 'name', 'price'], ...Array.from({ length: 20 }, (_, i) => [`P${i}`, `Serum ${i}`, `${150_000 + i}.00`])];
    const { products, orders, result } = await readFiles(
      {
        'products.csv': csv(rows),
        'customers.csv': CUSTOMERS_CSV,
        'orders.csv': 'order_id,customer_id,ordered_at,line_total,currency\nO1,C1,2026-11-22T10:00:00Z,150000.50,IDR\n',
      },
      { currency: 'IDR', tiers: { vic: '800000000', core: '80000000', potential: '16000000' }, maxRejectShare: 0.05 },
    );
    expect(result.rejects).toEqual([]);
    expect(products).toHaveLength(20);
    expect(products[0]).toMatchObject({ priceMinor: 15_000_000, currency: 'IDR' });
    expect(orders.map((o) => o.lineTotalMinor)).toEqual([15_000_050]);
  });
});
