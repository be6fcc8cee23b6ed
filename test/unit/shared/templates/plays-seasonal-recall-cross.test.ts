import { describe, expect, it } from 'vitest';
import { dueOccasions, type DueOccasion } from '#shared/campaigns/due.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import type { AdvisorRecord, ClientProfile, ProductRecord } from '#shared/model.ts';
import { composeEmail } from '#shared/sender/compose.ts';
import type { CategoryAffinity } from '#shared/segments/category-affinity.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { at, DAY, iso } from '#test/support/time.ts';

/**
 * The emails of the seasonal, recall and cross-category plays, from the occasion the rules give to
 * the rendered email, in en and zh-CN: what each says, no raw key (category or season), no
 * sentence left empty by a missing name, no discount in a personal note.
 */

const SH = 'Asia/Shanghai';
const SEASONS = [
  { name: 'spring-summer', starts: '03-01', names: { en: 'Spring–Summer', 'zh-CN': '春夏' } },
  { name: 'autumn-winter', starts: '09-01', names: { en: 'Autumn–Winter', 'zh-CN': '秋冬' } },
];
const NAMES = { 'leather-goods': { en: 'Leather goods', 'zh-CN': '皮具' }, fragrance: { en: 'Fragrance', 'zh-CN': '香氛' }, coats: { en: 'Coats', 'zh-CN': '大衣' } };
const CATALOG = new Map<string, ProductRecord>([
  ['COAT', { sku: 'COAT', name: 'Wool Coat', category: 'coats', url: 'https://shop.example.com/p/coat', imageUrl: 'https://shop.example.com/i/coat.jpg', priceMinor: 128_000, currency: 'USD' }],
  ['WALLET', { sku: 'WALLET', name: 'Zip Wallet', category: 'leather-goods', priceMinor: 42_000, currency: 'USD' }],
  ['EDP', { sku: 'EDP', name: 'Eau de Parfum', category: 'fragrance', url: 'https://shop.example.com/p/edp', priceMinor: 16_000, currency: 'USD' }],
]);
const AFFINITY: CategoryAffinity = { buyers: { 'leather-goods': 30 }, alsoBought: { 'leather-goods': { fragrance: 20 } } };
const config = (names = true): Config =>
  parseConfig({
    brandName: 'Maison Lumière',
    sender: { fromAddress: 'hello@maison.example.com', shopUrl: 'https://shop.example.com/', postalAddress: ['1 Rue Exemple', '75001 Paris'] },
    campaigns: { seasons: names ? SEASONS : SEASONS.map(({ names: _names, ...season }) => season), policy: { controlShare: 0 } },
    ...(names ? { categoryNames: NAMES } : {}),
  });
