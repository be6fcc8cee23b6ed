/**
 * The log lines an alarm counts (the sender's, the nightly's, the feedback functions'): each is logged as JSON with an `alert` field, and the
 * stack turns that field into a CloudWatch metric (a metric filter on the function's log group)
 * with an alarm on it (infra/constructs/alarms.ts). One place for the names both sides use.
 */

export interface SenderAlert {
  /** The value of the log line's `alert` field. */
  alert: string;
  /** The CloudWatch metric the stack counts it in. */
  metricName: string;
  /** What the alarm tells the person it wakes. */
  description: string;
}

export const SENDER_ALERTS = {
  exportQuarantined: {
    alert: 'export-quarantined',
    metricName: 'IncrementalExportsQuarantined',
    description:
      'An incremental export could not be read and was quarantined: its rows wait for the nightly run. The campaigns log line names the folder and why. ' +
      'Fix it at the source and write the corrected files (and the manifest) into the same folder: the next hour reads it again and merges it, or quarantines it again if it still cannot be read.',
  },
  sendingBlocked: {
    alert: 'sending-blocked',
    metricName: 'CampaignSendingBlocked',
    description:
      'The SES account could not send this hour (sending paused, sandbox, or the 24-hour quota used up): nothing was sent, the due occasions stay due. See the campaigns log line and `aws sesv2 get-account`.',
  },
  stoppedAtDeadline: {
    alert: 'sending-deadline',
    metricName: 'CampaignRunsStoppedAtDeadline',
    description:
      'An hourly campaign run reached the end of its Lambda time with emails still due: it stopped claiming before it could be killed mid-send, and what it left goes in the next hour (nothing lost or sent twice, but later than planned). ' +
      'The hour had more due emails than sender.maxSendRate sends in one invocation (about 830 at 1/s, README "What the sender promises"). The campaigns log line "campaign run stopped at its deadline" says how many were left; if it repeats, raise sender.maxSendRate within the SES account\'s sending rate (`aws sesv2 get-account`).',
  },
  couponPoolLow: {
    alert: 'coupon-pool-low',
    metricName: 'CouponPoolsLow',
    description:
      'A campaign\'s coupon pool has fewer unclaimed codes than coupons.lowBelow (or none, or no pool file), or its file cannot be read as a pool: once it is empty, that campaign\'s coupon emails wait (deferred, reason coupon-pool-empty, -missing or -unreadable) until codes are added. ' +
      'The campaigns log line "coupon pool running low" names the campaign, "coupon pool unreadable" the file and what is wrong with it; upload a CSV headed "code", one code per line, to <exports bucket>/<coupons.poolsPrefix>/<campaign>.csv.',
  },
  waitingForNight: {
    alert: 'waiting-for-night',
    metricName: 'CampaignHoursWaitingForNight',
    description:
      'An hourly campaign run decided and sent nothing: the last completed night wrote the profiles in another format than the deployed version reads (an upgrade, or a rollback, before its first night), and read in this version\'s meaning they would send emails no version sends. ' +
      'Increments are still merged; the first hour after a night of this version completes sends as usual (windows that close meanwhile are recorded expired). The campaigns log line "waiting for the first night of this version" names the last night; to resume sooner, rerun it: `clientele run nightly --date <that night> --stack <stack>` or a Step Functions execution for it.',
  },
} as const satisfies Record<string, SenderAlert>;

/** The nightly function's log lines an alarm counts, as the sender's above. */
export const NIGHTLY_ALERTS = {
  advisorDigestNotSent: {
    alert: 'advisor-digest-not-sent',
    metricName: 'AdvisorDigestsNotSent',
    description:
      'An advisor\'s weekly digest did not go out (SES throttled it, or could not send for a transient reason), or the digests stopped before every advisor was handled ("advisor digests stopped", a store or S3 error): the nights until the next digest day retry them, and the last of them logs "advisor digests not sent this week" if a deferred one never went. ' +
      'The nightly log line names the advisor id and SES\'s reason; `clientele status` lists the night\'s deferred digests.',
  },
} as const satisfies Record<string, SenderAlert>;

/**
 * The feedback functions' log lines an alarm counts: a link or an SES event that failed without
 * failing the invocation (the client gets a page, a bad message is not retried), which Lambda's
 * Errors metric never sees.
 */
export const FEEDBACK_ALERTS = {
  unsubscribeFailed: {
    alert: 'unsubscribe-failed',
    metricName: 'UnsubscribesFailed',
    description:
      'An unsubscribe link failed: the client got the error page and, if they confirmed, is not on the suppression list, so the campaigns keep mailing them until a retry succeeds (a mailbox provider may retry its one-click POST, a person may not click again). ' +
      'The unsubscribe log line "unsubscribe failed" carries the error: the signing key unreadable (the UnsubscribeSecretArn secret deleted or denied, the Parameters and Secrets extension failing) or DynamoDB throttled or unreachable. Fix that; every unsubscribe fails until then. ' +
      'Each line names the link\'s customerId and method: once fixed, record every POST line\'s client with `clientele unsubscribe --customer <id> --stack <name>` (a GET only opened the page; the id is as the link names it, its signature maybe unchecked: record only clients you mailed).',
  },
  advisorTaskFailed: {
    alert: 'advisor-task-failed',
    metricName: 'AdvisorTaskLinksFailed',
    description:
      'An advisor\'s task link failed: the advisor got the error page and their answer was not recorded, so the task stays as it was. ' +
      'The advisor-task log line "advisor task link failed" carries the error: the signing key unreadable (the UnsubscribeSecretArn secret deleted or denied, the Parameters and Secrets extension failing) or the advisor tasks table throttled or unreachable. Fix that, then ask the advisors to click again.',
  },
  sesFeedbackUnreadable: {
    alert: 'ses-feedback-unreadable',
    metricName: 'SesFeedbackUnreadable',
    description:
      'An SES event could not be read (not JSON, not an SES event, a bounce or complaint without a usable recipient, a customer-id tag that does not decode): it suppressed nothing, and retrying cannot fix it, so a bounced or complaining address may still be mailed. ' +
      'The ses-events log lines "SES feedback: unreadable message" and "SES feedback: invalid event" say what was wrong (never the message itself); the dashboard counts them (UnreadableFeedback). Check what publishes to the SES events topic, and the configuration set\'s events in SES.',
  },
} as const satisfies Record<string, SenderAlert>;
