import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRoster } from '#shared/store/roster-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { clientele } from '#test/support/cli.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';

/** Issue 16 point 4: `clientele advisors plan` on the emulators, through the real entry point. */

const aws = sharedAws();
const work = scratchDir('advisors-plan');

describe('clientele advisors plan', () => {
  it('writes customer_id,advisor_id,reason for the book clients without an active advisor; keeps pairs; changes nothing stored', { timeout: 60_000 }, async () => {
    const config = await scenarioConfig(aws, 'advisors-plan', { advisors: { bookSize: { min: 1, max: 2 } } });
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-22',
      advisors: [
        { advisorId: 'EN1', name: 'Sophie', email: 'sophie@advisors.example.com', locale: 'en', active: true, store: 'Paris' },
        { advisorId: 'ZH1', name: '王芳', email: 'fang@advisors.example.com', locale: 'zh-CN', active: true, store: 'Shanghai' },
        { advisorId: 'OLD', name: 'Left', email: 'left@advisors.example.com', locale: 'zh-CN', active: false, store: 'Shanghai' },
      ],
    });
    await seedProfiles(aws, config, [
      profileItem('kept', { tier: 'VIC', spend12mMinor: 9_000_000, advisorId: 'EN1', locale: 'en' }),
      profileItem('zh-vic', { tier: 'VIC', spend12mMinor: 8_000_000, locale: 'zh-CN' }),
      profileItem('handed', { tier: 'Core', spend12mMinor: 700_000, advisorId: 'OLD', locale: 'zh-CN' }),
      profileItem('rising', { tier: 'Potential', spend12mMinor: 300_000, locale: 'en-US', clv: { probabilityAlive: 0.9, expectedPurchases90d: 1, expectedPurchases365d: 4, expectedAverageOrderValueMinor: 200_000, clv12mMinor: 800_000, rising: true, churnRisk: 'low' } }),
      profileItem('flat', { tier: 'Potential', spend12mMinor: 300_000, locale: 'en-US' }),
      profileItem('entry', { tier: 'Entry', spend12mMinor: 10_000 }),
    ]);
    const configFile = join(work, 'config.json');
    await writeFile(configFile, JSON.stringify(config));
    const out = join(work, 'plan.csv');

    const { stdout } = await clientele('advisors', 'plan', '--config', configFile, '--out', out, '--json');
    const summary = JSON.parse(stdout) as { bookClients: number; proposed: number; unplaced: number; books: unknown[] };
    expect(summary).toMatchObject({ bookClients: 4, proposed: 3, unplaced: 0 });
    expect(await readFile(out, 'utf8')).toBe(
      [
        'customer_id,advisor_id,reason',
        'zh-vic,ZH1,no advisor; same language (zh); book 1 of 1-2',
        'rising,EN1,no advisor; same language (en); book 2 of 1-2',
        'handed,ZH1,advisor OLD inactive; same language (zh); same store as before (Shanghai); book 2 of 1-2',
        '',
      ].join('\n'),
    );
    // The platform owns advisor_id: the stored profiles are as they were.
    expect((await getProfile(aws.clients.documents, tableNames(config).profiles, 'handed'))?.advisorId).toBe('OLD');
    expect((await getProfile(aws.clients.documents, tableNames(config).profiles, 'zh-vic'))?.advisorId).toBeUndefined();
  });
});
