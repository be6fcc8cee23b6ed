import { z } from 'zod';
import type { TemplateLocale } from '#shared/templates/locale.ts';

/**
 * The parts of a Lambda function URL request (payload format 2.0, APIGatewayProxyEventV2) the
 * unsubscribe endpoint reads, validated; and the Accept-Language choice between zh-CN and en.
 */

export interface UnsubscribeRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** The signed token from `?t=` (or, failing that, from a form field `t`). */
  token?: string;
  acceptLanguage?: string;
  /** Decoded form fields of a POST body (RFC 8058 sends `List-Unsubscribe=One-Click`). */
  form: Record<string, string>;
}

const eventSchema = z.object({
  requestContext: z.object({ http: z.object({ method: z.string().min(1) }) }),
  queryStringParameters: z.record(z.string(), z.string().optional()).nullish(),
  headers: z.record(z.string(), z.string().optional()).nullish(),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().optional(),
});

// A one-click body is 26 bytes; anything much larger is not for us and is not worth decoding.
const MAX_BODY_BYTES = 8 * 1024;

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  // Function URLs lower-case header names; other front doors may not.
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

function parseForm(body: string, contentType: string | undefined): Record<string, string> {
  if (body.length === 0) return {};
  // Mail providers send form-encoded bodies; tolerate a missing content type, ignore anything else.
  if (contentType && !/^application\/x-www-form-urlencoded\b/i.test(contentType.trim())) return {};
  const form: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(body)) if (!(key in form)) form[key] = value;
  return form;
}

/** The request, or undefined when the event is not a function URL request. */
export function parseUnsubscribeEvent(event: unknown): UnsubscribeRequest | undefined {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) return undefined;
  const { requestContext, queryStringParameters, headers, body, isBase64Encoded } = parsed.data;
  const headerMap = headers ?? {};
  let text = '';
  if (body) {
    const raw = isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
    if (raw.length <= MAX_BODY_BYTES) text = raw.toString('utf8');
  }
  const form = parseForm(text, header(headerMap, 'content-type'));
  const request: UnsubscribeRequest = { method: requestContext.http.method.toUpperCase(), form };
  const token = queryStringParameters?.t ?? form.t;
  if (token !== undefined) request.token = token;
  const acceptLanguage = header(headerMap, 'accept-language');
  if (acceptLanguage !== undefined) request.acceptLanguage = acceptLanguage;
  return request;
}

/**
 * The page language from Accept-Language: the highest-weighted of zh-* / en-*; `fallback` (e.g. the
 * client's profile locale) when the header names neither.
 */
export function pageLocale(acceptLanguage: string | undefined, fallback?: TemplateLocale): TemplateLocale {
  const ranges = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/i.exec(p)).find((m) => m !== null);
      return { tag: tag.trim().toLowerCase(), q: q ? Number(q[1]) : 1, index };
    })
    .filter((range) => range.tag.length > 0 && range.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranges) {
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return fallback ?? 'en';
}
