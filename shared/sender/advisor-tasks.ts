import type { AwsClients } from '#shared/aws/clients.ts';
import { clientTimeZone, type DueOccasion } from '#shared/campaigns/due.ts';
import type { Decision } from '#shared/campaigns/policy.ts';
import type { Config } from '#shared/config.ts';
import { claimEach, deliverClaimed, mayHaveGone, releaseClaims, type LedgerTable } from '#shared/delivery/deliver.ts';
import type { SendOutcome } from '#shared/delivery/outcome.ts';
import { internalEmail, isSendableAddress } from '#shared/delivery/ses-email.ts';
import type { SesMailer } from '#shared/delivery/ses-mailer.ts';
import type { Log } from '#shared/log.ts';
import type { AdvisorRecord, ClientProfile } from '#shared/model.ts';
import {
  ADVISOR_TASK_CAMPAIGN,
  closedWithoutTask,
  emailedTask,
  handedOverTaskKey,
  isTaskOfOccasion,
  latestNoteTime,
  newTask,
  reassignedTask,
  sendAfter,
  sendingTask,
  taskEmailLedgerKey,
  taskVerdict,
  type AdvisorTask,
  type EmailedBecause,
  type EndedWithoutTask,
} from '#shared/advisors/tasks.ts';
import { taskLinks } from '#shared/unsubscribe/task-token.ts';
import { getLedgerEntry, type LedgerStatus } from '#shared/store/ledger-store.ts';
import { createTask, getTask, replaceTask, tasksOfClient, type TaskKey } from '#shared/store/task-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { renderAdvisorTask, sendAfterLabel } from '#shared/templates/advisor-task.ts';
import { templateLocale } from '#shared/templates/locale.ts';
import { composeClientEmail, type ClientEmailInputs } from './compose.ts';

/**
 * The sender's half of "one touch, not two" (shared/advisors/tasks.ts): an occasion whose note
 * would go out in an active advisor's name is first given to the advisor as a task, by email,
 * with the drafted note and the three signed links; the client's email then waits for the
 * advisor's answer or for config.advisors.taskWaitDays. The task email is claimed in the send
 * ledger like the digests (customerId 'advisor#<id>'), so a rerun never sends it twice, and the
 * task is created once it went out: the wait starts when the advisor could read it.
 *
 * A note goes out in an advisor's name only after that advisor had the task: when the client was
 * handed over while a task was still unsettled, the old advisor's task is closed as 'reassigned'
 * and the occasion goes through the gate again for the new advisor (their own task, under
 * tasks.ts handedOverTaskKey, with their own wait).
 */

/** The occasion a task is about and the companions its email settles with it (the task is the occasion's; its note lists them all). */
export interface TaskNote {
  occasion: DueOccasion;
  companions: readonly DueOccasion[];
}

/** What the gate needs of the campaign run; the note is composed as the send composes it (compose.ts ClientEmailInputs). */
export interface TaskGateRun extends ClientEmailInputs {
  clients: Pick<AwsClients, 'documents'>;
  at: number;
  runId: string;
  dryRun: boolean;
  log: Log;
  ledger: LedgerTable;
  mailer: SesMailer;
  /** Clients found on the erasure list by a write of this run (erased while it ran): not mailed, nothing more written, erased again at the run's end. */
  erasedWhileRunning: Set<string>;
  /** The run's real clock (run.ts CampaignRunOptions.realClock): when an email leaves, and when a claim is written (claimWrittenAt). */
  departureClock: () => number;
  /** Task emails SES refused for good in this run (their notes went as without an advisor): the summary's taskEmailsRefused. */
  taskEmailsRefused: number;
  /** Whether one more email may start (the SES quota left for the run, its deadline, a stop); counted against the run's budget when it may (run.ts startSend). */
  mayStartEmail: () => boolean;
  /** Folds an email's outcome (a task email's, an introduction's) into the run as a campaign email's is: SES refusing the account, the circuit breaker (run.ts). */
  noteEmailOutcome: (outcome: SendOutcome) => void;
}

/**
 * What the sender does with the occasion: send (and why, and which task to record it on), wait for
 * the advisor, nothing (they took care of it), or send it as it would go without an advisor (from
 * the client care team: their task email was refused for good, so they never had the task).
 */
export type GateDecision =
  | { outcome: 'send'; because: EmailedBecause; task: AdvisorTask }
  | { outcome: 'without-advisor' }
  | Extract<Decision, { outcome: 'deferred' } | { outcome: 'advisor-handled' }>;

function waiting(until: number): GateDecision {
  return { outcome: 'deferred', until, reason: 'advisor-task' };
}


