import { describe, expect, it } from 'vitest';
import { classifyExportFile, compareExportFileNames, looksLikeExportFile } from '#shared/exports/classify.ts';

describe('classifyExportFile', () => {
  it.each([
    ['customers.csv', { kind: 'customers', format: 'generic', encoding: 'csv' }],
    ['customers.jsonl.gz', { kind: 'customers', format: 'generic', encoding: 'jsonl' }],
    ['orders-0001.csv.gz', { kind: 'orders', format: 'generic', encoding: 'csv' }],
    ['orders_2026-11-23.part2.jsonl', { kind: 'orders', format: 'generic', encoding: 'jsonl' }],
    ['Products.CSV', { kind: 'products', format: 'generic', encoding: 'csv' }],
    ['customers_export.csv', { kind: 'customers', format: 'shopify', encoding: 'csv' }],
    ['customers_export_1.csv', { kind: 'customers', format: 'shopify', encoding: 'csv' }],
    ['orders_export_2.csv.gz', { kind: 'orders', format: 'shopify', encoding: 'csv' }],
    // What a browser names a second download of the same file.
    ['orders_export (1).csv', { kind: 'orders', format: 'shopify', encoding: 'csv' }],
    ['customers_export (2).csv', { kind: 'customers', format: 'shopify', encoding: 'csv' }],
    ['orders_export_1 (3).csv.gz', { kind: 'orders', format: 'shopify', encoding: 'csv' }],
    ['orders_export.jsonl', { kind: 'orders', format: 'generic', encoding: 'jsonl' }],
    // The generic names too: read as parts, never skipped silently.
    ['orders (1).csv', { kind: 'orders', format: 'generic', encoding: 'csv' }],
    ['orders 2.csv', { kind: 'orders', format: 'generic', encoding: 'csv' }],
    ['customers (1).csv', { kind: 'customers', format: 'generic', encoding: 'csv' }],
    // Firefox's second download: no space before the parenthesis.
    ['customers(1).csv', { kind: 'customers', format: 'generic', encoding: 'csv' }],
    ['orders_export(1).csv', { kind: 'orders', format: 'shopify', encoding: 'csv' }],
    ['customers-2 (3).jsonl.gz', { kind: 'customers', format: 'generic', encoding: 'jsonl' }],
  ])('%s', (name, expected) => {
    expect(classifyExportFile(name)).toEqual(expected);
  });

  it.each(['README.md', '_manifest.json', 'customers.xlsx', 'orders.json', 'ordersheet.csv', 'report.csv', 'customers.csv.zip'])(
    'is undefined for %s',
    (name) => {
      expect(classifyExportFile(name)).toBeUndefined();
    },
  );

  it('spots names that look like exports whatever their extension', () => {
    expect(looksLikeExportFile('customers.xlsx')).toBe(true);
    expect(looksLikeExportFile('orders-0001.parquet')).toBe(true);
    expect(looksLikeExportFile('products')).toBe(true);
    expect(looksLikeExportFile('orders (1).xlsx')).toBe(true);
    expect(looksLikeExportFile('orders(1).xlsx')).toBe(true);
    expect(looksLikeExportFile('README.md')).toBe(false);
    expect(looksLikeExportFile('ordersheet.csv')).toBe(false);
  });
});

describe('compareExportFileNames', () => {
  it('orders parts by their numbers and puts a name before its parts and copies', () => {
    const names = [
      'customers-10.csv',
      'customers_export (1).csv',
      'customers-2.csv',
      'customers (1).csv',
      'customers.csv',
      'customers-1.csv.gz',
      'customers_export.csv',
      'customers-002 (2).jsonl',
      'customers-0010.csv',
      'customers_export (10).csv',
      'customers_export (2).csv',
    ];
    expect([...names].sort(compareExportFileNames)).toEqual([
      'customers.csv',
      'customers (1).csv',
      'customers-1.csv.gz',
      'customers-2.csv',
      'customers-002 (2).jsonl',
      'customers-0010.csv',
      'customers-10.csv',
      'customers_export.csv',
      'customers_export (1).csv',
      'customers_export (2).csv',
      'customers_export (10).csv',
    ]);
  });

  it('compares numbers of any length, and names equal but for leading zeros or extensions as they are', () => {
    expect(compareExportFileNames('orders-99999999999999999999.csv', 'orders-100000000000000000000.csv')).toBeLessThan(0);
    expect(compareExportFileNames('orders-01.csv', 'orders-1.csv')).toBeLessThan(0);
    expect(compareExportFileNames('orders.csv', 'orders.jsonl')).toBeLessThan(0);
    expect(compareExportFileNames('orders.csv', 'orders.csv')).toBe(0);
  });
});
