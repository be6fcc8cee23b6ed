import { isBookClient } from '#shared/advisors/book.ts';
import {
  advisorFollowThrough,
  FOLLOW_THROUGH_DAYS,
  followUpTasks,
  mergeFollowUps,
  type AdvisorFollowThrough,
  type TaskFollowUps,
} from '#shared/advisors/follow-through.ts';
import { holdsBook, knownAdvisors } from '#shared/advisors/roster.ts';
import { INTRODUCTION_CAMPAIGN } from '#shared/advisors/tasks.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { FOLLOW_UP_PERIOD_DAYS, type Config } from '#shared/config.ts';
import { silentLog, type Log } from '#shared/log.ts';
import type { OrderFact } from '#shared/model.ts';
import type { ResultEntry } from '#shared/store/ledger-store.ts';
import { queryAdvisorClientsFrom } from '#shared/store/profile-store.ts';
import { readRoster } from '#shared/store/roster-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { allTasks } from '#shared/store/task-store.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { tierThresholdsMinor } from '#shared/tiering/tiers.ts';
import { MS_PER_DAY } from '#shared/time.ts';

/**
 * The advisors' follow-through in the nightly run (issue 16 point 6; the figures are
 * shared/advisors/follow-through.ts's), in the two halves the campaign results use, so that a
 * sharded night adds up to a single run: each shard follows the period's tasks and control-group
 * decisions of the clients it holds over their orders (followShardTasks, before it writes), then the
 * run's last step adds them up with the task tallies and the clients waiting for a new advisor
 * (nightFollowThrough), for the report, the team email and the advisors' digests.
 */

export interface FollowShardOptions {
  config: Config;
  clients: Pick<AwsClients, 'documents'>;
  runDate: string;
  /** Tonight's orders by client (the shard's aggregator): undefined for a client it does not hold. */
  orders: { ordersOf(customerId: string): readonly OrderFact[] | undefined };
  log?: Log;
}

/** Epoch ms: the start of the period whose tasks and control decisions the follow-through follows. */
export function followUpPeriodStart(runDate: string, config: Pick<Config, 'timeZone'>): number {
  return runClock(runDate, config.timeZone).now - FOLLOW_UP_PERIOD_DAYS * MS_PER_DAY;
}

/**
 * The shard's part of the comparison: its clients' tasks and control decisions, followed 30 days.
 * `ledger` is the shard's read of the send ledger (readNightLedger, from followUpPeriodStart or earlier).
 */
export async function followShardTasks(options: FollowShardOptions & { ledger: readonly ResultEntry[] }): Promise<TaskFollowUps> {
  const { config, clients, runDate } = options;
  const now = runClock(runDate, config.timeZone).now;
  const from = followUpPeriodStart(runDate, config);
  const tasks = (await allTasks(clients.documents, tableNames(config).advisorTasks)).filter((t) => t.createdAt >= from && t.createdAt < now);
  // No task of a campaign in the period: nothing to compare.
  if (!tasks.some((t) => t.campaignId !== INTRODUCTION_CAMPAIGN)) return { byAdvisor: {}, control: { followed: 0, bought: 0, maturing: 0 } };
  const heldOut = options.ledger.filter((entry) => entry.status === 'held-out' && entry.claimedAt >= from && entry.claimedAt < now);
  const followUps = followUpTasks({
    tasks,
    controls: heldOut.map((entry) => ({ customerId: entry.customerId, campaignId: entry.campaignId, ...(entry.tier === undefined ? {} : { tier: entry.tier }), at: entry.claimedAt })),
    ordersOf: (customerId) => options.orders.ordersOf(customerId),
    now,
  });
  (options.log ?? silentLog).info('advisor tasks followed', { tasks: tasks.length, controlDecisions: heldOut.length });
  return followUps;
}

/**
 * The night's follow-through, from every shard's part; undefined for a brand without advisors or
 * tasks (the report then has no advisors section).
 */
export async function nightFollowThrough(options: {
  config: Config;
  clients: Pick<AwsClients, 'documents' | 's3'>;
  runDate: string;
  parts: readonly (TaskFollowUps | undefined)[];
}): Promise<AdvisorFollowThrough | undefined> {
  const { config, clients, runDate } = options;
  const tables = tableNames(config);
  const now = runClock(runDate, config.timeZone).now;
  const known = knownAdvisors(await readRoster(clients.s3, config), config);
  const tasks = await allTasks(clients.documents, tables.advisorTasks);
  if (known.size === 0 && tasks.length === 0) return undefined;
  // Book clients of advisors who left (or hold no book: roster.ts holdsBook): the byAdvisor index from the Potential threshold up holds every book client.
  const potential = tierThresholdsMinor(config).potential;
  const orphans: { customerId: string; advisorId: string }[] = [];
  for (const advisor of known.values()) {
    if (holdsBook(advisor)) continue;
    for (const profile of await queryAdvisorClientsFrom(clients.documents, tables.profiles, advisor.advisorId, potential)) {
      if (isBookClient(profile)) orphans.push({ customerId: profile.customerId, advisorId: advisor.advisorId });
    }
  }
  const since = now - FOLLOW_THROUGH_DAYS * MS_PER_DAY;
  return advisorFollowThrough({
    recentTasks: tasks.filter((t) => t.createdAt >= since && t.createdAt < now),
    followUps: mergeFollowUps(options.parts.filter((part): part is TaskFollowUps => part !== undefined)),
    advisors: known,
    orphans,
  });
}
