import { quietHoursAtDeparture } from '#shared/campaigns/policy.ts';
import { IN_PERSON_ONLY, INTRODUCTION_CAMPAIGN, INTRODUCTION_OPEN_DAYS, isIntroduction, unreachableBecause } from '#shared/advisors/handover.ts';
import { isActiveAdvisor } from '#shared/advisors/roster.ts';
import { reassignedTask, sendingTask, taskVerdict, unsentTask, type AdvisorTask, type TaskVerdict } from '#shared/advisors/tasks.ts';
import type { Config } from '#shared/config.ts';
import { claimEach, deliverClaimed, mayHaveGone } from '#shared/delivery/deliver.ts';
import { clientEmail } from '#shared/delivery/ses-email.ts';
import type { AdvisorRecord, ClientProfile } from '#shared/model.ts';
import { isStoredErasure } from '#shared/store/erasure-store.ts';
import { getLedgerEntry } from '#shared/store/ledger-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { isClientSuppressed } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { getTask, replaceTask, tasksOfAdvisor } from '#shared/store/task-store.ts';
import { renderIntroduction } from '#shared/templates/advisor-introduction.ts';
import type { EmailContent } from '#shared/templates/render.ts';
import { MS_PER_DAY } from '#shared/time.ts';
import { recordTaskEmailed, takeTaskForEmail, type TaskGateRun } from './advisor-tasks.ts';
import { noteEnvelope, unsubscribeLinkFor } from './compose.ts';

/**
 * The sender's half of a handover (shared/advisors/handover.ts): each hour, the open introduction
 * tasks of the active advisors are settled by the task rule (tasks.ts taskVerdict): the
 * introduction email goes out when the new advisor asked for it ("send the email for me") or did
 * nothing within config.advisors.taskWaitDays of their digest (of the snooze's end); "done" sends
 * nothing. It goes in the new advisor's name (From "Advisor via Brand <brand address>", Reply-To
 * the advisor, signed by them), claimed in the send ledger under the task's key, so a rerun or a
 * concurrent hour sends it once. A client who can no longer be emailed (no address, no consent,
 * suppressed) gets nothing, and the task records why ('unsent'); so does one whose digest gave no
 * send link (the task's withoutEmail), even if they could be emailed since. A client handed over again in
 * between (their advisor is no longer the task's) is left alone: the later handover has its own.
 * Like every email to a client it waits out the quiet hours of the client's time zone (an advisor's
 * note at 3 a.m. is no personal touch); it is a personal note, not a promotion, so the frequency
 * caps do not hold it back. A client on the erasure list (a `clientele forget` recorded, maybe
 * stopped half-way) gets nothing and nothing is written for them: the task's client is looked up on
 * the list before anything is decided, and the claim is refused once they are on it (as the
 * campaign's claims); the run erases them again at its end (run.ts eraseClientsErasedWhileRunning).
 */

/**
 * 'quiet-hours': due, but it is night where the client lives; a later hour sends it. 'erased': the
 * client asked to be forgotten. 'in-person': the digest gave the task without a send link (the
 * client could not be emailed then): its wait ended, the task is closed unsent and nothing is mailed.
 */
export type IntroductionOutcome = 'sent' | 'waiting' | 'quiet-hours' | 'unsent' | 'in-person' | 'reassigned' | 'already-sent' | 'failed' | 'deferred' | 'erased' | 'dry-run';

export type IntroductionCounts = Record<IntroductionOutcome, number>;

export function emptyIntroductionCounts(): IntroductionCounts {
  return { sent: 0, waiting: 0, 'quiet-hours': 0, unsent: 0, 'in-person': 0, reassigned: 0, 'already-sent': 0, failed: 0, deferred: 0, erased: 0, 'dry-run': 0 };
}

