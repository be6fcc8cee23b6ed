import { describe, expect, it } from 'vitest';
import type { DueOccasion } from '#shared/campaigns/due.ts';
import { parseConfig } from '#shared/config.ts';
import type { ProductRecord } from '#shared/model.ts';
import { composeEmail } from '#shared/sender/compose.ts';
import { clientProfile } from '#test/support/profiles.ts';

/** Issue 15 point 5: call to action, product blocks, UTM parameters, coupon codes, category names, postal address. */

const config = parseConfig({
  brandName: 'Maison Lumière',
  sender: { shopUrl: 'https://shop.example.com/?lang=auto', utmSource: 'crm', postalAddress: ['1 Demo Plaza', 'Shanghai 200000'] },
  categoryNames: { skincare: { en: 'Skincare', 'zh-CN': '护肤' } },
});
const catalog = new Map<string, ProductRecord>([
  ['SERUM', { sku: 'SERUM', name: 'Serum', category: 'skincare', url: 'https://shop.example.com/p/serum?v=2', imageUrl: 'https://cdn.example.com/serum.jpg', priceMinor: 128_050, currency: 'USD' }],
  ['CREAM', { sku: 'CREAM', name: 'Cream', category: 'skincare' }],
]);
const bought = '2026-10-01T02:00:00.000Z';
const profileFor = (locale: string, tier: 'Core' | 'VIC' = 'Core') =>
  clientProfile({
    locale,
    tier,
    firstName: locale === 'zh-CN' ? '芳' : 'Ann',
    topCategory: 'skincare',
    firstOrderAt: bought,
    lastOrderAt: bought,
    skus: { SERUM: { productName: 'Serum', category: 'skincare', lastPurchasedAt: bought, quantity: 1, purchases: 1 }, CREAM: { productName: 'Cream', category: 'skincare', lastPurchasedAt: bought, quantity: 1, purchases: 1 } },
  });

const base = { customerId: 'c1', triggerAt: 0, dueAt: 0, expiresAt: 1, keyOutlivesWindow: false };
const occasions: Record<string, DueOccasion> = {
  welcome: { ...base, campaignId: 'welcome', kind: 'welcome', occasionKey: 'welcome', priority: 1, template: 'welcome', details: { offer: { kind: 'coupon', discountPercent: 10, couponFrom: { from: 'pool' } } } },
  replenishment: {
    ...base,
    campaignId: 'replenishment',
    kind: 'replenishment',
    occasionKey: `replenishment#SERUM#${bought}`,
    priority: 2,
    template: 'replenishment',
    details: { sku: 'SERUM', productName: 'Serum', runOutDate: '2026-12-01', offer: { kind: 'coupon', discountPercent: 10, couponCode: 'FIXED10' } },
  },
  winback: {
    ...base,
    campaignId: 'winback',
    kind: 'winback',
    occasionKey: `winback#${bought}`,
    priority: 3,
    template: 'winback',
    details: { recommendedCategory: 'skincare', products: [{ sku: 'SERUM', productName: 'Serum' }, { sku: 'CREAM', productName: 'Cream' }], offer: { kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 15 } },
  },
};

const hrefs = (html: string) => [...html.matchAll(/href="([^"]+)"/g)].map((m) => (m[1] ?? '').replaceAll('&amp;', '&'));

describe.each(['en', 'zh-CN'])('campaign emails in %s', (locale) => {
  it.each(Object.keys(occasions))('%s: a button, products with picture, price and link, UTM on every shop link, the postal address', async (id) => {
    const occasion = occasions[id] as DueOccasion;
    const email = await composeEmail(profileFor(locale), occasion, [], config, 'secret', new Map(), { catalog, couponCode: id === 'welcome' ? 'POOL-0001' : undefined });
    const links = hrefs(email.html);
    const shopLinks = links.filter((l) => l.startsWith('https://shop.example.com/'));
    expect(shopLinks.length).toBeGreaterThanOrEqual(2);
    for (const link of shopLinks) {
      const url = new URL(link);
      expect(url.searchParams.get('utm_source')).toBe('crm');
      expect(url.searchParams.get('utm_medium')).toBe('email');
      expect(url.searchParams.get('utm_campaign')).toBe(id);
      expect(url.searchParams.get('utm_content')).toBe(occasion.occasionKey.replace(/T[0-9:.]+Z/, '').replaceAll('#', '.'));
    }
    expect(shopLinks.some((l) => l.startsWith('https://shop.example.com/?lang=auto&utm_source='))).toBe(true);
    expect(shopLinks.some((l) => l.startsWith('https://shop.example.com/p/serum?v=2&utm_source='))).toBe(true);
    const unsubscribe = links.find((l) => l.startsWith('https://unsubscribe.example.com/'));
    expect(unsubscribe).toBeDefined();
    expect(unsubscribe).not.toContain('utm_');
    expect(email.html).toContain('<img src="https://cdn.example.com/serum.jpg"');
    expect(email.html).toContain(locale === 'zh-CN' ? 'US$1,280.50' : '$1,280.50');
    expect(email.html).toContain('1 Demo Plaza<br>Shanghai 200000');
    expect(email.text).toContain('1 Demo Plaza\nShanghai 200000');
    expect(email.text).toMatch(/utm_campaign=/);
    expect(`${email.subject}${email.html}${email.text}`).not.toContain('skincare');
    if (id === 'welcome') expect(email.html).toContain('POOL-0001');
    if (id === 'replenishment') expect(email.html).toContain('FIXED10');
  });

  it('a VIC note: a button and the address too, never a coupon', async () => {
    const email = await composeEmail(profileFor(locale, 'VIC'), occasions.winback as DueOccasion, [], config, 'secret', new Map(), { catalog, couponCode: 'POOL-0002' });
    expect(hrefs(email.html).some((l) => l.includes('utm_campaign=winback'))).toBe(true);
    expect(email.html).toContain('1 Demo Plaza');
    expect(email.html).not.toContain('POOL-0002');
  });
});

it('without url, image_url or price, a product block is its name', async () => {
  const email = await composeEmail(profileFor('en'), occasions.winback as DueOccasion, [], parseConfig({}), 'secret', new Map(), { catalog: new Map() });
  expect(email.html).toContain('>Serum</strong>');
  expect(email.html).not.toContain('<img');
  expect(email.html).not.toMatch(/\$\d/);
  expect(email.html).not.toContain('1 Demo Plaza');
});
