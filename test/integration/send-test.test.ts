import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { clienteleExit } from '#test/support/cli.ts';
import { ledgerEntries, scanTable, seedCatalog, seedProfiles } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { tableNames } from '#shared/store/tables.ts';

/** Issue 15 point 6: `clientele send-test` and `clientele preview` of a stored or a made-up client, on the emulators. */

const aws = sharedAws();
const work = scratchDir('send-test');
let config: Config;
let configFile: string;
const AT = '2026-11-24T10:00:00+08:00';
const bought = '2026-09-01T02:00:00.000Z';

beforeAll(async () => {
  config = await scenarioConfig(aws, 'send-test', {
    brandName: 'Maison Lumière',
    categoryNames: { skincare: { en: 'Skincare', 'zh-CN': '护肤' } },
    campaigns: { policy: { controlShare: 0 } },
    sender: { fromAddress: 'hello@maison.example', shopUrl: 'https://shop.maison.example/', postalAddress: ['1 Demo Plaza', 'Shanghai 200000'] },
  });
  configFile = join(work, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  await seedCatalog(aws, config, [
    { sku: 'SERUM', name: 'Camellia Serum', category: 'skincare', replenishDays: 60, url: 'https://shop.maison.example/p/serum', priceMinor: 128_000, currency: 'CNY' },
    { sku: 'CREAM', name: 'Night Cream', category: 'skincare', replenishDays: 90 },
  ]);
  await seedProfiles(aws, config, [
    profileItem('st-1', {
      email: 'real.client@example.com',
      locale: 'en',
      tier: 'Core',
      lastOrderAt: bought,
      firstOrderAt: bought,
      topCategory: 'skincare',
      skus: { SERUM: { productName: 'Camellia Serum', category: 'skincare', lastPurchasedAt: bought, quantity: 1, purchases: 1 } },
    }),
  ]);
});

const run = (...args: string[]) => clienteleExit([...args, '--config', configFile, '--at', AT], { env: { UNSUBSCRIBE_SECRET: 'y'.repeat(40) } });

describe('clientele send-test', () => {
  it('sends a made-up client\'s zh-CN win-back, marked, to an internal address; nothing in the ledger', async () => {
    const result = await run('send-test', '--campaign', 'winback', '--locale', 'zh-CN', '--to', 'crm@maison.example');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Sent a test of winback \(zh-CN, a made-up Core client\) to crm@maison\.example/);
    const [email, ...more] = await emailsTo(aws, 'crm@maison.example');
    expect(more).toHaveLength(0);
    expect(email?.subject).toMatch(/^\[测试\] /);
    const html = email?.body.html ?? '';
    expect(html).toContain('从您喜爱的护肤中为您精选');
    expect(html).toContain('¥1,280.00');
    expect(html).toContain('utm_campaign=winback');
    expect(html).toContain('1 Demo Plaza');
    expect(html).not.toContain('skincare');
    expect(await ledgerEntries(aws, config)).toEqual([]);
    expect(await scanTable(aws, tableNames(config).couponCodes)).toEqual([]);
  });

  it('sends a stored client\'s email to the internal address, never to the client', async () => {
    const result = await run('send-test', '--campaign', 'replenishment', '--customer', 'st-1', '--to', 'qa@maison.example', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ campaign: 'replenishment', client: 'customer st-1', locale: 'en', status: 'sent', subject: expect.stringMatching(/^\[TEST\] Time to restock your Camellia Serum/) });
    expect(await emailsTo(aws, 'qa@maison.example')).toHaveLength(1);
    expect(await emailsTo(aws, 'real.client@example.com')).toHaveLength(0);
    expect(await ledgerEntries(aws, config)).toEqual([]);
  });

  it('refuses an address outside the internal domains unless --allow-external', async () => {
    const refused = await run('send-test', '--campaign', 'welcome', '--to', 'someone@maison.example.evil.test');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not at an internal domain \(maison\.example\).*--allow-external/);
    expect(await emailsTo(aws, 'someone@maison.example.evil.test')).toHaveLength(0);
    const allowed = await run('send-test', '--campaign', 'welcome', '--to', 'agency@partner.test', '--allow-external');
    expect(allowed.code).toBe(0);
    expect(await emailsTo(aws, 'agency@partner.test')).toHaveLength(1);
  });
});

describe('clientele preview', () => {
  it('renders any campaign for a made-up client, in either language', async () => {
    const result = await run('preview', '--campaign', 'replenishment', '--locale', 'en', '--tier', 'Potential', '--format', 'html');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('To: (a made-up Potential client, en)');
    expect(result.stdout).toContain('Camellia Serum');
    expect(result.stdout).toContain('CN¥1,280.00');
  });
});
