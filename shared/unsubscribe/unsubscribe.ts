import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { maskEmail, silentLog, type Log } from '#shared/log.ts';
import { deleteClientSuppression, deletePlainSuppression, erasedKey, isStoredErasure, keepFeedbackIdsOnErasure } from '#shared/store/erasure-store.ts';
import { getProfile, type ProfileItem } from '#shared/store/profile-store.ts';
import { normaliseEmail } from '#shared/email.ts';
import { customerSuppressionKey, getClientSuppression, suppress, suppressClient } from '#shared/store/suppression-store.ts';
import type { TableNames } from '#shared/store/tables.ts';
import { templateLocale, type TemplateLocale } from '#shared/templates/locale.ts';
import { renderPage, type PageKind } from './page.ts';
import { pageLocale, type UnsubscribeRequest } from './request.ts';
import type { UnsubscribeKeys } from './keys.ts';
import { mayNeedNewerKeys, verifyUnsubscribeToken } from './token.ts';

/**
 * The unsubscribe endpoint's logic, free of Lambda types. GET shows a confirmation page (it must
 * not unsubscribe: mail scanners fetch links); POST — the RFC 8058 one-click request from the
 * mailbox provider, or the page's button — suppresses the client's current email address and
 * records the no against their customer id (suppression-store.ts suppressClient), so that it holds
 * when the brand's CRM gives them another address.
 * A forged, altered or missing token is refused before anything is read or written.
 */

