import type { S3Client } from '@aws-sdk/client-s3';
import { parseS3Url, presignedObjectUrl, writeObject } from '#shared/aws/s3-objects.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { CampaignResults } from '#shared/campaign-results/model.ts';
import type { Config } from '#shared/config.ts';
import { claimEach, deliverClaimed, type LedgerTable } from '#shared/delivery/deliver.ts';
import { createSesMailer, type SesMailer } from '#shared/delivery/ses-mailer.ts';
import { internalEmail } from '#shared/delivery/ses-email.ts';
import { pseudonym, silentLog, type Log } from '#shared/log.ts';
import { REPORT_FILE, type NightlyReport } from '#shared/reports/nightly-report.ts';
import { renderNightlyReportHtml } from '#shared/reports/render-html.ts';
import { renderTeamEmail, type TeamEmail } from '#shared/reports/team-email.ts';
import { reportPrefix, reportsBucket } from '#shared/store/buckets.ts';
import { getLedgerEntry, type ClaimRequest } from '#shared/store/ledger-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { gatherNightlyReport } from './report.ts';
import type { NightlyRunSummary, ReportOutcome } from './summary.ts';

/**
 * The last step of a nightly run: gather the report, write report.html beside the summary, and
 * mail the short summary to the team. It never throws: by then the run's profiles and history
 * are written and a rerun would write nothing, so failing the run for its report would only hide
 * good data behind an alarm. A failure is logged and returned (the summary keeps it). When only
 * the page could not be written, the team email still goes out and says so; when the report could
 * not even be gathered, there is nothing to summarise and no email goes out.
 *
 * The team email goes out once per night and recipient, through the delivery protocol (claimed in
 * the send ledger under 'team#<pseudonym of the address>' / 'nightly-report#<run date>'): a rerun
 * of the night sends it only to whom it surely did not reach.
 */

export interface PublishOptions {
  config: Config;
  clients: AwsClients;
  summary: NightlyRunSummary;
  /** Epoch ms: the run's clock, written on the team email's ledger entries. */
  at: number;
  log?: Log;
  /** Tests and callers sending other mail in the same run pass their own (one pacing budget). */
  mailer?: SesMailer;
  /** The run's campaign results when the caller holds them; otherwise read from S3 (null: none). */
  campaignResults?: CampaignResults | null;
  /** The clients the night found in no file, when the caller holds them (GatherOptions.absentClients). */
  absentClients?: ReadonlySet<string>;
}

/** The team email's campaign id in the send ledger. */
export const TEAM_EMAIL_CAMPAIGN = 'nightly-report';

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
      ...(options.absentClients === undefined ? {} : { absentClients: options.absentClients }),
    });
    const reportObject = `s3://${bucket}/${key}`;
    await writeObject(clients.s3, { bucket, key, contentType: 'text/html; charset=utf-8', body: renderNightlyReportHtml(report, { reportObject }) });
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
  const link = outcome.reportObject ? await teamReportLink(options, outcome.reportObject, log) : undefined;
  const email = renderTeamEmail(
    report,
    { ...(outcome.reportObject ? { reportObject: outcome.reportObject } : {}), ...(url ? { reportUrl: url } : {}), ...(link ? { reportLink: link } : {}) },
    outcome.reportError,
  );
  outcome.teamEmail = await sendTeamEmail(options, email, log);
  return outcome;
}

/**
 * A presigned https link to a night's report.html (its s3:// location), valid
 * reports.linkExpiryHours from `at`: what the team email, `clientele status` and `run nightly` give.
 */
export async function reportLink(s3: S3Client, config: Config, reportObject: string, at: number): Promise<{ url: string; expiresAt: string }> {
  const seconds = config.reports.linkExpiryHours * 3600;
  const { bucket, prefix: key } = parseS3Url(reportObject);
  const url = await presignedObjectUrl(s3, bucket, key, seconds);
  return { url, expiresAt: new Date(at + seconds * 1000).toISOString() };
}

/** The team email's link; none when it cannot be signed (the email goes without). */
async function teamReportLink(options: PublishOptions, reportObject: string, log: Log): Promise<{ url: string; expiresAt: string } | undefined> {
  try {
    return await reportLink(options.clients.s3, options.config, reportObject, options.at);
  } catch (error) {
    log.warn('report link not signed; the team email names the object only', { error: message(error) });
    return undefined;
  }
}

/** A recipient's ledger key for the night: the address itself never reaches the ledger. */
function teamEmailRequest(options: PublishOptions, to: string): ClaimRequest {
  const { config, summary, at } = options;
  return {
    customerId: `team#${pseudonym(to.trim().toLowerCase())}`,
    occasionKey: `${TEAM_EMAIL_CAMPAIGN}#${summary.runDate}`,
    campaignId: TEAM_EMAIL_CAMPAIGN,
    runId: summary.runId,
    now: at,
    retentionDays: config.sender.ledgerRetentionDays,
  };
}

async function sendTeamEmail(options: PublishOptions, email: TeamEmail, log: Log): Promise<NonNullable<ReportOutcome['teamEmail']>> {
  const { config, clients, summary, at } = options;
  const ledger: LedgerTable = { documents: clients.documents, table: tableNames(config).sendLedger };
  const recipients = config.reports.teamAddresses.map((to) => ({ to, request: teamEmailRequest(options, to) }));
  const teamEmail = { recipients: recipients.length, sent: 0, failed: 0 };
  let won: Set<ClaimRequest>;
  try {
    won = new Set((await claimEach(ledger, recipients.map((r) => r.request))).claimed);
  } catch (error) {
    log.error('nightly report email not claimed, not sent', { error: message(error) });
    return { ...teamEmail, failed: recipients.length };
  }
  // Taken by an earlier attempt of the night: sent, or left claimed (it died before SES answered) or maybe-sent
  // (SES may have taken it). Neither of the last two is sent again by itself, nor reported as sent.
  const taken = recipients.filter((r) => !won.has(r.request));
  const earlier = await Promise.all(taken.map(({ request }) => getLedgerEntry(clients.documents, ledger.table, request)));
  const unresolved = earlier.filter((entry) => entry?.status !== 'sent').length;
  if (unresolved > 0) {
    log.warn('nightly report email: an earlier run of this night claimed it and did not record it sent (it died, or SES may have taken it): not sent again', {
      addresses: unresolved,
      statuses: earlier.map((entry) => entry?.status ?? 'absent'),
    });
  }
  if (won.size === 0) {
    if (unresolved > 0) return { ...teamEmail, unresolved };
    log.info('nightly report email already sent by an earlier run of this night');
    return { ...teamEmail, alreadySent: true };
  }
  const mailer = options.mailer ?? createSesMailer(clients.ses, { maxSendRate: config.sender.maxSendRate, log });
  for (const { to, request } of recipients) {
    if (!won.has(request)) continue;
    try {
      const { outcome } = await deliverClaimed({
        ledger,
        runId: summary.runId,
        at,
        claimed: [request],
        mailer,
        log,
        email: internalEmail(config.sender, to, email, { kind: 'nightly-report', runDate: summary.runDate }),
      });
      if (outcome.status === 'sent') teamEmail.sent++;
      else teamEmail.failed++; // the mailer has logged why, with the address masked
    } catch (error) {
      teamEmail.failed++;
      log.error('nightly report email not sent', { error: message(error) });
    }
  }
  log.info('nightly report emailed', teamEmail);
  return unresolved > 0 ? { ...teamEmail, unresolved } : teamEmail;
}
