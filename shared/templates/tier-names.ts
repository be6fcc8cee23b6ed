import type { Config } from '#shared/config.ts';
import type { Tier } from '#shared/model.ts';
import type { TemplateLocale } from './locale.ts';

/**
 * A tier as an email names it ("you are now one of our Core clients"): the config's `tierNames`
 * for the locale, else these defaults. The tier keys are the product's words; a brand that calls
 * its Core clients "Gold" says so in the config.
 */
const DEFAULT_TIER_NAMES: Record<TemplateLocale, Record<Tier, string>> = {
  en: { VIC: 'VIC', Core: 'Core', Potential: 'Potential', Entry: 'Entry', Prospect: 'Prospect' },
  'zh-CN': { VIC: 'VIC 贵宾', Core: '核心会员', Potential: '潜力会员', Entry: '新晋会员', Prospect: '潜在客户' },
};

export function tierDisplayName(tier: Tier, locale: TemplateLocale, names: Config['tierNames']): string {
  return names[tier]?.[locale] ?? DEFAULT_TIER_NAMES[locale][tier];
}
