import { describe, expect, it } from 'vitest';
import { emailTags, formatFromAddress, InvalidEmailError, isSendableAddress, listUnsubscribeHeaders, sanitizeTag, sendEmailCommand } from '#shared/delivery/ses-email.ts';

describe('tags, addresses and headers', () => {
  it('formats the From address with an optional display name', () => {
    expect(formatFromAddress(' hello@brand.example.com ')).toBe('hello@brand.example.com');
    expect(formatFromAddress('Maison Demo <hello@brand.example.com>')).toBe('Maison Demo <hello@brand.example.com>');
    expect(formatFromAddress('"Maison, Paris" <hello@brand.example.com>')).toBe('"Maison, Paris" <hello@brand.example.com>');
    const encoded = formatFromAddress('美妆旗舰店 <hello@brand.example.com>');
    expect(encoded).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= <hello@brand\.example\.com>$/);
    expect(Buffer.from(encoded.slice(10, encoded.indexOf('?= ')), 'base64').toString('utf8')).toBe('美妆旗舰店');
    // Long names become several encoded words of at most 75 characters.
    const long = formatFromAddress(`${'旗舰店'.repeat(10)} <hello@brand.example.com>`);
    const words = long.replace(/ <.*$/, '').split(' ');
    expect(words.length).toBeGreaterThan(1);
    for (const word of words) expect(word.length).toBeLessThanOrEqual(75);
    expect(words.map((w) => Buffer.from(w.slice(10, -2), 'base64').toString('utf8')).join('')).toBe('旗舰店'.repeat(10));
    expect(() => formatFromAddress('Maison <not an address>')).toThrow(InvalidEmailError);
  });

  it('a name or subject holding an encoded word of its own ("=?UTF-8?B?...?=") is encoded by us: a mail client shows it as written, never what it decodes to', () => {
    const smuggled = `=?UTF-8?B?${Buffer.from('\u202Emoc.lapyap Sophie', 'utf8').toString('base64')}?=`;
    for (const name of [smuggled, `Sophie ${smuggled} via Maison`, 'Price =?']) {
      const from = formatFromAddress(`${name} <hello@brand.example.com>`);
      expect(from).toMatch(/^(=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= )+<hello@brand\.example\.com>$/);
      expect(asMailClientShows(from.replace(/ <[^<>]+>$/, ''))).toBe(name);
    }
    const email = { to: 'c@example.com', from: 'Maison <hello@brand.example.com>', html: 'h', text: 't', tags: {} };
    const subject = `Happy birthday, ${smuggled}`;
    const sent = sendEmailCommand({ ...email, subject }).input.Content?.Simple?.Subject?.Data ?? '';
    expect(sent).not.toContain(smuggled);
    expect(asMailClientShows(sent)).toBe(subject);
    expect(asMailClientShows(sent)).not.toContain('\u202E');
    // Any other subject goes as it is (SES encodes a non-ASCII one itself).
    expect(sendEmailCommand({ ...email, subject: 'Happy birthday, 芳' }).input.Content?.Simple?.Subject?.Data).toBe('Happy birthday, 芳');
  });

  it('takes as sendable only what SES takes: RFC 5321 sizes and a dot-atom local part (SES refuses the rest as a bad request, retried every hour)', () => {
    const label = (n: number) => 'a'.repeat(n);
    expect(isSendableAddress('ann.lee+vip@example.com')).toBe(true);
    expect(isSendableAddress(`${label(64)}@example.com`)).toBe(true);
    expect(isSendableAddress(`${label(65)}@example.com`)).toBe(false);
    expect(isSendableAddress('.ann@example.com')).toBe(false);
    expect(isSendableAddress('ann.@example.com')).toBe(false);
    expect(isSendableAddress('ann..lee@example.com')).toBe(false);
    expect(isSendableAddress(`ann@${label(63)}.com`)).toBe(true);
    expect(isSendableAddress(`ann@${label(64)}.com`)).toBe(false);
    // A domain of 252 octets, then of 257 (four labels of 63, 63, 63 and 57 or 62, and ".io").
    expect(isSendableAddress(`ann@${[label(63), label(63), label(63), label(57)].join('.')}.io`)).toBe(true);
    expect(isSendableAddress(`ann@${[label(63), label(63), label(63), label(62)].join('.')}.io`)).toBe(false);
  });

  it('sanitises tag names and values to the SES charset', () => {
    expect(sanitizeTag('win-back 60d')).toBe('win-back_60d');
    expect(sanitizeTag('会员')).toBe('__');
    expect(sanitizeTag('')).toBe('_');
    expect(sanitizeTag('x'.repeat(300))).toHaveLength(256);
    expect(emailTags({ 'a b': '1', a_b: '2' })).toEqual([{ Name: 'a_b', Value: '2' }]);
    // The client's id is not sanitised: 'C.001' and 'C_001' are two clients, and their bounces must say which.
    expect(emailTags({ campaign: 'welcome', customerId: 'C_001' })).toEqual([{ Name: 'campaign', Value: 'welcome' }, { Name: 'customerId', Value: 'C_001' }]);
    expect(emailTags({ campaign: 'welcome', customerId: 'C.001' })).toEqual([{ Name: 'campaign', Value: 'welcome' }, { Name: 'customerIdB64_1of1', Value: 'Qy4wMDE' }]);
  });

  it('builds RFC 8058 headers and refuses what mail clients would not honour', () => {
    expect(listUnsubscribeHeaders('https://u.example.com/x?t=1')).toEqual([
      { Name: 'List-Unsubscribe', Value: '<https://u.example.com/x?t=1>' },
      { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
    ]);
    // The local demo's unsubscribe function listens on loopback over http.
    expect(listUnsubscribeHeaders('http://127.0.0.1:4000/u?t=1')[0]?.Value).toBe('<http://127.0.0.1:4000/u?t=1>');
    // Non-ASCII is percent-encoded: SES header values are printable ASCII.
    expect(listUnsubscribeHeaders('https://u.example.com/退订?t=1')[0]?.Value).toBe('<https://u.example.com/%E9%80%80%E8%AE%A2?t=1>');
    expect(() => listUnsubscribeHeaders('http://u.example.com/x')).toThrow(/https/);
    expect(() => listUnsubscribeHeaders('not a url')).toThrow(InvalidEmailError);
    expect(() => listUnsubscribeHeaders('https://u.example.com/x', 'not an address')).toThrow(/mailto/);
    expect(() => listUnsubscribeHeaders(`https://u.example.com/${'x'.repeat(1000)}`)).toThrow(/too long/);
  });
});

/** A header's text as a mail client shows it: RFC 2047 B words decoded once, the space between two adjacent words dropped. */
function asMailClientShows(header: string): string {
  return header.replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=(?:\s+(?==\?UTF-8\?B\?))?/gi, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
}
