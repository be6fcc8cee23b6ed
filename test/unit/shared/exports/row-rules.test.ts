import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_EMAIL_CHARS, MAX_TEXT_CHARS } from '#shared/exports/fields.ts';
import { MAX_KEPT_WARNINGS, topLevelShape } from '#shared/exports/reader.ts';
import { MAX_ID_BYTES } from '#shared/model.ts';
import { MS_PER_DAY } from '#shared/time.ts';
import { csv, CUSTOMERS, failure, NOW, ORDER_HEADER, orders, read, removeExportDirs } from './reading.ts';

afterAll(removeExportDirs);

/** Row rules: never destroy what we know, never quote what a file holds. */

const tolerant = { config: { maxRejectShare: 1 } };
const iso = (instant: number) => new Date(instant).toISOString();

describe('an invalid optional field is dropped with a warning, not the row', () => {
  it('keeps the customer and says which field was dropped, where and why', async () => {
    const { customers, result } = await read({
      'customers.csv': csv([
        ['customer_id', 'email', 'locale', 'time_zone', 'signed_up_at', 'accepts_marketing', 'birthday', 'phone'],
        ['C1', 'not-an-email@', 'zh_CN', 'Mars/Olympus', '2026-01-05', 'maybe', '1990-02-30', '+86 1'],
        ['C2', 'c2@example.com', 'not a locale', '', 'yesterday', 'yes', '', ''],
        // A missing id still rejects the row; its bad email then warns of nothing.
        ['', 'bad@@', '', '', '', '', '', ''],
      ]),
      'orders.csv': orders(1),
    }, tolerant);
    expect(customers).toEqual([
      expect.objectContaining({ customerId: 'C1', email: undefined, locale: 'zh-CN', timeZone: undefined, signedUpAt: Date.UTC(2026, 0, 4, 16), acceptsMarketing: undefined, birthday: undefined, phone: '+86 1' }),
      expect.objectContaining({ customerId: 'C2', email: 'c2@example.com', locale: undefined, signedUpAt: undefined, acceptsMarketing: true }),
    ]);
    expect(result.warnings).toEqual([
      { file: expect.stringMatching(/customers\.csv$/), line: 2, field: 'email', reason: 'invalid email' },
      { file: expect.stringMatching(/customers\.csv$/), line: 2, field: 'time_zone', reason: 'unknown time zone (expected an IANA name such as Asia/Shanghai)' },
      { file: expect.stringMatching(/customers\.csv$/), line: 2, field: 'accepts_marketing', reason: 'must be true/false, 1/0 or yes/no' },
      { file: expect.stringMatching(/customers\.csv$/), line: 2, field: 'birthday', reason: 'invalid birthday (expected YYYY-MM-DD, MM-DD, or a month: YYYY-MM or --MM)' },
      { file: expect.stringMatching(/customers\.csv$/), line: 3, field: 'locale', reason: 'invalid locale (expected a BCP 47 tag such as en-US)' },
      { file: expect.stringMatching(/customers\.csv$/), line: 3, field: 'signed_up_at', reason: 'invalid timestamp (expected ISO 8601)' },
    ]);
    expect(result.rejects).toEqual([expect.objectContaining({ line: 4, reason: 'customer_id: required' })]);
    expect(result.files.map((f) => [f.rows, f.rejected, f.warnings])).toEqual([
      [3, 1, 6],
      [1, 0, 0],
    ]);
    expect(result.warned).toBe(6);
  });

  it('keeps an order line with a bad quantity as quantity 1, and bad product fields dropped', async () => {
    const { orders: lines, products, result } = await read({
      'customers.csv': CUSTOMERS,
      'products.jsonl': '{"sku":"P1","name":["x"],"replenish_days":"-3","season":{"a":1}}\n',
      'orders.jsonl': '{"order_id":"O1","customer_id":"C1","ordered_at":"2026-11-22T10:00:00Z","line_total":"5","quantity":"2.5","sku":["P1"]}\n',
    });
    expect(lines).toEqual([expect.objectContaining({ orderId: 'O1', quantity: 1, sku: undefined, lineTotalMinor: 500 })]);
    expect(products).toEqual([{ sku: 'P1', name: undefined, category: undefined, replenishDays: undefined, season: undefined }]);
    expect(result.warnings.map((w) => [w.file.split('/').pop(), w.field])).toEqual([
      ['products.jsonl', 'name'],
      ['products.jsonl', 'replenish_days'],
      ['products.jsonl', 'season'],
      ['orders.jsonl', 'sku'],
      ['orders.jsonl', 'quantity'],
    ]);
    expect(result.rejected).toBe(0);
  });

  it('drops invalid Shopify customer fields too, keeping the id', async () => {
    const { customers, result } = await read({
      'customers_export.csv': 'Customer ID,Email,Accepts Email Marketing\n1,nope@,perhaps\n',
      'orders_export.csv':
        'Name,Email,Financial Status,Subtotal,Created at,Lineitem quantity,Lineitem price\n#1,a@example.com,paid,1.00,2026-11-22 10:00:00 +0800,1,1.00\n',
    });
    expect(customers).toEqual([expect.objectContaining({ customerId: '1', email: undefined, acceptsMarketing: undefined })]);
    expect(result.warnings.map((w) => w.field)).toEqual(['Email', 'Accepts Email Marketing']);
  });

  it('bounds what it keeps: an over-long optional text or id is dropped, an over-long required id rejects the row', async () => {
    const longText = 'Z'.repeat(MAX_TEXT_CHARS + 1);
    const longId = '9'.repeat(MAX_ID_BYTES + 1);
    const { customers, orders: lines, result } = await read(
      {
        'customers.csv': csv([
          ['customer_id', 'email', 'first_name', 'last_name', 'phone', 'advisor_id'],
          ['C1', `${'a'.repeat(MAX_EMAIL_CHARS)}@x.com`, longText, 'Lee', longText, longId],
          ['C2', 'c2@example.com', 'Z'.repeat(MAX_TEXT_CHARS), '', '', ''],
          [longId, '', '', '', '', ''],
        ]),
        'orders.csv': csv([
          ['order_id', 'customer_id', 'ordered_at', 'line_total', 'sku', 'product_name', 'category'],
          ['O1', 'C1', '2026-11-22T10:00:00Z', '10.00', longId, longText, longText],
          [longId, 'C1', '2026-11-22T10:00:00Z', '10.00', '', '', ''],
          ['O3', 'C2', '2026-11-22T10:00:00Z', '10.00', 'SK-1', 'Serum', 'skincare'],
        ]),
      },
      tolerant,
    );
    expect(customers).toEqual([
      expect.objectContaining({ customerId: 'C1', email: undefined, firstName: undefined, lastName: 'Lee', phone: undefined, advisorId: undefined }),
      expect.objectContaining({ customerId: 'C2', firstName: 'Z'.repeat(MAX_TEXT_CHARS) }),
    ]);
    expect(lines).toEqual([
      expect.objectContaining({ orderId: 'O1', sku: undefined, productName: undefined, category: undefined, lineTotalMinor: 1000 }),
      expect.objectContaining({ orderId: 'O3', sku: 'SK-1', productName: 'Serum', category: 'skincare' }),
    ]);
    expect(result.warnings.map((w) => [w.line, w.field, w.reason])).toEqual([
      [2, 'email', `longer than ${MAX_EMAIL_CHARS} characters`],
      [2, 'first_name', `longer than ${MAX_TEXT_CHARS} characters`],
      [2, 'phone', `longer than ${MAX_TEXT_CHARS} characters`],
      [2, 'advisor_id', `longer than ${MAX_ID_BYTES} bytes (UTF-8)`],
      [2, 'sku', `longer than ${MAX_ID_BYTES} bytes (UTF-8)`],
      [2, 'product_name', `longer than ${MAX_TEXT_CHARS} characters`],
      [2, 'category', `longer than ${MAX_TEXT_CHARS} characters`],
    ]);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [4, `customer_id: longer than ${MAX_ID_BYTES} bytes (UTF-8)`],
      [3, `order_id: longer than ${MAX_ID_BYTES} bytes (UTF-8)`],
    ]);
  });

  it('bounds ids in UTF-8 bytes: 100 Chinese characters (300 bytes) are past the bound, 85 (255) within', async () => {
    const within = '客'.repeat(85);
    const past = '客'.repeat(100);
    const { customers, orders: lines, result } = await read(
      {
        'customers.csv': csv([
          ['customer_id', 'advisor_id'],
          [within, past],
          [past, ''],
        ]),
        'orders.csv': csv([
          ['order_id', 'customer_id', 'ordered_at', 'line_total', 'sku'],
          [within, within, '2026-11-22T10:00:00Z', '10.00', past],
          [past, within, '2026-11-22T10:00:00Z', '10.00', ''],
        ]),
      },
      tolerant,
    );
    expect(customers).toEqual([expect.objectContaining({ customerId: within, advisorId: undefined })]);
    expect(lines).toEqual([expect.objectContaining({ orderId: within, customerId: within, sku: undefined })]);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, `customer_id: longer than ${MAX_ID_BYTES} bytes (UTF-8)`],
      [3, `order_id: longer than ${MAX_ID_BYTES} bytes (UTF-8)`],
    ]);
    expect(result.warnings.map((w) => [w.line, w.field])).toEqual([
      [2, 'advisor_id'],
      [2, 'sku'],
    ]);
  });

  it('bounds Shopify fields the same way, the advisor tag included', async () => {
    const { customers, orders: lines, result } = await read({
      'customers_export.csv': `Customer ID,First Name,Tags\n1,${'Z'.repeat(MAX_TEXT_CHARS + 1)},"vip, advisor:${'A'.repeat(MAX_ID_BYTES + 1)}"\n`,
      'orders_export.csv':
        'Name,Email,Financial Status,Subtotal,Created at,Lineitem quantity,Lineitem price,Lineitem name\n' +
        `#1,a@example.com,paid,1.00,2026-11-22 10:00:00 +0800,1,1.00,${'Z'.repeat(MAX_TEXT_CHARS + 1)}\n`,
    });
    expect(customers).toEqual([expect.objectContaining({ customerId: '1', firstName: undefined, advisorId: undefined })]);
    expect(lines).toEqual([expect.objectContaining({ orderId: '#1', productName: undefined, lineTotalMinor: 100 })]);
    expect(result.warnings.map((w) => w.field)).toEqual(['First Name', 'Tags', 'Lineitem name']);
  });

  it('rejects a JSONL object that gives a field twice (JSON.parse would keep the last), and counts members right whatever the values hold', async () => {
    const { customers, result } = await read(
      {
        'customers.jsonl': [
          '{"customer_id":"C1","accepts_marketing":"false","accepts_marketing":"true"}',
          '{"customer_id":"C2","email":"c2@example.com","note":{"a":1,"b":[1,{"c":":"}]},"x":"q\\":\\"z","y":"\\\\"}',
        ].join('\n') + '\n',
        'orders.csv': orders(1),
      },
      tolerant,
    );
    expect(customers.map((c) => c.customerId)).toEqual(['C2']);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([[1, 'a field appears more than once in the object']]);
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), (object, twice) => {
        const text = JSON.stringify(object);
        expect(topLevelShape(text).members).toBe(Object.keys(object).length);
        const repeated = `{${JSON.stringify(twice)}:1,${JSON.stringify(twice)}:2${text === '{}' ? '' : `,${text.slice(1, -1)}`}}`;
        expect(topLevelShape(repeated).members).toBe(Object.keys(object).length + 2);
        expect(topLevelShape(repeated).members).toBeGreaterThan(Object.keys(JSON.parse(repeated) as object).length);
      }),
    );
  });

  it('finds each top-level number of a JSONL object as written, whatever its name and the other values hold', () => {
    const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
    const numberText = fc
      .tuple(fc.constantFrom('', '-'), fc.oneof(fc.constant('0'), fc.tuple(fc.constantFrom(...'123456789'), digits(0, 24)).map(([a, b]) => a + b)))
      .chain(([sign, whole]) =>
        fc
          .tuple(fc.option(digits(1, 20), { nil: undefined }), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1, 3)), { nil: undefined }))
          .map(([fraction, exponent]) => `${sign}${whole}${fraction === undefined ? '' : `.${fraction}`}${exponent === undefined ? '' : exponent.join('')}`),
      );
    const member = fc.oneof(numberText.map((written) => ({ written })), fc.jsonValue().map((value) => ({ value })));
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.string(), member, fc.constantFrom('', ' ', '\t')), { selector: ([name]) => name }), (members) => {
        const text = `{${members.map(([name, m, space]) => `${JSON.stringify(name)}${space}:${space}${'written' in m ? m.written : JSON.stringify(m.value)}`).join(',')}}`;
        expect(Object.keys(JSON.parse(text) as object)).toHaveLength(members.length);
        const written = members.flatMap(([name, m]) => ('written' in m ? [[name, m.written]] : typeof m.value === 'number' ? [[name, JSON.stringify(m.value)]] : []));
        expect([...(topLevelShape(text).numbers ?? [])]).toEqual(written);
      }),
    );
  });

  it('keeps the first 10,000 warnings and counts them all', async () => {
    const rows = Array.from({ length: MAX_KEPT_WARNINGS + 5 }, (_, i) => [`C${i}`, 'bad@']);
    const { result, customers } = await read({ 'customers.csv': csv([['customer_id', 'email'], ...rows]), 'orders.csv': orders(1) });
    expect(customers).toHaveLength(MAX_KEPT_WARNINGS + 5);
    expect(result.warnings).toHaveLength(MAX_KEPT_WARNINGS);
    expect(result.warned).toBe(MAX_KEPT_WARNINGS + 5);
    expect(result.files[0]?.warnings).toBe(MAX_KEPT_WARNINGS + 5);
  });
});

