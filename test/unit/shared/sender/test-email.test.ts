import { describe, expect, it } from 'vitest';
import { brandDefaultCampaigns, campaignDefinitionSchema } from '#shared/campaigns/schema.ts';
import { parseConfig } from '#shared/config.ts';
import type { ProductRecord } from '#shared/model.ts';
import { internalDomains, isInternalAddress, madeUpClient, MADE_UP_CUSTOMER_ID, occasionToShow, SAMPLE_COUPON_CODE, sampleCouponCode, testSubject } from '#shared/sender/test-email.ts';

const AT = Date.parse('2026-11-24T10:00:00+08:00');
const catalog = new Map<string, ProductRecord>([
  ['SERUM', { sku: 'SERUM', name: 'Serum', category: 'skincare', replenishDays: 60, url: 'https://shop.example.com/serum', priceMinor: 9500, currency: 'USD' }],
  ['COAT', { sku: 'COAT', name: 'Coat', category: 'ready-to-wear' }],
]);
const config = parseConfig({});

describe('madeUpClient', () => {
  it('gives every campaign an occasion to show, in the asked language and tier', () => {
    for (const kind of ['welcome', 'replenishment', 'winback'] as const) {
      const campaign = campaignDefinitionSchema.parse({ kind });
      const profile = madeUpClient(campaign, catalog, AT, 'zh-CN', 'Core');
      expect(profile).toMatchObject({ customerId: MADE_UP_CUSTOMER_ID, locale: 'zh-CN', tier: 'Core', acceptsMarketing: true });
      const occasion = occasionToShow(profile, campaign, catalog, config, AT);
      expect(occasion?.kind, kind).toBe(kind);
    }
  });

  it('gives every play an occasion to show (a move into the tier, a birthday, ...)', () => {
    // What some plays read besides the client: the brand's seasons (seasonal), the night's category affinity and a category the client did not buy (cross-category).
    const withSeasons = parseConfig({ campaigns: { seasons: [{ name: 'spring', starts: '03-01' }, { name: 'autumn', starts: '09-01' }] } });
    const affinity = { buyers: { skincare: 30 }, alsoBought: { skincare: { fragrance: 10 } } };
    const withFragrance = new Map<string, ProductRecord>([...catalog, ['EDP', { sku: 'EDP', name: 'Eau de Parfum', category: 'fragrance' }]]);
    for (const campaign of brandDefaultCampaigns().filter((c) => c.kind === 'custom')) {
      const profile = madeUpClient(campaign, withFragrance, AT, 'en', 'Core');
      expect(occasionToShow(profile, campaign, withFragrance, withSeasons, AT, affinity)?.campaignId, campaign.id).toBe(campaign.id);
    }
  });

  it('buys replenishable products for a replenishment', () => {
    const profile = madeUpClient(campaignDefinitionSchema.parse({ kind: 'replenishment' }), catalog, AT, 'en', 'Entry');
    expect(Object.keys(profile.skus)).toEqual(['SERUM']);
  });
});

describe('the sample code of a preview or a test', () => {
  it("stands for a pool's or a scheme's code, and for the brand scheme only when the config sets one", () => {
    expect(sampleCouponCode({}, {})).toBeUndefined();
    expect(sampleCouponCode({ couponFrom: { from: 'pool' } }, {})).toBe(SAMPLE_COUPON_CODE);
    expect(sampleCouponCode({ couponFrom: { from: 'brand-scheme' } }, {})).toBeUndefined();
    expect(sampleCouponCode({ couponFrom: { from: 'brand-scheme' } }, { scheme: { prefix: 'BD', length: 8 } })).toBe(SAMPLE_COUPON_CODE);
  });
});

describe('internal addresses', () => {
  it('are the configured domains, else the sender address\'s, matched exactly', () => {
    expect(internalDomains({ internalDomains: [], fromAddress: 'hello@maison.example' })).toEqual(['maison.example']);
    expect(internalDomains({ internalDomains: ['team.example'], fromAddress: 'hello@maison.example' })).toEqual(['team.example']);
    expect(isInternalAddress('crm@Maison.Example', ['maison.example'])).toBe(true);
    expect(isInternalAddress('crm@maison.example.evil.io', ['maison.example'])).toBe(false);
    expect(isInternalAddress('crm@evil-maison.example', ['maison.example'])).toBe(false);
    expect(isInternalAddress('crm@sub.maison.example', ['maison.example'])).toBe(false);
  });
});

it('marks a test subject in the email\'s language', () => {
  expect(testSubject('Welcome', 'en')).toBe('[TEST] Welcome');
  expect(testSubject('欢迎', 'zh-CN')).toBe('[测试] 欢迎');
});
