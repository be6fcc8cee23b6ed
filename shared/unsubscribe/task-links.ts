import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { silentLog, type Log } from '#shared/log.ts';
import { replaceTask, getTask } from '#shared/store/task-store.ts';
import type { TemplateLocale } from '#shared/templates/locale.ts';
import { answerTask, closedWithoutTask, occasionEndOf, occasionKeysOfTask, sendAfter, type AdvisorTask, type EndedWithoutTask, type TaskAction } from '#shared/advisors/tasks.ts';
import { getLedgerEntry } from '#shared/store/ledger-store.ts';
import { sendAfterLabel } from '#shared/templates/advisor-task.ts';
import { MS_PER_DAY } from '#shared/time.ts';
import type { UnsubscribeKeys } from './keys.ts';
import { pageDocument, postForm } from './page.ts';
import { pageLocale, type UnsubscribeRequest } from './request.ts';
import { verifyTaskToken, type TaskTokenCheck } from './task-token.ts';
import { SECURITY_HEADERS, type HttpResponse } from './unsubscribe.ts';

/**
 * The advisor-task endpoint (a Lambda function URL), free of Lambda types: the three one-click
 * links of a task email. GET shows a page with one button (mail scanners fetch links: a GET
 * changes nothing); its POST records the answer on the task. A forged or altered token is refused
 * before anything is read, an expired one says so; a link acts at most once (tasks.ts answerTask),
 * so a replayed or late link changes nothing and says why. Every answer is kept in the task's history.
 * An answer to a task whose occasion the send ledger says ended (the note went without it, or can
 * no longer go) while the hour that ended it did not close it (it died first, or an older version
 * wrote the entry) gets the "closed" page, and its POST closes the task as that hour would have.
 */

export interface TaskLinkContext {
  documents: Pick<DynamoDBDocumentClient, 'send'>;
  table: string;
  /** The send ledger: an answer first reads its occasion's entry (GetItem only). */
  ledgerTable: string;
  /** The signing keys (the unsubscribe links' keys), current first; reloaded when a token names a newer one. */
  keys: UnsubscribeKeys;
  now: () => number;
  brandName: string;
  retentionDays: number;
  /** config.advisors.taskWaitDays and the brand's zone: a snooze's page says when the note goes. */
  taskWaitDays: number;
  timeZone: string;
  log?: Log;
}

/** After a snooze: when the note goes unless the advisor answers, and whether the occasion's close cut the week short. */
export interface SnoozeOutcome {
  noteAt: string;
  cutShort: boolean;
}

export type TaskPageKind = 'confirm' | 'recorded' | 'already-answered' | 'closed' | 'missing-token' | 'invalid-token' | 'expired' | 'unknown-task' | 'method' | 'bad-request' | 'error';

const STATUS: Record<TaskPageKind, number> = {
  confirm: 200,
  recorded: 200,
  'already-answered': 409,
  closed: 409,
  'missing-token': 400,
  'bad-request': 400,
  'invalid-token': 403,
  expired: 410,
  'unknown-task': 404,
  method: 405,
  error: 500,
};

const ACTION_LABEL: Record<TemplateLocale, Record<TaskAction, string>> = {
  en: { done: 'I took care of it', snooze: 'Snooze a week', send: 'Send the email for me' },
  'zh-CN': { done: '我已亲自处理', snooze: '推迟一周', send: '请代我发送邮件' },
};

const SNOOZE_COPY: Record<TemplateLocale, (action: string, snooze: SnoozeOutcome) => string> = {
  en: (action, { noteAt, cutShort }) =>
    `Your answer “${action}” is recorded. ${cutShort ? 'The occasion passes soon, so the note cannot wait the whole week: unless' : 'Unless'} you answer before, it goes out in your name on ${noteAt}.`,
  'zh-CN': (action, { noteAt, cutShort }) =>
    `您的选择“${action}”已记录。${cutShort ? '该时机即将过去，问候无法推迟整整一周：' : ''}如您在此之前未作出选择，问候将于${noteAt}以您的名义发出。`,
};

