import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '#shared/aws/clients.ts';
import { writeObject } from '#shared/aws/s3-objects.ts';
import { couponSchemeKey, schemeCouponCode } from '#shared/campaigns/coupon-codes.ts';
import type { Config } from '#shared/config.ts';
import { jsonLog } from '#shared/log.ts';
import { couponPoolKey } from '#shared/store/buckets.ts';
import { occasionRef, takeCode } from '#shared/store/coupon-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { countsOf, runCampaignHour, UNSUBSCRIBE_SECRET } from '#test/support/campaign-runs.ts';
import { clientele } from '#test/support/cli.ts';
import { ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { DAY, HOUR, at, iso } from '#test/support/time.ts';

/**
 * The codes the sender gives: one shop code (case aside) to one client, a scheme's generated codes
 * recorded so that the shop can import them (`clientele coupons issued`), a clash with another
 * run's transaction that does not end the hour, and the pool alarm whatever `lowBelow` says.
 */

const aws = sharedAws();
const work = scratchDir('coupon-codes-given');
const AT = at('2026-11-23 10:00', 'Asia/Shanghai');
const poolOffer = { kind: 'coupon' as const, discountPercent: 10, couponFrom: { from: 'pool' as const } };
const schemeOffer = { kind: 'coupon' as const, discountPercent: 15, couponFrom: { from: 'scheme' as const, prefix: 'WB', length: 10 } };

const codeIn = (html: string | undefined) => /<strong>([A-Za-z0-9_-]+)<\/strong>/.exec(html ?? '')?.[1];
const lapsed = (id: string) => profileItem(id, { stage: 'sleeping', firstOrderAt: iso(AT - 61 * DAY), lastOrderAt: iso(AT - 61 * DAY) });
const welcomeDue = (id: string, t: number) => profileItem(id, { stage: 'new', firstOrderAt: iso(t - 2 * HOUR), lastOrderAt: iso(t - 2 * HOUR) });

function couponsConfig(name: string, campaigns: unknown[], lowBelow = 0): Promise<Config> {
  return scenarioConfig(aws, name, {
    campaigns: { policy: { controlShare: 0 }, campaigns } as never,
    sender: { ...aws.config.sender, maxSendRate: 500 },
    coupons: { poolsPrefix: `pools-${aws.scope}-${name}`, lowBelow },
  });
}
const upload = (config: Config, campaignId: string, body: string) =>
  writeObject(aws.clients.s3, { bucket: config.storage.exportsBucket, key: couponPoolKey(config, campaignId), body, contentType: 'text/csv' });

function logLines(): { log: ReturnType<typeof jsonLog>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { log: jsonLog({ level: 'warn', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }), lines };
}

/** The documents client, with the first coupon-codes transaction meeting another run's transaction on its items. */
function conflictOnce(config: Config): AwsClients {
  const table = tableNames(config).couponCodes;
  const send = aws.clients.documents.send.bind(aws.clients.documents);
  const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
  let conflicted = false;
  documents.send = ((command: { constructor: { name: string }; input: { TransactItems?: { Put?: { TableName?: string } }[] } }, ...rest: unknown[]) => {
    if (!conflicted && command.constructor.name === 'TransactWriteCommand' && command.input.TransactItems?.[0]?.Put?.TableName === table) {
      conflicted = true;
      // What DynamoDB answers (and the SDK does not retry) when another transaction holds the item.
      return Promise.reject(
        new TransactionCanceledException({
          message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]',
          $metadata: { httpStatusCode: 400 },
          CancellationReasons: [{ Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }, { Code: 'None' }],
        }),
      );
    }
    return (send as (...a: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as AwsClients['documents']['send'];
  return { ...aws.clients, documents };
}

describe('coupon codes given', () => {
  it('a pool uploaded again in other letter case never gives a taken code (case aside) to another client', async () => {
    const config = await couponsConfig('case', [{ kind: 'welcome', offers: { default: poolOffer } }]);
    await upload(config, 'welcome', 'code\nSAVE-1\n');
    await seedProfiles(aws, config, [welcomeDue('case-a', AT)]);
    expect(countsOf(await runCampaignHour(aws, config, AT, 'case-1'), 'welcome')).toMatchObject({ sent: 1 });
    // Mid-day the pool comes again, the old code and a new one, exported in lower case this time.
    await upload(config, 'welcome', 'code\nsave-1\nsave-2\n');
    await seedProfiles(aws, config, [welcomeDue('case-b', AT + HOUR)]);
    const second = await runCampaignHour(aws, config, AT + HOUR, 'case-2');
    expect(countsOf(second, 'welcome')).toMatchObject({ sent: 1 });
    expect(codeIn((await emailsTo(aws, 'case-a@example.com'))[0]?.body.html)).toBe('SAVE-1');
    expect(codeIn((await emailsTo(aws, 'case-b@example.com'))[0]?.body.html)).toBe('save-2');
    expect(second.coupons?.welcome).toMatchObject({ pool: 2, left: 0, drawn: 1 });
  });

  it("a clash with another run's transaction on a code is looked at again: the hour goes on and every client gets a code of their own", async () => {
    const config = await couponsConfig('conflict', [{ kind: 'welcome' }, { kind: 'winback', offers: { default: poolOffer } }]);
    await upload(config, 'winback', 'code\nWB-1\nWB-2\nWB-3\n');
    await seedProfiles(aws, config, [lapsed('cf-lapsed-1'), lapsed('cf-lapsed-2'), welcomeDue('cf-new', AT)]);
    const summary = await runCampaignHour({ clients: conflictOnce(config) }, config, AT, 'conflict-1');
    expect(countsOf(summary, 'winback')).toMatchObject({ sent: 2 });
    expect(countsOf(summary, 'welcome')).toMatchObject({ sent: 1 });
    const codes = [codeIn((await emailsTo(aws, 'cf-lapsed-1@example.com'))[0]?.body.html), codeIn((await emailsTo(aws, 'cf-lapsed-2@example.com'))[0]?.body.html)];
    expect(new Set(codes).size).toBe(2);
    expect(codes.every((code) => code?.startsWith('WB-'))).toBe(true);
  });

  it('with lowBelow 0, a missing pool and a used-up one still raise the pool alarm while emails are held', async () => {
    const missing = await couponsConfig('low0-missing', [{ kind: 'winback', offers: { default: poolOffer } }]);
    await seedProfiles(aws, missing, [lapsed('low0-m-1')]);
    const noFile = logLines();
    expect(countsOf(await runCampaignHour(aws, missing, AT, 'low0-m', { log: noFile.log }), 'winback')).toMatchObject({ sent: 0, deferred: 1 });
    expect(noFile.lines.filter((line) => line.alert === 'coupon-pool-low')).toHaveLength(1);

    const usedUp = await couponsConfig('low0-empty', [{ kind: 'winback', offers: { default: poolOffer } }]);
    await upload(usedUp, 'winback', 'code\nWB-ONLY\n');
    await seedProfiles(aws, usedUp, [lapsed('low0-e-1'), lapsed('low0-e-2')]);
    const empty = logLines();
    expect(countsOf(await runCampaignHour(aws, usedUp, AT, 'low0-e', { log: empty.log }), 'winback')).toMatchObject({ sent: 1, deferred: 1 });
    expect(empty.lines.filter((line) => line.alert === 'coupon-pool-low')).toMatchObject([{ left: 0, noCode: 1 }]);

    // A pool with codes to spare and nothing held stays quiet at lowBelow 0.
    const plenty = await couponsConfig('low0-plenty', [{ kind: 'winback', offers: { default: poolOffer } }]);
    await upload(plenty, 'winback', 'code\nWB-A\nWB-B\n');
    await seedProfiles(aws, plenty, [lapsed('low0-p-1')]);
    const quiet = logLines();
    expect(countsOf(await runCampaignHour(aws, plenty, AT, 'low0-p', { log: quiet.log }), 'winback')).toMatchObject({ sent: 1 });
    expect(quiet.lines.filter((line) => line.alert === 'coupon-pool-low')).toEqual([]);
  });

  it("a scheme's codes are recorded as given, another occasion's code is never given again, and `clientele coupons issued` lists them for the shop", async () => {
    const config = await couponsConfig('scheme', [{ kind: 'winback', offers: { default: schemeOffer } }]);
    await seedProfiles(aws, config, [lapsed('sch-1'), lapsed('sch-2')]);
    const ledgerKeyOf = async (customerId: string) => (await ledgerEntries(aws, config)).find((entry) => entry.customerId === customerId)?.occasionKey as string;
    const summary = await runCampaignHour(aws, config, AT, 'scheme-1');
    expect(countsOf(summary, 'winback')).toMatchObject({ sent: 2 });
    const sent = {
      a: codeIn((await emailsTo(aws, 'sch-1@example.com'))[0]?.body.html) as string,
      b: codeIn((await emailsTo(aws, 'sch-2@example.com'))[0]?.body.html) as string,
    };
    expect(sent.a).toMatch(/^WB[2-9A-HJ-NP-Z]{10}$/);
    const key = couponSchemeKey(UNSUBSCRIBE_SECRET);
    const occasion = { campaignId: 'winback', customerId: 'sch-1', occasionKey: await ledgerKeyOf('sch-1') };
    expect(sent.a).toBe(schemeCouponCode(key, { prefix: 'WB', length: 10 }, occasion));

    // A third client whose first variant is taken by another occasion: the next variant is given.
    await seedProfiles(aws, config, [lapsed('sch-3')]);
    // Its win-back lapsed at the same instant as sch-1's: the same occasion key.
    const third = { ...occasion, customerId: 'sch-3' };
    const firstVariant = schemeCouponCode(key, { prefix: 'WB', length: 10 }, third);
    const coupons = { documents: aws.clients.documents, table: tableNames(config).couponCodes };
    expect(await takeCode(coupons, 'winback', firstVariant, { customerId: 'someone-else', occasionKey: 'winback#x' }, AT, 'other-run')).toBe('taken');
    expect(countsOf(await runCampaignHour(aws, config, AT + HOUR, 'scheme-2'), 'winback')).toMatchObject({ sent: 1 });
    const c = codeIn((await emailsTo(aws, 'sch-3@example.com'))[0]?.body.html) as string;
    expect(await ledgerKeyOf('sch-3')).toBe(occasion.occasionKey);
    expect(c).toBe(schemeCouponCode(key, { prefix: 'WB', length: 10 }, third, 1));
    expect(c).not.toBe(firstVariant);

    // The list the shop imports: every code given, the clash's too.
    const configFile = join(work, 'scheme-config.json');
    await writeFile(configFile, JSON.stringify(config));
    const { stdout } = await clientele('coupons', 'issued', '--campaign', 'winback', '--config', configFile);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header).toBe('code,campaign_id,given_at');
    expect(rows.map((row) => row.split(',')[0]).sort()).toEqual([sent.a, sent.b, c, firstVariant].sort());
    expect(stdout).not.toContain('sch-');
    await expect(clientele('coupons', 'issued', '--campaign', 'nope', '--config', configFile)).rejects.toMatchObject({ code: 2 });
  });

  it('a dry run holds the emails the pool could not give a code, as the real hour does, drawing nothing and raising no alarm', async () => {
    const config = await couponsConfig('dry', [{ kind: 'winback', offers: { default: poolOffer } }]);
    // One code for three lapsed clients.
    await upload(config, 'winback', 'code\nWB-ONLY\n');
    await seedProfiles(aws, config, ['dry-1', 'dry-2', 'dry-3'].map(lapsed));
    const dryLog = logLines();
    const dry = await runCampaignHour(aws, config, AT, 'dry-1', { dryRun: true, log: dryLog.log });
    expect(countsOf(dry, 'winback')).toMatchObject({ sent: 1, deferred: 2 });
    expect(dry.plan?.filter((p) => p.outcome === 'deferred').map((p) => p.reason)).toEqual(['coupon-pool-empty', 'coupon-pool-empty']);
    expect(dry.coupons?.winback).toMatchObject({ pool: 1, drawn: 0, noCode: 2 });
    expect(dryLog.lines.filter((line) => line.alert === 'coupon-pool-low')).toEqual([]);
    expect(await ledgerEntries(aws, config)).toEqual([]);
    // The hour itself: the same.
    const real = await runCampaignHour(aws, config, AT, 'real-1');
    expect(countsOf(real, 'winback')).toMatchObject({ sent: 1, deferred: 2 });
  });
});
