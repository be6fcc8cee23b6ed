import { displayMinor } from '#shared/money.ts';
import { STAGES, TIERS } from '#shared/model.ts';
import { zonedWallClock } from '#shared/time.ts';
import { rowListCutText, type NightlyRunSummary } from '#shared/nightly/summary.ts';
import type { AdvisorDigestSummary } from '#shared/digests/advisor-digests.ts';
import type { CampaignCounts, CampaignRunSummary } from '#shared/sender/run.ts';
import type { CampaignResults } from '#shared/campaign-results/model.ts';
import type { ForgetRequest, ForgetResult } from '#shared/forget/forget.ts';
import { percentText } from '#shared/percent.ts';
import { ABSENT_BEFORE_MARKING_WORDS, absentFiguresOf, absentTotal } from '#shared/reports/nightly-report.ts';

/** The nightly summary as a person reads it in a terminal. */

/** An instant as the brand's wall clock reads it: '2026-11-24 03:00 +08:00'. */
export function brandTime(instant: number | string, timeZone: string): string {
  const { date, time, offset } = zonedWallClock(typeof instant === 'string' ? Date.parse(instant) : instant, timeZone);
  return `${date} ${time} ${offset}`;
}

const n = (value: number) => value.toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function movementsLine(movements: Record<string, number>): string {
  const entries = Object.entries(movements).sort(([, a], [, b]) => b - a);
  return entries.length === 0 ? 'none' : entries.map(([move, count]) => `${move} ${n(count)}`).join(', ');
}

