import type { Config } from '#shared/config.ts';
import type { TemplateLocale } from './locale.ts';
import { ownEntry } from '#shared/dictionary.ts';

/**
 * A category as an email names it: the config's name for the locale; in English, the key in
 * words ("leather-goods" → "Leather goods"); otherwise nothing, and the template says it without
 * the category. An email never shows a raw key.
 */
export function categoryDisplayName(key: string, locale: TemplateLocale, names: Config['categoryNames']): string | undefined {
  // A category is export text: 'constructor' must not read the inherited member.
  const configured = ownEntry(names, key)?.[locale];
  if (configured !== undefined) return configured;
  if (locale !== 'en') return undefined;
  const words = key.trim().replace(/[-_\s]+/g, ' ').trim();
  return words === '' ? undefined : words.charAt(0).toUpperCase() + words.slice(1);
}
