/**
 * The campaign templates the catalogue ships (shared/templates/catalog.ts), by name: a light module, so that the
 * configuration can check a campaign's template without bundling every template's source.
 */
export const TEMPLATE_NAMES = ['welcome', 'replenishment', 'winback', 'tier-upgrade-thanks', 'birthday', 'first-order-care', 'first-purchase-thanks', 'seasonal', 'recall', 'cross-category'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