export function formatNightlySummary(summary: NightlyRunSummary, previousRunDate?: string): string {
  const { distribution: d, input, changes, written, currency } = summary;
  const lines: string[] = [];
  lines.push(`Nightly run ${summary.runDate}  (run id ${summary.runId}${summary.shards > 1 ? `, ${summary.shards} shards` : ""})`);
  if (summary.rerun) {
    lines.push(
      `Already completed by run ${summary.rerun.of} from this same export and configuration: nothing written (rerun ${summary.rerun.runId} recorded). ` +
        'Its summary as first computed:',
    );
  }
  lines.push(
    `Export: ${summary.source}  ${input.files.length} files, ${n(input.rows)} rows, ` +
      `${n(input.rejected)} rejected (${percentText(input.rejectShare)})`,
  );
  if (input.unknownCustomerLines) lines.push(`  of which ${n(input.unknownCustomerLines)} order lines of unknown customers`);
  if (summary.report.rejectsObject) lines.push(`Rejects: ${rowListCutText(summary.report, 'rejects') ?? summary.report.rejectsObject}`);
  for (const reject of input.sampleRejects.slice(0, 3)) {
    lines.push(`  ${reject.file.split('/').pop()}:${reject.line}  ${reject.reason}`);
  }
  const warningsWhere = rowListCutText(summary.report, 'warnings') ?? summary.report.warningsObject;
  if (input.warned) lines.push(`Fields dropped with a warning: ${n(input.warned)}${warningsWhere ? `  (${warningsWhere})` : ''}`);
  if (input.erasedClients) lines.push(`Left out, forgotten on request: ${n(input.erasedClients)} clients`);
  const { admission } = summary;
  const absent = absentFiguresOf(admission?.tonight);
  if (absent && absentTotal(absent) > 0) {
    const beforeMarking = absent.beforeMarking ?? 0;
    lines.push(
      `In no file of this export (kept, not mailed): ${n(absentTotal(absent))} clients, ${n(absent.newly)} of them for the first time` +
        (beforeMarking > 0 ? `, ${n(beforeMarking)} ${ABSENT_BEFORE_MARKING_WORDS}, marked, not counted` : ''),
    );
  }
  // The guards' contact moves (guards.ts), shown when there were any, as the absent clients are.
  const addressesChanged = admission?.tonight.addressesChanged ?? 0;
  const consentGivenBack = admission?.tonight.consentGivenBack ?? 0;
  if (addressesChanged + consentGivenBack > 0) {
    lines.push(`Contact details changed by this export's customers rows: ${n(addressesChanged)} stored addresses replaced, ${n(consentGivenBack)} clients given marketing consent`);
  }
  if (admission?.rulesChanged) lines.push(`Rules changed since ${admission.lastNight?.runDate ?? 'the last night'}: ${admission.rulesChanged.join(', ')}`);
  for (const accepted of admission?.accepted ?? []) lines.push(`ACCEPTED by the operator (--accept-drop): ${accepted.message}`);
  lines.push('');
  lines.push(`Tier        Clients   % buyers   12-month revenue (${currency})   % revenue`);
  for (const tier of TIERS) {
    const t = d.tiers[tier];
    lines.push(
      `${tier.padEnd(10)} ${n(t.clients).padStart(8)}   ${(tier === 'Prospect' ? '-' : percentText(t.buyerShare)).padStart(8)}   ` +
        `${displayMinor(t.revenueMinor, currency).padStart(26)}   ${percentText(t.revenueShare).padStart(9)}`,
    );
  }
  lines.push(`${'Total'.padEnd(10)} ${n(d.clients).padStart(8)}   ${''.padStart(8)}   ${displayMinor(d.revenueMinor, currency).padStart(26)}`);
  lines.push('');
  lines.push(`Stages: ${STAGES.map((s) => `${s} ${n(d.stages[s])}`).join(' · ')}`);
  const segments = Object.entries(d.rfmSegments ?? {}).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  if (segments.length > 0) lines.push(`RFM segments (buyers): ${segments.map(([segment, buyers]) => `${segment} ${n(buyers)}`).join(' · ')}`);
  if (d.repurchase && d.repurchase.buyers12m > 0) {
    lines.push(`Repurchase rate: ${percentText(d.repurchase.rate)} (${n(d.repurchase.repeatBuyers12m)} of ${n(d.repurchase.buyers12m)} 12-month buyers with 2+ orders)`);
  }
  lines.push(...clvLines(summary));
  const since = previousRunDate ? `since ${previousRunDate}` : 'since the stored state';
  lines.push(
    `Movements ${since}: ${n(changes.upgrades)} upgrades, ${n(changes.downgrades)} downgrades, ${n(changes.newClients)} new clients`,
  );
  lines.push(`  tiers:  ${movementsLine(changes.tierMovements)}`);
  lines.push(`  stages: ${movementsLine(changes.stageMovements)}`);
  if (changes.rfmSegmentMovements && Object.keys(changes.rfmSegmentMovements).length > 0) lines.push(`  RFM segments: ${movementsLine(changes.rfmSegmentMovements)}`);
  lines.push(
    `Written: ${n(written.profiles)} profiles (${n(changes.unchangedProfiles)} unchanged, skipped), ` +
      `${n(written.tierHistory)} tier-history records, ${n(written.retries)} retried batches`,
  );
  const t = summary.timingsMs;
  lines.push(
    `Time: ${seconds(summary.durationMs)} (read ${seconds(t.read)}, compute ${seconds(t.compute)}, ` +
      // Older summaries timed the comparison apart; it is part of compute since profiles are streamed.
      `${t.load > 0 ? `compare ${seconds(t.load)}, ` : ''}write ${seconds(t.write)})`,
  );
  lines.push(`Report: ${summary.report.summaryObject}`);
  const { reportObject, reportError, teamEmail } = summary.report;
  if (reportObject) lines.push(`Nightly report (HTML): ${reportObject}`);
  if (reportError) lines.push(`WARNING: the nightly report was not written: ${reportError}`);
  if (teamEmail) {
    lines.push(
      teamEmail.alreadySent
        ? 'Team email: already sent by an earlier run of this night'
        : `Team email: sent to ${n(teamEmail.sent)} of ${n(teamEmail.recipients)} addresses${teamEmail.failed > 0 ? ` (${n(teamEmail.failed)} failed)` : ''}`,
    );
    const unresolved = teamEmail.unresolved ?? 0;
    if (unresolved > 0) {
      lines.push(
        `WARNING: team email to ${n(unresolved)} address${unresolved === 1 ? '' : 'es'} claimed by an earlier run of this night that did not record it sent ` +
          '(it died before SES answered, or SES may have taken it): not sent again by itself',
      );
    }
  }
  if (summary.advisorDigests) lines.push(advisorDigestTotalsLine(summary.advisorDigests));
  return lines.join('\n');
}

/**
 * The CLV lines: the rising clients when the models were fitted tonight; otherwise why not (a
 * count of 0 would read as "nobody is rising" when nobody was predicted), with the fit's warnings.
 */
function clvLines(summary: NightlyRunSummary): string[] {
  const { distribution: d, clv } = summary;
  const lines: string[] = [];
  // Summaries stored before the CLV report existed have none: then only the rising count, as before.
  if (clv !== undefined && !clv.fitted) {
    lines.push(`Rising clients: not predicted, CLV models not fitted: ${clv.skippedReason ?? 'no reason recorded'}`);
  } else if (d.rising) {
    lines.push(`Rising clients: ${n(d.rising.clients)} (${TIERS.filter((t) => d.rising?.byTier[t]).map((t) => `${t} ${n(d.rising?.byTier[t] ?? 0)}`).join(', ') || 'none'})`);
  }
  for (const warning of clv?.warnings ?? []) lines.push(`  CLV warning: ${warning}`);
  if (clv?.predictionFailures) lines.push(`  CLV: no prediction for ${n(clv.predictionFailures)} clients (their prediction failed; they keep no clv tonight)`);
  return lines;
}

