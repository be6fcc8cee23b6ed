import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { campaignConfig, countsOf, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { ledgerEntries } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local } from '#test/support/time.ts';

/**
 * The seasonal, recall and cross-category plays (issue 15 point 2) on the embedded AWS, beside the
 * win-back: one night stores the clients and the category affinity, the next morning's hour sends
 * each play to the clients it is for (the seasonal reminder to last autumn's buyers, the recall at
 * 120 and 180 days with the offer graded by how often they bought, a VIC's note without discount,
 * the cross-category suggestion three weeks after an Entry client's order) and to nobody else; the
 * same hour again and the next day send nothing twice, through the due index.
 */

const aws = sharedAws();
const work = scratchDir('plays-seasonal-recall-cross');
const SH = 'Asia/Shanghai';
const ADDRESS = (id: string) => `${id}@plays-b.example.com`;

const CAMPAIGNS = {
  policy: { controlShare: 0 },
  seasons: [
    { name: 'spring-summer', starts: '03-01', names: { en: 'Spring–Summer', 'zh-CN': '春夏' } },
    { name: 'autumn-winter', starts: '09-01', names: { en: 'Autumn–Winter', 'zh-CN': '秋冬' } },
  ],
  campaigns: [{ kind: 'winback' }, { kind: 'seasonal' }, { kind: 'recall' }, { kind: 'cross-category' }],
};
const CATEGORY_NAMES = { coats: { en: 'Coats', 'zh-CN': '大衣' }, 'leather-goods': { en: 'Leather goods', 'zh-CN': '皮具' }, fragrance: { en: 'Fragrance', 'zh-CN': '香氛' } };

const CLIENTS: [id: string, locale: string][] = [
  ['season', 'en'], // bought a coat last autumn: the seasonal reminder
  ['season-zh', 'zh-CN'], // the same, in Chinese
  ['spring', 'en'], // bought only last spring: no autumn reminder, and lapsed past every step
  ['lapsed', 'en'], // six orders in two years, the last 120 days ago: the recall, 25% and free shipping
  ['lapsed-zh', 'zh-CN'], // one order 180 days ago, last autumn-winter: the seasonal reminder, then the recall's second step (15% and free shipping)
  ['vic', 'en'], // a VIC lapsed 120 days: the client care team's note, no discount
  ['winback', 'en'], // 60 days: the win-back, not a recall
  ['entry', 'en'], // an Entry client's wallet 21 days ago: fragrance suggested, with a coupon
  ['core-buyer', 'en'], // a Core client's order 21 days ago: not the cross-category audience
  ['entry-all', 'en'], // bought every category: no category to suggest, no email
];
const customersCsv = ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...CLIENTS.map(([id, locale]) => `${id},${ADDRESS(id)},${locale === 'en' ? 'Ada' : '美玲'},${locale},${SH},true`)].join('\n') + '\n';

const line = (order: string, client: string, day: string, sku: string, total: string) => {
  const [name, category] = PRODUCTS[sku] ?? ['?', '?'];
  return `${order},${client},${day}T10:00:00+08:00,${sku},${name},${category},1,${total}`;
};
const PRODUCTS: Record<string, [string, string]> = { COAT: ['Wool Coat', 'coats'], WALLET: ['Zip Wallet', 'leather-goods'], EDP: ['Eau de Parfum', 'fragrance'], CANDLE: ['Scented Candle', 'fragrance'] };
const productsCsv =
  [
    'sku,name,category,url,image_url,price,currency',
    'COAT,Wool Coat,coats,https://shop.example.com/p/coat,https://shop.example.com/i/coat.jpg,2980,USD',
    'WALLET,Zip Wallet,leather-goods,https://shop.example.com/p/wallet,,420,USD',
    'EDP,Eau de Parfum,fragrance,https://shop.example.com/p/edp,,160,USD',
    'CANDLE,Scented Candle,fragrance,https://shop.example.com/p/candle,,85,USD',
  ].join('\n') + '\n';