const COPY: Record<TemplateLocale, Record<TaskPageKind, (action: string) => { title: string; message: string }>> = {
  en: {
    confirm: (action) => ({ title: `${action}?`, message: 'Press the button to record your answer for this client.' }),
    recorded: (action) => ({ title: 'Thank you: recorded', message: `Your answer “${action}” is recorded.` }),
    'already-answered': () => ({ title: 'Already answered', message: 'This task already has an answer from this email; nothing was changed.' }),
    closed: () => ({ title: 'This task is closed', message: 'It was taken care of, the note has gone out or is on its way, or the occasion has passed; nothing was changed.' }),
    'missing-token': () => ({ title: 'This link is incomplete', message: 'Please open the full link from the email.' }),
    'invalid-token': () => ({ title: 'This link is not valid', message: 'The link may have been altered. Please use it exactly as it appears in the email.' }),
    expired: () => ({ title: 'This link has expired', message: 'Task links are valid for a limited time. Nothing was changed.' }),
    'unknown-task': () => ({ title: 'Task not found', message: 'This link does not match any task.' }),
    method: () => ({ title: 'Method not allowed', message: 'This address only accepts GET and POST requests.' }),
    'bad-request': () => ({ title: 'Bad request', message: 'The request could not be understood.' }),
    error: () => ({ title: 'Something went wrong', message: 'Please try again in a few minutes.' }),
  },
  'zh-CN': {
    confirm: (action) => ({ title: `${action}？`, message: '点击按钮，记录您对这位客户的选择。' }),
    recorded: (action) => ({ title: '谢谢，已记录', message: `您的选择“${action}”已记录。` }),
    'already-answered': () => ({ title: '已作出选择', message: '这封邮件的任务已有您的选择，未作任何更改。' }),
    closed: () => ({ title: '任务已结束', message: '该任务已处理、问候已发出或正在发出，或时机已过；未作任何更改。' }),
    'missing-token': () => ({ title: '链接不完整', message: '请打开邮件中的完整链接。' }),
    'invalid-token': () => ({ title: '链接无效', message: '链接可能已被修改，请使用邮件中的原始链接。' }),
    expired: () => ({ title: '链接已过期', message: '任务链接有有效期限，未作任何更改。' }),
    'unknown-task': () => ({ title: '未找到任务', message: '该链接没有对应的任务。' }),
    method: () => ({ title: '不支持的请求方式', message: '此地址仅接受 GET 和 POST 请求。' }),
    'bad-request': () => ({ title: '请求无效', message: '无法识别此请求。' }),
    error: () => ({ title: '出错了', message: '请稍后再试。' }),
  },
};

export function taskPage(kind: TaskPageKind, locale: TemplateLocale, brandName: string, options: { action?: TaskAction; token?: string; snooze?: SnoozeOutcome } = {}): HttpResponse {
  const label = options.action === undefined ? '' : ACTION_LABEL[locale][options.action];
  const base = COPY[locale][kind](label);
  const copy = kind === 'recorded' && options.snooze !== undefined ? { ...base, message: SNOOZE_COPY[locale](label, options.snooze) } : base;
  const form = kind === 'confirm' && options.token !== undefined ? postForm(options.token, { via: 'page' }, label) : '';
  const headers: Record<string, string> = { ...SECURITY_HEADERS, 'content-language': locale };
  if (kind === 'method') headers.allow = 'GET, POST';
  return { statusCode: STATUS[kind], headers, body: pageDocument({ locale, brandName, title: copy.title, message: copy.message, form }) };
}

/** The token's check, reloading the keys once when it names a key not held (a rotation since they were loaded). */
async function checked(context: TaskLinkContext, token: string): Promise<TaskTokenCheck> {
  const now = context.now();
  const first = verifyTaskToken(token, await context.keys.get(), now);
  if (first.valid || first.reason !== 'forged') return first;
  const { keys, refreshed } = await context.keys.refresh();
  return refreshed ? verifyTaskToken(token, keys, now) : first;
}

