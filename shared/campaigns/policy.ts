import { createHash } from 'node:crypto';
import { TIERS, tierRank, type ClientProfile, type Stage } from '#shared/model.ts';
import { rfmSegmentRuleOf, type RfmSegmentRule } from '#shared/segments/rfm-segments.ts';
import { MS_PER_DAY, addDays, daysBetweenDates, localDate, zoneOffsetMs, zonedWallTimeInstants } from '#shared/time.ts';
import { clientTimeZone, compareOccasions, judgedProfile, type CampaignContext, type DueOccasion, type ProductCatalog } from './due.ts';
import { categoriesBought } from '#shared/segments/category-affinity.ts';
import { LAPSE_STAGES } from './triggers.ts';
import { isQuietMinute, minutesOfWallTime, type Audience, type CampaignDefinition, type CampaignsConfig, type QuietHours } from './schema.ts';

/**
 * What happens to each due occasion of one client this hour. Pure: the sender supplies the
 * profile, whether the client is suppressed and the client's recent sends, and records the
 * outcomes (claims 'send' and 'held-out' in its ledger, retries 'capped' and 'deferred' later).
 */

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
/** UTC offsets only change on quarter-hour boundaries. */
const QUARTER_HOUR_MS = 15 * MS_PER_MINUTE;

/**
 * A marketing email actually sent to the client: one per email, however many occasions it settled
 * (the sender groups them: shared/sender/recent-emails.ts). Held-out occasions are not sends: leave them out.
 */
export interface RecentSend {
  campaignId: string;
  sentAt: number;
}

export type CapReason = 'priority' | 'frequency-24h' | 'frequency-7d';

export type Decision =
  | { outcome: 'send' }
  | { outcome: 'held-out' }
  | { outcome: 'no-consent' }
  | { outcome: 'suppressed' }
  | { outcome: 'capped'; reason: CapReason }
  /** advisor-task: the advisor has the occasion as a task and may still answer (shared/advisors/tasks.ts). */
  | { outcome: 'deferred'; until: number; reason: 'quiet-hours' | 'advisor-task' }
  | { outcome: 'out-of-audience' }
  /** The advisor took care of it in person: no email (decided by the sender after decide()). */
  | { outcome: 'advisor-handled' };

export type Outcome = Decision['outcome'];

export interface ClientState {
  profile: ClientProfile;
  /** The client's address is on the suppression list (unsubscribe, bounce, complaint), or the client unsubscribed or complained under any address. */
  suppressed: boolean;
  /** Emails of the last 7 days at least, one entry per email; older ones are ignored. */
  recentSends: RecentSend[];
}

export interface DecidedOccasion {
  occasion: DueOccasion;
  decision: Decision;
}

/** Milliseconds since local midnight of `instant` in `timeZone` (wall clock). */
function localTimeOfDayMs(instant: number, timeZone: string): number {
  const wall = instant + zoneOffsetMs(instant, timeZone);
  return ((wall % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
}

/**
 * Whether the local wall clock at `instant` is within quiet hours: start inclusive, end exclusive
 * (21:00–09:00: 20:59 is fine, 21:00 and 08:59 are quiet). start > end wraps midnight; start = end
 * means no quiet hours.
 */
export function isQuietTime(instant: number, timeZone: string, quietHours: QuietHours): boolean {
  // Quiet hours start and end on whole minutes, so the minute the instant falls in decides.
  return isQuietMinute(Math.floor(localTimeOfDayMs(instant, timeZone) / MS_PER_MINUTE), quietHours);
}

/** The instants the local clock shows `minutes` past midnight on `date`, earliest first: one, two in an overlap, none in a gap. */
function instantsOfWallTime(date: string, minutes: number, timeZone: string): number[] {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return zonedWallTimeInstants(year, month, day, Math.floor(minutes / 60), minutes % 60, timeZone);
}

/**
 * The first instant in (from, to] at which the zone's UTC offset differs from the one at `from`,
 * if any. Offsets change on the quarter-hour grid and at most once in the two days this is asked
 * about, so a binary search over the grid finds it.
 */
function offsetChangeBetween(from: number, to: number, timeZone: string): number | undefined {
  const offset = zoneOffsetMs(from, timeZone);
  let lo = Math.floor(from / QUARTER_HOUR_MS);
  let hi = Math.floor(to / QUARTER_HOUR_MS);
  if (hi <= lo || zoneOffsetMs(hi * QUARTER_HOUR_MS, timeZone) === offset) return undefined;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zoneOffsetMs(mid * QUARTER_HOUR_MS, timeZone) === offset) lo = mid;
    else hi = mid;
  }
  return hi * QUARTER_HOUR_MS;
}

