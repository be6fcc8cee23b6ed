import { describe, expect, it } from 'vitest';
import { dueOccasions } from '#shared/campaigns/due.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import type { AdvisorRecord, ClientProfile, ProductRecord, Tier } from '#shared/model.ts';
import { composeEmail } from '#shared/sender/compose.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { at, DAY, iso } from '#test/support/time.ts';

/**
 * The emails of the birthday, first-order-care and first-purchase-thanks plays, rendered from a
 * due occasion as the sender composes them: both locales, every tier's variant, no raw category
 * key, no empty sentence, nothing left of the template.
 */

const SH = 'Asia/Shanghai';
const CATALOG = new Map<string, ProductRecord>([
  ['SK-CRM-01', { sku: 'SK-CRM-01', name: 'Crème Riche Face Cream 50ml', category: 'skincare', url: 'https://shop.example.com/p/crm', imageUrl: 'https://shop.example.com/i/crm.jpg', priceMinor: 42000, currency: 'USD' }],
  ['LG-SLG-01', { sku: 'LG-SLG-01', name: 'Leather Card Holder', category: 'leather-goods', priceMinor: 39000, currency: 'USD' }],
]);
const SOPHIE: AdvisorRecord = { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@brand.example.com', active: true };
const CARE = {
  skincare: { en: 'Apply morning and evening on clean skin; close the jar after use.', 'zh-CN': '早晚于洁面后取适量涂抹，用后请盖紧瓶盖。' },
  'leather-goods': { en: 'Keep it in its dust bag, away from heat and moisture.', 'zh-CN': '不用时请放入防尘袋，远离高温与潮湿。' },
};
const NAMES = { skincare: { en: 'Skincare', 'zh-CN': '护肤' }, 'leather-goods': { en: 'Leather goods', 'zh-CN': '皮具' } };

function configWith(extra: Record<string, unknown> = {}): Config {
  return parseConfig({ brandName: 'Maison Lumière', sender: { shopUrl: 'https://shop.example.com/', postalAddress: ['1 Rue Cambon', '75001 Paris'] }, ...extra });
}

/** The one occasion of `play` due for the client at `now`, composed as the sender would (the advisor's note where the play is personal). */
async function email(play: string, client: ClientProfile, now: number, config: Config, couponCode?: string) {
  const ctx = { campaigns: { ...config.campaigns, campaigns: config.campaigns.campaigns.filter((c) => c.id === play) }, brandTimeZone: SH };
  const [occasion] = dueOccasions(client, CATALOG, now, ctx);
  if (occasion === undefined) throw new Error(`${play} is not due`);
  const out = await composeEmail(client, occasion, [], config, 'secret-for-tests-only', new Map([['A01', SOPHIE]]), { catalog: CATALOG, ...(couponCode ? { couponCode } : {}) });
  return { ...out, all: `${out.subject}\n${out.html}\n${out.text}` };
}

function expectClean(all: string) {
  expect(all).not.toMatch(/undefined|\bnull\b|\[object|NaN|\{\{|\{%/);
  // No raw category key, no empty sentence or dangling punctuation where a variable was empty.
  expect(all).not.toMatch(/leather-goods|\bskincare\b/);
  expect(all).not.toMatch(/ \.|，。|：。|\( ?\)|your \.|from our \./);
}

const firstOrderAt = iso(at('2026-03-10T15:00'));
const buyer = (fields: Partial<ClientProfile>): ClientProfile =>
  clientProfile({
    timeZone: SH,
    firstName: fields.locale === 'zh-CN' ? '芳' : 'Anna',
    signedUpAt: iso(at('2025-06-01T10:00')),
    firstOrderAt,
    lastOrderAt: firstOrderAt,
    advisorId: 'A01',
    skus: {
      'SK-CRM-01': { productName: 'Crème Riche Face Cream 50ml', category: 'skincare', lastPurchasedAt: firstOrderAt, quantity: 1, purchases: 1 },
      'LG-SLG-01': { productName: 'Leather Card Holder', category: 'leather-goods', lastPurchasedAt: firstOrderAt, quantity: 1, purchases: 1 },
    },
    ...fields,
  });

describe('birthday email', () => {
  const tiers: [Tier, 'en' | 'zh-CN', RegExp][] = [
    ['VIC', 'en', /A gift is waiting for you at the boutique/],
    ['VIC', 'zh-CN', /一份生日礼物已在精品店为您备好/],
    ['Core', 'en', /A gift from us will come with your next order/],
    ['Core', 'zh-CN', /下次订购时，我们将随单为您附上一份礼物/],
    ['Potential', 'en', /A kit of samples, our birthday gift to you, will come with your next order/],
    ['Potential', 'zh-CN', /一套生日小样礼盒将随您的下一份订单送达/],
    ['Entry', 'en', /10% off your next order/],
    ['Entry', 'zh-CN', /下次订单享 10% 优惠/],
  ];
  it.each(tiers)('%s / %s: the gift of the tier', async (tier, locale, gift) => {
    const out = await email('birthday', buyer({ tier, locale, birthday: '1990-05-20' }), at('2026-05-02T10:00'), configWith());
    expect(out.all).toMatch(gift);
    expect(out.subject).toMatch(locale === 'en' ? /^Happy birthday, Anna/ : /^芳，生日快乐！/);
    expectClean(out.all);
    if (tier === 'VIC') {
      // From the advisor, no discount.
      expect(out.from).toMatch(/^Sophie Martin via Maison Lumière/);
      expect(out.all).not.toMatch(/% off|优惠/);
    }
    if (tier === 'Core') expect(out.all).not.toMatch(/% off|% 优惠|Code:|优惠码：/);
  });

  it.each(['en', 'zh-CN'] as const)("%s: Potential's sample kit draws no code and reads as a gift with the next order, not a voucher, even with a brand scheme", async (locale) => {
    const config = configWith({ coupons: { scheme: { prefix: 'BD' } } });
    const client = buyer({ tier: 'Potential', locale, birthday: '1990-05-20' });
    const ctx = { campaigns: { ...config.campaigns, campaigns: config.campaigns.campaigns.filter((c) => c.id === 'birthday') }, brandTimeZone: SH };
    // No couponFrom: the sender draws no code for it (shared/sender/coupons.ts).
    expect(dueOccasions(client, CATALOG, at('2026-05-02T10:00'), ctx)[0]?.details.offer).toEqual({ kind: 'sample' });
    const out = await email('birthday', client, at('2026-05-02T10:00'), config);
    expect(out.subject).toBe(locale === 'en' ? 'Happy birthday, Anna: a sample kit with your next order' : '芳，生日快乐！下次订购将随单附赠生日小样礼盒');
    expect(out.html).toContain(locale === 'en' ? 'Your next order comes with a birthday kit of samples from us.' : '您的下一份订单将随附一套生日小样礼盒。');
    expect(out.text).toContain(locale === 'en' ? 'To celebrate your month, we have set something aside for you:' : '为庆祝您的生日月，我们为您准备了一份心意：');
    expect(out.all).not.toMatch(/voucher|treat from|% off|Code:|BD[0-9A-Z]{6}|优惠码：|% 优惠|专属礼遇/);
    // The birthday's own line, not the welcome's "a sample of something new".
    expect(out.all).not.toMatch(/something new|新品小样/);
    expectClean(out.all);
  });

  it("the voucher carries a code of the brand's scheme when one is configured, else the discount alone", async () => {
    const plain = await email('birthday', buyer({ tier: 'Entry', birthday: '--05' }), at('2026-05-02T10:00'), configWith());
    expect(plain.text).toContain('10% off your next order.');
    expect(plain.text).not.toContain('code');
    const coded = await email('birthday', buyer({ tier: 'Entry', birthday: '--05' }), at('2026-05-02T10:00'), configWith({ coupons: { scheme: { prefix: 'BD' } } }), 'BD23456789AB');
    expect(coded.text).toContain('10% off your next order with the code BD23456789AB.');
  });
});

describe('first-order-care email', () => {
  const when = at('2026-03-18T10:00');
  it.each(['en', 'zh-CN'] as const)('%s: the products of the first order, each category named with its care tip, a sample for the skincare', async (locale) => {
    const out = await email('first-order-care', buyer({ locale }), when, configWith({ categoryNames: NAMES, categoryCare: CARE }));
    expect(out.all).toContain('Crème Riche Face Cream 50ml');
    expect(out.all).toContain('Leather Card Holder');
    expect(out.text).toContain(CARE.skincare[locale]);
    expect(out.text).toContain(CARE['leather-goods'][locale]);
    // In the order the products show (same purchase: by SKU).
    expect(out.text).toContain(locale === 'en' ? 'your Leather goods and Skincare.' : '关于皮具、护肤产品');
    expect(out.all).toMatch(locale === 'en' ? /A sample of something new/ : /新品小样/);
    expectClean(out.all);
  });

  it.each(['en', 'zh-CN'] as const)('%s: without configured tips or names it still reads well, and a bag alone gets no sample', async (locale) => {
    const bagOnly = buyer({ locale, skus: { 'LG-SLG-01': { category: 'leather-goods', lastPurchasedAt: firstOrderAt, quantity: 1, purchases: 1 } } });
    const out = await email('first-order-care', bagOnly, when, configWith());
    expect(out.text).toContain(locale === 'en' ? 'Keep each piece away from direct sunlight' : '请避免阳光直射和高温');
    expect(out.text).toContain(locale === 'en' ? 'simply reply to this email' : '只需回复这封邮件');
    expect(out.all).not.toMatch(/sample|小样/);
    // English names the key in words; Chinese leaves the unnamed category out.
    expect(out.text).toContain(locale === 'en' ? 'getting the best from your Leather goods.' : '以下是一些使用与护理建议');
    expectClean(out.all);
  });

  it('a VIC: a note from their advisor, no sample', async () => {
    const out = await email('first-order-care', buyer({ tier: 'VIC' }), when, configWith({ categoryCare: CARE }));
    expect(out.text).toContain('I will help you myself');
    expect(out.text).toContain('Sophie Martin');
    expect(out.all).not.toMatch(/sample/);
    expectClean(out.all);
  });
});

describe('first-purchase-thanks email', () => {
  const when = Date.parse(firstOrderAt) + 2 * 3_600_000;
  it.each(['en', 'zh-CN'] as const)('%s: recognition, the products bought, a sample', async (locale) => {
    const out = await email('first-purchase-thanks', buyer({ locale }), when, configWith({ categoryNames: NAMES }));
    expect(out.subject).toBe(locale === 'en' ? 'Thank you for your first order, Anna' : '芳，感谢您的首次订购');
    expect(out.text).toContain(locale === 'en' ? 'You have been following Maison Lumière for a while' : '您关注Maison Lumière已有一段时间');
    expect(out.all).toContain('Leather Card Holder');
    expect(out.all).toMatch(locale === 'en' ? /A sample of something new/ : /新品小样/);
    expectClean(out.all);
  });

  it.each(['en', 'zh-CN'] as const)('%s: a VIC gets their advisor introducing themselves, no offer', async (locale) => {
    const out = await email('first-purchase-thanks', buyer({ locale, tier: 'VIC' }), when, configWith());
    expect(out.text).toContain(locale === 'en' ? 'I am Sophie Martin, and I will be your personal advisor' : '我是Sophie Martin，您的专属顾问');
    expect(out.all).not.toMatch(/sample|小样/);
    expectClean(out.all);
  });

  it('is not due for a client whose sign-up welcome covered the first order', async () => {
    await expect(email('first-purchase-thanks', buyer({ signedUpAt: iso(Date.parse(firstOrderAt) - DAY) }), when, configWith())).rejects.toThrow(/not due/);
  });
});