/** The introduction email in `advisor`'s name: content, From, Reply-To and the unsubscribe link. */
export async function composeIntroduction(
  profile: ClientProfile,
  advisor: AdvisorRecord & { name: string },
  config: Config,
  secret: string,
): Promise<EmailContent & { unsubscribeUrl: string; from: string; replyTo?: string }> {
  const link = unsubscribeLinkFor(config, profile.customerId, secret);
  const content = await renderIntroduction(profile, advisor, config, link);
  return { ...content, unsubscribeUrl: link, ...noteEnvelope(config, advisor) };
}

/**
 * The introduction tasks of the active advisors still open to the sender (created within
 * INTRODUCTION_OPEN_DAYS). No upper bound on when they were given: a digest whose clock is ahead
 * of this run's (the demo's wall-clock night before its simulated morning) gave tasks this run
 * must still see; the task rule keeps them waiting until their own wait ends, unless the advisor asked.
 */
async function openIntroductions(run: TaskGateRun): Promise<{ task: AdvisorTask; advisor: AdvisorRecord & { name: string; email: string } }[]> {
  const table = tableNames(run.config).advisorTasks;
  const open: { task: AdvisorTask; advisor: AdvisorRecord & { name: string; email: string } }[] = [];
  for (const advisor of run.advisors.values()) {
    if (!isActiveAdvisor(advisor)) continue;
    const tasks = await tasksOfAdvisor(run.clients.documents, table, advisor.advisorId, run.at - INTRODUCTION_OPEN_DAYS * MS_PER_DAY, Number.MAX_SAFE_INTEGER);
    for (const task of tasks) if (isIntroduction(task) && run.at < task.expiresAt) open.push({ task, advisor });
  }
  return open;
}

/**
 * Settles the open introductions at the run's clock: what became of each, counted, and the profiles
 * of the clients acted on (the run's end erases again any of them now on the erasure list).
 */
