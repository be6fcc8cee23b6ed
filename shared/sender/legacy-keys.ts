import { clientTimeZone } from '#shared/campaigns/due.ts';
import { campaignRules } from '#shared/campaigns/schema.ts';
import type { CampaignDefinition } from '#shared/campaigns/schema.ts';
import { instantOf, lapseStepKey, legacyNextOrderCampaign, momentWindow, nextOrderKey } from '#shared/campaigns/triggers.ts';
import type { Timing, Trigger } from '#shared/campaigns/vocabulary.ts';
import type { ClientProfile } from '#shared/model.ts';
import { isClaimable, type LedgerEntry, type LedgerStatus } from '#shared/store/ledger-store.ts';
import { addDays, localDate, startOfLocalDay } from '#shared/time.ts';

/**
 * Ledger entries written under keys an earlier version gave an occasion, read under today's key
 * (pure). The next-order reminder was keyed by the predicted day ('<id>#next-order#2026-12-01',
 * and '<id>#2026-12-01' for a `predicted-next-order` campaign, named in `dayKeyed`), and is now
 * keyed by the last order the prediction follows (triggers.ts nextOrderKey): an entry of a client
 * inside the window at the upgrade would otherwise leave the same occasion open under its new
 * key, and the email would go twice.
 *
 * An old next-order entry claimed after the client's last order was for a prediction of that
 * order, so it is the entry of today's '<id>#next-order#<lastOrderAt>' unless one is stored under
 * that key already. Of several (a prediction that moved before the upgrade), one that settles the
 * occasion (a claim, a send, a decision) wins, then the latest. The entry is renamed, not copied: the frequency cap counts it once.
 *
 * A ladder of lapse steps (`no-order-for`, `lapses`) keyed its first step by the lapse alone: such
 * an entry is read as the step it was for (currentLapseKey), so that a step added or dropped
 * neither mails a step again nor lets the new first step take an earlier step's entry.
 */
export function withCurrentKeys<E extends Pick<LedgerEntry, 'occasionKey' | 'status' | 'claimedAt' | 'triggerAt'>>(
  entries: readonly E[],
  profile: Pick<ClientProfile, 'lastOrderAt' | 'timeZone'>,
  dayKeyed: ReadonlySet<string>,
  lapses: LapseLadders,
): E[] {
  const stored = new Set(entries.map((e) => e.occasionKey));
  const chosen = new Map<string, E>();
  const timeZone = clientTimeZone(profile, lapses.brandTimeZone);
  for (const entry of entries) {
    const key = currentLapseKey(entry, lapses.steps, timeZone);
    if (key !== undefined && !stored.has(key)) chosen.set(key, entry);
  }
  const lastOrderAt = profile.lastOrderAt;
  const lastOrder = instantOf(lastOrderAt);
  if (lastOrderAt !== undefined && lastOrder !== undefined) {
    for (const entry of entries) {
      const campaignId = legacyNextOrderCampaign(entry.occasionKey, dayKeyed);
      if (campaignId === undefined || entry.claimedAt <= lastOrder) continue;
      const key = `${campaignId}#${nextOrderKey(lastOrderAt)}`;
      if (stored.has(key)) continue;
      const before = chosen.get(key);
      if (before === undefined || precedes(entry, before)) chosen.set(key, entry);
    }
  }
  const renamed = new Map([...chosen].map(([key, entry]) => [entry, key]));
  return entries.map((entry) => {
    const key = renamed.get(entry);
    return key === undefined ? entry : { ...entry, occasionKey: key };
  });
}

/** Whether `a` speaks for the occasion rather than `b`: one that settles it, then the later claim. */
function precedes(a: Pick<LedgerEntry, 'status' | 'claimedAt'>, b: Pick<LedgerEntry, 'status' | 'claimedAt'>): boolean {
  const settlesA = !isClaimable(a.status);
  const settlesB = !isClaimable(b.status);
  return settlesA !== settlesB ? settlesA : a.claimedAt > b.claimedAt;
}

