import { describe, expect, it } from 'vitest';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import type { Config } from '#shared/config.ts';
import { DUE_INDEX_STATE_KEY } from '#shared/store/due-index-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { expireLedgerEntries, ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { DAY, HOUR, at as local, iso } from '#test/support/time.ts';

/**
 * The send ledger's TTL (sender.ledgerRetentionDays, 91 days at least) never deletes an entry a
 * later hour still needs: a key's entry goes only once no window of that key can open again. Each
 * scenario runs through the due index and reading every profile each hour, with DynamoDB's TTL
 * applied before each hour (expireLedgerEntries), and both must send the same.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const AT = local('2026-11-24 10:00', SH);
/** The shortest retention the config accepts with the default conversion windows. */
const RETENTION_DAYS = 91;

interface Hour {
  at: number;
  /** The client's last order as of this hour (the night before wrote it). */
  lastOrderAt: number;
}

/** Emails the campaign sent each hour, the TTL applied before each; the ledger entries' TTL as written. */
async function sentEachHour(name: string, campaigns: CampaignsConfigInput, hours: Hour[], mode: 'index' | 'full-scan'): Promise<{ sent: number[]; config: Config }> {
  const config = await campaignConfig(aws, `${name}-${mode}`, { campaigns, sender: { ledgerRetentionDays: RETENTION_DAYS } });
  const sent: number[] = [];
  for (const [i, hour] of hours.entries()) {
    const ordered = iso(hour.lastOrderAt);
    await seedProfiles(aws, config, [profileItem(`${name}-${mode}`, { firstOrderAt: iso(hours[0]?.lastOrderAt ?? hour.lastOrderAt), lastOrderAt: ordered, orderCount: i + 1 })]);
    await expireLedgerEntries(aws, config, hour.at);
    if (mode === 'full-scan') await aws.clients.documents.send(new DeleteCommand({ TableName: tableNames(config).runs, Key: DUE_INDEX_STATE_KEY }));
    const summary = await run(aws, config, hour.at, `${name}-${mode}-${i}`);
    sent.push(summary.campaigns.lapsed?.sent ?? 0);
  }
  return { sent, config };
}

async function expectSameBothWays(name: string, campaigns: CampaignsConfigInput, hours: Hour[], expected: number[]): Promise<Config[]> {
  const configs: Config[] = [];
  for (const mode of ['full-scan', 'index'] as const) {
    const { sent, config } = await sentEachHour(name, campaigns, hours, mode);
    expect(sent, mode).toEqual(expected);
    configs.push(config);
  }
  return configs;
}

const lapsed = (timing: Record<string, unknown>): CampaignsConfigInput =>
  ({
    policy: { controlShare: 0 },
    campaigns: [{ id: 'lapsed', trigger: { on: 'no-order-for', days: [60] }, timing, template: 'winback', offers: { default: { kind: 'none' } } }],
  }) as CampaignsConfigInput;

describe('the send ledger keeps what a later hour needs, whatever its retention', () => {
  it('a window longer than the retention: the entry stays until 91 days after the window closes, and nothing goes twice', async () => {
    // A lapse of 60 days opens a window of 150 days; the email goes on its first day, 91 days' retention.
    const ordered = AT - 61 * DAY;
    // Past the retention counted from the send, the window still open.
    const hours = [AT, AT + 100 * DAY, AT + 140 * DAY].map((at) => ({ at, lastOrderAt: ordered }));
    const configs = await expectSameBothWays('keep-window', lapsed({ cutoffDays: 150 }), hours, [1, 0, 0]);
    for (const config of configs) {
      const [entry] = await ledgerEntries(aws, config);
      // The window closes at local midnight 210 days after the last order's day; kept 91 days more.
      expect(entry?.status).toBe('sent');
      expect(entry?.expiresAt).toBe(local('2026-11-24 00:00', SH) / 1000 + (210 - 61 + RETENTION_DAYS) * 86_400);
    }
  }, 120_000);

  it('once ever, over lapses more than the retention apart: the second lapse sends nothing', async () => {
    const first = AT - 61 * DAY;
    const second = AT + 100 * DAY;
    const hours = [
      { at: AT, lastOrderAt: first },
      // The client ordered again: no lapse; the first entry is past any retention counted from its send.
      { at: AT + 120 * DAY, lastOrderAt: second },
      // A second lapse of 60 days, more than 150 days after the first email.
      { at: second + 61 * DAY, lastOrderAt: second },
    ];
    const configs = await expectSameBothWays('keep-ever', lapsed({ oncePer: 'ever' }), hours, [1, 0, 0]);
    for (const config of configs) {
      const entries = await ledgerEntries(aws, config);
      expect(entries.map((e) => [e.occasionKey, e.status])).toEqual([['lapsed', 'sent']]);
      expect(entries[0]).not.toHaveProperty('expiresAt');
    }
  }, 120_000);

  it('the trigger\'s own key: each lapse is its own occasion, and its entry expires once its window is past', async () => {
    const first = AT - 61 * DAY;
    const second = AT + 100 * DAY;
    const hours = [
      { at: AT, lastOrderAt: first },
      { at: second + 61 * DAY, lastOrderAt: second },
      // More than 91 days after the first window closed (local midnight 90 days after the first order's day): its entry went.
      { at: second + 62 * DAY, lastOrderAt: second },
    ];
    const configs = await expectSameBothWays('keep-occasion', lapsed({}), hours, [1, 1, 0]);
    for (const config of configs) {
      const keys = (await ledgerEntries(aws, config)).map((e) => e.occasionKey);
      expect(keys).toEqual([`lapsed#${iso(second)}`]);
    }
  }, 120_000);
});
