import type { ProfileItem } from '#shared/store/profile-store.ts';
import { carryHistory } from './history.ts';

/**
 * What a client's stored profile becomes tonight. Everything the night computes (tier, stage,
 * spend, orders, SKUs, RFM, CLV) is tonight's; what the client told the brand is kept unless
 * tonight's export says something new: a client absent from tonight's customers file, or with
 * an empty field, keeps the stored email, names, locale, time zone, birthday, advisor and sign-up
 * date. Consent is the same rule: it changes only when the export says yes or no, so it is
 * withdrawn by an explicit false and by nothing else. The moves recorded by earlier nights are
 * kept unless tonight records a newer one (history.ts). Pure.
 */

/** The fields an export may leave out without erasing them. */
export const KEPT_FIELDS = ['email', 'firstName', 'lastName', 'locale', 'timeZone', 'birthday', 'advisorId', 'signedUpAt', 'acceptsMarketing'] as const;

export function mergeWithStored(tonight: ProfileItem, stored: ProfileItem | null | undefined): ProfileItem {
  if (!stored) return tonight;
  // The moves of earlier nights that tonight's did not replace (history.ts).
  const merged: ProfileItem = { ...carryHistory(tonight, stored) };
  for (const field of KEPT_FIELDS) keep(merged, stored, field);
  return merged;
}

function keep<K extends (typeof KEPT_FIELDS)[number]>(merged: ProfileItem, stored: ProfileItem, field: K): void {
  if (merged[field] === undefined && stored[field] !== undefined) merged[field] = stored[field];
}
