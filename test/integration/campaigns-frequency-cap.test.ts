import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { claimOccasion, ledgerEntriesOf, recordOutcome } from '#shared/store/ledger-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { seedCatalog, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { DAY, HOUR, at, iso } from '#test/support/time.ts';

/**
 * The frequency cap on the embedded AWS counts emails, not ledger entries: a replenishment
 * reminder listing three products writes three 'sent' entries, and is one email toward the
 * 24-hour and 7-day caps.
 */

const aws = sharedAws();
const AT = at('2026-11-23 10:00', 'Asia/Shanghai');
const BOUGHT = iso(AT - 80 * DAY);
const SKUS = ['A', 'B', 'C'];

/** The built-in reminder, and three campaigns of lower priority due for the same client from the same order (1 a day, 3 a week). */
async function capConfig(name: string): Promise<Config> {
  const config = await campaignConfig(aws, name, {
    campaigns: {
      policy: { controlShare: 0, frequencyCap: { per24h: 1, per7d: 3 } },
      campaigns: [
        { kind: 'replenishment' },
        { id: 'nudge', trigger: { on: 'any-order', daysAfter: 80 }, template: 'welcome', priority: 6 },
        { id: 'nudge-2', trigger: { on: 'any-order', daysAfter: 80 }, template: 'welcome', priority: 7 },
        { id: 'nudge-3', trigger: { on: 'any-order', daysAfter: 80 }, template: 'welcome', priority: 8 },
      ],
    },
  });
  await seedCatalog(aws, config, SKUS.map((s) => ({ sku: `SK-${s}`, name: `Cream ${s}`, category: 'skincare', replenishDays: 90 })));
  return config;
}

/** A client who bought the three creams 80 days ago: three reminders due at AT, and the three campaigns. */
const threeCreams = (id: string) =>
  profileItem(id, {
    stage: 'sleeping',
    firstOrderAt: BOUGHT,
    lastOrderAt: BOUGHT,
    skus: Object.fromEntries(SKUS.map((s) => [`SK-${s}`, { lastPurchasedAt: BOUGHT, quantity: 1, purchases: 1, productName: `Cream ${s}`, category: 'skincare' }])),
  });

const entries = (config: Config, customerId: string) => ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, customerId);

describe('frequency cap on the embedded AWS', () => {
  it('counts a reminder listing three products as one email: the next campaigns go on the next days, the fourth email of the week waits', async () => {
    const config = await capConfig('cap-emails');
    await seedProfiles(aws, config, [threeCreams('cap-1')]);

    const first = await runCampaignHour(aws, config, AT, 'cap-0');
    // Occasions in the campaign's counts (each product once), one email through SES.
    expect(countsOf(first, 'replenishment')).toMatchObject({ due: 3, sent: 3 });
    expect(countsOf(first, 'nudge')).toMatchObject({ due: 1, capped: 1 });
    expect(first.mailer?.sent).toBe(1);
    const reminders = (await entries(config, 'cap-1')).filter((e) => e.campaignId === 'replenishment');
    expect(reminders.map((e) => e.status)).toEqual(['sent', 'sent', 'sent']);
    expect(new Set(reminders.map((e) => e.emailId)).size).toBe(1);
    expect(reminders[0]?.emailId).toBeDefined();

    const second = await runCampaignHour(aws, config, AT + 25 * HOUR, 'cap-25');
    expect(countsOf(second, 'nudge')).toMatchObject({ sent: 1 });
    const third = await runCampaignHour(aws, config, AT + 49 * HOUR, 'cap-49');
    expect(countsOf(third, 'nudge-2')).toMatchObject({ sent: 1 });
    // Three emails in the week (the reminder, nudge, nudge-2): the cap holds the fourth.
    const fourth = await runCampaignHour(aws, config, AT + 73 * HOUR, 'cap-73');
    expect(countsOf(fourth, 'nudge-3')).toMatchObject({ due: 1, sent: 0, capped: 1 });
    expect((await entries(config, 'cap-1')).find((e) => e.campaignId === 'nudge-3')).toMatchObject({ status: 'capped', reason: 'frequency-7d' });
    expect(await emailsTo(aws, 'cap-1@example.com')).toHaveLength(3);
  });

  it('reads a reminder sent before emails carried an id as one email too', async () => {
    const config = await capConfig('cap-legacy');
    const client = threeCreams('cap-old');
    await seedProfiles(aws, config, [client]);
    // As the sender wrote them before: one claim per product by one run at its clock, then 'sent', no emailId.
    const table = tableNames(config).sendLedger;
    const sentAt = AT - 2 * DAY;
    for (const sku of SKUS) {
      const key = { customerId: client.customerId, occasionKey: `replenishment#SK-${sku}#${BOUGHT}` };
      await claimOccasion(aws.clients.documents, table, { ...key, campaignId: 'replenishment', runId: 'old-run', now: sentAt, retentionDays: 30 });
      await recordOutcome(aws.clients.documents, table, key, 'old-run', { status: 'sent', messageId: 'old-message', sentAt }, sentAt);
    }
    expect((await entries(config, client.customerId)).map((e) => [e.status, e.emailId])).toEqual(SKUS.map(() => ['sent', undefined]));

    const summary = await runCampaignHour(aws, config, AT, 'cap-old-0');
    expect(countsOf(summary, 'nudge')).toMatchObject({ sent: 1 });
    expect(await emailsTo(aws, 'cap-old@example.com')).toHaveLength(1);
  });
});
