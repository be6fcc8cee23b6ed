import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { TASK_ACTIONS, type TaskAction } from '#shared/advisors/tasks.ts';
import type { Config } from '#shared/config.ts';
import { MS_PER_DAY } from '#shared/time.ts';
import { unsubscribeKeyId } from './token.ts';

/**
 * The one-click links of an advisor's task: `base64url(payload) + '.' + base64url(HMAC-SHA256(key,
 * 'advisor-task:' + payload part)) + '.' + keyId`. The payload names the task (client and occasion),
 * the action, the task version the link was made for (so it acts at most once: shared/advisors/
 * tasks.ts answerTask) and an expiry. Signed with the unsubscribe links' key (the same rotation,
 * keys.ts), under a purpose of its own: neither kind of token verifies as the other.
 */

const PURPOSE = 'advisor-task:';
const SIGNATURE_BYTES = 32;
// A task link is a few hundred bytes; a bound keeps a hostile token from making us hash megabytes.
const MAX_PAYLOAD_CHARS = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const KEY_ID = /^[A-Za-z0-9_-]{8}$/;

export interface TaskLink {
  customerId: string;
  occasionKey: string;
  action: TaskAction;
  /** The task version the link acts on. */
  version: number;
  /** Epoch ms after which the link is refused. */
  expiresAt: number;
}

const payloadSchema = z.strictObject({
  c: z.string().min(1).max(256),
  o: z.string().min(1).max(512),
  a: z.enum(TASK_ACTIONS),
  v: z.number().int().min(1),
  e: z.number().int().min(0),
});

function sign(payloadPart: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`${PURPOSE}${payloadPart}`, 'utf8').digest();
}

export function signTaskToken(link: TaskLink, secret: string): string {
  if (secret.length === 0) throw new Error('The signing secret is empty');
  const payload = payloadSchema.parse({ c: link.customerId, o: link.occasionKey, a: link.action, v: link.version, e: link.expiresAt });
  const part = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${part}.${sign(part, secret).toString('base64url')}.${unsubscribeKeyId(secret)}`;
}

export type TaskTokenCheck = { valid: true; link: TaskLink } | { valid: false; reason: 'malformed' | 'forged' | 'expired'; keyId?: string };

/**
 * The link a token was signed for, checked against the keys (current first) and the clock; a token
 * naming a key none of them is reports it (the caller may reload its keys, as the unsubscribe
 * endpoint does). Forged and expired tokens are told apart for the log, never for the caller's page.
 */
export function verifyTaskToken(token: string, secrets: readonly string[], now: number): TaskTokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { valid: false, reason: 'malformed' };
  const [part = '', signaturePart = '', keyId = ''] = parts;
  if (part.length > MAX_PAYLOAD_CHARS || !BASE64URL.test(part) || !BASE64URL.test(signaturePart) || !KEY_ID.test(keyId)) return { valid: false, reason: 'malformed' };
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== SIGNATURE_BYTES || given.toString('base64url') !== signaturePart) return { valid: false, reason: 'malformed' };
  const candidates = secrets.filter((s) => s.length > 0 && unsubscribeKeyId(s) === keyId);
  let signed = false;
  for (const s of candidates) signed = timingSafeEqual(given, sign(part, s)) || signed;
  if (!signed) return { valid: false, reason: 'forged', keyId };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return { valid: false, reason: 'malformed' };
  }
  const payload = payloadSchema.safeParse(json);
  if (!payload.success) return { valid: false, reason: 'malformed' };
  const { c, o, a, v, e } = payload.data;
  if (now >= e) return { valid: false, reason: 'expired' };
  return { valid: true, link: { customerId: c, occasionKey: o, action: a, version: v, expiresAt: e } };
}

/** A task link for an email: the function URL with the token as ?t=. */
export function taskLinkUrl(baseUrl: string, link: TaskLink, secret: string): string {
  const url = new URL(baseUrl);
  url.searchParams.set('t', signTaskToken(link, secret));
  return url.toString();
}

/** The signed one-click link of each action on a task (`version`: the task's as the advisor reads it), valid config.advisors.taskLinkDays from `at`. */
export function taskLinks(config: Pick<Config, 'advisors'>, task: { customerId: string; occasionKey: string }, version: number, at: number, secret: string): (action: TaskAction) => string {
  const expiresAt = at + config.advisors.taskLinkDays * MS_PER_DAY;
  return (action) => taskLinkUrl(config.advisors.taskBaseUrl, { customerId: task.customerId, occasionKey: task.occasionKey, action, version, expiresAt }, secret);
}
