import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { answerTask, emailedTask, newTask } from '#shared/advisors/tasks.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { recordDecision } from '#shared/store/ledger-store.ts';
import { createTask } from '#shared/store/task-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { UNSUBSCRIBE_SECRET } from '#test/support/campaign-runs.ts';
import { aroundDocuments } from '#test/support/crashing-clients.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { DAY } from '#test/support/time.ts';

/**
 * Issue 16 point 6 on the embedded AWS: the nightly run follows the advisors' tasks for 30 days
 * over the export's orders, against the control group of the same campaign and tier, tallies what
 * became of the last 4 weeks' tasks, lists the book clients whose advisor left, and shows it all
 * in report.html, the team email and the advisor's own digest. A follow-through a transient error
 * kept from the night is computed by a rerun on the same export.
 */

const RUN_DATE = '2026-11-23';
const aws = sharedAws();
const work = scratchDir('follow-through');

describe('advisors follow-through in the nightly report, the team email and the digest', () => {
  it('counts who bought after a task against the control group, per advisor and store, and who waits for an advisor', { timeout: 120_000 }, async () => {
    const team = 'crm-follow-through@example.com';
    const config = await scenarioConfig(aws, 'follow-through', {
      brandName: 'Maison Suivi',
      reports: { ...aws.config.reports, teamAddresses: [team], advisorDigestWeekday: 'monday' },
      advisors: { taskBaseUrl: 'https://tasks.maison.example.com/' },
    });
    const now = runClock(RUN_DATE, config.timeZone).now;
    const t0 = now - 50 * DAY;
    const at = (instant: number) => new Date(instant).toISOString();
    // Everyone bought in September (VIC: 10 x 6,000.00); two clients bought again after their task or held-out decision.
    const ids = ['ft-a', 'ft-b', 'ft-ctl1', 'ft-ctl2', 'ft-orphan'];
    const advisorOf: Record<string, string> = { 'ft-a': 'A01', 'ft-b': 'A01', 'ft-orphan': 'A02' };
    const customers = ['customer_id,email,first_name,birthday,advisor_id', ...ids.map((id) => `${id},${id}@example.com,Name ${id},${id === 'ft-a' ? '11-26' : ''},${advisorOf[id] ?? ''}`)];
    const orders = ['order_id,customer_id,ordered_at,line_total', ...ids.flatMap((id) => Array.from({ length: 10 }, (_, k) => `${id}-o${k},${id},2026-09-${String(10 + k)}T10:00:00+08:00,6000.00`))];
    orders.push(`ft-a-after,ft-a,${at(t0 + 10 * DAY)},120.00`, `ft-ctl1-after,ft-ctl1,${at(t0 + 5 * DAY)},80.00`);
    const roster = ['advisor_id,name,email,locale,active,signature,store', 'A01,Sophie Martin,sophie@suivi.example.com,en,true,,Paris', 'A02,Old Hand,old@suivi.example.com,en,false,,Paris'];
    const dir = join(work, RUN_DATE);
    await mkdir(dir, { recursive: true });
    for (const [file, lines] of Object.entries({ 'customers.csv': customers, 'orders.csv': orders, 'advisors.csv': roster })) await writeFile(join(dir, file), `${lines.join('\n')}\n`);

    // Sophie's win-back tasks 50 days ago (one done in person, one left to the wait), one open this week;
    // the control group of the same campaign and tier held out two other VICs on the same day.
    const tasks = tableNames(config).advisorTasks;
    const winback = (customerId: string, createdAt: number) =>
      newTask({ customerId, occasionKey: `winback#${createdAt}`, campaignId: 'winback', expiresAt: createdAt + 30 * DAY }, 'A01', createdAt, 'VIC');
    await createTask(aws.clients.documents, tasks, answerTask(winback('ft-a', t0), 'done', 1, t0 + DAY).task, 400);
    await createTask(aws.clients.documents, tasks, emailedTask(winback('ft-b', t0), 'no-answer', t0 + 3 * DAY), 400);
    await createTask(aws.clients.documents, tasks, winback('ft-b', now - 5 * DAY), 400);
    for (const customerId of ['ft-ctl1', 'ft-ctl2']) {
      const request = { customerId, occasionKey: `winback#${t0}`, campaignId: 'winback', runId: 'hour', now: t0, retentionDays: 400, tier: 'VIC', reason: 'control-group' };
      await recordDecision(aws.clients.documents, tableNames(config).sendLedger, request, 'held-out');
    }

    const summary = await runNightly({ clock: Date.now, runDate: RUN_DATE, runId: 'follow-1', config, clients: aws.clients, source: directoryExportSource(dir), unsubscribeSecret: UNSUBSCRIBE_SECRET });
    const figures = summary.advisorFollowThrough;
    expect(figures?.advisors.map((a) => [a.advisorId, a.store, a.tasks, a.bought])).toEqual([
      // This week's task is still in its first 30 days: not counted yet.
      ['A01', 'Paris', { given: 1, done: 0, asked: 0, snoozed: 0, left: 0, open: 1, reassigned: 0 }, { followed: 2, bought: 1, maturing: 1 }],
    ]);
    expect(figures?.control).toEqual({ followed: 2, bought: 1, maturing: 0 });
    expect(figures?.byStore.Paris?.bought).toEqual({ followed: 2, bought: 1, maturing: 1 });
    expect(figures?.needsNewAdvisor).toEqual({ count: 1, byStore: { Paris: 1 }, customerIds: ['ft-orphan'] });

    // The team email: the tallies, the comparison with its counts, the client waiting for an advisor.
    const [email] = await emailsTo(aws, team);
    const text = email?.body.text ?? '';
    expect(text).toContain('1 book client has no active advisor (their advisor left): assign a new one (clientele advisors plan).');
    expect(text).toContain('Advisor tasks (28 days): 1 given · 0 done in person · 0 sent at their request · 0 snoozed · 0 sent after the wait · 1 open');
    expect(text).toContain('Tasks, Paris: 1 given');
    expect(text).toContain(
      "Advisors: bought after a task: Bought within 30 days: after an advisor's task 1 of 2 (50%), 1 more still inside the 30 days; comparable clients without a task (held out by the control group of the same campaign and tier) 1 of 2 (50%). Small samples: a hint, not a verdict.",
    );
    expect(text).toContain('Clients needing a new advisor: 1 (Paris 1): ft-orphan');

    // report.html: the advisors section.
    const key = (summary.report.reportObject ?? '').replace(`s3://${config.storage.exportsBucket}/`, '');
    const html = await (await aws.clients.s3.send(new GetObjectCommand({ Bucket: config.storage.exportsBucket, Key: key }))).Body?.transformToString('utf-8');
    expect(html).toContain('<section id="advisors" aria-labelledby="advisors-h"><h2 id="advisors-h">Advisors: follow-through</h2>');
    expect(html).toContain('Clients needing a new advisor');
    expect(html).toContain('1 of 2 (50%)');

    // Sophie's digest: her own figures, with the control group's.
    const [digest] = await emailsTo(aws, 'sophie@suivi.example.com');
    expect(digest?.body.text).toContain('Bought within 30 days of your tasks: 1 of 2 clients (50%); comparable clients without a task (the control group): 1 of 2 (50%). Small numbers: read them as a hint, not a verdict.');
    expect(await emailsTo(aws, 'old@suivi.example.com')).toEqual([]);
  });

  it('a follow-through a transient store error kept from the night is computed by a rerun on the same export, nothing mailed twice', { timeout: 120_000 }, async () => {
    const team = 'crm-follow-rerun@example.com';
    const config = await scenarioConfig(aws, 'follow-through-rerun', { reports: { ...aws.config.reports, teamAddresses: [team], advisorDigestWeekday: 'monday' } });
    const dir = join(work, 'rerun', RUN_DATE);
    await mkdir(dir, { recursive: true });
    const files = {
      'customers.csv': 'customer_id,email,first_name,birthday,advisor_id\nfr-a,fr-a@example.com,Lin,11-26,A01\n',
      'orders.csv': 'order_id,customer_id,ordered_at,line_total\nfr-o1,fr-a,2026-09-10T10:00:00+08:00,60000.00\n',
      'advisors.csv': 'advisor_id,name,email,locale,active\nA01,Sophie Martin,sophie@follow-rerun.example.com,en,true\n',
    };
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
    // The tasks table is scanned by the shard's write, then by the finish's follow-through: the second fails once.
    const tasks = tableNames(config).advisorTasks;
    let scans = 0;
    const blip = aroundDocuments(aws.clients, (name, input, go) => {
      if (name === 'ScanCommand' && input.TableName === tasks && ++scans === 2) {
        return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }));
      }
      return go();
    });
    const night = (runId: string, clients = aws.clients) => runNightly({ clock: Date.now, runDate: RUN_DATE, runId, config, clients, source: directoryExportSource(dir) });

    const first = await night('follow-rerun-1', blip);
    expect(first.status).toBe('completed');
    expect(first.advisorFollowThroughError).toMatch(/ECONNREFUSED/);
    expect(first.advisorFollowThrough).toBeUndefined();

    // The same export again: not the stored summary, the night in full, its follow-through computed.
    const rerun = await night('follow-rerun-2');
    expect(rerun.rerun).toBeUndefined();
    expect(rerun.advisorFollowThroughError).toBeUndefined();
    expect(rerun.advisorFollowThrough?.advisors.map((a) => a.advisorId)).toEqual(['A01']);
    const key = (rerun.report.reportObject ?? '').replace(`s3://${config.storage.exportsBucket}/`, '');
    const html = await (await aws.clients.s3.send(new GetObjectCommand({ Bucket: config.storage.exportsBucket, Key: key }))).Body?.transformToString('utf-8');
    expect(html).toContain('<h2 id="advisors-h">Advisors: follow-through</h2>');
    // The team email and the digest went out with the first run: the rerun's ledger claims find them.
    expect(await emailsTo(aws, team)).toHaveLength(1);
    expect(await emailsTo(aws, 'sophie@follow-rerun.example.com')).toHaveLength(1);
    // And a rerun now returns the stored summary.
    expect((await night('follow-rerun-3')).rerun).toMatchObject({ of: 'follow-rerun-2' });
  });
});