/**
 * What became of the task email: 'given' (it went out, maybe went, or an earlier run sent it),
 * 'refused' (SES or the mailer refused it for good, now or in an earlier run: ledger 'failed', never
 * tried again), or 'not-given' (not yet: a later hour tries again; or the client was erased).
 */
type TaskEmailResult = 'given' | 'refused' | 'not-given';

/**
 * Emails the task to the advisor (claimed once). A client erased meanwhile (the claim finds them on
 * the list) is added to run.erasedWhileRunning: the advisor gets nothing about them.
 */
async function sendTaskEmail(run: TaskGateRun, profile: ClientProfile, email: TaskNote, taskKey: TaskKey, advisor: AdvisorRecord & { email: string }, sendBy: number): Promise<TaskEmailResult> {
  const { occasion } = email;
  const { config, at } = run;
  const key = taskEmailLedgerKey(advisor.advisorId, taskKey);
  const { claimed, erased } = await claimEach(run.ledger, [
    // The entry is the advisor's, the email is about the client: it is the client who must not be erased.
    { ...key, campaignId: ADVISOR_TASK_CAMPAIGN, runId: run.runId, now: at, writtenAt: run.departureClock(), retentionDays: config.sender.ledgerRetentionDays, unlessErased: { table: tableNames(config).suppression, who: profile } },
  ]);
  if (erased.length > 0) {
    run.erasedWhileRunning.add(profile.customerId);
    return 'not-given';
  }
  if (claimed.length === 0) return taskEmailResultOf((await getLedgerEntry(run.ledger.documents, run.ledger.table, key))?.status);
  if (!run.mayStartEmail()) {
    // The run's budget is spent (or sending stopped): the task email waits for a later hour, as a client's email does.
    await releaseClaims(run.ledger, claimed, run.runId, 'sending-stopped', at);
    return 'not-given';
  }
  const locale = templateLocale(advisor.locale);
  const link = taskLinks(config, taskKey, 1, at, run.unsubscribeSecret);
  const { outcome } = await deliverClaimed({
    ledger: run.ledger,
    runId: run.runId,
    at,
    claimed,
    mailer: run.mailer,
    retryAt: at + 3_600_000,
    log: run.log,
    email: async () => {
      // The note as the client will get it (run.ts send): with its companions and the products export.
      // No coupon code: a note in an advisor's name never shows one (render.ts showsCoupon), so none is drawn for it.
      const note = await composeClientEmail(run, profile, occasion, email.companions);
      const content = await renderAdvisorTask(locale, {
        brandName: config.brandName,
        ...(advisor.name === undefined ? {} : { advisorName: advisor.name }),
        client: { customerId: profile.customerId, tier: profile.tier, ...(profile.firstName ? { firstName: profile.firstName } : {}), ...(profile.lastName ? { lastName: profile.lastName } : {}) },
        note: { subject: note.subject, text: note.text },
        sendAfter: sendAfterLabel(sendAfter({ createdAt: at, sendBy }, config.advisors.taskWaitDays), locale, config.timeZone),
        links: { done: link('done'), snooze: link('snooze'), send: link('send') },
      });
      return internalEmail(config.sender, advisor.email, content, { campaign: ADVISOR_TASK_CAMPAIGN, advisor: advisor.advisorId });
    },
  });
  // A request SES refuses, or a way to SES that fails, fails every email alike: the breaker counts them whatever the email.
  run.noteEmailOutcome(outcome);
  if (outcome.status === 'not-sent' && outcome.retry === 'never') {
    run.taskEmailsRefused++;
    run.log.warn('advisor task email refused: the note goes from the client care team', { customerId: profile.customerId, advisorId: advisor.advisorId, campaignId: occasion.campaignId, error: outcome.reason });
    return 'refused';
  }
  return mayHaveGone(outcome.status) ? 'given' : 'not-given';
}

/** The task email's result as its ledger entry (an earlier run's) says. */
function taskEmailResultOf(status: LedgerStatus | undefined): TaskEmailResult {
  return mayHaveGone(status) ? 'given' : status === 'failed' ? 'refused' : 'not-given';
}

/**
 * The occasion's fate for a note in `advisor`'s name: on its first hour the advisor gets the task
 * and the client's email waits; later hours follow the task (tasks.ts taskVerdict). A client
 * handed over since goes through handOver. A dry run reads the task, writes and sends nothing.
 */
