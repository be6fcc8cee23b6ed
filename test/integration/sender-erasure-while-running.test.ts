import { describe, expect, it } from 'vitest';
import type { CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, countsOf, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { HOUR, at as local, iso } from '#test/support/time.ts';

/**
 * A client erased while the hour that selected them is still working (`clientele forget` between
 * two clients' emails): each ledger write reads the erasure list first, so they get no email after
 * the erasure, and the run's end erases again what it wrote just before: nothing of them is left.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const T = local('2026-11-22 11:00', SH);
const WELCOME = { policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome' }] } as CampaignsConfigInput;

/** A prospect who signed up two hours before T: a welcome due. */
const signedUp = (id: string) => profileItem(id, { stage: 'new', tier: 'Prospect', orderCount: 0, signedUpAt: iso(T - 2 * HOUR), firstOrderAt: undefined, lastOrderAt: undefined });

describe('a client erased while the hourly run works', () => {
  it('erased after the selection, before their claim: no email, no entry, and the next hour finds nothing', async () => {
    const config = await campaignConfig(aws, 'erased-running', { campaigns: WELCOME });
    await seedProfiles(aws, config, [signedUp('er-a'), signedUp('er-b')]);
    // Both are due and selected; while er-a's welcome is being sent, er-b asks to be forgotten.
    const summary = await run(aws, config, T, 'er-1', {
      afterClaim: async (key) => {
        if (key.customerId !== 'er-b') await forgetClient({ config, clients: aws.clients, request: { customerId: 'er-b' }, at: Date.now() });
      },
    });
    expect(summary.clientsDue).toBe(2);
    expect(countsOf(summary, 'welcome').sent).toBe(1);
    expect(await emailsTo(aws, 'er-a@example.com')).toHaveLength(1);
    expect(await emailsTo(aws, 'er-b@example.com')).toHaveLength(0);
    expect((await ledgerEntries(aws, config)).map((e) => e.customerId)).toEqual(['er-a']);
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'er-b')).toBeUndefined();

    const next = await run(aws, config, T + HOUR, 'er-2');
    expect(countsOf(next, 'welcome').sent).toBe(0);
    expect((await ledgerEntries(aws, config)).map((e) => e.customerId)).toEqual(['er-a']);
  }, 60_000);

  it('erased between their claim and the send: the entry goes with the erasure, and no later run writes one back', async () => {
    const config = await campaignConfig(aws, 'erased-claimed', { campaigns: WELCOME });
    await seedProfiles(aws, config, [signedUp('ec-a')]);
    // The erasure lands after the claim was written: forget deletes the claimed entry, and the
    // run's outcome finds no claim of its own to record (the email itself may go: SES is called
    // in the same instant, which no check can close).
    await run(aws, config, T, 'ec-1', {
      afterClaim: async () => void (await forgetClient({ config, clients: aws.clients, request: { customerId: 'ec-a' }, at: Date.now() })),
    });
    expect(await ledgerEntries(aws, config)).toEqual([]);
    await run(aws, config, T + HOUR, 'ec-2');
    expect(await ledgerEntries(aws, config)).toEqual([]);
  }, 60_000);
});