const sophie: AdvisorRecord = { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@maison.example.com', active: true };

const purchase = (when: number, sku: string, category: string, name: string) => ({ [sku]: { lastPurchasedAt: iso(when), quantity: 1, purchases: 1, category, productName: name } });

/** The client's occasion of the campaign at `now`, and its email as the sender composes it. */
async function email(campaignId: string, profile: ClientProfile, now: number, cfg = config()) {
  const occasion = dueOccasions(profile, CATALOG, now, { campaigns: cfg.campaigns, brandTimeZone: SH, categoryAffinity: AFFINITY }).find((o: DueOccasion) => o.campaignId === campaignId);
  if (occasion === undefined) throw new Error(`${campaignId} is not due`);
  const content = await composeEmail(profile, occasion, [], cfg, 'secret', new Map([['A01', sophie]]), { catalog: CATALOG, couponCode: 'TRY-10' });
  // What a reader sees: the links (their UTM parameters name the occasion's key) left out.
  const visible = (part: string) => part.replace(/https?:\/\/[^\s"<>]+/g, '');
  return { ...content, all: visible(`${content.subject}\n${content.html}\n${content.text}`) };
}

/** What a missing name must not leave behind: a space before punctuation, doubled punctuation, a dangling "in"/"from", an empty 的. */
function expectNoEmptySentence(text: string): void {
  expect(text).not.toMatch(/ [,.;:!?]|[，。：；、]{2}|\b(in|from|of|last) [,.:;]|的[：，。]|从您喜爱的中|undefined|null|\{\{|\{%/);
}
function expectNoRawKey(text: string): void {
  expect(text).not.toMatch(/leather-goods|autumn-winter|spring-summer|\bcoats\b|fragrance\b(?!.*Fragrance)/);
}

describe('seasonal email', () => {
  const client = (locale: string, tier: ClientProfile['tier'] = 'Core') =>
    clientProfile({ locale, tier, firstName: locale === 'en' ? 'Ada' : '芳', timeZone: SH, advisorId: 'A01', skus: purchase(at('2025-10-12 15:00', SH), 'COAT', 'coats', 'Wool Coat') });
  const now = at('2026-08-26 10:00', SH);

  it("names the season and its date, shows last season's picks with picture, price and link, in both languages", async () => {
    const en = await email('seasonal', client('en'), now);
    expect(en.subject).toBe('Ada, Autumn–Winter is almost here');
    expect(en.text).toContain('The new Autumn–Winter collection arrives on 1 September.');
    expect(en.text).toContain('Your choices last Autumn–Winter:');
    expect(en.html).toContain('https://shop.example.com/i/coat.jpg');
    expect(en.text).toMatch(/Wool Coat, \$1,280\.00/);
    expect(en.text).toMatch(/utm_campaign=seasonal/);
    const zh = await email('seasonal', client('zh-CN'), now);
    expect(zh.subject).toBe('芳，秋冬新季即将到来');
    expect(zh.text).toContain('秋冬新品将于9月1日上市。');
    expect(zh.text).toContain('您去年秋冬的选择：');
    expect(zh.text).toContain('1 Rue Exemple');
    for (const out of [en.all, zh.all]) {
      expectNoEmptySentence(out);
      expectNoRawKey(out);
    }
  });

  it('without season names: English writes the name in words, Chinese says "the new season"; never the key', async () => {
    const en = await email('seasonal', client('en'), now, config(false));
    expect(en.subject).toBe('Ada, Autumn winter is almost here');
    const zh = await email('seasonal', client('zh-CN'), now, config(false));
    expect(zh.subject).toBe('芳，新一季即将到来');
    expect(zh.text).toContain('您去年同季的选择：');
    for (const out of [en.all, zh.all]) {
      expectNoEmptySentence(out);
      expect(out).not.toMatch(/autumn-winter|coats/);
    }
  });

  it("a VIC's is a note from their advisor, no discount", async () => {
    const zh = await email('seasonal', client('zh-CN', 'VIC'), now);
    expect(zh.from).toContain('Sophie Martin via Maison Lumière');
    expect(zh.text).toContain('我可以在新品到店前');
    expect(zh.all).not.toMatch(/优惠|TRY-10/);
  });
});

describe('recall email', () => {
  const last = at('2026-01-10 15:00', SH);
  const client = (locale: string, fields: Partial<ClientProfile> = {}) =>
    clientProfile({ locale, firstName: locale === 'en' ? 'Ada' : '芳', tier: 'Core', timeZone: SH, advisorId: 'A01', firstOrderAt: iso(last - 700 * DAY), lastOrderAt: iso(last), orderCount: 8, topCategory: 'leather-goods', skus: purchase(last, 'WALLET', 'leather-goods', 'Zip Wallet'), ...fields });

  it('says how long it has been (months, then a year), with the graded offer and their own picks', async () => {
    const months = await email('recall', client('en'), last + 121 * DAY);
    expect(months.subject).toBe('Ada, we have kept something for you');
    expect(months.text).toContain('It has been some months since your last order.');
    expect(months.text).toContain('Free shipping and 25% off your next order with the code TRY-10.');
    expect(months.text).toContain('From Leather goods, the pieces you chose:');
    const year = await email('recall', client('en', { orderCount: 1, firstOrderAt: iso(last) }), last + 366 * DAY);
    expect(year.subject).toBe('Ada, it has been a year');
    expect(year.text).toContain('Free shipping and 15% off');
    const zhMonths = await email('recall', client('zh-CN'), last + 181 * DAY);
    expect(zhMonths.subject).toBe('芳，我们为您留了一份心意');
    expect(zhMonths.text).toContain('距您上次下单已有几个月了。这段时间，皮具系列也上新了不少作品');
    expect(zhMonths.text).toContain('免运费，并享 25% 优惠');
    const zhYear = await email('recall', client('zh-CN'), last + 370 * DAY);
    expect(zhYear.subject).toBe('芳，转眼已是一年');
    for (const out of [months.all, year.all, zhMonths.all, zhYear.all]) {
      expectNoEmptySentence(out);
      expectNoRawKey(out);
    }
    // It does not read as the win-back again.
    expect(months.all).not.toContain('welcome-back gift');
    expect(zhMonths.all).not.toContain('欢迎回来的礼物');
  });

  it('a VIC gets a note from the advisor, no discount, in both languages', async () => {
    const en = await email('recall', client('en', { tier: 'VIC' }), last + 121 * DAY);
    expect(en.subject).toBe('Ada, thinking of you');
    expect(en.text).toContain('I wanted to write to you myself');
    expect(en.text).toMatch(/Warm regards,\nSophie Martin\n/);
    const zh = await email('recall', client('zh-CN', { tier: 'VIC' }), last + 370 * DAY);
    expect(zh.text).toContain('转眼已有一年没见到您，想亲自给您写几句话。');
    for (const out of [en.all, zh.all]) {
      expect(out.replace(/<[^>]*>/g, '')).not.toMatch(/\d%|TRY-10|优惠码/);
      expectNoEmptySentence(out);
    }
  });
});

describe('cross-category email', () => {
  const order = at('2026-03-02 12:00', SH);
  const client = (locale: string) => clientProfile({ locale, firstName: locale === 'en' ? 'Ada' : '芳', tier: 'Entry', timeZone: SH, firstOrderAt: iso(order), lastOrderAt: iso(order), topCategory: 'leather-goods', skus: purchase(order, 'WALLET', 'leather-goods', 'Zip Wallet') });
  const now = at('2026-03-24 10:00', SH);

  it('says why this category (clients who love theirs choose it), with its products and the coupon', async () => {
    const en = await email('cross-category', client('en'), now);
    expect(en.subject).toBe('Something new for you in Fragrance, Ada');
    expect(en.text).toContain('Clients who love Leather goods as you do often choose Fragrance too. To make the first step easy, we have set aside a gift:');
    expect(en.text).toContain('10% off your next order with the code TRY-10.');
    expect(en.text).toMatch(/Eau de Parfum, \$160\.00/);
    const zh = await email('cross-category', client('zh-CN'), now);
    expect(zh.subject).toBe('芳，为您推荐香氛');
    expect(zh.text).toContain('和您一样喜爱皮具的顾客，往往也会选择香氛。');
    expect(zh.text).toContain('优惠码：TRY-10');
    for (const out of [en.all, zh.all]) {
      expectNoEmptySentence(out);
      expectNoRawKey(out);
    }
  });

  it('without Chinese category names the Chinese email leaves them out, no empty sentence', async () => {
    const zh = await email('cross-category', client('zh-CN'), now, config(false));
    expect(zh.subject).toBe('芳，为您推荐新的选择');
    expect(zh.text).toContain('与您品味相近的顾客，往往也会选择这几件作品。');
    expectNoEmptySentence(zh.all);
    expect(zh.all).not.toMatch(/leather-goods|fragrance/);
  });
});