describe('text an email shows keeps no control or invisible character', () => {
  // A right-to-left override, zero-width characters, ESC, a line break (and NUL, which JSONL can carry).
  const hostile = '\u202ELin\u200B\u001b[31m\r\nWang\u2060';
  const invisible = '\u200B\u2060\uFEFF';

  it('generic customers, orders, products and advisors: removed, and a value of nothing else is absent', async () => {
    const { customers, orders: lines, products, advisors, result } = await read({
      'customers.csv': csv([
        ['customer_id', 'first_name', 'last_name', 'phone'],
        ['C1', hostile, invisible, '+86\u200B 1'],
        ['C2', `Zoë 👩\u200D💻`, 'Wang', ''],
      ]),
      'orders.csv': csv([
        ['order_id', 'customer_id', 'ordered_at', 'line_total', 'sku', 'product_name', 'category'],
        ['O1', 'C1', '2026-11-22T10:00:00Z', '10.00', 'SK-1', hostile, `skin${invisible}care`],
        ['O2', 'C2', '2026-11-22T10:00:00Z', '10.00', 'SK-2', invisible, invisible],
      ]),
      'products.jsonl': `${JSON.stringify({ sku: 'SK-1', name: `${hostile}\u0000`, category: invisible, season: 'spring\u202E' })}\n`,
      'advisors.csv': csv([
        ['advisor_id', 'name', 'signature', 'store'],
        ['A1', 'Sophie\u202E Martin', invisible, 'Plaza\u200B 66'],
      ]),
    });
    expect(customers).toEqual([
      expect.objectContaining({ customerId: 'C1', firstName: 'Lin[31m Wang', lastName: undefined, phone: '+86 1' }),
      expect.objectContaining({ customerId: 'C2', firstName: 'Zoë 👩\u200D💻', lastName: 'Wang' }),
    ]);
    expect(lines).toEqual([
      expect.objectContaining({ orderId: 'O1', productName: 'Lin[31m Wang', category: 'skincare' }),
      expect.objectContaining({ orderId: 'O2', productName: undefined, category: undefined }),
    ]);
    expect(products).toEqual([expect.objectContaining({ sku: 'SK-1', name: 'Lin[31m Wang', category: undefined, season: 'spring' })]);
    expect(advisors).toEqual([{ advisorId: 'A1', name: 'Sophie Martin', active: true, store: 'Plaza 66' }]);
    // Nothing was wrong with the rows: no reject, no warning.
    expect(result.rejected).toBe(0);
    expect(result.warnings).toEqual([]);
  });

  it('Shopify customers and order lines too', async () => {
    const { customers, orders: lines } = await read({
      'customers_export.csv': csv([
        ['Customer ID', 'First Name', 'Last Name'],
        ['1', hostile, invisible],
      ]),
      'orders_export.csv': csv([
        ['Name', 'Email', 'Financial Status', 'Subtotal', 'Created at', 'Lineitem quantity', 'Lineitem price', 'Lineitem name'],
        ['#1', 'a@example.com', 'paid', '2.00', '2026-11-22 10:00:00 +0800', '1', '1.00', hostile],
        ['#1', 'a@example.com', '', '', '', '1', '1.00', invisible],
      ]),
    });
    expect(customers).toEqual([expect.objectContaining({ customerId: '1', firstName: 'Lin[31m Wang', lastName: undefined })]);
    expect(lines).toEqual([expect.objectContaining({ productName: 'Lin[31m Wang' }), expect.objectContaining({ productName: undefined })]);
  });
});