/** Per campaign: due, sent, held out, suppressed, capped, deferred, as a small table. */
export function formatCampaignCounts(campaigns: Record<string, CampaignCounts>): string {
  const columns = ['due', 'sent', 'held-out', 'suppressed', 'no-consent', 'capped', 'deferred', 'failed', 'maybe-sent', 'expired', 'left'] as const;
  const width = Math.max(15, ...Object.keys(campaigns).map((id) => id.length + 2));
  const lines = [`${'Campaign'.padEnd(width)}${columns.map((c) => c.padStart(11)).join('')}`];
  for (const [id, counts] of Object.entries(campaigns)) {
    lines.push(`${id.padEnd(width)}${columns.map((c) => n(counts[c]).padStart(11)).join('')}`);
  }
  return lines.join('\n');
}

export function formatCampaignSummary(summary: CampaignRunSummary, timeZone: string): string {
  const lines = [
    `Campaign sender ${brandTime(summary.at, timeZone)}${summary.dryRun ? ' (dry run: nothing claimed or sent)' : ''}  (run id ${summary.runId})`,
    `Incremental exports merged: ${summary.ingested.exports.length} (${n(summary.ingested.newClients)} new clients, ${n(summary.ingested.updatedClients)} updated${summary.ingested.rejected > 0 ? `, ${n(summary.ingested.rejected)} rows rejected` : ''}${summary.ingested.leftForNight > 0 ? `, ${n(summary.ingested.leftForNight)} order lines left for the night (an address given to another customer)` : ''})` +
      (summary.ingested.remerged.length > 0
        ? `; merged again after the night: ${summary.ingested.remerged.length} (${n(summary.ingested.remerged.reduce((sum, r) => sum + r.clients, 0))} profiles given their orders back)`
        : ''),
    `Profiles read: ${n(summary.clientsScanned)} (${summary.selection.mode === 'index' ? 'through the due index' : summary.selection.mode === 'held' ? 'none: waiting for the first night of this version' : `every profile: ${summary.selection.reason}`}), with something due: ${n(summary.clientsDue)}`,
    formatCampaignCounts(summary.campaigns),
  ];
  if (summary.held !== undefined) lines.push(`WARNING: nothing decided or sent this hour, ${summary.held.message}`);
  if (summary.behind !== undefined) lines.push(`WARNING: ${n(summary.behind.occasionsHeld)} occasions not decided this hour, ${summary.behind.message}`);
  if (summary.undoneByNight !== undefined) {
    lines.push(`NOTE: ${n(summary.undoneByNight)} clients merged this hour were rewritten by a night still writing: not decided now, their increments merged again and decided next hour`);
  }
  const { sending } = summary;
  lines.splice(2, 0, sending.account
    ? `SES account: ${n(sending.account.sentLast24Hours)} of ${sending.account.max24HourSend < 0 ? 'unlimited' : n(sending.account.max24HourSend)} sent in 24 h, paced at ${sending.rate}/s`
    : `SES account not readable (${sending.accountUnreadable ?? 'unknown'}): paced at ${sending.rate}/s, no quota check`);
  for (const q of summary.ingested.quarantined) lines.push(`WARNING: incremental export ${q.folder} quarantined${summary.dryRun ? ' (dry run: not marked)' : ''}: ${q.reason}`);
  for (const [campaignId, pool] of Object.entries(summary.coupons ?? {})) {
    const unreadable = pool.unreadable !== undefined ? `; WARNING: the pool file is unreadable (${pool.unreadable})` : '';
    const held = pool.noCode > 0 ? `; WARNING: ${n(pool.noCode)} emails held for want of a code (${pool.unreadable !== undefined ? 'pool file unreadable' : pool.missing ? 'no pool file' : 'pool empty'})` : '';
    lines.push(`Coupon pool ${campaignId}: ${n(pool.left)} of ${n(pool.pool)} codes left (${n(pool.drawn)} drawn, ${n(pool.reused)} given again)${unreadable}${held}`);
  }
  // Planned stops (the quota, the run's deadline) leave the rest due for the next hour: a note, not a warning.
  if (summary.stopped) lines.push(`${summary.stopped.reason === 'quota-used' || summary.stopped.reason === 'deadline' ? 'NOTE' : 'WARNING'}: sending stopped (${summary.stopped.reason}): ${summary.stopped.message}`);
  if (summary.taskEmailsRefused !== undefined) {
    lines.push(`WARNING: ${n(summary.taskEmailsRefused)} advisor task emails refused for good (see the log's advisor ids): their notes went from the client care team`);
  }
  if (summary.staleClaims.length > 0) {
    lines.push(`WARNING: ${summary.staleClaims.length} stale claims (a run stopped between claim and send; not resent): ` +
      summary.staleClaims.slice(0, 5).map((s) => `${s.customerId}/${s.occasionKey}`).join(', '));
  }
  if (summary.maybeSent.length > 0) {
    lines.push(`WARNING: ${summary.maybeSent.length} emails SES may have taken (timeout, reset, 5xx; not resent): ` +
      summary.maybeSent.slice(0, 5).map((s) => `${s.customerId}/${s.occasionKey}`).join(', '));
  }
  if (summary.plan) {
    for (const p of summary.plan.slice(0, 50)) lines.push(`  ${p.outcome.padEnd(16)} ${p.campaignId.padEnd(14)} ${p.customerId} ${p.email ?? ''} ${p.reason ?? ''}`);
    if (summary.plan.length > 50) lines.push(`  ... ${summary.plan.length - 50} more`);
  }
  return lines.join('\n');
}