/** The campaigns an earlier version keyed by the predicted day alone ('<id>#<day>'): `predicted-next-order`, once per occasion. */
export function predictedDayKeyedCampaigns(campaigns: readonly CampaignDefinition[]): ReadonlySet<string> {
  return new Set(
    campaigns.filter((campaign) => {
      const { trigger, timing } = campaignRules(campaign);
      return trigger.on === 'predicted-next-order' && timing.oncePer === 'occasion';
    }).map((campaign) => campaign.id),
  );
}

/** The `no-order-for` campaigns keyed per lapse (once per occasion), by id: their trigger and timing (the steps' windows), and the brand's zone. */
export interface LapseLadders {
  steps: ReadonlyMap<string, { trigger: Extract<Trigger, { on: 'no-order-for' }>; timing: Timing }>;
  brandTimeZone: string;
}

export function lapseLadders(campaigns: readonly CampaignDefinition[], brandTimeZone: string): LapseLadders {
  const steps = new Map<string, { trigger: Extract<Trigger, { on: 'no-order-for' }>; timing: Timing }>();
  for (const campaign of campaigns) {
    const { trigger, timing } = campaignRules(campaign);
    if (trigger.on === 'no-order-for' && timing.oncePer === 'occasion') steps.set(campaign.id, { trigger, timing });
  }
  return { steps, brandTimeZone };
}

/**
 * A lapse step's entry under the key today's ladder gives it (triggers.ts lapseStepKey), or
 * undefined when it has it already or names no step of today's ladder. Earlier versions keyed a
 * ladder's first step by the lapse alone ('<id>#<lastOrderAt>'): such an entry is the step whose
 * window opened at its `triggerAt` (kept since 2026-11-23). Without one, its claim tells: an entry
 * written while its window was open (a claim, a send, a decision) is the step whose window held
 * the claim; an 'expired' one, recorded once the window had closed (late after an outage), the
 * latest step whose window had closed by then; any other, or none found, stays as it is (it then
 * settles no step of a ladder, never a later one). A ladder cut down to one step reads that step's
 * '#<days>d' entry as its own.
 */
function currentLapseKey(entry: Pick<LedgerEntry, 'occasionKey' | 'status' | 'claimedAt' | 'triggerAt'>, ladders: LapseLadders['steps'], timeZone: string): string | undefined {
  const [campaignId, lastOrderAt, step, ...rest] = entry.occasionKey.split('#');
  const ladder = campaignId === undefined ? undefined : ladders.get(campaignId);
  const lastOrder = instantOf(lastOrderAt);
  if (ladder === undefined || lastOrderAt === undefined || lastOrder === undefined || rest.length > 0) return undefined;
  const days = ladder.trigger.days;
  const stepKey = (stepDays: number) => `${campaignId}#${lapseStepKey(lastOrderAt, stepDays, days.length)}`;
  if (days.length === 1) {
    const only = days[0] as number;
    return step === `${only}d` ? stepKey(only) : undefined;
  }
  // A ladder's day-keyed entry has today's key already; only a bare one is read through the steps' windows.
  if (step !== undefined) return undefined;
  const lastDay = localDate(lastOrder, timeZone);
  const windows = days.map((d, i) => {
    const next = days[i + 1];
    const moment = { day: addDays(lastDay, d), occasionDay: lastDay, naturalKey: '', details: {}, ...(next === undefined ? {} : { endsBy: startOfLocalDay(addDays(lastDay, next), timeZone) }) };
    const opens = startOfLocalDay(moment.day, timeZone);
    return { days: d, opens, closes: momentWindow(moment, ladder.trigger, ladder.timing, timeZone)?.expiresAt ?? opens };
  });
  const stepDays =
    entry.triggerAt !== undefined
      ? windows.find((w) => w.opens === entry.triggerAt)?.days
      : entry.status === 'expired'
        ? windows.filter((w) => w.closes <= entry.claimedAt).at(-1)?.days
        : writtenWhileOpen(entry.status)
          ? windows.find((w) => w.opens <= entry.claimedAt && entry.claimedAt < w.closes)?.days
          : undefined;
  return stepDays === undefined ? undefined : stepKey(stepDays);
}

/** Whether only an hour that met the occasion's window open writes this status: not 'expired' (written once it closed) nor 'already-mailed' (either way). */
function writtenWhileOpen(status: LedgerStatus): boolean {
  return status !== 'expired' && status !== 'already-mailed';
}
