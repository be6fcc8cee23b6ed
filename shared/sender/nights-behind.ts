import { campaignRules, type CampaignDefinition } from '#shared/campaigns/schema.ts';
import type { RfmSegmentRule } from '#shared/segments/rfm-segments.ts';
import { audienceRestsOnNoOrderSince } from '#shared/campaigns/policy.ts';
import { restsOnNoOrderSince } from '#shared/campaigns/triggers.ts';
import { lastNightDue } from '#shared/nightly/run-date.ts';
import { daysBetweenDates } from '#shared/time.ts';

/**
 * While nights are missed, or backfilled one at a time, the newest completed night is days behind:
 * its profiles know no order placed since. An hour deciding a win-back, a recall, a run-out or
 * reorder reminder on them mails a client who has ordered since (the backfill's next night would
 * have taken the occasion away), an email no hour with the nights on time sends. So while the last
 * completed night is older than the last night due (lastNightDue, the rule `clientele status`
 * counts gaps by), the hour leaves those occasions undecided (no ledger entry: still due), their
 * expiry included: the first hour after the nights catch up records the windows that closed
 * meanwhile (DueIndexState.expiryFrom); the others (a first order, a move up, a birthday) rest on
 * something that happened, and go. An hour that merged increments
 * since knows some orders, not all of them (a client may have none in the increments read): it
 * holds all the same. A deployment with no completed night holds nothing: no night is behind.
 */

/** Why an hour decides none of the occasions that rest on no order since the night (CampaignRunSummary.behind). */
export interface NightsBehind {
  reason: 'nights-behind';
  /** The last completed night's run date. */
  lastNight: string;
  /** The last night due at the hour (lastNightDue). */
  lastNightDue: string;
  /** How many nights between the two are not completed. */
  nightsBehind: number;
  /** The campaigns held (their trigger rests on no order since the night), by id. */
  campaigns: string[];
  /** One sentence for the log line, the summary and the CLI. */
  message: string;
}

/**
 * The campaigns whose occasions rest on the absence of an order since the profile's night: by
 * their trigger (restsOnNoOrderSince) or by their audience (audienceRestsOnNoOrderSince: a birthday
 * gift for clients 60 days without an order, a sign-up nudge for prospects).
 */
export function campaignsRestingOnNoOrder(campaigns: readonly CampaignDefinition[], rfmSegments: readonly RfmSegmentRule[]): string[] {
  const rests = (campaign: CampaignDefinition) => restsOnNoOrderSince(campaignRules(campaign).trigger, rfmSegments) || audienceRestsOnNoOrderSince(campaign.audience, rfmSegments);
  return campaigns.filter((campaign) => campaign.enabled && rests(campaign)).map((campaign) => campaign.id);
}

/**
 * The campaigns whose windows closed while the nights were behind the first hour after they catch
 * up records (DueIndexState.expiryFrom): those held, and those whose occasions a night records (a
 * first order, a move): a backfilled night may bring them after their window closed (a welcome).
 * Not a calendar occasion (a birthday, a season) of a campaign not held: the hours judged it as it
 * closed, on the profiles they had, and judging it again on later ones would record a window they
 * found out of the audience.
 */
export function campaignsCaughtUp(campaigns: readonly CampaignDefinition[], rfmSegments: readonly RfmSegmentRule[]): Set<string> {
  const held = new Set(campaignsRestingOnNoOrder(campaigns, rfmSegments));
  const calendar = (campaign: CampaignDefinition) => ['birthday', 'season-starts'].includes(campaignRules(campaign).trigger.on);
  return new Set(campaigns.filter((campaign) => campaign.enabled && (held.has(campaign.id) || !calendar(campaign))).map((campaign) => campaign.id));
}

/**
 * Whether the hour at `at` holds the occasions resting on no order since the night, given the last
 * completed night's run date (undefined: none yet). Pure: the clock is an argument.
 */
export function nightsBehind(
  lastCompleted: string | undefined,
  at: number,
  config: { timeZone: string; campaigns: readonly CampaignDefinition[]; rfmSegments: readonly RfmSegmentRule[] },
): NightsBehind | undefined {
  const { timeZone, campaigns, rfmSegments } = config;
  if (lastCompleted === undefined) return undefined;
  const due = lastNightDue(at, timeZone);
  if (lastCompleted >= due) return undefined;
  const held = campaignsRestingOnNoOrder(campaigns, rfmSegments);
  const behind = daysBetweenDates(lastCompleted, due);
  return {
    reason: 'nights-behind',
    lastNight: lastCompleted,
    lastNightDue: due,
    nightsBehind: behind,
    campaigns: held,
    message:
      `nights behind: the last completed night is ${lastCompleted}, the last night due ${due} (${behind} not completed); ` +
      `the occasions that rest on no order since the night (${held.length === 0 ? 'none configured' : held.join(', ')}) are not decided until the nights catch up ` +
      '(still due; a window closing meanwhile is recorded expired by the first hour after they catch up); the others go as usual',
  };
}
