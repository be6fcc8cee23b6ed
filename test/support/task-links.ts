import type { Config } from '#shared/config.ts';
import { tableNames } from '#shared/store/tables.ts';
import { staticKeys } from '#shared/unsubscribe/keys.ts';
import type { TaskLinkContext } from '#shared/unsubscribe/task-links.ts';
import { UNSUBSCRIBE_SECRET } from './campaign-runs.ts';
import type { SharedAws } from './local-aws.ts';
import type { StoredEmail } from './ses-store.ts';

/** The token of a task email's link, from the line "<label>: <url>" of its text part ('' when missing). */
export function taskLinkToken(email: StoredEmail | undefined, label: string): string {
  const line = (email?.body.text ?? '').split('\n').find((l) => l.startsWith(label));
  return new URL(line?.slice(line.indexOf('http')) ?? 'http://missing/').searchParams.get('t') ?? '';
}

/** The advisor-task function's context in a scenario, its clock at `now` (an instant, or a clock). */
export function taskLinkContext(aws: Pick<SharedAws, 'clients'>, config: Config, now: number | (() => number)): TaskLinkContext {
  return {
    documents: aws.clients.documents,
    table: tableNames(config).advisorTasks,
    ledgerTable: tableNames(config).sendLedger,
    keys: staticKeys(UNSUBSCRIBE_SECRET),
    now: typeof now === 'number' ? () => now : now,
    brandName: config.brandName,
    retentionDays: 400,
    taskWaitDays: config.advisors.taskWaitDays,
    timeZone: config.timeZone,
  };
}