export async function taskGate(run: TaskGateRun, profile: ClientProfile, email: TaskNote, advisor: AdvisorRecord & { email: string }): Promise<GateDecision> {
  const { occasion } = email;
  const table = tableNames(run.config).advisorTasks;
  const stored = await getTask(run.clients.documents, table, occasion);
  if (stored === undefined) return giveTask(run, profile, email, occasion, advisor);
  if (stored.advisorId === advisor.advisorId && stored.status !== 'reassigned') return decisionOf(run, profile, stored);
  return handOver(run, profile, email, advisor);
}

/** The latest the note of a task given at `givenAt` may wait for its advisor (tasks.ts latestNoteTime), in the client's quiet hours. */
function noteSendBy(run: Pick<TaskGateRun, 'config'>, profile: ClientProfile, expiresAt: number, givenAt: number): number {
  const { config } = run;
  return latestNoteTime(expiresAt, clientTimeZone(profile, config.timeZone), config.campaigns.policy.quietHours, givenAt);
}

/**
 * Gives the occasion's task under `taskKey` to `advisor`: the task email, then the task; the
 * client's email waits. A task email refused for good never reaches the advisor: nobody could
 * answer, so no task and no wait, and the note goes as it would without an advisor.
 */
async function giveTask(run: TaskGateRun, profile: ClientProfile, email: TaskNote, taskKey: TaskKey, advisor: AdvisorRecord & { email: string }): Promise<GateDecision> {
  const { occasion } = email;
  const { config, at } = run;
  const sendBy = noteSendBy(run, profile, occasion.expiresAt, at);
  if (run.dryRun) {
    const earlier = await getLedgerEntry(run.ledger.documents, run.ledger.table, taskEmailLedgerKey(advisor.advisorId, taskKey));
    if (taskEmailResultOf(earlier?.status) === 'refused') return { outcome: 'without-advisor' };
    // An address the mailer refuses without calling SES (ses-mailer.ts): the real hour's task email is refused for certain.
    if (!isSendableAddress(advisor.email.trim())) return { outcome: 'without-advisor' };
    return decisionOf(run, profile, newTask(occasion, advisor.advisorId, at, profile.tier, sendBy));
  }
  // The wait starts once the advisor has the task: not before the email went out.
  const taskEmail = await sendTaskEmail(run, profile, email, taskKey, advisor, sendBy);
  if (taskEmail === 'refused') return { outcome: 'without-advisor' };
  if (taskEmail === 'not-given') return waiting(at + 3_600_000);
  // Erased while the email went: the task is created all the same, and the run's end erases it with its email's entry (which only the task leads to).
  const task = { ...newTask(occasion, advisor.advisorId, at, profile.tier, sendBy), occasionKey: taskKey.occasionKey };
  const { task: kept, created } = await createTask(run.clients.documents, tableNames(config).advisorTasks, task, config.sender.ledgerRetentionDays);
  if (created) run.log.info('advisor task created', { customerId: profile.customerId, advisorId: advisor.advisorId, campaignId: occasion.campaignId });
  return decisionOf(run, profile, kept);
}

/**
 * The occasion of a client whose advisor is no longer the one of its task: an advisor's answer
 * that settled it (done; the note went or could not go) still stands; every unsettled task of
 * another advisor is closed as 'reassigned'; then the current advisor's own task decides, given
 * now if they have none.
 */
async function handOver(run: TaskGateRun, profile: ClientProfile, email: TaskNote, advisor: AdvisorRecord & { email: string }): Promise<GateDecision> {
  const { occasion } = email;
  const { config, at } = run;
  const table = tableNames(config).advisorTasks;
  const tasks = await tasksOfOccasion(run, occasion);
  const settled = settledTask(tasks);
  if (settled !== undefined) return decisionOf(run, profile, settled);
  const ownKey = { customerId: occasion.customerId, occasionKey: ownTaskKey(tasks, occasion.occasionKey, advisor.advisorId) };
  for (const task of tasks) {
    if (task.status === 'reassigned' || task.occasionKey === ownKey.occasionKey) continue;
    if (run.dryRun) continue;
    if ((await replaceTask(run.clients.documents, table, reassignedTask(task, advisor.advisorId, at), task.version, config.sender.ledgerRetentionDays)) === 'stale') {
      return waiting(at + 3_600_000); // an answer came in meanwhile: the next hour looks again
    }
    run.log.info('advisor task reassigned', { customerId: task.customerId, advisorId: task.advisorId, to: advisor.advisorId, campaignId: task.campaignId });
  }
  const own = tasks.find((task) => task.occasionKey === ownKey.occasionKey);
  return own === undefined ? giveTask(run, profile, email, ownKey, advisor) : decisionOf(run, profile, own);
}