describe('money that decides tiers', () => {
  it('rejects a line total above exports.maxLineTotal, after conversion to the brand currency', async () => {
    const { orders: lines, result } = await read(
      {
        'customers.csv': CUSTOMERS,
        'orders.csv': csv([
          [...ORDER_HEADER, 'currency'],
          ['O1', 'C1', '2026-11-22T10:00:00Z', '10000000.00', ''], // the limit itself: believable
          ['O2', 'C1', '2026-11-22T10:00:00Z', '10000000.01', ''],
          ['O3', 'C1', '2026-11-22T10:00:00Z', '9300000', 'EUR'], // 10,044,000 USD
          ['O4', 'C1', '2026-11-22T10:00:00Z', '90000000000000', ''], // the 9e13 that stopped the run
          ['O5', 'C1', '2026-11-22T10:00:00Z', '90000000000000', ''],
        ]),
      },
      { config: { maxRejectShare: 1, exchangeRates: { EUR: '1.08' } } },
    );
    expect(lines.map((o) => o.orderId)).toEqual(['O1']);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual(
      [3, 4, 5, 6].map((line) => [line, 'line_total: above exports.maxLineTotal, the largest believable line total']),
    );
  });

  it('follows a configured maxLineTotal, and rejects a whole Shopify order with a line above it', async () => {
    const { result } = await read(
      {
        'customers.csv': CUSTOMERS,
        'orders.csv': orders(1).replace('10.00', '600.00'),
      },
      { config: { maxRejectShare: 1, exports: { maxLineTotal: '500' } } },
    );
    expect(result.rejects.map((r) => r.reason)).toEqual(['line_total: above exports.maxLineTotal, the largest believable line total']);
    const shopify = await read(
      {
        'customers_export.csv': 'Customer ID,Email\n1,a@example.com\n',
        'orders_export.csv':
          'Name,Email,Financial Status,Subtotal,Created at,Lineitem quantity,Lineitem price\n' +
          '#1,a@example.com,paid,610.00,2026-11-22 10:00:00 +0800,3,200.00\n#1,,,,,1,10.00\n',
      },
      { config: { maxRejectShare: 1, exports: { maxLineTotal: '500' } } },
    );
    expect(shopify.orders).toEqual([]);
    expect(shopify.result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'Lineitem price x quantity: above exports.maxLineTotal, the largest believable line total'],
      [3, 'another line of the order (line 2) was rejected, so the order is not read whole'],
    ]);
  });
});

