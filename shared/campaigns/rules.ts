import type { CampaignDefinition } from './schema.ts';
import type { ProductsSource, Timing, Trigger } from './vocabulary.ts';

/**
 * Every campaign in the vocabulary: a custom campaign is written in it; the three built-ins, in
 * their older form, are read as the same words with the same windows, keys and details:
 * - welcome = first-contact, cut-off `cutoffHours`, late past `targetHours`, once ever ('welcome');
 * - replenishment = product-runs-out `daysBeforeRunOut` days before, until the run-out day, once per
 *   purchase ('replenishment#<sku>#<lastPurchasedAt>'), the predicted next order standing in when no
 *   product has a cycle ('replenishment#next-order#<lastOrderAt>'); its email shows the product through the
 *   occasion's sku (shared/sender/compose.ts), so no product list;
 * - win-back = no-order-for `afterDays`, open `windowDays` days, once per lapse
 *   ('winback#<lastOrderAt>'), showing the client's top category.
 */
export interface CampaignRules {
  trigger: Trigger;
  timing: Timing;
  products: ProductsSource;
}

const rulesOf = new WeakMap<CampaignDefinition, CampaignRules>();

/** The campaign's rules (computed once per parsed campaign object). */
export function campaignRules(campaign: CampaignDefinition): CampaignRules {
  let rules = rulesOf.get(campaign);
  if (rules === undefined) {
    rules = rulesFor(campaign);
    rulesOf.set(campaign, rules);
  }
  return rules;
}

function rulesFor(campaign: CampaignDefinition): CampaignRules {
  switch (campaign.kind) {
    case 'welcome':
      return {
        trigger: { on: 'first-contact' },
        timing: { delayHours: 0, cutoffHours: campaign.timing.cutoffHours, lateAfterHours: campaign.timing.targetHours, oncePer: 'occasion' },
        products: { from: 'none' },
      };
    case 'replenishment':
      return {
        trigger: { on: 'product-runs-out', daysBefore: campaign.timing.daysBeforeRunOut, replenishableCategories: campaign.replenishableCategories, predictedFallback: true },
        timing: { delayHours: 0, oncePer: 'occasion' },
        products: { from: 'none' },
      };
    case 'winback':
      return {
        trigger: { on: 'no-order-for', days: [campaign.timing.afterDays] },
        timing: { delayHours: 0, cutoffDays: campaign.timing.windowDays, oncePer: 'occasion' },
        products: { from: 'top-category', required: false },
      };
    case 'custom':
      return { trigger: campaign.trigger, timing: campaign.timing, products: campaign.products ?? defaultProducts(campaign.trigger) };
  }
}

/** What an email shows when the campaign does not say: what the trigger bought or runs out of, the top category after a lapse. */
function defaultProducts(trigger: Trigger): ProductsSource {
  switch (trigger.on) {
    case 'first-order':
    case 'any-order':
    case 'product-runs-out':
      return { from: 'trigger', required: false };
    case 'no-order-for':
      return { from: 'top-category', required: false };
    default:
      return { from: 'none' };
  }
}
