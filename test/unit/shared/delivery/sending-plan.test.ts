import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GetAccountCommand, GetAccountCommandOutput } from '@aws-sdk/client-sesv2';
import { readAccount, sesAccountReader } from '#shared/delivery/ses-account.ts';
import { sendingPlan, type SesAccount } from '#shared/delivery/sending-plan.ts';

const production: SesAccount = { sendingEnabled: true, productionAccess: true, max24HourSend: 50_000, sentLast24Hours: 1_200, maxSendRate: 14 };

describe('sending plan from the SES account', () => {
  it('paces at the lower of the configured and the account rate, and plans what remains of the quota', () => {
    expect(sendingPlan({ ok: true, account: production }, 50)).toEqual({ rate: 14, budget: 48_800, account: production });
    expect(sendingPlan({ ok: true, account: production }, 5)).toMatchObject({ rate: 5, budget: 48_800 });
    // -1: no daily quota.
    expect(sendingPlan({ ok: true, account: { ...production, max24HourSend: -1 } }, 5)).toMatchObject({ budget: null });
    expect(sendingPlan({ ok: true, account: { ...production, sentLast24Hours: 49_999.5 } }, 5)).toMatchObject({ budget: 0, blocked: { reason: 'quota-used-up' } });
  });

  it('blocks sending, with one clear reason, when the account is paused or in the sandbox', () => {
    expect(sendingPlan({ ok: true, account: { ...production, sendingEnabled: false } }, 14).blocked).toEqual({
      reason: 'sending-paused',
      message: expect.stringContaining('paused'),
    });
    const sandbox = sendingPlan({ ok: true, account: { ...production, productionAccess: false, max24HourSend: 200, sentLast24Hours: 0, maxSendRate: 1 } }, 14);
    expect(sandbox).toMatchObject({ rate: 1, budget: 200, blocked: { reason: 'sandbox', message: expect.stringContaining('sandbox') } });
  });

  it('falls back to the configured rate without a budget when the account cannot be read', () => {
    expect(sendingPlan({ ok: false, reason: 'AccessDeniedException: no ses:GetAccount' }, 14)).toEqual({
      rate: 14,
      budget: null,
      accountUnreadable: 'AccessDeniedException: no ses:GetAccount',
    });
  });

  it('never plans more than remains, nor faster than either rate', () => {
    const account = fc.record({
      sendingEnabled: fc.boolean(),
      productionAccess: fc.boolean(),
      max24HourSend: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 1_000_000 })),
      sentLast24Hours: fc.integer({ min: 0, max: 1_200_000 }),
      maxSendRate: fc.double({ min: 0.1, max: 500, noNaN: true }),
    });
    fc.assert(
      fc.property(account, fc.double({ min: 0.1, max: 10_000, noNaN: true }), (a, configured) => {
        const plan = sendingPlan({ ok: true, account: a }, configured);
        expect(plan.rate).toBeLessThanOrEqual(Math.min(configured, a.maxSendRate));
        if (a.max24HourSend >= 0) expect(plan.budget).toBeLessThanOrEqual(Math.max(0, a.max24HourSend - a.sentLast24Hours));
        expect(plan.blocked !== undefined).toBe(!a.sendingEnabled || !a.productionAccess || plan.budget === 0);
      }),
    );
  });
});

describe('SES account reader', () => {
  const answering = (output: Partial<GetAccountCommandOutput> | Error) => ({
    send: (_command: GetAccountCommand): Promise<GetAccountCommandOutput> =>
      output instanceof Error ? Promise.reject(output) : Promise.resolve({ $metadata: {}, ...output }),
  });

  it('reads SendQuota, SendingEnabled and ProductionAccessEnabled', async () => {
    const reader = sesAccountReader(
      answering({ SendingEnabled: true, ProductionAccessEnabled: false, SendQuota: { Max24HourSend: 200, SentLast24Hours: 3, MaxSendRate: 1 } }),
    );
    expect(await readAccount(reader)).toEqual({
      ok: true,
      account: { sendingEnabled: true, productionAccess: false, max24HourSend: 200, sentLast24Hours: 3, maxSendRate: 1 },
    });
  });

  it('says why it could not read the account instead of throwing', async () => {
    expect(await readAccount(sesAccountReader(answering({ SendingEnabled: true })))).toEqual({ ok: false, reason: expect.stringContaining('ProductionAccessEnabled') });
    const denied = Object.assign(new Error('User is not authorized to perform: ses:GetAccount'), { name: 'AccessDeniedException' });
    expect(await readAccount(sesAccountReader(answering(denied)))).toEqual({ ok: false, reason: 'AccessDeniedException: User is not authorized to perform: ses:GetAccount' });
  });
});
