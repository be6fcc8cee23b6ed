import { describe, expect, it } from 'vitest';
import type { AwsClients } from '#shared/aws/clients.ts';
import { taskEmailLedgerKey } from '#shared/advisors/tasks.ts';
import { jsonLog } from '#shared/log.ts';
import { campaignMetrics, METRIC_NAMES } from '#shared/observability/business-metrics.ts';
import { claimOccasion, recordOutcome } from '#shared/store/ledger-store.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { tasksOfClient } from '#shared/store/task-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignRunFailure } from '#shared/sender/run.ts';
import { advisorsConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { awsError, configurationSetMissing, sesRefusing, sesRefusingEveryCall } from '#test/support/refusing-ses.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, HOUR, iso } from '#test/support/time.ts';

/**
 * An advisor's task email refused for good (SES's MessageRejected; recorded 'failed', never tried
 * again) never reached the advisor: nobody could answer it, so the client's note must not wait for
 * them. It goes in the same hour as it would without an advisor, from the client care team; the
 * refusal is logged with the advisor id and counted in the summary and the run's metrics (the stack
 * alarms on it: nobody reads the summary at night). Before, the note was deferred
 * ('advisor-task') hour after hour until its window closed, and the VIC got nothing.
 */
const aws = sharedAws();
const ZONE = 'Asia/Shanghai';
const NOW = at('2026-11-23 10:00', ZONE);

/** A VIC 60 days past their last order (the win-back's day) in advisor A01's book. */
const lapsedVic = (id: string) =>
  profileItem(id, { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });

/** The emulator's SES, refusing every message to `address` (that message only, not the account). */
function refusing(address: string): { clients: AwsClients } {
  const ses = sesRefusing(aws.clients.ses, (command) => (JSON.stringify(command.input).includes(address) ? awsError('MessageRejected', 'Illegal address', 400) : undefined));
  return { clients: { ...aws.clients, ses } };
}

describe('an advisor task email SES refuses for good', () => {
  it('sends the client’s note in that hour from the client care team, logged and counted', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'task-email-refused');
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie-refused@advisors.example.com', locale: 'en', active: true }] });
    await seedProfiles(aws, config, [lapsedVic('refused-vic')]);
    const lines: Record<string, unknown>[] = [];
    const log = jsonLog({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });

    const hour = await runCampaignHour(refusing('sophie-refused@'), config, NOW, 'refused-1', { log });
    expect(countsOf(hour, 'winback')).toMatchObject({ due: 1, sent: 1, deferred: 0 });
    expect(hour.taskEmailsRefused).toBe(1);
    // In AWS nobody reads the summary: the run's metrics carry it, and the stack alarms on it.
    expect(campaignMetrics(hour)[0]?.metrics).toContainEqual({ name: METRIC_NAMES.taskEmailsRefused, unit: 'Count', value: 1 });
    const [note, ...more] = await emailsTo(aws, 'refused-vic@example.com');
    expect(more).toEqual([]);
    expect(note?.from).toBe('hello@maison.example.com');
    expect(note?.replyTo ?? []).toEqual([]);
    expect(note?.body.text).toContain('The Clientele Demo Brand client care team');
    expect(note?.body.text).not.toContain('Sophie Martin');
    const warning = lines.find((line) => line.message === 'advisor task email refused: the note goes from the client care team');
    expect(warning).toMatchObject({ level: 'warn', advisorId: 'A01', customerId: 'refused-vic', campaignId: 'winback' });
    expect(String(warning?.error)).toMatch(/^MessageRejected/);
    // No task: the advisor never had one to answer.
    expect(await tasksOfClient(aws.clients.documents, tableNames(config).advisorTasks, 'refused-vic')).toEqual([]);
    const ledger = await ledgerEntries(aws, config);
    expect(ledger.filter((e) => e.customerId === 'advisor#A01').map((e) => e.status)).toEqual(['failed']);

    // A rerun of the hour, and the next hours, send nothing more to either.
    const rerun = await runCampaignHour(aws, config, NOW + HOUR, 'refused-2');
    expect(rerun.taskEmailsRefused).toBeUndefined();
    expect(await emailsTo(aws, ['refused-vic@example.com', 'sophie-refused@advisors.example.com'])).toHaveLength(1);
  });

  it('a refused task email that took the run’s last email of quota: the note waits, untouched, for the next hour', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'task-email-refused-quota');
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie-lastone@advisors.example.com', locale: 'en', active: true }] });
    await seedProfiles(aws, config, [lapsedVic('lastone-vic')]);
    const accountReader = { read: async () => ({ sendingEnabled: true, productionAccess: true, max24HourSend: 1000, sentLast24Hours: 999, maxSendRate: 14 }) };

    const hour = await runCampaignHour(refusing('sophie-lastone@'), config, NOW, 'lastone-1', { accountReader });
    expect(hour.taskEmailsRefused).toBe(1);
    expect(countsOf(hour, 'winback')).toMatchObject({ due: 1, left: 1, sent: 0, deferred: 0 });
    expect(hour.stopped?.reason).toBe('quota-used');
    expect(await emailsTo(aws, 'lastone-vic@example.com')).toEqual([]);
    expect((await ledgerEntries(aws, config)).map((e) => [e.customerId, e.status])).toEqual([['advisor#A01', 'failed']]);

    const next = await runCampaignHour(aws, config, NOW + HOUR, 'lastone-2');
    expect(countsOf(next, 'winback')).toMatchObject({ due: 1, sent: 1 });
    const [note] = await emailsTo(aws, 'lastone-vic@example.com');
    expect(note?.from).toBe('hello@maison.example.com');
  });

  it('a later hour that meets the refused task email’s entry sends the note the same way', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'task-email-refused-earlier');
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie-earlier@advisors.example.com', locale: 'en', active: true }] });
    await seedProfiles(aws, config, [lapsedVic('earlier-vic')]);
    // An earlier hour's task email, refused for good, whose client's note was held back that hour.
    const ledger = { documents: aws.clients.documents, table: tableNames(config).sendLedger };
    const dryRun = await runCampaignHour(aws, config, NOW, 'earlier-dry', { dryRun: true });
    const [planned] = dryRun.plan ?? [];
    expect(planned).toMatchObject({ customerId: 'earlier-vic', campaignId: 'winback' });
    const key = taskEmailLedgerKey('A01', { customerId: 'earlier-vic', occasionKey: planned?.occasionKey ?? '' });
    await claimOccasion(ledger.documents, ledger.table, { ...key, campaignId: 'advisor-task', runId: 'earlier', now: NOW - HOUR, retentionDays: 30 });
    await recordOutcome(ledger.documents, ledger.table, key, 'earlier', { status: 'failed', reason: 'MessageRejected: Illegal address' }, NOW - HOUR);

    // A dry run shows what the hour will do: the note goes, it does not wait for the advisor.
    const preview = await runCampaignHour(aws, config, NOW, 'earlier-preview', { dryRun: true });
    expect(preview.plan?.map((p) => [p.customerId, p.outcome])).toEqual([['earlier-vic', 'send']]);

    const hour = await runCampaignHour(aws, config, NOW, 'earlier-1');
    expect(countsOf(hour, 'winback')).toMatchObject({ due: 1, sent: 1 });
    // Refused by an earlier hour, not this one.
    expect(hour.taskEmailsRefused).toBeUndefined();
    const [note] = await emailsTo(aws, 'earlier-vic@example.com');
    expect(note?.from).toBe('hello@maison.example.com');
    expect(note?.body.text).toContain('The Clientele Demo Brand client care team');
    expect(await emailsTo(aws, 'sophie-earlier@advisors.example.com')).toEqual([]);
  });
});