/**
 * The key of `advisorId`'s task for the occasion after a handover to them: their latest one while
 * it is not closed 'reassigned', else the next round's (tasks.ts handedOverTaskKey). A task closed
 * by an earlier handover away from them never decides (the note would wait for a task nobody can
 * answer): handed back, they get a fresh task, with its own task email and its own wait. A task
 * email claimed whose task was not created yet keeps its round (no task under it): a later hour
 * finds the claim and creates the task, never a second email.
 */
function ownTaskKey(tasks: readonly AdvisorTask[], occasionKey: string, advisorId: string): string {
  const keys = new Map(tasks.map((task) => [task.occasionKey, task]));
  let round = 1;
  while (keys.get(handedOverTaskKey(occasionKey, advisorId, round))?.status === 'reassigned') round++;
  return handedOverTaskKey(occasionKey, advisorId, round);
}

/** Every task of the occasion: its first one and those given after handovers. */
async function tasksOfOccasion(run: Pick<TaskGateRun, 'config' | 'clients'>, occasion: Pick<DueOccasion, 'customerId' | 'occasionKey'>): Promise<AdvisorTask[]> {
  const tasks = await tasksOfClient(run.clients.documents, tableNames(run.config).advisorTasks, occasion.customerId);
  return tasks.filter((task) => isTaskOfOccasion(task.occasionKey, occasion.occasionKey));
}

/**
 * Whether an occasion may have advisor tasks, so that its tasks are read: a personal campaign's, or
 * any campaign's of a client with an advisor (tasks are only given to such a client, and the
 * campaign may have been marked personal when the task was given: an answer then still stands).
 * The others need no read.
 */
function givenAsTasks(config: Config, profile: Pick<ClientProfile, 'advisorId'>, occasion: Pick<DueOccasion, 'campaignId'>): boolean {
  return profile.advisorId !== undefined || config.campaigns.campaigns.find((c) => c.id === occasion.campaignId)?.personal === true;
}

/** Whether a task's answer settled its occasion: the advisor took care of it, or the note went or could not go. */
function isSettled(task: AdvisorTask): boolean {
  return task.status === 'done' || task.status === 'emailed' || task.status === 'unsent';
}

/** Whether a task still waits on its advisor or its note: neither settled nor closed by a handover. */
function isUnsettled(task: AdvisorTask): boolean {
  return !isSettled(task) && task.status !== 'reassigned';
}

/** The task whose answer settled the occasion, if any. */
function settledTask(tasks: readonly AdvisorTask[]): AdvisorTask | undefined {
  return tasks.find(isSettled);
}

/**
 * An occasion whose note would no longer go in an advisor's name (they left the roster, the client
 * stopped qualifying for a personal note, or the campaign is no longer marked personal) after a
 * task was given: an answer that settled it still stands (the advisor dealt with the client in
 * person: no second touch); undefined when no task settled it, and the note goes as it would
 * without an advisor.
 */
export async function settledWithoutAdvisor(run: TaskGateRun, profile: ClientProfile, occasion: DueOccasion): Promise<GateDecision | undefined> {
  if (!givenAsTasks(run.config, profile, occasion)) return undefined;
  const settled = settledTask(await tasksOfOccasion(run, occasion));
  return settled === undefined ? undefined : decisionOf(run, profile, settled);
}

/**
 * Closes the occasion's unsettled tasks (open, snoozed, send asked, taken) once the occasion ended
 * without them: the note went without the task (from the client care team: the advisor left, or
 * the client no longer qualifies for a personal note) → 'emailed'; or it can no longer go (a final
 * decision, or the window closed) → 'unsent' with the reason. A link then finds the task closed
 * (409), never "recorded" after or instead of the note, and the follow-through counts it as
 * settled. An answer given meanwhile (the write is conditional on the version read) is read
 * again once; one that settled the task stands. A task this hour could not close (it died after
 * the ledger write) is closed by its link's answer, from the ledger (shared/unsubscribe/task-links.ts).
 */
export async function closeTasksOfOccasion(run: Pick<TaskGateRun, 'config' | 'clients' | 'at' | 'log'>, profile: Pick<ClientProfile, 'advisorId'>, occasion: DueOccasion, end: EndedWithoutTask): Promise<void> {
  if (!givenAsTasks(run.config, profile, occasion)) return;
  const table = tableNames(run.config).advisorTasks;
  for (const first of await tasksOfOccasion(run, occasion)) {
    let task: AdvisorTask | undefined = first;
    for (let attempt = 0; attempt < 2 && task !== undefined && isUnsettled(task); attempt++) {
      const closed = closedWithoutTask(task, end, run.at);
      if ((await replaceTask(run.clients.documents, table, closed, task.version, run.config.sender.ledgerRetentionDays)) === 'replaced') {
        run.log.info('advisor task closed: the occasion ended without it', { customerId: task.customerId, advisorId: task.advisorId, campaignId: task.campaignId, status: closed.status });
        break;
      }
      task = await getTask(run.clients.documents, table, task);
    }
  }
}

