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
    const { counts, clients } = countOccasions(occasions);
    expect(counts.welcome).toMatchObject({ due: 2, sent: 1, 'held-out': 1, deferred: 0 });
    expect(counts.winback).toMatchObject({ due: 1, capped: 1 });
    expect(clients).toEqual({ due: 2, sent: 1 });
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
    expect(result.campaigns).toMatchObject({ dryRun: true, hours: 10, timeZone: 'Asia/Shanghai' });
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
});
