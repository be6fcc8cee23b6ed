import { describe, expect, it } from 'vitest';
import { pageLocale, parseUnsubscribeEvent } from '#shared/unsubscribe/request.ts';

/** A function URL event (payload format 2.0) with just what the endpoint reads, plus some noise. */
function event(overrides: Record<string, unknown> = {}) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: 't=abc.def',
    requestContext: { http: { method: 'POST', path: '/', sourceIp: '203.0.113.1' }, requestId: 'r1' },
    queryStringParameters: { t: 'abc.def' },
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' },
    body: 'List-Unsubscribe=One-Click',
    isBase64Encoded: false,
    ...overrides,
  };
}

describe('parseUnsubscribeEvent', () => {
  it('reads method, token, language and the one-click form', () => {
    expect(parseUnsubscribeEvent(event())).toEqual({
      method: 'POST',
      token: 'abc.def',
      acceptLanguage: 'zh-CN,zh;q=0.9,en;q=0.8',
      form: { 'List-Unsubscribe': 'One-Click' },
    });
  });

  it('decodes a base64-encoded body (function URLs encode form posts)', () => {
    const body = Buffer.from('List-Unsubscribe=One-Click').toString('base64');
    expect(parseUnsubscribeEvent(event({ body, isBase64Encoded: true }))?.form).toEqual({ 'List-Unsubscribe': 'One-Click' });
  });

  it('takes the token from the form when the query has none', () => {
    const request = parseUnsubscribeEvent(event({ queryStringParameters: undefined, body: 't=from.form&List-Unsubscribe=One-Click' }));
    expect(request?.token).toBe('from.form');
  });

  it('tolerates a GET with no query, headers or body', () => {
    expect(
      parseUnsubscribeEvent({ requestContext: { http: { method: 'get' } }, queryStringParameters: null, headers: null, body: null }),
    ).toEqual({ method: 'GET', form: {} });
  });

  it('reads headers case-insensitively and ignores non-form bodies', () => {
    const request = parseUnsubscribeEvent(
      event({ headers: { 'Content-Type': 'application/json', 'Accept-Language': 'en' }, body: '{"List-Unsubscribe":"One-Click"}' }),
    );
    expect(request?.acceptLanguage).toBe('en');
    expect(request?.form).toEqual({});
  });

  it('ignores an oversized body', () => {
    expect(parseUnsubscribeEvent(event({ body: `List-Unsubscribe=One-Click&x=${'a'.repeat(20_000)}` }))?.form).toEqual({});
  });

  it('returns undefined for something that is not a function URL request', () => {
    expect(parseUnsubscribeEvent(undefined)).toBeUndefined();
    expect(parseUnsubscribeEvent({ Records: [] })).toBeUndefined();
    expect(parseUnsubscribeEvent(event({ requestContext: { http: {} } }))).toBeUndefined();
    expect(parseUnsubscribeEvent(event({ queryStringParameters: { t: 42 } }))).toBeUndefined();
  });
});

describe('pageLocale', () => {
  it('follows the highest-weighted of zh and en', () => {
    expect(pageLocale('zh-CN,zh;q=0.9,en;q=0.8')).toBe('zh-CN');
    expect(pageLocale('en-US,en;q=0.9,zh-CN;q=0.8')).toBe('en');
    expect(pageLocale('fr-FR, zh-TW;q=0.5, en;q=0.4')).toBe('zh-CN');
    expect(pageLocale('en;q=0.2, zh;q=0.8')).toBe('zh-CN');
    expect(pageLocale('zh;q=0, en')).toBe('en');
    expect(pageLocale('ZH-hk')).toBe('zh-CN');
  });

  it('falls back when the header names neither', () => {
    expect(pageLocale(undefined)).toBe('en');
    expect(pageLocale('')).toBe('en');
    expect(pageLocale('fr, de;q=0.5')).toBe('en');
    expect(pageLocale('fr', 'zh-CN')).toBe('zh-CN');
    expect(pageLocale('*')).toBe('en');
  });
});
