/**
 * What the SES account allows this run (SESv2 GetAccount), as a plan: the pace (never above the
 * account's maximum send rate), how many emails at most (what remains of the 24-hour quota), or
 * why none may go at all (sending paused, the account still in the sandbox, the quota used up).
 * Pure: the run reads the account (ses-account.ts) and hands the reading in.
 */

export interface SesAccount {
  /** SendingEnabled: false when SES (or someone) paused the account's sending. */
  sendingEnabled: boolean;
  /** ProductionAccessEnabled: false in the sandbox, where only verified addresses may be mailed. */
  productionAccess: boolean;
  /** SendQuota.Max24HourSend; -1 means no quota. */
  max24HourSend: number;
  /** SendQuota.SentLast24Hours. */
  sentLast24Hours: number;
  /** SendQuota.MaxSendRate, emails per second. */
  maxSendRate: number;
}

export type AccountReading = { ok: true; account: SesAccount } | { ok: false; reason: string };

export type BlockedReason = 'sending-paused' | 'sandbox' | 'quota-used-up';

export interface SendingPlan {
  /** Emails per second: the configured rate, lowered to the account's MaxSendRate. */
  rate: number;
  /** Emails this run may send at most; null when unknown or unlimited. */
  budget: number | null;
  /** Why no email may go this run; the due occasions stay due. */
  blocked?: { reason: BlockedReason; message: string };
  /** The account as read, or why it could not be read (then the configured rate and no budget). */
  account?: SesAccount;
  accountUnreadable?: string;
}

export function sendingPlan(reading: AccountReading, configuredRate: number): SendingPlan {
  if (!(configuredRate > 0)) throw new RangeError(`send rate must be positive, got ${configuredRate}`);
  if (!reading.ok) return { rate: configuredRate, budget: null, accountUnreadable: reading.reason };
  const { account } = reading;
  const rate = account.maxSendRate > 0 ? Math.min(configuredRate, account.maxSendRate) : configuredRate;
  const budget = account.max24HourSend < 0 ? null : Math.max(0, Math.floor(account.max24HourSend - account.sentLast24Hours));
  const plan: SendingPlan = { rate, budget, account };
  if (!account.sendingEnabled) {
    plan.blocked = {
      reason: 'sending-paused',
      message: 'SES sending is paused for this account (GetAccount SendingEnabled false): no email was sent, the due occasions stay due',
    };
  } else if (!account.productionAccess) {
    plan.blocked = {
      reason: 'sandbox',
      message:
        'The SES account is in the sandbox (ProductionAccessEnabled false): clients\' addresses are not verified, so no campaign email was sent; request production access',
    };
  } else if (budget === 0) {
    plan.blocked = {
      reason: 'quota-used-up',
      message: `The SES 24-hour quota is used up (${account.sentLast24Hours} of ${account.max24HourSend} sent): no email was sent, the due occasions stay due`,
    };
  }
  return plan;
}
