import type { TemplateName } from '#shared/campaigns/template-names.ts';
import type { TemplateLocale } from './locale.ts';
import { ADVISOR_INTRODUCTION } from './sources/advisor-introduction.ts';
import { BIRTHDAY } from './sources/birthday.ts';
import { HTML_PARTIALS, TEXT_PARTIALS } from './sources/common.ts';
import { FIRST_ORDER_CARE } from './sources/first-order-care.ts';
import { FIRST_PURCHASE_THANKS } from './sources/first-purchase-thanks.ts';
import { CROSS_CATEGORY } from './sources/cross-category.ts';
import { RECALL } from './sources/recall.ts';
import { REPLENISHMENT } from './sources/replenishment.ts';
import { SEASONAL } from './sources/seasonal.ts';
import { TIER_UPGRADE_THANKS } from './sources/tier-upgrade-thanks.ts';
import type { LocaleSources } from './sources/types.ts';
import { WELCOME } from './sources/welcome.ts';
import { WINBACK } from './sources/winback.ts';

/**
 * Every template source, as data. Sources are TypeScript string modules rather than .liquid files so
 * that esbuild bundles them into the Lambda and nothing depends on the file system at run time.
 */

// The built-ins' templates: the three timed campaigns, then the plays (shared/campaigns/plays.ts).
export { TEMPLATE_NAMES, type TemplateName } from '#shared/campaigns/template-names.ts';

export interface TemplateCatalog {
  /** Layouts and partials for the HTML engine (escaping), by name. */
  htmlPartials: Record<string, string>;
  /** Layouts and partials for the text engine (no escaping), by the same names. */
  textPartials: Record<string, string>;
  /** Campaign → locale → sources. */
  campaigns: Record<string, Partial<Record<TemplateLocale, LocaleSources>>>;
}

export const TEMPLATE_CATALOG: TemplateCatalog = {
  htmlPartials: HTML_PARTIALS,
  textPartials: TEXT_PARTIALS,
  campaigns: {
    welcome: WELCOME,
    replenishment: REPLENISHMENT,
    winback: WINBACK,
    'tier-upgrade-thanks': TIER_UPGRADE_THANKS,
    birthday: BIRTHDAY,
    'first-order-care': FIRST_ORDER_CARE,
    'first-purchase-thanks': FIRST_PURCHASE_THANKS,
    seasonal: SEASONAL,
    recall: RECALL,
    'cross-category': CROSS_CATEGORY,
    ...({
      // Not a campaign: the introduction after a handover (shared/sender/introductions.ts), always in an advisor's name.
      'advisor-introduction': ADVISOR_INTRODUCTION,
    } satisfies Record<string, Record<TemplateLocale, LocaleSources>>),
  } satisfies Record<TemplateName, Record<TemplateLocale, LocaleSources>>,
};
