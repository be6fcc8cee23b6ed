import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createSesMailer, type SesMailer } from '#shared/delivery/ses-mailer.ts';
import { tableNames } from '#shared/store/tables.ts';
import { renderStoredReport } from '#local/commands/report.ts';
import { UsageError } from '#local/errors.ts';
import { generateExport } from '#local/generate/generate.ts';
import type { Config } from '#shared/config.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { publishNightlyReport, reportKey } from '#shared/nightly/publish-report.ts';
import { CAMPAIGN_RESULTS_FILE, reportPrefix } from '#shared/store/buckets.ts';
import { clientele } from '#test/support/cli.ts';
import { deployedRole } from '#test/support/deployed-role.ts';
import { ledgerEntries, uploadExport } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { campaignResults, profiles, summary as constructedSummary } from '#test/support/nightly-reports.ts';
import { awsError, sesRefusing } from '#test/support/refusing-ses.ts';
import { emailsTo } from '#test/support/ses-store.ts';

/**
 * The nightly report end to end on the embedded AWS: two nights (with what the nightly function's
 * role allows), report.html in S3, the team email and its link, the CLI.
 */

const RUN_DATE = '2026-11-23';
const PREVIOUS = '2026-11-22';

const aws = sharedAws();
const nightlyRole = deployedRole(aws, 'nightly');
const work = scratchDir('report');

function isolatedConfig(name: string, teamAddress: string): Promise<Config> {
  return scenarioConfig(aws, name, { brandName: 'Maison Report', reports: { ...aws.config.reports, teamAddresses: [teamAddress] } });
}

async function objectText(config: Config, key: string): Promise<{ text: string; contentType?: string }> {
  const object = await aws.clients.s3.send(new GetObjectCommand({ Bucket: config.storage.exportsBucket, Key: key }));
  return { text: (await object.Body?.transformToString('utf-8')) ?? '', ...(object.ContentType ? { contentType: object.ContentType } : {}) };
}