describe('advisor task emails whose request SES refuses (not the recipient: a configuration problem)', () => {
  it('feed the run’s circuit breaker as a campaign email does: the run stops and fails, the task emails wait for a later hour', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'task-email-bad-request', { sender: { ...aws.config.sender, maxSendRate: 500, fromAddress: 'hello@maison.example.com', circuitBreakerFailures: 2 } });
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie-badrequest@advisors.example.com', locale: 'en', active: true }] });
    // Every due client's note goes through their advisor first: the hour sends task emails only.
    await seedProfiles(aws, config, [lapsedVic('badrequest-vic-1'), lapsedVic('badrequest-vic-2'), lapsedVic('badrequest-vic-3')]);
    const ses = sesRefusingEveryCall(aws.clients.ses, configurationSetMissing);

    const hour = await runCampaignHour({ clients: { ...aws.clients, ses } }, config, NOW, 'badrequest-1');
    expect(hour.stopped).toEqual({ reason: 'circuit-breaker', message: expect.stringContaining('last: BadRequestException: Configuration set <clientele-prod-events> does not exist.') });
    expect(countsOf(hour, 'winback')).toMatchObject({ due: 3, sent: 0, left: 1 });
    expect(campaignRunFailure(hour)).toMatchObject({ code: 'CAMPAIGN_RUN_HALTED' });
    expect(hour.taskEmailsRefused).toBeUndefined();
    // Released, not failed: a later hour gives the tasks.
    const taskEmails = (await ledgerEntries(aws, config)).filter((e) => e.customerId === 'advisor#A01');
    expect(taskEmails.map((e) => e.status)).toEqual(['deferred', 'deferred']);

    const next = await runCampaignHour(aws, config, NOW + HOUR, 'badrequest-2');
    expect(next.stopped).toBeUndefined();
    expect(await emailsTo(aws, 'sophie-badrequest@advisors.example.com')).toHaveLength(3);
  });
});
