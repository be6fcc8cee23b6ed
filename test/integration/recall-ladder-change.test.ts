import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { parseConfig } from '#shared/config.ts';
import { tableNames } from '#shared/store/tables.ts';
import { claimOccasion, recordExpiry, recordOutcome } from '#shared/store/ledger-store.ts';
import { addDays, localDate, startOfLocalDay } from '#shared/time.ts';
import { campaignConfig, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { DAY, at as local, iso } from '#test/support/time.ts';

/**
 * The brand adds a step to the recall ladder or drops one. Each step is keyed by its day
 * ('recall#<lastOrderAt>#120d'), so the steps left keep their keys: the step a client got for this
 * lapse is not mailed again, and the next one is not lost. Versions before keyed the first step by
 * the lapse alone ('recall#<lastOrderAt>'): such an entry is read as the step it was for.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const T0 = local('2026-11-20 10:00', SH);
const lastOrder = T0 - 125 * DAY;
/** Local midnight (Shanghai) `days` days after the last order's local day: when that step's window opens. */
const opens = (days: number) => startOfLocalDay(addDays(localDate(lastOrder, SH), days), SH);
const ladder = (days: number[]) => ({ policy: { controlShare: 0 }, campaigns: [{ kind: 'recall', trigger: { on: 'no-order-for', days } }] });

async function lapsedClient(name: string, id: string): Promise<Config> {
  const config = await campaignConfig(aws, name, { campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'recall' }] } as never });
  await seedProfiles(aws, config, [
    profileItem(id, {
      timeZone: SH,
      firstOrderAt: iso(T0 - 400 * DAY),
      lastOrderAt: iso(lastOrder),
      orderCount: 3,
      stage: 'sleeping',
      topCategory: 'skin',
      skus: { 'SK-1': { productName: 'Night Cream', category: 'skin', lastPurchasedAt: iso(lastOrder), quantity: 1, purchases: 1 } },
    }),
  ]);
  return config;
}

/** The 120-day recall as a version before this one recorded it: sent on day 121, keyed by the lapse alone. */
async function sentBeforeTheUpgrade(config: Config, id: string): Promise<void> {
  const table = tableNames(config).sendLedger;
  const now = lastOrder + 121 * DAY;
  const key = { customerId: id, occasionKey: `recall#${iso(lastOrder)}` };
  await claimOccasion(aws.clients.documents, table, { ...key, campaignId: 'recall', runId: 'before', now, retentionDays: 400, triggerAt: opens(120) });
  await recordOutcome(aws.clients.documents, table, key, 'before', { status: 'sent', messageId: 'before-1', sentAt: now }, now);
}

const sentKeys = async (config: Config) => (await ledgerEntries(aws, config)).filter((e) => e.status === 'sent').map((e) => e.occasionKey.replace(iso(lastOrder), '<last order>')).sort();

describe('a step added to the recall ladder, or dropped from it', () => {
  it('does not mail again the step a client already got for this lapse when an earlier step is added', async () => {
    const before = await lapsedClient('recall-ladder-added', 'ladder-1');
    await run(aws, before, T0, 'ladder-0');
    expect(await sentKeys(before)).toEqual(['recall#<last order>#120d']);
    const after = parseConfig({ ...before, campaigns: ladder([90, 120, 180, 365]) });
    await run(aws, after, T0 + 2 * DAY, 'ladder-1');
    expect(await sentKeys(after)).toEqual(['recall#<last order>#120d']);
    expect(await emailsTo(aws, 'ladder-1@example.com')).toHaveLength(1);
  }, 300_000);

  it('mails the 180-day step when the 120-day step it follows is dropped', async () => {
    const before = await lapsedClient('recall-ladder-dropped', 'ladder-2');
    await run(aws, before, T0, 'drop-0');
    const after = parseConfig({ ...before, campaigns: ladder([180, 365]) });
    await run(aws, after, T0 + 60 * DAY, 'drop-1');
    expect(await sentKeys(after)).toEqual(['recall#<last order>#120d', 'recall#<last order>#180d']);
  }, 300_000);

  it('reads the first step sent before the upgrade (keyed by the lapse alone) as the 120-day step: not mailed again, ladder changed or not, and the 180-day step still goes', async () => {
    const same = await lapsedClient('recall-ladder-upgrade-same', 'upgrade-same');
    await sentBeforeTheUpgrade(same, 'upgrade-same');
    await run(aws, same, T0, 'same-1');
    expect(await sentKeys(same)).toEqual(['recall#<last order>']);

    const added = await lapsedClient('recall-ladder-upgrade-added', 'upgrade-added');
    await sentBeforeTheUpgrade(added, 'upgrade-added');
    await run(aws, parseConfig({ ...added, campaigns: ladder([90, 120, 180, 365]) }), T0, 'added-1');
    expect(await sentKeys(added)).toEqual(['recall#<last order>']);

    const dropped = await lapsedClient('recall-ladder-upgrade-dropped', 'upgrade-dropped');
    await sentBeforeTheUpgrade(dropped, 'upgrade-dropped');
    await run(aws, parseConfig({ ...dropped, campaigns: ladder([180, 365]) }), T0 + 60 * DAY, 'dropped-1');
    expect(await sentKeys(dropped)).toEqual(['recall#<last order>', 'recall#<last order>#180d']);
  }, 300_000);

  it('mails the next step when the first step was recorded expired before the trigger time was kept (its claim past the next step\'s opening)', async () => {
    // Steps 15 days apart: the 120-day window closes as the 135-day one opens, the hour its expiry is recorded.
    const config = await lapsedClient('recall-ladder-upgrade-expired', 'upgrade-expired');
    const stepped = parseConfig({ ...config, campaigns: ladder([120, 135]) });
    const key = { customerId: 'upgrade-expired', occasionKey: `recall#${iso(lastOrder)}` };
    await recordExpiry(aws.clients.documents, tableNames(config).sendLedger, { ...key, campaignId: 'recall', runId: 'before', now: opens(135), retentionDays: 400, reason: 'window closed' });
    await run(aws, stepped, opens(136) + 10 * 3_600_000, 'expired-1');
    expect(await sentKeys(stepped)).toEqual(['recall#<last order>#135d']);
    expect(await emailsTo(aws, 'upgrade-expired@example.com')).toHaveLength(1);
  }, 300_000);
});
