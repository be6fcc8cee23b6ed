import { describe, expect, it } from 'vitest';
import { writeRoster } from '#shared/store/roster-store.ts';
import { advisorsConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, iso } from '#test/support/time.ts';

/**
 * An advisor's address the mailer refuses for good without calling SES (a doubled dot, a local part
 * past 64 octets: isSendableAddress), which the roster's reader accepts (html5Email): the real hour's
 * task email is refused, and the VIC's note goes at once from the client care team. The dry run,
 * which sends nothing, plans the same instead of a note waiting for the advisor's task.
 */
const aws = sharedAws();
const ZONE = 'Asia/Shanghai';
const NOW = at('2026-11-23 10:00', ZONE);

describe('an advisor address the mailer cannot send to', () => {
  it('the dry run plans what the real hour does: the note goes now, from the care team', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'unsendable-advisor');
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie..martin@advisors.example.com', locale: 'en', active: true }] });
    await seedProfiles(aws, config, [
      profileItem('dot-vic', { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 }),
    ]);
    const dry = await runCampaignHour(aws, config, NOW, 'dot-dry', { dryRun: true });
    const hour = await runCampaignHour(aws, config, NOW, 'dot-1');
    expect(hour.taskEmailsRefused).toBe(1);
    expect(countsOf(hour, 'winback')).toMatchObject({ sent: 1 });
    expect(await emailsTo(aws, 'dot-vic@example.com')).toHaveLength(1);
    // The dry run must show the same: the note goes this hour.
    expect(dry.plan?.map((p) => [p.customerId, p.outcome])).toEqual([['dot-vic', 'send']]);
  });
});
