import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { runCampaignHour } from '#test/support/campaign-runs.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at } from '#test/support/time.ts';

/**
 * README, `first-order-care`: care and use tips for what the first order bought, its products,
 * the categoryCare tip of their categories and a sample when it bought a beauty category. The
 * profile keeps each SKU's last purchase; a client who bought the same cream again after her
 * first order (two days later, or the same day) got an email with no product, no tip and no
 * sample (found by an adversarial pass, probe-attack-plays-3). Three clients buy the cream on
 * 2 March at 10:00; one again on 4 March, one again at 16:00 the same day: the same email for all.
 */
const aws = sharedAws();
const work = scratchDir('plays-first-order-repeat');
const SH = 'Asia/Shanghai';
const TIP = 'Apply morning and evening on clean skin.';
const SAMPLE = 'A sample of something new';

describe('first-order care for a client who bought the same cream again', () => {
  it('shows the first order, its care tip and the beauty sample, as to a client who bought once', async () => {
    const config = await scenarioConfig(aws, 'plays-first-order-repeat', {
      campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'first-order-care' }] },
      categoryCare: { skincare: { en: TIP } },
      sender: { ...aws.config.sender, maxSendRate: 500 },
      plausibility: { maxUpgradeShare: 1, maxDropShare: 1 },
    });
    const dir = join(work, '2026-03-08');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'customers.csv'),
      [
        'customer_id,email,first_name,locale,time_zone,accepts_marketing',
        `once,once@fo-repeat.example.com,Ada,en,${SH},true`,
        `twice,twice@fo-repeat.example.com,Bea,en,${SH},true`,
        `sameday,sameday@fo-repeat.example.com,Cy,en,${SH},true`,
      ].join('\n') + '\n',
    );
    await writeFile(
      join(dir, 'orders.csv'),
      [
        'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency',
        'o1,once,2026-03-02T10:00:00+08:00,CREAM,Night Cream,skincare,1,120.00,USD',
        'o2,twice,2026-03-02T10:00:00+08:00,CREAM,Night Cream,skincare,1,120.00,USD',
        'o3,twice,2026-03-04T10:00:00+08:00,CREAM,Night Cream,skincare,1,120.00,USD',
        'o4,sameday,2026-03-02T10:00:00+08:00,CREAM,Night Cream,skincare,1,120.00,USD',
        'o5,sameday,2026-03-02T16:00:00+08:00,CREAM,Night Cream,skincare,1,120.00,USD',
      ].join('\n') + '\n',
    );
    await writeFile(join(dir, 'products.csv'), 'sku,name,category,replenish_days,price\nCREAM,Night Cream,skincare,90,120\n');
    await runNightly({ clock: () => at('2026-03-09 02:00', SH), runDate: '2026-03-08', runId: 'night', config, clients: aws.clients, source: directoryExportSource(dir) });
    // The first purchase the same day is stored beside the last (the profile keeps the last), and read back.
    const sameday = await getProfile(aws.clients.documents, tableNames(config).profiles, 'sameday');
    expect(sameday?.skus.CREAM).toMatchObject({ lastPurchasedAt: '2026-03-02T08:00:00.000Z', firstPurchasedAt: '2026-03-02T02:00:00.000Z' });
    await runCampaignHour(aws, config, at('2026-03-09 11:00', SH), 'hour');

    const [once] = await emailsTo(aws, 'once@fo-repeat.example.com');
    expect(once?.subject).toBe('Ada, getting the best from your Night Cream');
    expect(once?.body.text).toContain(TIP);
    expect(once?.body.text).toContain(SAMPLE);
    for (const [address, name] of [['twice@fo-repeat.example.com', 'Bea'], ['sameday@fo-repeat.example.com', 'Cy']] as const) {
      const [email] = await emailsTo(aws, address);
      expect(email?.subject).toBe(`${name}, getting the best from your Night Cream`);
      expect(email?.body.text).toContain(TIP);
      expect(email?.body.text).toContain(SAMPLE);
      // The same email but for the name and the unsubscribe token.
      const sameEmail = (text: string | undefined, who: string) => text?.replace(`Dear ${who},`, 'Dear …,').replace(/\?t=\S+/, '');
      expect(sameEmail(email?.body.text, name)).toBe(sameEmail(once?.body.text, 'Ada'));
    }
  }, 600_000);
});
