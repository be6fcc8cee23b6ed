import type { Config } from '#shared/config.ts';
import { runCampaigns, type CampaignCounts, type CampaignRunOptions, type CampaignRunSummary } from '#shared/sender/run.ts';
import { scenarioConfig, type ScenarioOverrides, type SharedAws } from './local-aws.ts';

/** One hour of the campaign sender on the emulators, and the figures its summary reports. */

/** The key that signs the unsubscribe links of the test runs. */
export const UNSUBSCRIBE_SECRET = 'x'.repeat(40);

/** The sender's settings a scenario may change. */
export interface CampaignScenario {
  campaigns?: ScenarioOverrides['campaigns'];
  sender?: ScenarioOverrides['sender'];
  timeZone?: string;
  /** The nightly's checks: a base of a few buyers moves a large share of them with one order. */
  plausibility?: ScenarioOverrides['plausibility'];
}

/**
 * A scenario of the campaign sender: its own tables and prefixes (scenarioConfig), the control
 * group off and the mailer fast (the emulator has no rate limit) unless the scenario says otherwise.
 */
export function campaignConfig(aws: SharedAws, name: string, scenario: CampaignScenario = {}): Promise<Config> {
  return scenarioConfig(aws, name, {
    ...(scenario.timeZone ? { timeZone: scenario.timeZone } : {}),
    ...(scenario.plausibility ? { plausibility: scenario.plausibility } : {}),
    campaigns: scenario.campaigns ?? { policy: { controlShare: 0 } },
    sender: { ...aws.config.sender, maxSendRate: 500, ...scenario.sender },
  });
}

/** A scenario whose advisors get tasks: no control group, fast sending, the brand's From, a 3-day task wait. */
export function advisorsConfig(aws: SharedAws, name: string, overrides: ScenarioOverrides = {}): Promise<Config> {
  return scenarioConfig(aws, name, {
    campaigns: { policy: { controlShare: 0 } },
    sender: { ...aws.config.sender, maxSendRate: 500, fromAddress: 'hello@maison.example.com' },
    advisors: { taskWaitDays: 3, taskBaseUrl: 'https://tasks.maison.example.com/' },
    ...overrides,
  });
}

/** The sender's hour `at`, as the hourly schedule runs it. */
export function runCampaignHour(
  aws: Pick<SharedAws, 'clients'>,
  config: Config,
  at: number,
  runId: string,
  extra: Partial<Omit<CampaignRunOptions, 'at' | 'runId' | 'config' | 'unsubscribeSecret'>> = {},
): Promise<CampaignRunSummary> {
  return runCampaigns({ at, runId, config, clients: aws.clients, unsubscribeSecret: UNSUBSCRIBE_SECRET, ...extra });
}

/** Sum of one count over every campaign of a summary. */
export function total(summary: CampaignRunSummary, key: keyof CampaignCounts): number {
  return Object.values(summary.campaigns).reduce((sum, counts) => sum + counts[key], 0);
}

/** One campaign's counts of a summary (throws when the campaign is missing). */
export function countsOf(summary: CampaignRunSummary, campaignId: string): CampaignCounts {
  const counts = summary.campaigns[campaignId];
  if (!counts) throw new Error(`no counts for campaign ${campaignId}`);
  return counts;
}