export async function handleTaskLink(context: TaskLinkContext, request: UnsubscribeRequest): Promise<HttpResponse> {
  const log = context.log ?? silentLog;
  const locale = pageLocale(request.acceptLanguage);
  const page = (kind: TaskPageKind, options: { action?: TaskAction; token?: string } = {}) => taskPage(kind, locale, context.brandName, options);
  if (request.method !== 'GET' && request.method !== 'POST') return page('method');
  const token = request.token?.trim() ?? '';
  if (token.length === 0) return page('missing-token');
  const check = await checked(context, token);
  if (!check.valid) {
    log.warn('advisor task link refused', { reason: check.reason, method: request.method });
    return page(check.reason === 'expired' ? 'expired' : 'invalid-token');
  }
  const { link } = check;
  const task = await getTask(context.documents, context.table, link);
  if (task === undefined) {
    log.info('advisor task link: no such task', { customerId: link.customerId });
    return page('unknown-task');
  }
  const now = context.now();
  // GET asks (a scanner's fetch changes nothing); a GET of a link that can no longer act says so at once.
  const answer = answerTask(task, link.action, link.version, now);
  if (answer.outcome !== 'recorded') return page(answer.outcome, { action: link.action });
  const ended = await occasionEnded(context, task);
  if (ended !== undefined) {
    if (request.method === 'POST') await closeEndedTask(context, task, ended, now, log);
    return page('closed', { action: link.action });
  }
  if (request.method === 'GET') return page('confirm', { action: link.action, token });
  const written = await replaceTask(context.documents, context.table, answer.task, task.version, context.retentionDays);
  if (written === 'stale') return page('already-answered', { action: link.action });
  log.info('advisor task answered', { customerId: link.customerId, advisorId: task.advisorId, action: link.action, campaignId: task.campaignId });
  return taskPage('recorded', locale, context.brandName, { action: link.action, ...(link.action === 'snooze' ? { snooze: snoozeOutcome(context, answer.task, locale) } : {}) });
}

/** How the task's occasion ended as its send-ledger entry says (an entry of the task's campaign only), undefined while it may still go. */
async function occasionEnded(context: TaskLinkContext, task: AdvisorTask): Promise<EndedWithoutTask | undefined> {
  for (const occasionKey of occasionKeysOfTask(task)) {
    const entry = await getLedgerEntry(context.documents, context.ledgerTable, { customerId: task.customerId, occasionKey });
    if (entry !== undefined && entry.campaignId === task.campaignId) return occasionEndOf(entry.status);
  }
  return undefined;
}

/** Closes an unsettled task of an ended occasion, conditional on the version read: whatever wrote it meanwhile stands. */
async function closeEndedTask(context: TaskLinkContext, task: AdvisorTask, ended: EndedWithoutTask, now: number, log: Log): Promise<void> {
  const closed = closedWithoutTask(task, ended, now);
  if ((await replaceTask(context.documents, context.table, closed, task.version, context.retentionDays)) === 'replaced') {
    log.info('advisor task closed: the occasion ended without it', { customerId: task.customerId, advisorId: task.advisorId, campaignId: task.campaignId, status: closed.status });
  }
}

/** When a snoozed task's note goes unless the advisor answers: a week and the wait on, or earlier when the occasion's close comes first. */
function snoozeOutcome(context: Pick<TaskLinkContext, 'taskWaitDays' | 'timeZone'>, task: AdvisorTask, locale: TemplateLocale): SnoozeOutcome {
  const noteAt = sendAfter(task, context.taskWaitDays);
  const fullWeek = (task.snoozedUntil ?? task.createdAt) + context.taskWaitDays * MS_PER_DAY;
  return { noteAt: sendAfterLabel(noteAt, locale, context.timeZone), cutShort: noteAt < fullWeek };
}