describe('dates', () => {
  const order = (id: string, at: string) => [id, 'C1', at, '1.00'];

  it('rejects an order before 1970 or more than a day after the run clock; keeps one within the day after', async () => {
    const { orders: lines, result } = await read(
      {
        'customers.csv': CUSTOMERS,
        'orders.csv': csv([
          ORDER_HEADER,
          order('O1', '2099-01-01T00:00:00Z'),
          order('O2', '1969-12-31T23:59:59Z'),
          order('O3', iso(NOW + 2 * 3_600_000)), // 02:00 the next morning, Shanghai: still in the export
          order('O4', iso(NOW + MS_PER_DAY)),
          order('O5', iso(NOW + MS_PER_DAY + 1000)),
          order('O6', '1970-01-01T00:00:00Z'),
          order('O7', '0001-01-01'),
        ]),
      },
      tolerant,
    );
    expect(lines.map((o) => o.orderId)).toEqual(['O3', 'O4', 'O6']);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, "ordered_at: more than a day after the run's clock"],
      [3, 'ordered_at: before 1970-01-01'],
      [6, "ordered_at: more than a day after the run's clock"],
      [8, 'ordered_at: before 1970-01-01'],
    ]);
  });

  it('rejects a Shopify order created in the future', async () => {
    const { result } = await read(
      {
        'customers_export.csv': 'Customer ID,Email\n1,a@example.com\n',
        'orders_export.csv':
          'Name,Email,Financial Status,Subtotal,Created at,Lineitem quantity,Lineitem price\n#1,a@example.com,paid,1.00,2099-11-22 10:00:00 +0800,1,1.00\n',
      },
      tolerant,
    );
    expect(result.rejects.map((r) => r.reason)).toEqual(["Created at: more than a day after the run's clock"]);
  });

  it('drops implausible sign-up dates and birthdays with a warning', async () => {
    const { customers, result } = await read({
      'customers.csv': csv([
        ['customer_id', 'signed_up_at', 'birthday'],
        ['C1', '1969-07-20T20:17:00Z', '1899-12-31'],
        ['C2', '2030-01-01', '2026-11-24'], // both after the run date, 2026-11-23
        ['C3', iso(NOW + 3 * 3_600_000), '2026-11-23'], // a sign-up early next morning belongs to the next night, kept
        ['C4', '0001-01-01', '0001-01-01'],
        ['C5', '2026-11-22T10:00:00+05:99', '02-29'],
      ]),
      'orders.csv': orders(1),
    });
    expect(customers.map((c) => [c.customerId, c.signedUpAt, c.birthday])).toEqual([
      ['C1', undefined, undefined],
      ['C2', undefined, undefined],
      ['C3', NOW + 3 * 3_600_000, '2026-11-23'],
      ['C4', undefined, undefined],
      ['C5', undefined, '02-29'],
    ]);
    expect(result.warnings.map((w) => [w.line, w.field, w.reason])).toEqual([
      [2, 'signed_up_at', 'before 1970-01-01'],
      [2, 'birthday', 'before 1900-01-01'],
      [3, 'signed_up_at', 'in the future'],
      [3, 'birthday', 'in the future'],
      [5, 'signed_up_at', 'before 1970-01-01'],
      [5, 'birthday', 'before 1900-01-01'],
      [6, 'signed_up_at', 'invalid timestamp (expected ISO 8601)'],
    ]);
  });

  it('validates UTC offsets: hours up to 14, minutes below 60', async () => {
    const { orders: lines, result } = await read(
      {
        'customers.csv': CUSTOMERS,
        'orders.csv': csv([
          ORDER_HEADER,
          order('O1', '2026-11-22T10:00:00+05:99'),
          order('O2', '2026-11-22T10:00:00+15:00'),
          order('O3', '2026-11-22T10:00:00+14:00'),
          order('O4', '2026-11-22T10:00:00-09:30'),
        ]),
      },
      tolerant,
    );
    expect(lines.map((o) => [o.orderId, o.orderedAt])).toEqual([
      ['O3', Date.UTC(2026, 10, 21, 20)],
      ['O4', Date.UTC(2026, 10, 22, 19, 30)],
    ]);
    expect(result.rejects.map((r) => r.line)).toEqual([2, 3]);
  });
});