export interface UnsubscribeContext {
  documents: Pick<DynamoDBDocumentClient, 'send'>;
  tables: Pick<TableNames, 'profiles' | 'suppression'>;
  /** The signing keys, current first (the previous one during a rotation), reloaded when a token names a newer one. */
  keys: UnsubscribeKeys;
  /** The clock (epoch ms), read once per request. */
  now: () => number;
  brandName: string;
  log?: Log;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers of every link endpoint's page (unsubscribe, advisor tasks): the URL carries a token. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  // The URL carries the token: keep it out of caches, referrers and search engines.
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex, nofollow',
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

const STATUS: Record<PageKind, number> = {
  confirm: 200,
  done: 200,
  'missing-token': 400,
  'bad-request': 400,
  'invalid-token': 403,
  'unknown-client': 404,
  method: 405,
  error: 500,
};

export function pageResponse(kind: PageKind, locale: TemplateLocale, brandName: string, token?: string): HttpResponse {
  const headers: Record<string, string> = { ...SECURITY_HEADERS, 'content-language': locale };
  if (kind === 'method') headers.allow = 'GET, POST';
  return {
    statusCode: STATUS[kind],
    headers,
    body: renderPage(kind, { locale, brandName, ...(token ? { token } : {}) }),
  };
}

/**
 * The customer id of a valid token. A token the held keys cannot verify but a newer key might (it
 * names another key, or has no key id) reloads the keys once: a warm function that loaded them
 * before a rotation must not refuse links signed with the new key.
 */
async function verifiedCustomer(context: UnsubscribeContext, token: string, log: Log): Promise<string | undefined> {
  const keys = await context.keys.get();
  const customerId = verifyUnsubscribeToken(token, keys);
  if (customerId !== undefined || !mayNeedNewerKeys(token, keys)) return customerId;
  const { keys: fresh, refreshed } = await context.keys.refresh();
  if (!refreshed) return undefined;
  log.info('unsubscribe keys reloaded: a token named a key not held', { keys: fresh.length });
  return verifyUnsubscribeToken(token, fresh);
}

export async function handleUnsubscribe(context: UnsubscribeContext, request: UnsubscribeRequest): Promise<HttpResponse> {
  const log = context.log ?? silentLog;
  const headerLocale = pageLocale(request.acceptLanguage);
  const page = (kind: PageKind, locale: TemplateLocale = headerLocale, token?: string) =>
    pageResponse(kind, locale, context.brandName, token);

  if (request.method !== 'GET' && request.method !== 'POST') return page('method');
  const token = request.token?.trim() ?? '';
  if (token.length === 0) {
    log.info('unsubscribe refused: no token', { method: request.method });
    return page('missing-token');
  }
  const customerId = await verifiedCustomer(context, token, log);
  if (customerId === undefined) {
    log.warn('unsubscribe refused: invalid token', { method: request.method });
    return page('invalid-token');
  }
  const client = await unsubscribingClient(context, customerId);
  if (client.kind === 'unknown') {
    log.info('unsubscribe refused: unknown client', { customerId, method: request.method });
    return page('unknown-client');
  }
  const locale = request.acceptLanguage ? headerLocale : templateLocale(client.profile.locale);
  if (client.kind === 'erased') {
    log.info('unsubscribe: client erased, nothing stored', { method: request.method });
    return page('done', locale);
  }

  if (request.method === 'GET') {
    // "Unsubscribed" only once the client's own no is stored: their address may be suppressed for
    // another reason (a hard bounce, a household's unsubscribe, an earlier version's entry), which
    // a new address from the CRM would leave behind. Until then the button records it.
    const clientsNo = await getClientSuppression(context.documents, context.tables.suppression, customerId);
    return clientsNo ? page('done', locale) : page('confirm', locale, token);
  }

  const oneClick = request.form['List-Unsubscribe'] === 'One-Click';
  const source = request.form.via === 'page' ? 'confirmation-page' : oneClick ? 'one-click' : 'post';
  await recordUnsubscribe(context, { customerId, email: client.email, at: context.now(), source }, log);
  return page('done', locale);
}

/** Who an unsubscribe of `customerId` is about: no stored profile, an erased client, or a client and their address ('' when none is on file). */
export type UnsubscribingClient =
  | { kind: 'unknown' }
  | { kind: 'erased'; profile: ProfileItem }
  | { kind: 'client'; profile: ProfileItem; email: string };

export async function unsubscribingClient(
  context: Pick<UnsubscribeContext, 'documents' | 'tables'>,
  customerId: string,
): Promise<UnsubscribingClient> {
  const profile = await getProfile(context.documents, context.tables.profiles, customerId);
  if (!profile) return { kind: 'unknown' };
  const email = profile.email ? normaliseEmail(profile.email) : '';
  // Erased while their profile is still there (a forget half-way, or a profile a racing night wrote
  // back): the erasure already keeps them from every email, and an entry in clear would undo it.
  if (await isStoredErasure(context.documents, context.tables.suppression, { customerId, email })) return { kind: 'erased', profile };
  return { kind: 'client', profile, email };
}

/** What recordUnsubscribe stored: a new no, one there already, or nothing in clear (the client was erased while it wrote). */
export type RecordedUnsubscribe = 'recorded' | 'already' | 'erased';

/**
 * Records a client's unsubscribe: their own no against the customer id (whatever address the CRM
 * gives them later; recorded even with no address on file now, `email` ''), and their address's
 * entry. Both writes are idempotent and keep the first time. 'recorded' when either was new.
 *
 * A forget that ran between the caller's erasure check (unsubscribingClient) and these writes deleted
 * the plain entries before they landed: checked again after them (as processSesFeedback does), an
 * erased client's entries go again and 'erased' says so (the erasure keeps them from every email).
 */
export async function recordUnsubscribe(
  context: Pick<UnsubscribeContext, 'documents' | 'tables'>,
  unsubscribe: { customerId: string; email: string; at: number; source: string },
  log: Log,
): Promise<RecordedUnsubscribe> {
  const { customerId, email, at, source } = unsubscribe;
  const { documents } = context;
  const table = context.tables.suppression;
  const client = await suppressClient(documents, table, { customerId, reason: 'unsubscribe', at, source });
  const address = email.length === 0 ? undefined : await suppress(documents, table, { email, reason: 'unsubscribe', at, customerId, source });
  if (await isStoredErasure(documents, table, { customerId, email })) {
    // Her own entry is hers whoever wrote it. The address's only when it names her: one naming another
    // client is theirs (a shared address). Not only what this call created: an answer lost and retried
    // reads as "there already", and a racing unsubscribe of hers may have written first. As the forget
    // does, SES feedback ids an entry holds move to the erasure entry first (a redelivery counts once).
    await keepFeedbackIdsOnErasure(documents, table, customerSuppressionKey(customerId), erasedKey('customer', customerId));
    await deleteClientSuppression(documents, table, customerId);
    if (address?.item.customerId === customerId) {
      await keepFeedbackIdsOnErasure(documents, table, address.item.email, erasedKey('email', email));
      await deletePlainSuppression(documents, table, email);
    }
    log.info('unsubscribe: client erased while stored, entries deleted', { source });
    return 'erased';
  }
  const created = client.created || address?.created === true;
  log.info(created ? 'unsubscribed' : 'unsubscribe repeated: already suppressed', {
    customerId,
    ...(address ? { email: maskEmail(email), reason: address.item.reason } : {}),
    source,
    clientReason: client.item.reason,
  });
  return created ? 'recorded' : 'already';
}
