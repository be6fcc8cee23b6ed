import { describe, expect, it } from 'vitest';
import type { DueOccasion } from '#shared/campaigns/due.ts';
import { parseConfig } from '#shared/config.ts';
import { composeEmail } from '#shared/sender/compose.ts';
import { categoryDisplayName } from '#shared/templates/category-names.ts';
import { clientProfile } from '#test/support/profiles.ts';

const winback = (recommendedCategory: string): DueOccasion => ({
  campaignId: 'winback',
  kind: 'winback',
  customerId: 'c1',
  occasionKey: 'winback#2026-01-01T00:00:00.000Z',
  triggerAt: 0,
  dueAt: 0,
  expiresAt: 1,
  priority: 3,
  template: 'winback',
  details: { recommendedCategory, products: [{ sku: 'LG-1', productName: 'Card Holder' }], offer: { kind: 'none' } },
});

describe('category names in the emails', () => {
  it('the config name per locale; English falls back to the key in words; Chinese leaves it out', () => {
    const names = { 'leather-goods': { 'zh-CN': '皮具' } };
    expect(categoryDisplayName('leather-goods', 'zh-CN', names)).toBe('皮具');
    expect(categoryDisplayName('leather-goods', 'en', names)).toBe('Leather goods');
    expect(categoryDisplayName('home_fragrance', 'en', {})).toBe('Home fragrance');
    expect(categoryDisplayName('leather-goods', 'zh-CN', {})).toBeUndefined();
    expect(categoryDisplayName('leather-goods', 'en', { 'leather-goods': { en: 'Small leather goods' } })).toBe('Small leather goods');
  });

  it('a win-back never shows the raw category key, in either language', async () => {
    const zh = clientProfile({ locale: 'zh-CN', firstName: '芳' });
    const en = clientProfile({ locale: 'en' });
    const bare = parseConfig({});
    const named = parseConfig({ categoryNames: { 'leather-goods': { en: 'Leather goods', 'zh-CN': '皮具' } } });
    const render = async (profile: typeof zh, config: typeof bare) => {
      const email = await composeEmail(profile, winback('leather-goods'), [], config, 'secret');
      return `${email.subject}\n${email.html}\n${email.text}`;
    };
    for (const out of [await render(zh, bare), await render(zh, named), await render(en, bare), await render(en, named)]) expect(out).not.toContain('leather-goods');
    expect(await render(zh, named)).toContain('从您喜爱的皮具中为您精选');
    expect(await render(zh, bare)).toContain('为您精选');
    expect(await render(en, bare)).toContain('Picked for you from Leather goods');
  });
});