export async function sendIntroductions(run: TaskGateRun, mayStart: () => boolean): Promise<{ counts: IntroductionCounts; clients: ClientProfile[] }> {
  const counts = emptyIntroductionCounts();
  const clients: ClientProfile[] = [];
  const { config, at } = run;
  const tables = tableNames(config);
  for (const { task, advisor } of await openIntroductions(run)) {
    const verdict = taskVerdict(task, at, config.advisors.taskWaitDays);
    if (verdict.action === 'skip') continue;
    if (verdict.action === 'wait') {
      counts.waiting++;
      continue;
    }
    const profile = await getProfile(run.clients.documents, tables.profiles, task.customerId);
    if (profile !== undefined) clients.push(profile);
    // A forget recorded but not finished (the profile and the task still there) already keeps them out.
    if (run.erasedWhileRunning.has(task.customerId) || (await isStoredErasure(run.clients.documents, tables.suppression, { customerId: task.customerId, email: profile?.email }))) {
      run.erasedWhileRunning.add(task.customerId);
      counts.erased++;
      run.log.info('advisor introduction not sent: the client asked to be forgotten', { customerId: task.customerId, advisorId: task.advisorId });
      continue;
    }
    if (profile !== undefined && profile.advisorId !== task.advisorId) {
      // Handed over again, or out of every book, since the digest: no longer this advisor's
      // introduction to make. Closed, so later hours pass it by instead of counting it each hour.
      if (!run.dryRun) {
        await replaceTask(run.clients.documents, tables.advisorTasks, reassignedTask(task, profile.advisorId ?? 'none', at), task.version, config.sender.ledgerRetentionDays);
      }
      counts.reassigned++;
      continue;
    }
    const suppressed = profile === undefined ? false : await isClientSuppressed(run.clients.documents, tables.suppression, profile);
    const unreachable = unreachableBecause(profile, suppressed);
    if (run.dryRun) {
      counts['dry-run']++;
      continue;
    }
    if (task.withoutEmail === true) {
      // The advisor was told "we cannot email this client": consent that came later does not make it an email in their name.
      await replaceTask(run.clients.documents, tables.advisorTasks, unsentTask(task, verdict.because, IN_PERSON_ONLY, at), task.version, config.sender.ledgerRetentionDays);
      run.log.info('advisor introduction not sent', { customerId: task.customerId, advisorId: task.advisorId, reason: IN_PERSON_ONLY });
      counts['in-person']++;
      continue;
    }
    if (unreachable !== undefined || profile === undefined) {
      await replaceTask(run.clients.documents, tables.advisorTasks, unsentTask(task, verdict.because, unreachable ?? 'no-profile', at), task.version, config.sender.ledgerRetentionDays);
      run.log.info('advisor introduction not sent', { customerId: task.customerId, advisorId: task.advisorId, reason: unreachable });
      counts.unsent++;
      continue;
    }
    // Judged when it leaves, not at the hour: introductions go after the hour's campaign emails.
    if (quietHoursAtDeparture(profile, run.departureClock(), { campaigns: config.campaigns, brandTimeZone: config.timeZone }) !== undefined) {
      counts['quiet-hours']++;
      continue;
    }
    if (!mayStart()) break;
    // The hour read its introductions up front and sends them one by one at the paced rate: an answer given since
    // ("I introduced myself", a snooze) was told "recorded", so it decides, read again and the task taken just before the claim.
    const current = await takeTaskForEmail(
      run,
      task,
      verdict as TaskVerdict,
      (stored) => taskVerdict(stored, at, config.advisors.taskWaitDays),
      (decision, stored) => (decision.action === 'send' ? sendingTask(stored, decision.because, at) : undefined),
    );
    if (current === undefined) {
      // The task is gone: a forget since the look-up above deletes it (counted as erased); nothing to settle otherwise.
      if (await isStoredErasure(run.clients.documents, tables.suppression, { customerId: task.customerId, email: profile.email })) {
        run.erasedWhileRunning.add(task.customerId);
        counts.erased++;
      }
      continue;
    }
    if (current === 'moved' || current.action === 'wait') {
      counts.waiting++;
      continue;
    }
    if (current.action === 'skip') continue;
    const key = { customerId: task.customerId, occasionKey: task.occasionKey };
    const { claimed, erased } = await claimEach(run.ledger, [
      {
        ...key,
        campaignId: INTRODUCTION_CAMPAIGN,
        runId: run.runId,
        now: at,
        writtenAt: run.departureClock(),
        retentionDays: config.sender.ledgerRetentionDays,
        tier: profile.tier,
        triggerAt: task.createdAt,
        // Erased since the look-up above: no entry, no email.
        unlessErased: { table: tables.suppression, who: profile },
      },
    ]);
    if (erased.length > 0) {
      // One key: refused, nothing was written.
      run.erasedWhileRunning.add(task.customerId);
      counts.erased++;
      continue;
    }
    if (claimed.length === 0) {
      // Another run holds the claim: settle the task only once the email surely or maybe went (never resent).
      const entry = await getLedgerEntry(run.ledger.documents, run.ledger.table, key);
      if (mayHaveGone(entry?.status)) await recordTaskEmailed(run, key, current.because);
      counts['already-sent']++;
      continue;
    }
    const { outcome } = await deliverClaimed({
      ledger: run.ledger,
      runId: run.runId,
      at,
      claimed,
      mailer: run.mailer,
      retryAt: at + 3_600_000,
      log: run.log,
      email: async () =>
        clientEmail(config.sender, profile.email ?? '', await composeIntroduction(profile, advisor, config, run.unsubscribeSecret), {
          campaign: INTRODUCTION_CAMPAIGN,
          tier: profile.tier,
          customerId: profile.customerId,
        }),
    });
    // As for any email of the run: refused requests and failures on the way to SES count in its circuit breaker.
    run.noteEmailOutcome(outcome);
    if (outcome.status === 'sent' || outcome.status === 'maybe-sent') {
      // Maybe-sent is never resent: the task is settled as emailed either way.
      await recordTaskEmailed(run, key, current.because);
      counts[outcome.status === 'sent' ? 'sent' : 'failed']++;
    } else counts[outcome.retry === 'later' ? 'deferred' : 'failed']++;
    run.log.info('advisor introduction', { customerId: task.customerId, advisorId: task.advisorId, outcome: outcome.status, because: current.because });
  }
  return { counts, clients };
}
