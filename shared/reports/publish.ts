import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { silentLog, maskEmail, type Log } from '#shared/log.ts';
import { createSesMailer, type SesMailer } from '#shared/mailer/ses-mailer.ts';
import type { NightlyRunSummary } from '#shared/nightly/run.ts';
import { reportPrefix, reportsBucket } from '#shared/store/buckets.ts';
import { tableNames } from '#shared/store/tables.ts';
import type { CampaignResults } from './campaign-results-model.ts';
import { gatherNightlyReport, REPORT_FILE, type NightlyReport } from './nightly-report.ts';
import { renderNightlyReportHtml } from './render-html.ts';
import { renderTeamEmail } from './team-email.ts';

/**
 * The last step of a nightly run: gather the report, write report.html beside the summary, and
 * mail the short summary to the team. It never throws: by then the run's profiles and history
 * are written and a rerun would write nothing, so failing the run for its report would only hide
 * good data behind an alarm. A failure is logged and returned (the summary keeps it). When only
 * the page could not be written, the team email still goes out and says so; when the report could
 * not even be gathered, there is nothing to summarise and no email goes out.
 */

/** What the summary keeps of the report step (merged into NightlyRunSummary.report). */
export interface ReportOutcome {
  /** s3://bucket/key of report.html, when it was written. */
  reportObject?: string;
  /** Why the report could not be gathered or written. */
  reportError?: string;
  /** The summary email: absent when no team address is configured. */
  teamEmail?: {
    recipients: number;
    sent: number;
    failed: number;
    /** An earlier run of the same night sent it: a rerun does not mail the team again. */
    alreadySent?: boolean;
  };
}

export interface PublishOptions {
  config: Config;
  clients: AwsClients;
  summary: NightlyRunSummary;
  log?: Log;
  /** Tests and callers sending other mail in the same run pass their own (one pacing budget). */
  mailer?: SesMailer;
  /** The run's campaign results when the caller holds them; otherwise read from S3 (null: none). */
  campaignResults?: CampaignResults | null;
}

/** The runs-table item (job, runDate) that marks a night's team email as sent. */
export const TEAM_EMAIL_JOB = 'nightly-report-email';

/** The key of a night's report.html in the reports bucket. */
export function reportKey(config: Config, runDate: string): string {
  return `${reportPrefix(config, 'nightly', runDate)}/${REPORT_FILE}`;
}

/** A link to the object in the S3 console, for people; none on the local emulators. */
export function consoleUrl(config: Config, bucket: string, key: string): string | undefined {
  if (config.endpoints.s3) return undefined;
  const region = encodeURIComponent(config.endpoints.region);
  return `https://${region}.console.aws.amazon.com/s3/object/${encodeURIComponent(bucket)}?region=${region}&prefix=${encodeURIComponent(key)}`;
}

const message = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export async function publishNightlyReport(options: PublishOptions): Promise<ReportOutcome> {
  const { config, clients, summary } = options;
  const log = options.log ?? silentLog;
  const bucket = reportsBucket(config);
  const key = reportKey(config, summary.runDate);
  const outcome: ReportOutcome = {};
  let report: NightlyReport | undefined;
  try {
    report = await gatherNightlyReport({
      config,
      clients,
      summary,
      ...(options.campaignResults === undefined ? {} : { campaignResults: options.campaignResults }),
    });
    const reportObject = `s3://${bucket}/${key}`;
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        ContentType: 'text/html; charset=utf-8',
        Body: renderNightlyReportHtml(report, { reportObject }),
      }),
    );
    outcome.reportObject = reportObject;
    log.info('nightly report written', { reportObject });
  } catch (error) {
    outcome.reportError = message(error);
    log.error('nightly report not written; the run\'s data is', { error });
  }

  const recipients = config.reports.teamAddresses;
  if (recipients.length === 0 || !report) {
    // Without the gathered report there is nothing to summarise; the error is in the summary and the log.
    // `failed` counts the emails that did not go out.
    if (recipients.length > 0) outcome.teamEmail = { recipients: recipients.length, sent: 0, failed: recipients.length };
    return outcome;
  }
  const url = outcome.reportObject ? consoleUrl(config, bucket, key) : undefined;
  const email = renderTeamEmail(
    report,
    { ...(outcome.reportObject ? { reportObject: outcome.reportObject } : {}), ...(url ? { reportUrl: url } : {}) },
    outcome.reportError,
  );
  // Once per night, like every send of the suite: claimed with a conditional write before SES is called.
  const claim = { TableName: tableNames(config).runs, Key: { job: TEAM_EMAIL_JOB, runDate: summary.runDate } };
  try {
    await clients.documents.send(
      new PutCommand({
        TableName: claim.TableName,
        Item: { ...claim.Key, runId: summary.runId, recipients: recipients.length },
        ConditionExpression: 'attribute_not_exists(#job)',
        ExpressionAttributeNames: { '#job': 'job' },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException')) {
      outcome.teamEmail = { recipients: recipients.length, sent: 0, failed: recipients.length };
      log.error('nightly report email not claimed, not sent', { error: message(error) });
      return outcome;
    }
    log.info('nightly report email already sent by an earlier run of this night');
    outcome.teamEmail = { recipients: recipients.length, sent: 0, failed: 0, alreadySent: true };
    return outcome;
  }
  const mailer = options.mailer ?? createSesMailer(clients.ses, { maxSendRate: config.sender.maxSendRate, log });
  const teamEmail = { recipients: recipients.length, sent: 0, failed: 0 };
  for (const to of recipients) {
    try {
      const result = await mailer.send({
        to,
        from: config.sender.fromAddress,
        subject: email.subject,
        html: email.html,
        text: email.text,
        ...(config.sender.configurationSetName ? { configurationSetName: config.sender.configurationSetName } : {}),
        tags: { kind: 'nightly-report', runDate: summary.runDate },
      });
      if (result.ok) teamEmail.sent++;
      else teamEmail.failed++; // the mailer has logged why, with the address masked
    } catch (error) {
      teamEmail.failed++;
      log.error('nightly report email not sent', { to: maskEmail(to), error: message(error) });
    }
  }
  outcome.teamEmail = teamEmail;
  // Nobody got it (SES paused, a bad address list): release the claim so a rerun of the night can try again.
  if (teamEmail.sent === 0) {
    await clients.documents.send(new DeleteCommand(claim)).catch((error: unknown) => log.warn('team email claim not released', { error: message(error) }));
  }
  log.info('nightly report emailed', teamEmail);
  return outcome;
}
