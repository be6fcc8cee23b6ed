import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countOccasions, plannedOccasions, type DemoResult } from '#local/commands/demo.ts';
import type { CampaignRunSummary } from '#shared/sender/run.ts';

const run = promisify(execFile);
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'clientele-demo-json-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('clientele demo', () => {
  it('each occasion and each client is counted once over the hours, in its last state', () => {
    const hour = (plan: CampaignRunSummary['plan']) => ({ plan }) as CampaignRunSummary;
    const occasions = plannedOccasions([
      hour([
        { campaignId: 'welcome', occasionKey: 'w', customerId: 'C1', outcome: 'deferred' },
        { campaignId: 'winback', occasionKey: 'b', customerId: 'C1', outcome: 'capped' },
        { campaignId: 'winback', occasionKey: 'b', customerId: 'C9', outcome: 'out-of-audience' },
      ]),
      hour([
        { campaignId: 'welcome', occasionKey: 'w', customerId: 'C1', outcome: 'send' },
        { campaignId: 'winback', occasionKey: 'b', customerId: 'C1', outcome: 'capped' },
        { campaignId: 'welcome', occasionKey: 'w', customerId: 'C2', outcome: 'held-out' },
      ]),
    ]);
    const { counts, clients } = countOccasions(occasions, ['welcome', 'replenishment', 'winback']);
    expect(Object.keys(counts)).toEqual(['welcome', 'replenishment', 'winback']);
    expect(counts.replenishment).toMatchObject({ due: 0, sent: 0 });
    expect(counts.welcome).toMatchObject({ due: 2, sent: 1, 'held-out': 1, deferred: 0 });
    expect(counts.winback).toMatchObject({ due: 1, capped: 1 });
    expect(clients).toEqual({ due: 2, sent: 1 });
  });

  it('counts the ledger occasions of a campaign not enabled (its id a plain object answers: "constructor") in a row of its own', () => {
    const hour = (plan: CampaignRunSummary['plan']) => ({ plan }) as CampaignRunSummary;
    const occasions = plannedOccasions([hour([{ campaignId: 'constructor', occasionKey: 'c', customerId: 'C1', outcome: 'send' }])]);
    const { counts } = countOccasions(occasions, ['welcome']);
    expect(JSON.parse(JSON.stringify(counts))).toMatchObject({ welcome: { due: 0 }, constructor: { due: 1, sent: 1 } });
    expect(Object.hasOwn(Object, 'due')).toBe(false);
  });

  it('`npm run -s demo -- --json --dry-run` prints one JSON object, sends nothing, and writes the config for the other commands', async () => {
    const state = join(work, 'state');
    const configFile = join(work, 'local-config.json');
    const { stdout } = await run(
      'npm',
      ['run', '-s', 'demo', '--', '--json', '--dry-run', '--customers', '300', '--date', '2026-11-23', '--state', state, '--write-config', configFile],
      { cwd: process.cwd(), maxBuffer: 64 * 1024 * 1024 },
    );
    const result = JSON.parse(stdout) as DemoResult;
    expect(result.runDate).toBe('2026-11-23');
    expect(result.campaigns).toMatchObject({ dryRun: true, hours: 8, timeZone: 'Asia/Shanghai' });
    // A dry run sends nothing at all: no team email, no advisor digest.
    expect(result.report.teamEmail).toBeUndefined();
    expect(result.summary.advisorDigests).toBeUndefined();
    for (const row of Object.values(result.campaigns.counts)) expect(row.due).toBeGreaterThanOrEqual(row.sent);
    expect(result.campaigns.clients.sent).toBeLessThanOrEqual(result.campaigns.clients.due);
    expect(result.rerun.of).toBe(result.summary.runId);
    expect(result.state).toEqual({ dir: state, configFile });
    const written = JSON.parse(await readFile(configFile, 'utf8')) as { endpoints: { dynamodb?: string } };
    expect(written.endpoints.dynamodb).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  }, 300_000);

  it('starts a week before the chosen night, so the report measures campaigns whose 7-day window has ended', async () => {
    const { stdout } = await run(
      'npm',
      ['run', '-s', 'demo', '--', '--json', '--customers', '400', '--date', '2026-11-23', '--state', join(work, 'state-past'), '--write-config', join(work, 'past-config.json')],
      { cwd: process.cwd(), maxBuffer: 64 * 1024 * 1024 },
    );
    const result = JSON.parse(stdout) as DemoResult;
    // The night eight days before, on the same clients as they stood then, and its morning of sends.
    expect(result.past?.runDate).toBe('2026-11-15');
    expect(result.past?.clients).toBeGreaterThan(0);
    expect(result.past?.clients).toBeLessThanOrEqual(result.summary.distribution.clients);
    expect(result.past?.campaigns.hours).toBe(8);
    expect(result.past?.campaigns.clients.sent).toBeGreaterThan(0);
    // Tonight's results follow those sends: every 7-day window has ended, no 30-day one has.
    const headlines = result.summary.campaignResults;
    const sentBefore = Object.values(result.past?.campaigns.counts ?? {}).reduce((n, row) => n + row.sent + row['held-out'], 0);
    const watched = headlines.reduce((n, h) => n + (h.windows.find((w) => w.windowDays === 7)?.sentMembers ?? 0) + (h.windows.find((w) => w.windowDays === 7)?.controlMembers ?? 0), 0);
    // One member per email: a reminder listing several products is several occasions and one member.
    expect(watched).toBeLessThanOrEqual(sentBefore);
    expect(watched).toBeGreaterThanOrEqual(result.past?.campaigns.clients.sent ?? Infinity);
    for (const h of headlines) expect(h.windows.find((w) => w.windowDays === 30)).toMatchObject({ sentMembers: 0, controlMembers: 0 });
    for (const h of headlines) expect(h.due).toBeGreaterThanOrEqual(h.sends + h.heldOut);
  }, 600_000);
});
