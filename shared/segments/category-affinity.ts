import { emptyDictionary, ownEntry } from '#shared/dictionary.ts';
import type { ClientProfile } from '#shared/model.ts';

/**
 * What the clients of each top category buy besides it (domain.md's cross-category play: a
 * Potential or Entry client is shown a category they have not bought, chosen by what clients
 * with their top category buy most). Counted over the night's buyers as their profiles go by,
 * added up across shards, and stored for the sender, which reads only the clients due.
 * Categories are free text from the export: counted in dictionaries without a prototype, and
 * looked up as own entries only (the stored JSON is read back into plain objects).
 * Pure.
 */
export interface CategoryAffinity {
  /** Buyers per top category. */
  buyers: Record<string, number>;
  /** Top category → another category → how many of those buyers bought it too. */
  alsoBought: Record<string, Record<string, number>>;
}

/** Below this many buyers of a top category, its own ranking is noise: the brand-wide one is used. */
export const MIN_AFFINITY_BUYERS = 20;

/** What a SKU's category is looked up in besides the profile: the products export (the sender's catalogue). */
export type CategoryCatalog = { get(sku: string): { category?: string } | undefined };

/** A SKU's category: the one the client's purchase of it recorded, else the catalogue's, when one is given. */
export function skuCategory(profile: Pick<ClientProfile, 'skus'>, sku: string, catalog?: CategoryCatalog): string | undefined {
  return profile.skus[sku]?.category ?? catalog?.get(sku)?.category;
}

/** The categories a client has bought, from their profile's SKU purchases (skuCategory of each). */
export function categoriesBought(profile: Pick<ClientProfile, 'skus'>, catalog?: CategoryCatalog): Set<string> {
  const categories = new Set<string>();
  for (const sku of Object.keys(profile.skus)) {
    const category = skuCategory(profile, sku, catalog);
    if (category !== undefined) categories.add(category);
  }
  return categories;
}

export function emptyCategoryAffinity(): CategoryAffinity {
  return { buyers: emptyDictionary(), alsoBought: emptyDictionary() };
}

/** Adds one client: a buyer with a top category counts towards it, with every other category they bought. */
export function addToCategoryAffinity(affinity: CategoryAffinity, profile: Pick<ClientProfile, 'topCategory' | 'skus'>): void {
  const top = profile.topCategory;
  if (!top) return;
  affinity.buyers[top] = (affinity.buyers[top] ?? 0) + 1;
  const row = (affinity.alsoBought[top] ??= emptyDictionary());
  for (const category of categoriesBought(profile)) if (category !== top) row[category] = (row[category] ?? 0) + 1;
}

/** Counts the profiles shown to `add`; `result()` is the affinity so far. */
export function categoryAffinityCollector(): { add: (profile: Pick<ClientProfile, 'topCategory' | 'skus'>) => void; result: () => CategoryAffinity } {
  const affinity = emptyCategoryAffinity();
  return { add: (profile) => addToCategoryAffinity(affinity, profile), result: () => affinity };
}

/** The shards' counts added up: the affinity of the whole base. */
export function mergeCategoryAffinities(parts: readonly CategoryAffinity[]): CategoryAffinity {
  const merged = emptyCategoryAffinity();
  for (const part of parts) {
    for (const [top, n] of Object.entries(part.buyers)) merged.buyers[top] = (merged.buyers[top] ?? 0) + n;
    for (const [top, row] of Object.entries(part.alsoBought)) {
      const into = (merged.alsoBought[top] ??= emptyDictionary());
      for (const [category, n] of Object.entries(row)) into[category] = (into[category] ?? 0) + n;
    }
  }
  return merged;
}

/** Categories by count, most first, then by name so that the ranking is stable. */
function ranked(counts: Record<string, number>): string[] {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([category]) => category);
}

/** How many buyers bought each category at all (their top category or another), brand-wide. */
function brandWide(affinity: CategoryAffinity): Record<string, number> {
  const counts = emptyDictionary<number>();
  for (const [category, n] of Object.entries(affinity.buyers)) counts[category] = n;
  for (const row of Object.values(affinity.alsoBought)) for (const [category, n] of Object.entries(row)) counts[category] = (counts[category] ?? 0) + n;
  return counts;
}

/**
 * The category to show a client who has not bought it (`bought`: every category they bought): the one most bought by clients with the
 * same top category (when at least MIN_AFFINITY_BUYERS of them), else the one most bought
 * brand-wide; undefined when the client has bought every category anyone bought, or has no top
 * category (no purchase to go from).
 */
export function crossCategoryPick(topCategory: string | undefined, bought: ReadonlySet<string>, affinity: CategoryAffinity): string | undefined {
  if (!topCategory) return undefined;
  const own = (ownEntry(affinity.buyers, topCategory) ?? 0) >= MIN_AFFINITY_BUYERS ? ranked(ownEntry(affinity.alsoBought, topCategory) ?? {}) : [];
  for (const category of [...own, ...ranked(brandWide(affinity))]) if (category !== topCategory && !bought.has(category)) return category;
  return undefined;
}
