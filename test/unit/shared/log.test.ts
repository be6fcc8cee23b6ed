import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonLog, maskEmail, maskEmailsIn } from '#shared/log.ts';

describe('jsonLog', () => {
  it('never writes a whole email address, wherever it sits in the line', () => {
    const lines: string[] = [];
    const log = jsonLog({ write: (line) => lines.push(line), fields: { runId: 'campaigns-1' } }).child({ customerId: 'Jane.Doe+vip@Example.com' });
    log.error('SES feedback: soft bounce for jane.doe+vip@example.com', {
      recipients: ['jane.doe+vip@example.com'],
      nested: { deeper: [{ address: 'x.y@z.example' }] },
      error: new Error('554 rejected: jane.doe+vip@example.com'),
      masked: maskEmail('jane.doe@example.com'),
    });
    const [line] = lines;
    expect(line).not.toMatch(/jane\.doe(\+vip)?@|x\.y@/i);
    expect(JSON.parse(line as string)).toMatchObject({
      runId: 'campaigns-1',
      customerId: 'J***@Example.com',
      message: 'SES feedback: soft bounce for j***@example.com',
      recipients: ['j***@example.com'],
      nested: { deeper: [{ address: 'x***@z.example' }] },
      error: { message: '554 rejected: j***@example.com' },
      masked: 'j***@example.com',
    });
  });

  it('leaves texts without an address as they are, and masking twice changes nothing', () => {
    fc.assert(
      fc.property(fc.string(), fc.emailAddress(), fc.string(), (before, address, after) => {
        const once = maskEmailsIn(`${before} ${address} ${after}`);
        expect(maskEmailsIn(once)).toBe(once);
        const local = address.slice(0, address.lastIndexOf('@'));
        if (local.length > 1) expect(once).not.toContain(`${local}@`);
      }),
    );
    for (const text of ['run nightly-1234 done', 'C000123', 'a@b', 'price 12.50 @ store']) expect(maskEmailsIn(text)).toBe(text);
  });
});
