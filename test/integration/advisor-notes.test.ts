import { describe, expect, it } from 'vitest';
import { writeRoster } from '#shared/advisors/roster.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, iso } from '#test/support/time.ts';

/**
 * Issue 16 point 2 on the embedded AWS: the VIC win-back goes out in the advisor's name, From
 * "Advisor via Brand <brand address>" and Reply-To the advisor, as the SES emulator stores them;
 * a VIC whose advisor has left gets the client care team's note from the brand.
 */

const aws = sharedAws();
const ZONE = 'Asia/Shanghai';
const NOW = at('2026-11-23 10:00', ZONE);

/** The text of RFC 2047 B-encoded words in a From header. */
const decoded = (header: string) =>
  header.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=/g, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));

describe('personal notes in the advisor’s name, as SES receives them', () => {
  it('From "Advisor via Brand", Reply-To the advisor, in zh-CN and en; the client care team for a VIC whose advisor left', async () => {
    const config = await campaignConfig(aws, 'advisor-notes', { sender: { fromAddress: 'hello@maison.example.com' } });
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-22',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@advisors.example.com', locale: 'en', active: true, signature: 'Senior advisor, Rue Cambon' },
        { advisorId: 'A02', name: '王芳', email: 'wang.fang@advisors.example.com', locale: 'zh-CN', active: true },
        { advisorId: 'A03', name: 'Left Already', email: 'left@advisors.example.com', active: false },
      ],
    });
    // VICs 60 days past their last order: the win-back's day.
    const lapsedVic = (id: string, advisorId: string, locale: string) =>
      profileItem(id, { tier: 'VIC', stage: 'sleeping', advisorId, locale, timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });
    await seedProfiles(aws, config, [lapsedVic('note-en', 'A01', 'en'), lapsedVic('note-zh', 'A02', 'zh-CN'), lapsedVic('note-left', 'A03', 'en')]);

    const summary = await runCampaignHour(aws, config, NOW, 'notes-1');
    expect(summary.campaigns.winback).toMatchObject({ due: 3, sent: 3 });

    const [en] = await emailsTo(aws, 'note-en@example.com');
    expect(decoded(en?.from ?? '')).toBe('Sophie Martin via Clientele Demo Brand <hello@maison.example.com>');
    expect(en?.replyTo).toEqual(['sophie@advisors.example.com']);
    expect(en?.body.text).toContain('Warm regards,\nSophie Martin\nSenior advisor, Rue Cambon\nClientele Demo Brand');

    const [zh] = await emailsTo(aws, 'note-zh@example.com');
    expect(zh?.from).toMatch(/^=\?UTF-8\?B\?/);
    expect(decoded(zh?.from ?? '')).toBe('王芳 via Clientele Demo Brand <hello@maison.example.com>');
    expect(zh?.replyTo).toEqual(['wang.fang@advisors.example.com']);
    expect(zh?.body.text).toContain('此致\n王芳\nClientele Demo Brand专属顾问');

    const [left] = await emailsTo(aws, 'note-left@example.com');
    expect(left?.from).toBe('hello@maison.example.com');
    expect(left?.replyTo ?? []).toEqual([]);
    expect(left?.body.text).toContain('The Clientele Demo Brand client care team');
    expect(left?.body.text).not.toMatch(/personal advisor|Left Already/);
  });
});