/**
 * The first instant at or after `now` outside quiet hours in `timeZone`: `now` itself when it is
 * not quiet, else the next time the local clock shows the end time (the same day before it, the
 * next day after the start), in that day's UTC offset, so 09:00 stays 09:00 across DST changes.
 * When a DST change makes the clock jump out of quiet hours first (past an end time in a gap, or
 * back before the start), that moment is the answer.
 */
export function nextAllowedTime(now: number, timeZone: string, quietHours: QuietHours): number {
  if (!isQuietTime(now, timeZone, quietHours)) return now;
  const endMinutes = minutesOfWallTime(quietHours.end);
  const today = localDate(now, timeZone);
  const firstDate = localTimeOfDayMs(now, timeZone) < endMinutes * MS_PER_MINUTE ? today : addDays(today, 1);
  let end: number | undefined;
  // Three days: the end time can happen twice (the first before now) or not at all (a gap).
  for (let day = 0; day < 3 && end === undefined; day++) {
    end = instantsOfWallTime(addDays(firstDate, day), endMinutes, timeZone).find((instant) => instant >= now);
  }
  if (end === undefined) throw new Error(`No end of quiet hours found after ${new Date(now).toISOString()} in ${timeZone}`);
  const change = offsetChangeBetween(now, end, timeZone);
  return change !== undefined && change < end && !isQuietTime(change, timeZone, quietHours) ? change : end;
}

/** The deferral decide() and the sender give an email held by the client's quiet hours. */
export type QuietHoursDeferral = Extract<Decision, { outcome: 'deferred' }> & { reason: 'quiet-hours' };

/** Deferred to the end of the quiet hours when they hold at `from` or at `to`; undefined when neither is quiet. */
function quietHoursDeferral(from: number, to: number, timeZone: string, quietHours: QuietHours): QuietHoursDeferral | undefined {
  const quiet = [from, to].find((instant) => isQuietTime(instant, timeZone, quietHours));
  return quiet === undefined ? undefined : { outcome: 'deferred', until: nextAllowedTime(quiet, timeZone, quietHours), reason: 'quiet-hours' };
}

/**
 * How long an email may take from the sender's look at the clock to SES taking it: ledger writes
 * and the pacing take milliseconds, SES's retries on throttling seconds. One minute, the shortest
 * quiet hours can last (they start and end on whole minutes), so quiet hours that begin within it
 * still hold at its end: looking at both ends is enough.
 */
export const DEPARTURE_ALLOWANCE_MS = MS_PER_MINUTE;

/**
 * Quiet hours at the moment an email really leaves, on the real clock (`departure`). decide()
 * judges the hour's instant, but a scheduled run may start up to 50 minutes late
 * (shared/sender/campaigns-event.ts) or still be sending well past its hour (a big hour paced at
 * the SES rate), and a client whose zone is a half or quarter hour off the brand's has its quiet
 * hours begin meanwhile (the brand's 23:00 in Shanghai is 20:30 in Kolkata). Deferred as decide()
 * defers, to the next allowed time, when the quiet hours hold at `departure` or begin within
 * DEPARTURE_ALLOWANCE_MS; undefined when the email may go. Pure.
 */
export function quietHoursAtDeparture(profile: ClientProfile, departure: number, context: Pick<CampaignContext, 'campaigns' | 'brandTimeZone'>): QuietHoursDeferral | undefined {
  const timeZone = clientTimeZone(profile, context.brandTimeZone);
  return quietHoursDeferral(departure, departure + DEPARTURE_ALLOWANCE_MS, timeZone, context.campaigns.policy.quietHours);
}