/** One line of totals: "2 sent, 1 without rows, 0 already sent ..." (the nightly and demo summaries use it). */
export function advisorDigestTotalsLine(summary: AdvisorDigestSummary): string {
  const t = summary.totals;
  const parts = [
    summary.dryRun ? `${n(t['dry-run'])} to send (dry run)` : `${n(t.sent)} sent`,
    `${n(t['no-rows'])} with no client to contact`,
    `${n(t['already-sent'])} already sent this week`,
  ];
  if (t.failed > 0) parts.push(`${n(t.failed)} failed`);
  if (t.deferred > 0) parts.push(`${n(t.deferred)} deferred`);
  const unconfigured = summary.unconfiguredAdvisors.count;
  const digestDay = summary.digestDate === summary.runDate ? '' : ` (digest day ${summary.digestDate})`;
  return `Advisor digests ${summary.week}${digestDay}: ${parts.join(', ')}; ${n(t.rows)} rows` +
    (unconfigured > 0 ? `; ${n(unconfigured)} advisors on profiles but not configured (${summary.unconfiguredAdvisors.ids.slice(0, 10).join(', ')})` : '') +
    (summary.error ? `\nWARNING: the advisor digests stopped (a rerun of the night sends the rest): ${summary.error}` : '');
}

/** Per advisor, and with --dry-run each book's rows (ids, reasons, figures: no names or addresses). */
export function formatAdvisorDigestSummary(summary: AdvisorDigestSummary, currency: string): string {
  const lines = [advisorDigestTotalsLine(summary), `${'Advisor'.padEnd(12)}${'locale'.padEnd(8)}${'outcome'.padEnd(14)}${'clients'.padStart(8)}${'to contact'.padStart(12)}${'rows'.padStart(6)}`];
  for (const a of summary.advisors) {
    lines.push(
      `${a.advisorId.padEnd(12)}${a.locale.padEnd(8)}${a.outcome.padEnd(14)}${n(a.clients).padStart(8)}${n(a.withReasons).padStart(12)}${n(a.rows).padStart(6)}` +
        (a.reason ? `  ${a.reason}` : ''),
    );
  }
  for (const book of summary.books ?? []) {
    lines.push('', `${book.advisorId}, ${book.week.from} to ${book.week.to}:`);
    for (const row of book.rows) {
      const value = row.predicted12mMinor === undefined ? `spend ${displayMinor(row.spend12mMinor, currency)}` : `predicted ${displayMinor(row.predicted12mMinor, currency)}`;
      const reasons = row.reasons.map((r) => `${r.kind} (${r.action})`).join(', ');
      lines.push(`  ${row.customerId.padEnd(14)}${row.tier.padEnd(6)}${row.stage.padEnd(10)}${value.padEnd(26)}last order ${row.lastOrderDate ?? '-'}  ${reasons}`);
    }
  }
  return lines.join('\n');
}