function decisionOf(run: Pick<TaskGateRun, 'config' | 'at'>, profile: ClientProfile, task: AdvisorTask): GateDecision {
  // A task given before tasks kept their sendBy is bounded by its window all the same.
  const bounded = task.sendBy === undefined ? { ...task, sendBy: noteSendBy(run, profile, task.expiresAt, task.createdAt) } : task;
  const verdict = taskVerdict(bounded, run.at, run.config.advisors.taskWaitDays);
  if (verdict.action === 'send') return { outcome: 'send', because: verdict.because, task: bounded };
  if (verdict.action === 'wait') return waiting(verdict.until);
  // An emailed task whose ledger entry is not 'sent' (it expired from the ledger), one that could not be sent, or one handed over: nothing more to send.
  return verdict.status === 'done' ? { outcome: 'advisor-handled' } : waiting(task.expiresAt);
}

/**
 * Takes a task for its email just before the claim (tasks.ts sendingTask): a conditional write on
 * the version last read, so that an answer given meanwhile wins (the task is read and decided
 * again: "done" means no email) and one given after it finds the task closed instead of being told
 * "recorded" while the email goes anyway. `decide` decides on a task as stored; `sending` gives,
 * for a decision to email, the task to write ('sending'), else undefined. A task an earlier hour
 * took whose send did not happen is sent as it is. Undefined: the task is gone (erased); 'moved':
 * answered twice while this hour looked, so the next hour decides.
 */
export async function takeTaskForEmail<D>(
  run: Pick<TaskGateRun, 'config' | 'clients'>,
  task: AdvisorTask,
  first: D,
  decide: (stored: AdvisorTask) => D,
  sending: (decision: D, stored: AdvisorTask) => AdvisorTask | undefined,
): Promise<D | 'moved' | undefined> {
  const table = tableNames(run.config).advisorTasks;
  let current = task;
  let decision = first;
  for (let attempt = 0; attempt < 2; attempt++) {
    const taken = sending(decision, current);
    if (taken === undefined || current.status === 'sending') return decision;
    if ((await replaceTask(run.clients.documents, table, taken, current.version, run.config.sender.ledgerRetentionDays)) === 'replaced') return decision;
    const stored = await getTask(run.clients.documents, table, current);
    if (stored === undefined) return undefined;
    current = stored;
    decision = decide(stored);
  }
  return sending(decision, current) === undefined ? decision : 'moved';
}

/** The task gate's send, its task taken first (takeTaskForEmail); gone or answered twice meanwhile: the next hour looks again. */
export async function takeTaskForSending(run: Pick<TaskGateRun, 'config' | 'clients' | 'at'>, profile: ClientProfile, gate: Extract<GateDecision, { outcome: 'send' }>): Promise<GateDecision> {
  const taken = await takeTaskForEmail(
    run,
    gate.task,
    gate as GateDecision,
    (stored) => decisionOf(run, profile, stored),
    (decision) => (decision.outcome === 'send' ? sendingTask(decision.task, decision.because, run.at) : undefined),
  );
  return taken === undefined || taken === 'moved' ? waiting(run.at + 3_600_000) : taken;
}

/**
 * Records on the task that its note went out (after the send), re-reading once if it moved on in
 * between. A "done" given while a note went without being taken first keeps its answer, with the
 * email added to its history and a warning: never overwritten silently.
 */
export async function recordTaskEmailed(run: Pick<TaskGateRun, 'config' | 'clients' | 'at' | 'log'>, occasion: Pick<DueOccasion, 'customerId' | 'occasionKey'>, because: EmailedBecause): Promise<void> {
  const table = tableNames(run.config).advisorTasks;
  for (let attempt = 0; attempt < 2; attempt++) {
    const task = await getTask(run.clients.documents, table, occasion);
    if (task === undefined || task.status === 'emailed' || task.status === 'unsent' || task.status === 'reassigned') return;
    if (task.status === 'done' && task.history.some((event) => event.event === 'emailed')) return;
    if ((await replaceTask(run.clients.documents, table, emailedTask(task, because, run.at), task.version, run.config.sender.ledgerRetentionDays)) === 'replaced') {
      if (task.status === 'done') run.log.warn('advisor task: the note went out after the advisor answered done', { customerId: task.customerId, advisorId: task.advisorId, campaignId: task.campaignId });
      return;
    }
  }
}