/** The client's place in [0, 1) for one campaign: sha256("<customerId>:<campaignId>"), first 48 bits. */
export function controlDraw(customerId: string, campaignId: string): number {
  const digest = createHash('sha256').update(`${customerId}:${campaignId}`, 'utf8').digest();
  // 48 bits fit a double exactly, so the draw is uniform and identical on every platform.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * Whether the client is held out of the campaign to measure it. Deterministic, so a client stays
 * in (or out of) a campaign's control group across hours, runs and deployments, and independent
 * between campaigns (the id is hashed in).
 */
export function inControlGroup(customerId: string, campaignId: string, share: number): boolean {
  return controlDraw(customerId, campaignId) < share;
}

/** Whether the occasion's client is in its campaign's control group, by the campaign's share (else the policy's). */
export function heldOutOf(occasion: Pick<DueOccasion, 'customerId' | 'campaignId'>, campaign: Pick<CampaignDefinition, 'controlShare'> | undefined, policy: Pick<CampaignsConfig['policy'], 'controlShare'>): boolean {
  return inControlGroup(occasion.customerId, occasion.campaignId, campaign?.controlShare ?? policy.controlShare);
}

/** A client locale matches a listed one or prefix: "zh" matches zh-CN and zh_TW, "en-US" only en-US (case aside). */
function localeMatches(locale: string | undefined, listed: readonly string[]): boolean {
  if (locale === undefined) return false;
  const normalised = locale.trim().replace(/_/g, '-').toLowerCase();
  return listed.some((entry) => {
    const wanted = entry.toLowerCase();
    return normalised === wanted || normalised.startsWith(`${wanted}-`);
  });
}

/**
 * Whether the client is in the campaign's audience at `now`: tier, stage, and each filter the
 * audience sets (RFM segment, locale, rising, churn risk, categories bought or never bought,
 * local days since the last order in the client's zone). A filter the client has no data for (no
 * segment, locale, prediction or order) is not met.
 */
export function inAudience(campaign: CampaignDefinition, profile: ClientProfile, now?: number, timeZone?: string, catalog: ProductCatalog = NO_CATALOG): boolean {
  if (!inAudienceWhateverTheClock(campaign, profile, catalog)) return false;
  const range = campaign.audience.daysSinceLastOrder;
  if (range === undefined) return true;
  const days = daysSinceLastOrder(profile, now, timeZone);
  return days !== undefined && (range.min === undefined || days >= range.min) && (range.max === undefined || days <= range.max);
}

/**
 * Whether the client may be in the campaign's audience at some instant of [from, to], for as long
 * as the profile and the campaign stay as they are (the due index asks this of a send window).
 * Only the days since the last order move with the clock, and they never go down, a local day at a
 * time: the range is met within [from, to] exactly when it is not yet past at `from` and is reached
 * by `to`. The categories bought are not weighed: the catalogue, which gives the category of a
 * line that has none (Shopify's), may gain or move a product with no profile rewritten.
 */
export function audienceMayHold(campaign: CampaignDefinition, profile: ClientProfile, from: number, to: number, timeZone: string): boolean {
  if (!inAudienceWhateverTheClock(campaign, profile, 'unweighed')) return false;
  const range = campaign.audience.daysSinceLastOrder;
  if (range === undefined) return true;
  const first = daysSinceLastOrder(profile, from, timeZone);
  const last = daysSinceLastOrder(profile, to, timeZone);
  return first !== undefined && last !== undefined && (range.max === undefined || first <= range.max) && (range.min === undefined || last >= range.min);
}

/** Local calendar days from the last order to `now` in the zone; undefined without a clock, a zone or an order (the range is then not met). */
function daysSinceLastOrder(profile: ClientProfile, now: number | undefined, timeZone: string | undefined): number | undefined {
  const lastOrder = profile.lastOrderAt === undefined ? Number.NaN : Date.parse(profile.lastOrderAt);
  if (now === undefined || timeZone === undefined || !Number.isFinite(lastOrder)) return undefined;
  return daysBetweenDates(localDate(lastOrder, timeZone), localDate(now, timeZone));
}

/** Every audience filter but the days since the last order: what the clock does not change (the categories bought left out when 'unweighed'). */
function inAudienceWhateverTheClock(campaign: CampaignDefinition, profile: ClientProfile, catalog: ProductCatalog | 'unweighed'): boolean {
  const audience = campaign.audience;
  if (!audience.tiers.includes(profile.tier) || !audience.stages.includes(profile.stage)) return false;
  if (audience.rfmSegments !== undefined && (profile.rfm?.segment === undefined || !audience.rfmSegments.includes(profile.rfm.segment))) return false;
  if (audience.locales !== undefined && !localeMatches(profile.locale, audience.locales)) return false;
  // Without a prediction (no fit tonight, a Prospect) a client is neither rising nor not: false is not met either.
  if (audience.rising !== undefined && (profile.clv === undefined || profile.clv.rising !== audience.rising)) return false;
  if (audience.churnRisk !== undefined && (profile.clv === undefined || !audience.churnRisk.includes(profile.clv.churnRisk))) return false;
  if (catalog !== 'unweighed' && (audience.boughtCategories !== undefined || audience.neverBoughtCategories !== undefined)) {
    const bought = categoriesBought(profile, catalog);
    if (audience.boughtCategories !== undefined && !audience.boughtCategories.some((c) => bought.has(c))) return false;
    if (audience.neverBoughtCategories?.some((c) => bought.has(c))) return false;
  }
  return true;
}

const NO_CATALOG: ProductCatalog = { get: () => undefined };

/** The stages an order takes a client out of, with the stage it takes them to: a prospect's first order, a lapse's next. */
const STAGES_AN_ORDER_LEAVES: readonly (readonly [Stage, Stage])[] = [['prospect', 'new'], ...LAPSE_STAGES.map((stage) => [stage, 'active'] as const)];

/**
 * Whether an order the profile does not know yet may take a client out of the audience (the
 * nights-behind hold weighs it with the trigger: shared/sender/nights-behind.ts): a tier left out
 * above one the audience takes (an order only raises the tier: a coupon for clients below VIC), days
 * since the last order from a minimum on, a stage an order leaves for one the audience does not
 * hold (a prospect's first order, a lapse stage's next), a churn risk other than low (an order
 * lowers it), a prediction of reaching the next tier either way (an order moves it), an RFM segment
 * an order moves a client out of into one the audience does not hold (it gives the top recency
 * score, and frequency and spend only grow), a category never bought.
 */
export function audienceRestsOnNoOrderSince(audience: Audience, rfmSegments: readonly RfmSegmentRule[]): boolean {
  if (audience.tiers.some((taken) => TIERS.some((left) => tierRank(left) > tierRank(taken) && !audience.tiers.includes(left)))) return true;
  if (audience.rising !== undefined) return true;
  if ((audience.daysSinceLastOrder?.min ?? 0) > 0) return true;
  if (STAGES_AN_ORDER_LEAVES.some(([left, reached]) => audience.stages.includes(left) && !audience.stages.includes(reached))) return true;
  if (audience.churnRisk !== undefined && !audience.churnRisk.includes('low')) return true;
  if (audience.neverBoughtCategories !== undefined) return true;
  return audience.rfmSegments !== undefined && anOrderLeavesSegments(audience.rfmSegments, rfmSegments);
}

/** Whether a client in one of `segments` may order into a segment not among them under the map. */
function anOrderLeavesSegments(segments: readonly string[], rules: readonly RfmSegmentRule[]): boolean {
  const held = new Set(segments);
  const segmentAt = (r: number, f: number, m: number) => rfmSegmentRuleOf({ r, f, m }, rules)?.name;
  for (let f = 1; f <= 5; f++) {
    for (let m = 1; m <= 5; m++) {
      if (![1, 2, 3, 4, 5].some((r) => held.has(segmentAt(r, f, m) ?? ''))) continue;
      for (let after = f; after <= 5; after++) {
        for (let spent = m; spent <= 5; spent++) if (!held.has(segmentAt(5, after, spent) ?? '')) return true;
      }
    }
  }
  return false;
}

/**
 * Whether the occasion's campaign is known, enabled and has the client in its audience at `now`
 * (decide's first step), by the tier the occasion is judged by (a lapse's step: the higher of the
 * one held when it came due and the one of the hour).
 */
export function occasionInAudience(occasion: Pick<DueOccasion, 'campaignId' | 'tier'>, profile: ClientProfile, now: number, context: CampaignContext): boolean {
  const campaign = context.campaigns.campaigns.find((c) => c.id === occasion.campaignId);
  return campaign !== undefined && campaign.enabled && inAudience(campaign, judgedProfile(profile, occasion), now, clientTimeZone(profile, context.brandTimeZone), context.catalog);
}

/**
 * Decides each due occasion of one client, applying in order:
 *  1. audience (inAudience at `now`; an unknown or disabled campaign is out of audience too),
 *  2. consent (acceptsMarketing),
 *  3. the suppression list,
 *  4. the frequency cap (sends in the rolling last 24 h and 7 days of recentSends) and priority:
 *     at most one occasion may go per call, the first by priority (then the window closing first, the oldest due, ids);
 *     the others are 'capped' with reason 'priority' and wait for a later hour (the sender decides
 *     again without the first when its email cannot go for want of a coupon code),
 *  5. quiet hours in the client's zone (deferred to the next allowed time, not dropped), at `now`:
 *     the sender looks again when the email really leaves (quietHoursAtDeparture),
 *  6. the control group: 'held-out' is recorded instead of sending, at the moment the email would
 *     have gone, so the control group is timed like the treated one.
 * `due` must hold only occasions not yet settled in the ledger. Results are in the order of `due`.
 */
export function decide(client: ClientState, due: DueOccasion[], now: number, context: CampaignContext): DecidedOccasion[] {
  const { profile } = client;
  const { policy, campaigns } = context.campaigns;
  const byId = new Map(campaigns.map((c) => [c.id, c]));
  // By position in `due`, so even the same object passed twice cannot be sent twice.
  const decisions: Decision[] = [];
  const candidates: { index: number; occasion: DueOccasion }[] = [];

  due.forEach((occasion, index) => {
    if (!occasionInAudience(occasion, profile, now, context)) decisions[index] = { outcome: 'out-of-audience' };
    else if (!profile.acceptsMarketing) decisions[index] = { outcome: 'no-consent' };
    else if (client.suppressed) decisions[index] = { outcome: 'suppressed' };
    else candidates.push({ index, occasion });
  });

  if (candidates.length > 0) {
    const capReason = frequencyCapReason(client.recentSends, now, policy.frequencyCap);
    if (capReason !== undefined) {
      for (const { index } of candidates) decisions[index] = { outcome: 'capped', reason: capReason };
    } else {
      const [first, ...rest] = [...candidates].sort((a, b) => compareOccasions(a.occasion, b.occasion) || a.index - b.index);
      for (const { index } of rest) decisions[index] = { outcome: 'capped', reason: 'priority' };
      if (first !== undefined) {
        decisions[first.index] = finalStep(first.occasion, byId.get(first.occasion.campaignId), profile, now, context);
      }
    }
  }

  return due.map((occasion, index) => ({ occasion, decision: decisions[index] ?? { outcome: 'out-of-audience' } }));
}

/** Why one more email now would pass the frequency cap, given the client's recent emails; undefined when it would not. */
export function frequencyCapReason(recentSends: readonly RecentSend[], now: number, cap: { per24h: number; per7d: number }): CapReason | undefined {
  // A send dated in the future (clock skew) still counts: better one email fewer than one too many.
  const sentWithin = (ms: number) => recentSends.filter((s) => s.sentAt > now - ms).length;
  return sentWithin(24 * MS_PER_HOUR) >= cap.per24h ? 'frequency-24h' : sentWithin(7 * MS_PER_DAY) >= cap.per7d ? 'frequency-7d' : undefined;
}

/** Steps 5 and 6 for the one occasion allowed through the cap. */
function finalStep(
  occasion: DueOccasion,
  campaign: CampaignDefinition | undefined,
  profile: ClientProfile,
  now: number,
  context: CampaignContext,
): Decision {
  const { policy } = context.campaigns;
  const timeZone = clientTimeZone(profile, context.brandTimeZone);
  const quiet = quietHoursDeferral(now, now, timeZone, policy.quietHours);
  if (quiet !== undefined) return quiet;
  return heldOutOf(occasion, campaign, policy) ? { outcome: 'held-out' } : { outcome: 'send' };
}

/**
 * Occasions that can share the winner's email: the other replenishment occasions of the same
 * campaign, held back only by priority. They passed every other check with the winner (same
 * client, same campaign, so same audience, consent, quiet hours and control group), so a sender
 * may list them as further products of one reminder and record them with the winner's outcome,
 * rather than spending one email a day of the cap on each product running low.
 */
export function companionOccasions(winner: DecidedOccasion, decided: DecidedOccasion[]): DueOccasion[] {
  if (winner.occasion.kind !== 'replenishment') return [];
  if (winner.decision.outcome !== 'send' && winner.decision.outcome !== 'held-out') return [];
  return decided
    .filter(
      ({ occasion, decision }) =>
        occasion !== winner.occasion &&
        occasion.kind === 'replenishment' &&
        occasion.campaignId === winner.occasion.campaignId &&
        occasion.customerId === winner.occasion.customerId &&
        decision.outcome === 'capped' &&
        decision.reason === 'priority',
    )
    .map(({ occasion }) => occasion)
    .sort(compareOccasions);
}