describe('nothing read from a file appears in a message', () => {
  it('names the missing columns of a customers file without a header, not what its first row holds', async () => {
    const { error, dir } = await failure({
      'customers.csv': 'C1,ann.lee@example.com,Ann,Lee\nC2,bo@example.com,Bo,Wu\n',
      'orders.csv': orders(1),
    });
    expect(error.message).toBe(
      `${dir}/customers.csv, line 1: missing required column "customer_id" for a generic customers file (the first row has none of its columns: is the header row missing?)`,
    );
    expect(error.message).not.toMatch(/ann|Ann|Lee|C1/);
  });

  it('quotes no value in any reject, warning or error, whatever the field', async () => {
    const S = 'SECRET';
    const { result } = await read(
      {
        'customers.csv': csv([
          ['customer_id', 'email', 'first_name', 'locale', 'time_zone', 'signed_up_at', 'accepts_marketing', 'birthday'],
          ['C1', `${S}@@x`, 'Ann', `${S} x`, `${S}/Zone`, S, S, S],
          ['C2', '', '', '', '', `${S}-01-01`, '', `12-${S}`],
        ]),
        'products.csv': csv([['sku', 'replenish_days'], ['P1', S]]),
        'orders.csv': csv([
          ['order_id', 'customer_id', 'ordered_at', 'line_total', 'quantity', 'currency', 'status', 'refunded_amount'],
          ['O1', 'C1', S, '1.00', '1', '', '', ''],
          ['O2', 'C1', '2026-11-22T10:00:00Z', S, '1', '', '', ''],
          ['O3', 'C1', '2026-11-22T10:00:00Z', '1.00', S, '', '', ''],
          ['O4', 'C1', '2026-11-22T10:00:00Z', '1.00', '1', 'SEC', '', ''],
          ['O5', 'C1', '2026-11-22T10:00:00Z', '1.00', '1', '', S, ''],
          ['O6', 'C1', '2026-11-22T10:00:00Z', '1.00', '1', '', '', S],
          ['O7', 'C1', '2026-11-22T10:00:00Z', '1.00', '1', '', '', '', S], // a column too many
          ['O8', 'C1', '2026-11-22T10:00:00Z', '1.00', '1', '', '', ''],
        ]),
        'orders_export.csv': csv([
          ['Name', 'Email', 'Financial Status', 'Currency', 'Subtotal', 'Discount Amount', 'Created at', 'Lineitem quantity', 'Lineitem price'],
          ['#1', `${S}@@`, 'paid', '', '1.00', '', '2026-11-22', '1', '1.00'],
          ['#2', 'a@example.com', 'paid', 'SEC', '1.00', '', '2026-11-22', '1', '1.00'],
          ['#3', 'a@example.com', 'paid', '', S, S, S, S, S],
          ['#4', 'a@example.com', 'paid', '', '1.00', '', '2026-11-22', '1', S],
        ]),
      },
      tolerant,
    );
    const messages = [...result.rejects.map((r) => r.reason), ...result.warnings.map((w) => `${w.field}: ${w.reason}`)];
    expect(result.rejected).toBeGreaterThanOrEqual(10);
    expect(result.warned).toBeGreaterThanOrEqual(7);
    for (const message of messages) expect(message).not.toMatch(/SEC|Ann/);
    const broken = await failure({ 'customers.csv': CUSTOMERS, 'orders.jsonl': '{"order_id":"O1","customer_id":"SECRET' });
    expect(broken.error.message).not.toContain(S);
    const unclosed = await failure({ 'customers.csv': `customer_id,first_name\nC1,"${S}`, 'orders.csv': orders(1) });
    expect(unclosed.error.message).not.toContain(S);
  });
});

describe('handlers receive each row\'s position', () => {
  it('passes the file and the physical line of every row, buffered Shopify lines included', async () => {
    const { positions } = await read({
      'customers.csv': 'customer_id,first_name\nC1,"two\nlines"\n\nC2,Bo\n',
      'products.jsonl': '{"sku":"P1"}\n\n{"sku":"P2"}\n',
      'orders.csv': orders(2),
      'orders_export.csv':
        'Name,Email,Financial Status,Subtotal,Created at,Lineitem quantity,Lineitem price\n' +
        '#1,a@example.com,paid,3.00,2026-11-22 10:00:00 +0800,1,1.00\n#1,,,,,1,2.00\n',
    });
    expect(positions).toEqual([
      'customer customers.csv:2',
      'customer customers.csv:5',
      'product products.jsonl:1',
      'product products.jsonl:3',
      'order orders.csv:2',
      'order orders.csv:3',
      'order orders_export.csv:2',
      'order orders_export.csv:3',
    ]);
  });
});
