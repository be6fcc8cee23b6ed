import { createHash } from 'node:crypto';

/**
 * UTM parameters on the shop links of a campaign email, so that the shop's analytics credit the
 * campaign: utm_source (config.sender.utmSource), utm_medium "email", utm_campaign (the campaign
 * id), utm_content (the occasion, in a short stable form). Pure. The unsubscribe link never
 * carries them: it is not a shop link.
 */

export interface UtmTags {
  source: string;
  campaign: string;
  content: string;
}

export const UTM_MEDIUM = 'email';

/**
 * `url` with the UTM parameters set: its other query parameters kept in order, a parameter of the
 * same name replaced (the campaign is what the shop should credit), the fragment kept.
 */
export function withUtm(url: string, tags: UtmTags): string {
  const parsed = new URL(url);
  parsed.searchParams.set('utm_source', tags.source);
  parsed.searchParams.set('utm_medium', UTM_MEDIUM);
  parsed.searchParams.set('utm_campaign', tags.campaign);
  parsed.searchParams.set('utm_content', tags.content);
  return parsed.href;
}

const ISO_INSTANT = /(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})/g;
const MAX_CONTENT = 80;

/**
 * The occasion's ledger key as utm_content: instants shortened to their date
 * ("replenishment#SK-1#2026-01-02T03:04:05.000Z" → "replenishment.SK-1.2026-01-02"), '#' as '.',
 * at most 80 characters (a longer one is cut and ends with a hash of the whole key, so two keys
 * never share a value because of the cut). Stable: the same occasion always gives the same value.
 */
export function utmContent(occasionKey: string): string {
  const short = occasionKey.replace(ISO_INSTANT, '$1').replaceAll('#', '.');
  if (short.length <= MAX_CONTENT) return short;
  return `${short.slice(0, MAX_CONTENT - 9)}~${createHash('sha256').update(occasionKey).digest('hex').slice(0, 8)}`;
}