describe('nightly report on the embedded AWS', () => {
  it('two nights: report.html beside each summary with every section, one team email per night, none on a rerun; the CLI renders it', async () => {
    const team = 'crm-team-two-nights@example.com';
    const config = await isolatedConfig('report', team);
    const dir = join(work, 'export');
    await generateExport({ customers: 400, seed: 11, asOf: RUN_DATE, timeZone: config.timeZone }, dir);
    for (const night of [PREVIOUS, RUN_DATE]) await uploadExport(aws, config, dir, night);
    // The campaign results the other half of the nightly run writes: the report renders them when present.
    await aws.clients.s3.send(
      new PutObjectCommand({
        Bucket: config.storage.exportsBucket,
        Key: `${reportPrefix(config, 'nightly', RUN_DATE)}/${CAMPAIGN_RESULTS_FILE}`,
        ContentType: 'application/json',
        Body: JSON.stringify(campaignResults(RUN_DATE)),
      }),
    );
    const clients = nightlyRole.clients(config);
    const nightly = (runDate: string, runId: string) => runNightly({ clock: Date.now, runDate, runId, config, clients });

    const first = await nightly(PREVIOUS, 'report-1');
    const second = await nightly(RUN_DATE, 'report-2');
    for (const summary of [first, second]) {
      expect(summary.report.reportError).toBeUndefined();
      expect(summary.report.reportObject).toBe(`s3://${config.storage.exportsBucket}/${reportKey(config, summary.runDate)}`);
      expect(summary.report.teamEmail).toEqual({ recipients: 1, sent: 1, failed: 0 });
    }
    expect(reportKey(config, RUN_DATE)).toBe(`${config.storage.reportsPrefix}/nightly/${RUN_DATE}/report.html`);

    const { text: html, contentType } = await objectText(config, reportKey(config, RUN_DATE));
    expect(contentType).toMatch(/^text\/html/);
    expect([...html.matchAll(/<section id="([\w-]+)"/g)].map((m) => m[1])).toEqual([
      'tiers',
      'migration',
      'stages',
      'segments',
      'repurchase',
      'rising',
      'rejects',
      'trend',
      'campaigns',
      // The generated export carries an advisors roster: the advisors' follow-through.
      'advisors',
    ]);
    expect(html).toContain(`Since the previous night (${PREVIOUS})`);
    expect(html).toContain('Trend of the last 2 runs');
    // Every buyer of the night is in one RFM segment.
    expect(second.distribution.rfmSegments && Object.values(second.distribution.rfmSegments).reduce((a, b) => a + b, 0)).toBe(second.distribution.buyers);
    expect(html).toContain('Buyers per RFM segment');
    expect(html).toContain('<h3>welcome</h3>');
    expect(html).toContain(second.report.reportObject);
    expect(html).not.toContain('@example.com');
    // The first night's report has no history; its campaign section shows the campaigns without sends.
    const { text: firstHtml } = await objectText(config, reportKey(config, PREVIOUS));
    expect(firstHtml).toContain('First night: no history yet.');
    expect(firstHtml).toContain('<section id="campaigns"');

    // The stored summaries (runs table, summary.json) say where the report is.
    const stored = await aws.clients.documents.send(new GetCommand({ TableName: tableNames(config).runs, Key: { job: 'nightly', runDate: RUN_DATE } }));
    expect(stored.Item?.report).toMatchObject({ reportObject: second.report.reportObject, teamEmail: { sent: 1 } });
    expect(stored.Item?.distribution?.repurchase).toMatchObject({ buyers12m: expect.any(Number), rate: expect.any(Number) });
    const summaryJson = JSON.parse((await objectText(config, `${config.storage.reportsPrefix}/nightly/${RUN_DATE}/summary.json`)).text);
    expect(summaryJson.report.reportObject).toBe(second.report.reportObject);

    // One email per night to the team address, from the configured sender, with the report's location.
    const emails = await emailsTo(aws, team);
    expect(emails.map((e) => e.subject).sort()).toEqual([
      expect.stringMatching(new RegExp(`^Maison Report: nightly report ${PREVIOUS}`)),
      expect.stringMatching(new RegExp(`^Maison Report: nightly report ${RUN_DATE}`)),
    ]);
    const latest = emails.find((e) => e.subject.includes(RUN_DATE));
    expect(latest?.from).toBe(config.sender.fromAddress);
    expect(latest?.body.text).toContain(second.report.reportObject);
    expect(latest?.body.html).toContain('Repurchase rate');
    // A presigned link (reports.linkExpiryHours, 24 h by default) that opens the page without an AWS login.
    const link = (latest?.body.text ?? '').match(/https?:\/\/\S*X-Amz-Signature=\S+/)?.[0];
    expect(link).toContain('X-Amz-Expires=86400');
    const opened = await fetch(String(link));
    expect(opened.status).toBe(200);
    expect(await opened.text()).toContain('<section id="campaigns"');
    expect(latest?.headers ?? []).toEqual([]);

    // A rerun of the night on the same export keeps the night's report as it was and does not mail the team again.
    const rerun = await nightly(RUN_DATE, 'report-3');
    expect(rerun.rerun).toMatchObject({ of: second.runId });
    expect(rerun.report).toEqual(second.report);
    expect(await emailsTo(aws, team)).toHaveLength(2);

    // Rendered here from the stored data: the same sections.
    const local = await renderStoredReport(config, aws.clients, RUN_DATE);
    expect(local).toContain('<section id="campaigns"');
    expect(local).toContain(`Since the previous night (${PREVIOUS})`);
    await expect(renderStoredReport(config, aws.clients, '2026-01-01')).rejects.toThrow(UsageError);

    // The command line: `clientele report --date D --config F --out file`.
    const configFile = join(work, 'config.json');
    await writeFile(configFile, JSON.stringify(config));
    const out = join(work, 'report.html');
    const { stdout } = await clientele('report', '--date', RUN_DATE, '--config', configFile, '--out', out);
    expect(stdout.trim()).toBe(out);
    const written = await readFile(out, 'utf8');
    expect(written).toContain('<section id="migration"');
    expect(written).toContain('Maison Report');
  }, 180_000);

  it('a report that cannot be written is reported in the outcome, never thrown; the team is told', async () => {
    const team = 'crm-team-failure@example.com';
    const config = await isolatedConfig('report-failure', team);
    const failingS3 = {
      send: (command: { input: { Key?: string } }) => {
        if (command instanceof PutObjectCommand && command.input.Key?.endsWith('report.html')) {
          return Promise.reject(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
        }
        return aws.clients.s3.send(command as PutObjectCommand);
      },
    } as unknown as S3Client; // only send() is used; the wrapper fails one kind of request
    const outcome = await publishNightlyReport({ at: Date.now(),
      config,
      clients: { ...aws.clients, s3: failingS3 },
      summary: constructedSummary(RUN_DATE, profiles(50, 2)),
    });
    expect(outcome.reportObject).toBeUndefined();
    expect(outcome.reportError).toBe('AccessDenied: Access Denied');
    expect(outcome.teamEmail).toEqual({ recipients: 1, sent: 1, failed: 0 });
    const [email] = await emailsTo(aws, team);
    expect(email?.body.text).toContain('The report could not be written: AccessDenied: Access Denied');
  });

  it('a team email SES refuses as a bad request (a configuration problem) is released, not failed for good: the rerun of the night sends it, once', async () => {
    const team = 'crm-team-bad-request@example.com';
    const config = await isolatedConfig('report-bad-request', team);
    const summary = constructedSummary(RUN_DATE, profiles(50, 2));
    const refusing = sesRefusing(aws.clients.ses, () => awsError('BadRequestException', 'Configuration set <clientele-prod-events> does not exist.', 400));
    const first = await publishNightlyReport({ at: Date.now(), config, clients: aws.clients, summary, mailer: createSesMailer(refusing, { maxSendRate: 50 }) });
    expect(first.teamEmail).toEqual({ recipients: 1, sent: 0, failed: 1 });
    expect(await emailsTo(aws, team)).toHaveLength(0);

    const rerun = await publishNightlyReport({ at: Date.now(), config, clients: aws.clients, summary });
    expect(rerun.teamEmail).toEqual({ recipients: 1, sent: 1, failed: 0 });
    expect(await emailsTo(aws, team)).toHaveLength(1);
  });

  it('a team email claimed by an attempt that died before SES answered is not sent again by itself, nor reported as sent', async () => {
    const team = 'crm-team-died@example.com';
    const config = await isolatedConfig('report-died', team);
    const summary = constructedSummary(RUN_DATE, profiles(50, 2));
    // The first attempt dies once its claim is written, before SES is called (a Lambda timeout at the end of a long night).
    const dying: SesMailer = {
      send: () => Promise.reject(new Error('the process died here')),
      stats: () => ({ sent: 0, failed: 0, throttledRetries: 0, unreachableRetries: 0, maxObservedRate: 0 }),
    };
    await publishNightlyReport({ at: Date.now(), config, clients: aws.clients, summary, mailer: dying });
    expect((await ledgerEntries(aws, config)).map((entry) => entry.status)).toEqual(['claimed']);

    const finishing = await publishNightlyReport({ at: Date.now(), config, clients: aws.clients, summary });
    expect(finishing.teamEmail).toEqual({ recipients: 1, sent: 0, failed: 0, unresolved: 1 });
    expect(await emailsTo(aws, team)).toHaveLength(0);
  });
});