const ORDERS = [
  'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total',
  line('s1', 'season', '2025-10-12', 'COAT', '2980.00'),
  line('s2', 'season-zh', '2025-11-20', 'COAT', '2980.00'),
  line('s3', 'spring', '2025-04-10', 'COAT', '2980.00'),
  ...['2024-06-01', '2024-10-01', '2025-02-01', '2025-06-01', '2025-12-01', '2026-04-26'].map((day, i) => line(`l${i}`, 'lapsed', day, 'EDP', '1500.00')),
  line('z1', 'lapsed-zh', '2026-02-25', 'CANDLE', '300.00'),
  line('v1', 'vic', '2026-04-26', 'EDP', '60000.00'),
  line('w1', 'winback', '2026-06-26', 'CANDLE', '300.00'),
  line('e1', 'entry', '2026-08-03', 'WALLET', '420.00'),
  line('c1', 'core-buyer', '2026-08-03', 'WALLET', '6000.00'),
  line('a1', 'entry-all', '2026-08-03', 'WALLET', '100.00'),
  line('a1', 'entry-all', '2026-08-03', 'EDP', '100.00'),
  line('a1', 'entry-all', '2026-08-03', 'COAT', '100.00'),
];

async function night(config: Config, runDate: string) {
  const dir = join(work, config.storage.tablePrefix, runDate);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), customersCsv);
  await writeFile(join(dir, 'orders.csv'), ORDERS.join('\n') + '\n');
  await writeFile(join(dir, 'products.csv'), productsCsv);
  return runNightly({ clock: Date.now, runDate, runId: `night-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
}

describe('the seasonal, recall and cross-category plays on the embedded AWS', () => {
  it('send each play to the clients it is for, in their language, once', async () => {
    const config = await campaignConfig(aws, 'plays-b', { campaigns: CAMPAIGNS as never, sender: { ...aws.config.sender, shopUrl: 'https://shop.example.com/' } });
    const withNames: Config = { ...config, categoryNames: CATEGORY_NAMES };
    await night(withNames, '2026-08-24');

    const hour = await run(aws, withNames, local('2026-08-25 10:00', SH), 'hour-1');
    // lapsed-zh's candle (Feb 25) was bought last autumn-winter: the seasonal reminder (priority 4) goes first, the recall waits a day.
    expect(countsOf(hour, 'seasonal').sent).toBe(3);
    expect(countsOf(hour, 'recall')).toMatchObject({ sent: 2, capped: 1 });
    expect(countsOf(hour, 'winback').sent).toBe(1);
    expect(countsOf(hour, 'cross-category')).toMatchObject({ sent: 1, 'out-of-audience': 1 });
    const sent = (await ledgerEntries(aws, config)).filter((e) => e.status === 'sent').map((e) => [e.customerId, e.occasionKey.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/, '<last order>')]);
    expect(sent.sort()).toEqual([
      ['entry', 'cross-category#<last order>'],
      ['lapsed', 'recall#<last order>#120d'],
      ['lapsed-zh', 'seasonal#autumn-winter#2026'],
      ['season', 'seasonal#autumn-winter#2026'],
      ['season-zh', 'seasonal#autumn-winter#2026'],
      ['vic', 'recall#<last order>#120d'],
      ['winback', 'winback#<last order>'],
    ]);

    const [season] = await emailsTo(aws, ADDRESS('season'));
    expect(season?.subject).toBe('Ada, Autumn–Winter is almost here');
    expect(season?.body.text).toContain('The new Autumn–Winter collection arrives on 1 September.');
    expect(season?.body.text).toMatch(/Your choices last Autumn–Winter:\n- Wool Coat, \$2,980\.00\n {2}View in the shop: https:\/\/shop\.example\.com\/p\/coat\?utm_source=clientele&utm_medium=email&utm_campaign=seasonal/);
    expect(season?.body.html).toContain('https://shop.example.com/i/coat.jpg');
    const [seasonZh] = await emailsTo(aws, ADDRESS('season-zh'));
    expect(seasonZh?.subject).toBe('美玲，秋冬新季即将到来');
    expect(seasonZh?.body.text).toContain('您去年秋冬的选择：\n- Wool Coat，US$2,980.00');

    const [lapsed] = await emailsTo(aws, ADDRESS('lapsed'));
    expect(lapsed?.subject).toBe('Ada, we have kept something for you');
    expect(lapsed?.body.text).toContain('Free shipping and 25% off your next order.');
    expect(lapsed?.body.text).toContain('From Fragrance, the pieces you chose:\n- Eau de Parfum, $160.00');
    // The lapsed client's earlier orders of the same perfume are not seen (the profile keeps a SKU's last purchase): no seasonal reminder for them.
    expect(await emailsTo(aws, ADDRESS('lapsed'))).toHaveLength(1);
    const [vic] = await emailsTo(aws, ADDRESS('vic'));
    expect(vic?.subject).toBe('Ada, thinking of you');
    expect(vic?.body.text).toContain('client care team');
    expect(vic?.body.text).not.toMatch(/\d+% off|Code:/);
    const [winback] = await emailsTo(aws, ADDRESS('winback'));
    expect(winback?.subject).toBe('A welcome-back gift for you, Ada');

    const [entry] = await emailsTo(aws, ADDRESS('entry'));
    expect(entry?.subject).toBe('Something new for you in Fragrance, Ada');
    expect(entry?.body.text).toContain('Clients who love Leather goods as you do often choose Fragrance too.');
    expect(entry?.body.text).toContain('10% off your next order.');
    expect(entry?.body.text).toMatch(/- Scented Candle, \$85\.00[\s\S]*- Eau de Parfum, \$160\.00/);
    for (const id of ['spring', 'core-buyer', 'entry-all']) expect(await emailsTo(aws, ADDRESS(id))).toEqual([]);

    // The same hour again: nothing twice.
    expect(Object.values((await run(aws, withNames, local('2026-08-25 10:00', SH), 'hour-1-again')).campaigns).reduce((n, c) => n + c.sent, 0)).toBe(0);
    // The next day, past the 24-hour cap: lapsed-zh's recall at 180 days, with the one-off buyer's offer.
    // Each hour after the night before it: on a night behind the last one due, an hour decides no recall (nights-behind.ts).
    await night(withNames, '2026-08-25');
    const nextDay = await run(aws, withNames, local('2026-08-26 11:00', SH), 'hour-2');
    expect(nextDay.selection.mode).toBe('index');
    expect(countsOf(nextDay, 'recall').sent).toBe(1);
    const [, lapsedZh] = await emailsTo(aws, ADDRESS('lapsed-zh'));
    expect(lapsedZh?.subject).toBe('美玲，我们为您留了一份心意');
    expect(lapsedZh?.body.text).toContain('下次订单免运费，并享 15% 优惠。');
    expect((await ledgerEntries(aws, config)).find((e) => e.customerId === 'lapsed-zh' && e.campaignId === 'recall')?.occasionKey).toMatch(/^recall#2026-02-25T02:00:00\.000Z#180d$/);

    // The next days, through the due index: nothing twice.
    for (const [i, [nightDate, day]] of ([['2026-08-26', '2026-08-27'], ['2026-08-28', '2026-08-29'], ['2026-08-31', '2026-09-01']] as const).entries()) {
      await night(withNames, nightDate);
      const later = await run(aws, withNames, local(`${day} 10:00`, SH), `later-${i}`);
      expect(later.selection.mode).toBe('index');
      expect(Object.values(later.campaigns).reduce((n, c) => n + c.sent, 0)).toBe(0);
    }
    const expected: Record<string, number> = { spring: 0, 'core-buyer': 0, 'entry-all': 0, 'lapsed-zh': 2 };
    for (const [id] of CLIENTS) expect(await emailsTo(aws, ADDRESS(id))).toHaveLength(expected[id] ?? 1);
  }, 300_000);
});