/** Each campaign's line of the report's results: what was due, and sent against control in each window that has ended. */
export function formatCampaignResults(results: CampaignResults): string[] {
  const lines: string[] = [];
  for (const segment of results.segments) {
    if (segment.tier !== 'all') continue;
    const windows = segment.windows.map((w) => {
      if (w.sent.members + w.control.members === 0) return `${w.windowDays} days: not ended yet`;
      const uplift = w.conversionUplift ? `, ${w.conversionUplift.estimate >= 0 ? '+' : '−'}${Math.abs(w.conversionUplift.estimate * 100).toFixed(1)} pp${w.significant ? '' : ', not conclusive'}` : '';
      const control = w.control.members === 0 ? 'no control member' : `${percentText(w.control.conversionRate)} of ${w.control.members.toLocaleString('en-US')} control`;
      return `${w.windowDays} days: ${percentText(w.sent.conversionRate)} of ${w.sent.members.toLocaleString('en-US')} sent vs ${control}${uplift}`;
    });
    lines.push(
      `  ${segment.campaignId}: ${segment.due.toLocaleString('en-US')} due, ${segment.sends.toLocaleString('en-US')} sent, ${segment.heldOut.toLocaleString('en-US')} held out; converted in ${windows.join('; ')}`,
    );
  }
  return lines;
}

/** Whether an erasure found nothing stored of the person: no profile, history, ledger entry, task, suppression entry, former address or book pair. */
export function erasedNothingStored(result: ForgetResult): boolean {
  return result.profiles + result.historyRecords + result.ledgerEntries + result.tasks + result.suppressionEntries + result.couponCodes + result.formerAddresses + result.bookPairs === 0;
}

/**
 * `clientele forget`'s report. An erasure that matched nothing stored (a mistyped id, a person the
 * brand never exported) still records its hashed entry, which is right for a future client with
 * that id or address: the report says both, so a typo is noticed.
 */
export function formatForgetResult(result: ForgetResult, request: ForgetRequest): string {
  const what = [request.customerId === undefined ? [] : ['customer id'], request.email === undefined ? [] : ['address']].flat().join(' and ');
  const entries = `${n(result.erasureKeys)} hashed erasure entr${result.erasureKeys === 1 ? 'y' : 'ies'}`;
  // Said on either outcome: a damaged book may hold what the request was meant to match.
  const book =
    result.addressBook === 'damaged'
      ? ' WARNING: the address book is damaged and was skipped (the warning above names it): the client it may tie to a former address was not looked for, nor her former addresses erased. Run this request again once the book is repaired.'
      : '';
  if (erasedNothingStored(result)) {
    return (
      `Nothing stored matched that ${what}: no profile, tier history, send-ledger entry, advisor task, suppression entry, address-book entry or advisor book pair. ` +
      `${entries} recorded all the same: from now on ${result.erasureKeys === 1 ? 'it keeps' : 'they keep'} that ${what} out of later exports and campaigns ` +
      `(check the ${what} if you expected a match).` +
      book
    );
  }
  return (
    `Erased: ${n(result.profiles)} profile(s), ${n(result.historyRecords)} tier-history record(s), ` +
    `${n(result.ledgerEntries)} send-ledger entr${result.ledgerEntries === 1 ? 'y' : 'ies'}, ${n(result.tasks)} advisor task(s), ` +
    `${n(result.suppressionEntries)} suppression entr${result.suppressionEntries === 1 ? 'y' : 'ies'} now only hashed` +
    (result.couponCodes > 0 ? `, ${n(result.couponCodes)} coupon code(s) no longer tied to them` : '') +
    (result.formerAddresses > 0 ? `, ${n(result.formerAddresses)} former address(es) out of the address book` : '') +
    (result.bookPairs > 0 ? `, ${n(result.bookPairs)} client(s) out of the advisors' book pairs` : '') +
    '; ' +
    `${entries} keep the person out of later exports and campaigns.` +
    book
  );
}

/** What `clientele unsubscribe` did (local/commands/unsubscribe.ts). */
export type UnsubscribeResult =
  | { customerId: string; outcome: 'erased' }
  | { customerId: string; outcome: 'recorded' | 'already'; storedProfile: boolean; address: boolean };

/** `clientele unsubscribe`'s report: what was stored, and a warning when no stored client has the id (a typo shows). */
export function formatUnsubscribeResult(result: UnsubscribeResult): string {
  if (result.outcome === 'erased') return 'That client was erased: nothing stored (their erasure already keeps them from every email).';
  const what = result.address ? "the client's own no and their address's entry" : "the client's own no (no address on file)";
  const stored = result.outcome === 'recorded' ? `Unsubscribed: ${what} recorded; no campaign mails them from the next hour.` : 'Already unsubscribed (or suppressed for another reason): nothing changed.';
  return result.storedProfile
    ? stored
    : `${stored} No stored profile has that customer id: the no is kept against the id all the same, for when an export brings it (check the id if you expected a client).`;
}
