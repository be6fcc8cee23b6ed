import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { ledgerEntriesOf, type LedgerEntry } from '#shared/store/ledger-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { seedCatalog, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { DAY, HOUR, MINUTE, at, iso } from '#test/support/time.ts';

/** Campaign timing on the embedded AWS: welcome window, replenishment and win-back days, cap, quiet hours. */

const aws = sharedAws();

const entries = (config: Config, customerId: string): Promise<LedgerEntry[]> =>
  ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, customerId);

const statusOf = async (config: Config, customerId: string, occasionPrefix = ''): Promise<string | undefined> =>
  (await entries(config, customerId)).find((e) => e.occasionKey.startsWith(occasionPrefix))?.status;

const count = async (customerId: string): Promise<number> => (await emailsTo(aws, `${customerId}@example.com`)).length;

describe('campaign timing on the embedded AWS', () => {
  it('welcome: 23h59 and 24h01 (late) after the first contact are sent, 71h59 too, 72h01 is past the cut-off', async () => {
    const config = await campaignConfig(aws, 'welcome-window');
    const zone = 'Europe/Paris';
    const now = at('2026-11-23 11:00', zone);
    const minutes = (h: number, m: number) => (h * 60 + m) * MINUTE;
    await seedProfiles(aws, config, [
      profileItem('w-2359', { timeZone: zone, stage: 'new', firstOrderAt: iso(now - minutes(23, 59)), lastOrderAt: iso(now - minutes(23, 59)) }),
      profileItem('w-2401', { timeZone: zone, tier: 'Prospect', stage: 'prospect', orderCount: 0, signedUpAt: iso(now - minutes(24, 1)) }),
      profileItem('w-7159', { timeZone: zone, stage: 'new', firstOrderAt: iso(now - minutes(71, 59)), lastOrderAt: iso(now - minutes(71, 59)) }),
      profileItem('w-7201', { timeZone: zone, stage: 'new', firstOrderAt: iso(now - minutes(72, 1)), lastOrderAt: iso(now - minutes(72, 1)) }),
    ]);

    const summary = await runCampaignHour(aws, config, now, 'welcome-window-1');

    expect(summary.campaigns.welcome).toMatchObject({ due: 3, sent: 3, failed: 0, deferred: 0 });
    for (const id of ['w-2359', 'w-2401', 'w-7159']) {
      expect(await statusOf(config, id, 'welcome'), id).toBe('sent');
      expect(await count(id), id).toBe(1);
    }
    // Its window closed a minute before this first run: recorded as expired, not sent, not silently dropped.
    expect(await entries(config, 'w-7201')).toEqual([
      expect.objectContaining({ occasionKey: 'welcome', status: 'expired', reason: expect.stringMatching(/before any run decided it$/) }),
    ]);
    expect(summary.campaigns.welcome?.expired).toBe(1);
    expect(await count('w-7201')).toBe(0);
  });

  it('the email names the client (escaped in the HTML) and carries the one-click List-Unsubscribe headers', async () => {
    const config = await campaignConfig(aws, 'content');
    const now = at('2026-11-23 10:00', 'Asia/Shanghai');
    await seedProfiles(aws, config, [
      profileItem('content-1', { firstName: 'Zoë & <Ann>', locale: 'en-US', stage: 'new', firstOrderAt: iso(now - 2 * HOUR), lastOrderAt: iso(now - 2 * HOUR) }),
    ]);
    await runCampaignHour(aws, config, now, 'content-1');
    const [email, ...more] = await emailsTo(aws, 'content-1@example.com');
    expect(more).toEqual([]);
    expect(email?.subject).toContain('Zoë & <Ann>');
    expect(email?.body.html).toContain('Zoë &amp; &lt;Ann&gt;');
    expect(email?.body.html).not.toContain('<Ann>');
    expect(email?.body.text).toContain('Zoë & <Ann>');
    expect(email?.from).toBe(config.sender.fromAddress);
    const headers = new Map((email?.headers ?? []).map((h) => [h.name.toLowerCase(), h.value]));
    expect(headers.get('list-unsubscribe')).toMatch(/^<https:\/\/unsubscribe\.example\.com\/\?t=[^>]+>$/);
    expect(headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    // The link in the body is the one in the header.
    const link = headers.get('list-unsubscribe')?.slice(1, -1) ?? '';
    expect(email?.body.text).toContain(link);
  });

  it('replenishment: due from local midnight of run-out − 15 days in the client zone, not at 23:30 the day before', async () => {
    const zone = 'America/New_York';
    const purchasedAt = at('2026-10-01 12:00', zone);
    // Bought on 2 days with a 45-day personal cycle: runs out 2026-11-15, reminder due 2026-10-31 (local).
    const client = profileItem('repl-ny', {
      timeZone: zone,
      firstOrderAt: iso(purchasedAt - 45 * DAY),
      lastOrderAt: iso(purchasedAt),
      orderCount: 2,
      skus: { 'CREAM-50': { productName: 'Face cream', category: 'skincare', lastPurchasedAt: iso(purchasedAt), quantity: 1, purchases: 2, personalCycleDays: 45 } },
    });
    const occasionKey = `replenishment#CREAM-50#${iso(purchasedAt)}`;
    const dayBefore = at('2026-10-30 23:30', zone);
    const dueDay = at('2026-10-31 00:30', zone);
    // Both instants are on the same UTC day (2026-10-31 03:30Z and 04:30Z): only the local day tells them apart.
    expect(iso(dayBefore).slice(0, 10)).toBe(iso(dueDay).slice(0, 10));

    // No quiet hours (start = end), so the due day's 00:30 run may send.
    const config = await campaignConfig(aws, 'repl-noquiet', { campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } } } });
    // A consumable (replenish_days in the products export); the personal cycle times it.
    const creamProducts = [{ sku: 'CREAM-50', name: 'Face cream', category: 'skincare', replenishDays: 60 }];
    await seedCatalog(aws, config, creamProducts);
    await seedProfiles(aws, config, [client]);
    const before = await runCampaignHour(aws, config, dayBefore, 'repl-1');
    expect(before.campaigns.replenishment).toMatchObject({ due: 0, sent: 0 });
    expect(await entries(config, 'repl-ny')).toEqual([]);
    const due = await runCampaignHour(aws, config, dueDay, 'repl-2');
    expect(due.campaigns.replenishment).toMatchObject({ due: 1, sent: 1 });
    expect((await entries(config, 'repl-ny')).map((e) => [e.occasionKey, e.status])).toEqual([[occasionKey, 'sent']]);
    const [email] = await emailsTo(aws, 'repl-ny@example.com');
    expect(email?.body.text).toContain('Face cream');

    // With the default quiet hours (21:00–09:00) the same 00:30 run defers to 09:00 local that day.
    const quiet = await campaignConfig(aws, 'repl-quiet');
    await seedCatalog(aws, quiet, creamProducts);
    await seedProfiles(aws, quiet, [{ ...client, customerId: 'repl-ny-q', email: 'repl-ny-q@example.com' }]);
    expect((await runCampaignHour(aws, quiet, dayBefore, 'repl-q-1')).campaigns.replenishment).toMatchObject({ due: 0, deferred: 0 });
    const deferred = await runCampaignHour(aws, quiet, dueDay, 'repl-q-2');
    expect(deferred.campaigns.replenishment).toMatchObject({ due: 1, deferred: 1, sent: 0 });
    const [entry] = await entries(quiet, 'repl-ny-q');
    expect(entry).toMatchObject({ status: 'deferred', reason: 'quiet-hours', deferredUntil: at('2026-10-31 09:00', zone) });
    expect(await count('repl-ny-q')).toBe(0);
  });

  it('win-back: local day 60 and 61 are due, day 59 not; once per lapse', async () => {
    const config = await campaignConfig(aws, 'winback');
    const zone = 'America/Los_Angeles';
    const now = at('2026-11-23 10:00', zone);
    // Orders at 23:30 local: the next UTC day, so a UTC day count would be one short.
    const lapsed = (id: string, orderDay: string) => {
      const lastOrder = iso(at(`${orderDay} 23:30`, zone));
      return profileItem(id, { timeZone: zone, stage: 'sleeping', firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: lastOrder, orderCount: 3 });
    };
    await seedProfiles(aws, config, [lapsed('wb-59', '2026-09-25'), lapsed('wb-60', '2026-09-24'), lapsed('wb-61', '2026-09-23')]);

    const first = await runCampaignHour(aws, config, now, 'winback-1');
    expect(first.campaigns.winback).toMatchObject({ due: 2, sent: 2 });
    expect(await statusOf(config, 'wb-60', 'winback#')).toBe('sent');
    expect(await statusOf(config, 'wb-61', 'winback#')).toBe('sent');
    expect(await entries(config, 'wb-59')).toEqual([]);

    // A day later: wb-59 reaches day 60; wb-60 (now day 61) and wb-61 were already won back for this lapse.
    const second = await runCampaignHour(aws, config, now + DAY, 'winback-2');
    expect(second.campaigns.winback).toMatchObject({ due: 1, sent: 1 });
    expect(await count('wb-59')).toBe(1);
    expect(await count('wb-60')).toBe(1);
    expect(await count('wb-61')).toBe(1);
  });

  it('frequency cap: welcome (priority 1) goes, replenishment is capped, then sent once 24 h have passed', async () => {
    const config = await campaignConfig(aws, 'cap');
    const zone = 'Asia/Shanghai';
    const firstOrder = at('2026-11-22 09:00', zone);
    // A travel size that lasts 16 days: its reminder is due from the next local day, with the welcome still open.
    await seedCatalog(aws, config, [{ sku: 'MINI-SERUM', name: 'Travel serum', category: 'skincare', replenishDays: 16 }]);
    await seedProfiles(aws, config, [
      profileItem('cap-1', {
        stage: 'new',
        firstOrderAt: iso(firstOrder),
        lastOrderAt: iso(firstOrder),
        skus: { 'MINI-SERUM': { lastPurchasedAt: iso(firstOrder), quantity: 1, purchases: 1 } },
      }),
    ]);
    const now = at('2026-11-23 10:00', zone);

    const first = await runCampaignHour(aws, config, now, 'cap-1');
    expect(first.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });
    expect(first.campaigns.replenishment).toMatchObject({ due: 1, capped: 1, sent: 0 });
    expect(await entries(config, 'cap-1')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ occasionKey: 'welcome', status: 'sent' }),
        expect.objectContaining({ campaignId: 'replenishment', status: 'capped', reason: 'priority' }),
      ]),
    );

    const hourLater = await runCampaignHour(aws, config, now + HOUR, 'cap-2');
    expect(hourLater.campaigns.replenishment).toMatchObject({ due: 1, capped: 1, sent: 0 });
    expect(await statusOf(config, 'cap-1', 'replenishment')).toBe('capped');
    expect((await entries(config, 'cap-1')).find((e) => e.campaignId === 'replenishment')?.reason).toBe('frequency-24h');
    expect(await count('cap-1')).toBe(1);

    const dayLater = await runCampaignHour(aws, config, now + 25 * HOUR, 'cap-3');
    expect(dayLater.campaigns.replenishment).toMatchObject({ due: 1, sent: 1 });
    expect(dayLater.campaigns.welcome?.sent).toBe(0);
    expect(await statusOf(config, 'cap-1', 'replenishment')).toBe('sent');
    const emails = await emailsTo(aws, 'cap-1@example.com');
    expect(emails).toHaveLength(2);
    expect(emails[1]?.body.text).toContain('Travel serum');
  });

  it('quiet hours: 22:00 in Shanghai is deferred to 09:00 local and sent by the 09:00 run', async () => {
    const config = await campaignConfig(aws, 'quiet-sh');
    const zone = 'Asia/Shanghai';
    await seedProfiles(aws, config, [
      profileItem('qh-sh', { tier: 'Prospect', stage: 'prospect', orderCount: 0, signedUpAt: iso(at('2026-11-23 21:30', zone)) }),
    ]);
    const night = await runCampaignHour(aws, config, at('2026-11-23 22:00', zone), 'qh-1');
    expect(night.campaigns.welcome).toMatchObject({ due: 1, deferred: 1, sent: 0 });
    expect(await entries(config, 'qh-sh')).toEqual([
      expect.objectContaining({ status: 'deferred', reason: 'quiet-hours', deferredUntil: at('2026-11-24 09:00', zone) }),
    ]);
    const early = await runCampaignHour(aws, config, at('2026-11-24 08:00', zone), 'qh-2');
    expect(early.campaigns.welcome).toMatchObject({ due: 1, deferred: 1, sent: 0 });
    expect(await count('qh-sh')).toBe(0);
    const morning = await runCampaignHour(aws, config, at('2026-11-24 09:00', zone), 'qh-3');
    expect(morning.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });
    expect(await statusOf(config, 'qh-sh')).toBe('sent');
    expect(await count('qh-sh')).toBe(1);
  });

  it.each([
    // Spring forward: 09:00 EDT on 2026-03-08 is 13:00Z (09:00 at the evening's EST offset would be 14:00Z).
    { name: 'spring', signUp: '2026-03-07 22:00', night: '2026-03-07 23:00', nineAm: '2026-03-08T13:00:00Z' },
    // Fall back: 09:00 EST on 2026-11-01 is 14:00Z (at the evening's EDT offset it would be 13:00Z).
    { name: 'fall', signUp: '2026-10-31 22:00', night: '2026-10-31 23:00', nineAm: '2026-11-01T14:00:00Z' },
  ])('quiet hours across the New York DST change ($name): deferred to 09:00 local of the new offset', async ({ name, signUp, night, nineAm }) => {
    const config = await campaignConfig(aws, `quiet-ny-${name}`);
    const zone = 'America/New_York';
    const id = `qh-ny-${name}`;
    await seedProfiles(aws, config, [profileItem(id, { timeZone: zone, tier: 'Prospect', stage: 'prospect', orderCount: 0, signedUpAt: iso(at(signUp, zone)) })]);
    const nine = Date.parse(nineAm);

    const first = await runCampaignHour(aws, config, at(night, zone), `${id}-1`);
    expect(first.campaigns.welcome).toMatchObject({ due: 1, deferred: 1 });
    expect(await entries(config, id)).toEqual([expect.objectContaining({ status: 'deferred', deferredUntil: nine })]);
    // 08:00 local: still quiet.
    const early = await runCampaignHour(aws, config, nine - HOUR, `${id}-2`);
    expect(early.campaigns.welcome).toMatchObject({ due: 1, deferred: 1, sent: 0 });
    expect(await count(id)).toBe(0);
    const morning = await runCampaignHour(aws, config, nine, `${id}-3`);
    expect(morning.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });
    expect(await count(id)).toBe(1);
  });

  // The schedule fires on the brand's hours (Shanghai): 23:00 there is 20:30 in Kolkata, so quiet
  // hours begin there while the 23:00 run is still allowed to start (50 minutes) or to send.
  const kolkata = 'Asia/Kolkata';
  const brandHour = at('2026-11-23 23:00', 'Asia/Shanghai');
  const kolkataWelcome = (id: string) =>
    profileItem(id, { timeZone: kolkata, tier: 'Prospect', stage: 'prospect', orderCount: 0, signedUpAt: iso(at('2026-11-23 20:00', kolkata)) });
  const nextMorning = at('2026-11-24 12:00', 'Asia/Shanghai'); // 09:30 in Kolkata

  it('quiet hours at departure: the 23:00 (Shanghai) run started 40 minutes late defers a Kolkata client (21:10 local) to the morning, which sends it once', async () => {
    const config = await campaignConfig(aws, 'qh-late');
    await seedProfiles(aws, config, [kolkataWelcome('qh-late-kol')]);

    const late = await runCampaignHour(aws, config, brandHour, 'qh-late-1', { realClock: () => brandHour + 40 * MINUTE });
    expect(late.campaigns.welcome).toMatchObject({ due: 1, deferred: 1, sent: 0 });
    expect(await entries(config, 'qh-late-kol')).toEqual([
      expect.objectContaining({ status: 'deferred', reason: 'quiet-hours', deferredUntil: at('2026-11-24 09:00', kolkata) }),
    ]);
    expect(await count('qh-late-kol')).toBe(0);

    const morning = await runCampaignHour(aws, config, nextMorning, 'qh-late-2', { realClock: () => nextMorning + 5 * MINUTE });
    expect(morning.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });
    expect(await statusOf(config, 'qh-late-kol')).toBe('sent');
    const again = await runCampaignHour(aws, config, nextMorning + HOUR, 'qh-late-3');
    expect(again.campaigns.welcome?.due).toBe(0);
    expect(await count('qh-late-kol')).toBe(1);
  });

  it('quiet hours at departure: an on-time 23:00 (Shanghai) run still sending at 21:01 in Kolkata holds the client it reaches then, and sends the one before', async () => {
    const config = await campaignConfig(aws, 'qh-long-run');
    await seedProfiles(aws, config, [kolkataWelcome('qh-long-a'), kolkataWelcome('qh-long-b')]);
    // The first email leaves at 20:50 local, the second 11 minutes later (a big hour paced at the SES rate).
    const departures = [brandHour + 20 * MINUTE, brandHour + 31 * MINUTE];
    const realClock = () => departures.shift() ?? brandHour + 31 * MINUTE;

    const hour = await runCampaignHour(aws, config, brandHour, 'qh-long-1', { realClock });
    expect(hour.campaigns.welcome).toMatchObject({ due: 2, sent: 1, deferred: 1 });
    const statuses = await Promise.all(['qh-long-a', 'qh-long-b'].map((id) => statusOf(config, id)));
    expect([...statuses].sort()).toEqual(['deferred', 'sent']);
    const held = statuses[0] === 'deferred' ? 'qh-long-a' : 'qh-long-b';
    expect(await entries(config, held)).toEqual([expect.objectContaining({ status: 'deferred', reason: 'quiet-hours', deferredUntil: at('2026-11-24 09:00', kolkata) })]);

    const morning = await runCampaignHour(aws, config, nextMorning, 'qh-long-2', { realClock: () => nextMorning });
    expect(morning.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });
    expect(await count('qh-long-a')).toBe(1);
    expect(await count('qh-long-b')).toBe(1);
  });

  it('cut-off at departure: the 10:00 run started 50 minutes late does not send a welcome whose 72 h closed at 10:20, it records it expired', async () => {
    const config = await campaignConfig(aws, 'cutoff-late');
    const shanghai = 'Asia/Shanghai';
    await seedProfiles(aws, config, [
      profileItem('cutoff-late-1', { tier: 'Prospect', stage: 'prospect', orderCount: 0, spend12mMinor: 0, lifetimeSpendMinor: 0, signedUpAt: iso(at('2026-11-20 10:20', shanghai)) }),
    ]);
    const hour = at('2026-11-23 10:00', shanghai);

    // Due at the hour's instant (71 h 40 min), reached on the real clock at 10:50 (72 h 30 min).
    const late = await runCampaignHour(aws, config, hour, 'cutoff-late-1', { realClock: () => hour + 50 * MINUTE });
    expect(late.campaigns.welcome).toMatchObject({ due: 0, sent: 0, expired: 1 });
    expect(await entries(config, 'cutoff-late-1')).toEqual([
      expect.objectContaining({ occasionKey: 'welcome', status: 'expired', reason: expect.stringMatching(/window closed at 2026-11-23T02:20:00\.000Z before the run reached it/) }),
    ]);
    const next = await runCampaignHour(aws, config, hour + HOUR, 'cutoff-late-2');
    expect(next.campaigns.welcome).toMatchObject({ due: 0, sent: 0, expired: 0 });
    expect(await count('cutoff-late-1')).toBe(0);
  });
});
