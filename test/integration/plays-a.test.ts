import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { countsOf, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { ledgerEntries } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws, type ScenarioOverrides } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local } from '#test/support/time.ts';

/**
 * Issue 15 points 2 and 7 on the embedded AWS, for the birthday, first-order-care and
 * first-purchase-thanks plays (shared/campaigns/plays.ts), each written `{ "kind": "<play>" }` as
 * a brand would: a nightly run stores the clients, the hourly sender sends the play's email (its
 * subject and content in the SES store), a rerun of the hour and the later hours send nothing
 * twice, and the clients the play is not for get nothing from it.
 */

const aws = sharedAws();
const work = scratchDir('plays-a');
const SH = 'Asia/Shanghai';

const PRODUCTS = [
  'sku,name,category,replenish_days,url,price',
  'SK-CRM-01,Crème Riche Face Cream 50ml,skincare,,https://shop.example.com/p/sk-crm-01,420.00',
  'LG-SLG-01,Leather Card Holder,leather-goods,,https://shop.example.com/p/lg-slg-01,390.00',
].join('\n');

async function night(config: Config, runDate: string, customers: string[], orders: string[]) {
  const dir = join(work, config.storage.tablePrefix, runDate);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), customers.join('\n') + '\n');
  await writeFile(join(dir, 'orders.csv'), ['order_id,customer_id,ordered_at,sku,product_name,category,line_total', ...orders].join('\n') + '\n');
  await writeFile(join(dir, 'products.csv'), PRODUCTS + '\n');
  return runNightly({ clock: Date.now, runDate, runId: `night-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
}

function playConfig(name: string, campaigns: Record<string, unknown>[], extra: ScenarioOverrides = {}): Promise<Config> {
  return scenarioConfig(aws, name, {
    campaigns: { policy: { controlShare: 0 }, campaigns } as never,
    sender: { ...aws.config.sender, maxSendRate: 500, shopUrl: 'https://shop.example.com/', postalAddress: ['1 Rue Cambon', '75001 Paris'] },
    ...extra,
  });
}

const sentKeys = async (config: Config) =>
  (await ledgerEntries(aws, config))
    .filter((e) => e.status === 'sent')
    .map((e) => [e.customerId, e.occasionKey])
    .sort();

describe('the birthday play on the embedded AWS', () => {
  it("sends in the birthday month each tier's gift once, and nothing to a client whose month it is not", async () => {
    const config = await playConfig('plays-birthday', [{ kind: 'birthday' }], { coupons: { scheme: { prefix: 'BD', length: 8 } } });
    const customers = [
      'customer_id,email,first_name,locale,time_zone,accepts_marketing,birthday',
      `vic,vic@bday.example.com,Vera,en,${SH},true,1985-12-14`,
      `core,core@bday.example.com,芳,zh-CN,${SH},true,--12`,
      `entry,entry@bday.example.com,Eli,en,${SH},true,1990-12-02`,
      `oct,oct@bday.example.com,Otto,en,${SH},true,1990-10-20`,
    ];
    const orders = [
      'o1,vic,2026-06-01T10:00:00+08:00,LG-SLG-01,Leather Card Holder,leather-goods,60000.00',
      'o2,core,2026-06-01T10:00:00+08:00,LG-SLG-01,Leather Card Holder,leather-goods,6000.00',
      'o3,entry,2026-06-01T10:00:00+08:00,SK-CRM-01,Crème Riche Face Cream 50ml,skincare,420.00',
      'o4,oct,2026-06-01T10:00:00+08:00,SK-CRM-01,Crème Riche Face Cream 50ml,skincare,420.00',
    ];
    await night(config, '2026-11-29', customers, orders);
    // November 30: no December birthday yet (the index is built by this first hour).
    const before = await run(aws, config, local('2026-11-30 10:00', SH), 'bday-1');
    expect(before.clientsDue).toBe(0);

    // December 1, 10:00 in Shanghai: the month has begun for the three December birthdays, full date or month only.
    const hour = await run(aws, config, local('2026-12-01 10:00', SH), 'bday-2');
    expect(hour.selection.mode).toBe('index');
    expect(countsOf(hour, 'birthday').sent).toBe(3);
    expect(await sentKeys(config)).toEqual([
      ['core', 'birthday#2026'],
      ['entry', 'birthday#2026'],
      ['vic', 'birthday#2026'],
    ]);

    const [vic] = await emailsTo(aws, 'vic@bday.example.com');
    expect(vic?.subject).toBe('Happy birthday, Vera: a gift is waiting for you');
    expect(vic?.body.text).toContain('A gift is waiting for you at the boutique');
    expect(vic?.body.text).toContain(`The ${config.brandName} client care team`);
    expect(vic?.body.text).not.toMatch(/% off|code/i);
    const [core] = await emailsTo(aws, 'core@bday.example.com');
    expect(core?.subject).toBe('芳，生日快乐！下次订购将随单附赠生日礼物');
    expect(core?.body.text).toContain('下次订购时，我们将随单为您附上一份礼物');
    expect(core?.body.text).not.toMatch(/优惠码：|% 优惠/);
    const [entry] = await emailsTo(aws, 'entry@bday.example.com');
    expect(entry?.subject).toBe(`Happy birthday, Eli: a birthday treat from ${config.brandName}`);
    // The voucher: a code of the brand's scheme, the same on every rerun of the occasion.
    expect(entry?.body.text).toMatch(/10% off your next order with the code BD[2-9A-HJ-NP-Z]{8}\./);
    expect(entry?.body.html).toContain('utm_campaign=birthday');
    expect(await emailsTo(aws, 'oct@bday.example.com')).toHaveLength(0);

    // A rerun of the hour, the next day and the last day of the month: nothing twice.
    const rerun = await run(aws, config, local('2026-12-01 10:00', SH), 'bday-2');
    const later = await run(aws, config, local('2026-12-31 20:00', SH), 'bday-3');
    expect(countsOf(rerun, 'birthday').sent + countsOf(later, 'birthday').sent).toBe(0);
    for (const address of ['vic', 'core', 'entry']) expect(await emailsTo(aws, `${address}@bday.example.com`)).toHaveLength(1);
  }, 240_000);
});

describe('the first-order-care play on the embedded AWS', () => {
  it('sends care tips for the first order a week later, a sample to the beauty buyer only, once', async () => {
    const config = await playConfig('plays-care', [{ kind: 'first-order-care' }], {
      categoryNames: { skincare: { en: 'Skincare', 'zh-CN': '护肤' }, 'leather-goods': { en: 'Leather goods', 'zh-CN': '皮具' } },
      categoryCare: { skincare: { en: 'Apply morning and evening on clean skin.', 'zh-CN': '早晚于洁面后取适量涂抹。' }, 'leather-goods': { 'zh-CN': '不用时请放入防尘袋，远离高温与潮湿。' } },
    });
    const customers = [
      'customer_id,email,first_name,locale,time_zone,accepts_marketing',
      `beauty,beauty@care.example.com,Bea,en,${SH},true`,
      `bag,bag@care.example.com,玲,zh-CN,${SH},true`,
      `earlier,earlier@care.example.com,Ed,en,${SH},true`,
    ];
    const orders = [
      'o1,beauty,2026-11-20T15:00:00+08:00,SK-CRM-01,Crème Riche Face Cream 50ml,skincare,420.00',
      'o1,beauty,2026-11-20T15:00:00+08:00,LG-SLG-01,Leather Card Holder,leather-goods,390.00',
      'o2,bag,2026-11-20T18:00:00+08:00,LG-SLG-01,Leather Card Holder,leather-goods,390.00',
      // A first order three weeks back: its week of care tips has passed.
      'o3,earlier,2026-11-01T10:00:00+08:00,SK-CRM-01,Crème Riche Face Cream 50ml,skincare,420.00',
    ];
    await night(config, '2026-11-26', customers, orders);
    const eve = await run(aws, config, local('2026-11-26 20:00', SH), 'care-1');
    expect(eve.clientsDue).toBe(0);

    // 11-27: the seventh local day after the first orders of 11-20.
    const hour = await run(aws, config, local('2026-11-27 10:00', SH), 'care-2');
    expect(countsOf(hour, 'first-order-care').sent).toBe(2);
    expect(await sentKeys(config)).toEqual([
      ['bag', 'first-order-care'],
      ['beauty', 'first-order-care'],
    ]);
    const [beauty] = await emailsTo(aws, 'beauty@care.example.com');
    expect(beauty?.subject).toBe('Bea, getting the best from your first order');
    expect(beauty?.body.text).toContain('Crème Riche Face Cream 50ml, $420.00');
    expect(beauty?.body.text).toContain('Skincare\nApply morning and evening on clean skin.');
    expect(beauty?.body.text).toContain('A sample of something new will be waiting in your next order');
    const [bag] = await emailsTo(aws, 'bag@care.example.com');
    expect(bag?.subject).toBe('玲，Leather Card Holder的使用与护理建议');
    expect(bag?.body.text).toContain('皮具\n不用时请放入防尘袋，远离高温与潮湿。');
    expect(bag?.body.text).not.toMatch(/小样|leather-goods/);
    expect(await emailsTo(aws, 'earlier@care.example.com')).toHaveLength(0);

    const rerun = await run(aws, config, local('2026-11-27 10:00', SH), 'care-2');
    const later = await run(aws, config, local('2026-11-30 10:00', SH), 'care-3');
    expect(countsOf(rerun, 'first-order-care').sent + countsOf(later, 'first-order-care').sent).toBe(0);
    expect(await emailsTo(aws, 'beauty@care.example.com')).toHaveLength(1);
  }, 240_000);
});

describe('the first-purchase-thanks play on the embedded AWS', () => {
  it('thanks the long-standing subscriber at the first order; the recent sign-up and the client without one are welcomed instead', async () => {
    const config = await playConfig('plays-thanks', [{ kind: 'welcome' }, { kind: 'first-purchase-thanks' }]);
    const customers = [
      'customer_id,email,first_name,locale,time_zone,accepts_marketing,signed_up_at',
      `long,long@thanks.example.com,黎,zh-CN,${SH},true,2026-03-01T10:00:00+08:00`,
      `fresh,fresh@thanks.example.com,Fay,en,${SH},true,2026-11-26T08:00:00+08:00`,
      `nosign,nosign@thanks.example.com,Noa,en,${SH},true,`,
    ];
    const orders = ['long', 'fresh', 'nosign'].map((id, i) => `o${i},${id},2026-11-26T20:00:00+08:00,SK-CRM-01,Crème Riche Face Cream 50ml,skincare,420.00`);
    await night(config, '2026-11-26', customers, orders);

    // 11-27 10:00 (the evening's orders waited out the quiet hours): one thank-you, two welcomes.
    const hour = await run(aws, config, local('2026-11-27 10:00', SH), 'thanks-1');
    expect(countsOf(hour, 'first-purchase-thanks').sent).toBe(1);
    expect(countsOf(hour, 'welcome').sent).toBe(2);
    expect(await sentKeys(config)).toEqual([
      ['fresh', 'welcome'],
      ['long', 'first-purchase-thanks'],
      ['nosign', 'welcome'],
    ]);
    const [long] = await emailsTo(aws, 'long@thanks.example.com');
    expect(long?.subject).toBe('黎，感谢您的首次订购');
    expect(long?.body.text).toContain(`您关注${config.brandName}已有一段时间，今天迎来了您的首次订购。`);
    expect(long?.body.text).toContain('Crème Riche Face Cream 50ml');
    expect(long?.body.text).toContain('新品小样');

    const rerun = await run(aws, config, local('2026-11-27 10:00', SH), 'thanks-1');
    const later = await run(aws, config, local('2026-11-29 12:00', SH), 'thanks-2');
    expect(countsOf(rerun, 'first-purchase-thanks').sent + countsOf(later, 'first-purchase-thanks').sent).toBe(0);
    for (const id of ['long', 'fresh', 'nosign']) expect(await emailsTo(aws, `${id}@thanks.example.com`)).toHaveLength(1);
  }, 240_000);
});
