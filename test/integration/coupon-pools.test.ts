import { describe, expect, it } from 'vitest';
import { formatCampaignSummary } from '#local/format.ts';
import { writeObject } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { jsonLog } from '#shared/log.ts';
import { couponDrawer } from '#shared/sender/coupons.ts';
import { couponPoolKey } from '#shared/store/buckets.ts';
import { tableNames } from '#shared/store/tables.ts';
import { countsOf, runCampaignHour, UNSUBSCRIBE_SECRET } from '#test/support/campaign-runs.ts';
import { ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { HOUR, at, iso } from '#test/support/time.ts';

/** Issue 15 point 5: coupon codes drawn once from a pool uploaded per campaign, claimed in DynamoDB. */

const aws = sharedAws();
const AT = at('2026-11-23 10:00', 'Asia/Shanghai');

/** A scenario whose welcome offers a code from the pool; its pools under its own prefix. */
async function poolConfig(name: string, lowBelow = 2): Promise<Config> {
  return scenarioConfig(aws, name, {
    campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome', offers: { default: { kind: 'coupon', discountPercent: 10, couponFrom: { from: 'pool' } } } }] },
    sender: { ...aws.config.sender, maxSendRate: 500 },
    coupons: { poolsPrefix: `pools-${aws.scope}-${name}`, lowBelow },
  });
}

const uploadPool = (config: Config, codes: readonly string[]) =>
  writeObject(aws.clients.s3, { bucket: config.storage.exportsBucket, key: couponPoolKey(config, 'welcome'), body: `code\n${codes.join('\n')}\n`, contentType: 'text/csv' });

const newClients = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => profileItem(`${prefix}-${i}`, { stage: 'new', firstOrderAt: iso(AT - 2 * HOUR), lastOrderAt: iso(AT - 2 * HOUR) }));

const codeIn = (html: string | undefined) => /<strong>([A-Z0-9-]+)<\/strong>/.exec(html ?? '')?.[1];

function logLines(): { log: ReturnType<typeof jsonLog>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { log: jsonLog({ level: 'warn', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }), lines };
}

describe('coupon pools on the embedded AWS', () => {
  it('each occasion gets its own code, once; a rerun and a retry get the same one', async () => {
    const config = await poolConfig('once');
    await uploadPool(config, ['CODE-A', 'CODE-B', 'CODE-C', 'CODE-D', 'CODE-E']);
    const clients = newClients('once', 2);
    await seedProfiles(aws, config, clients);

    const summary = await runCampaignHour(aws, config, AT, 'once-1');
    expect(countsOf(summary, 'welcome')).toMatchObject({ due: 2, sent: 2 });
    expect(summary.coupons?.welcome).toMatchObject({ pool: 5, drawn: 2, reused: 0, noCode: 0, left: 3, missing: false });
    const codes = await Promise.all(clients.map(async (c) => codeIn((await emailsTo(aws, `${c.customerId}@example.com`))[0]?.body.html)));
    expect(new Set(codes).size).toBe(2);
    for (const code of codes) expect(['CODE-A', 'CODE-B', 'CODE-C', 'CODE-D', 'CODE-E']).toContain(code);

    // A rerun of the hour sends nothing and takes no code.
    const rerun = await runCampaignHour(aws, config, AT, 'once-2');
    expect(countsOf(rerun, 'welcome')).toMatchObject({ due: 0, sent: 0 });
    expect(rerun.coupons).toBeUndefined();

    // A retry of one occasion (a later run drawing for it again) gets its code back, not a new one.
    const drawer = couponDrawer({ s3: aws.clients.s3, config, coupons: { documents: aws.clients.documents, table: tableNames(config).couponCodes }, secret: UNSUBSCRIBE_SECRET, runId: 'retry', at: AT, log: jsonLog({ level: 'error' }) });
    const offer = { kind: 'coupon' as const, discountPercent: 10, couponFrom: { from: 'pool' as const } };
    const again = await drawer.codeFor({ tier: 'Entry' }, { campaignId: 'welcome', customerId: 'once-0', occasionKey: 'welcome', details: { offer } });
    expect(again).toEqual({ status: 'code', code: codes[0] });
    expect(drawer.pools().welcome).toMatchObject({ reused: 1, drawn: 0, left: 3 });
  });

  it('no code left: no email, deferred in the ledger with the reason, counted, alarmed; sent once codes are added', async () => {
    const config = await poolConfig('empty', 2);
    await uploadPool(config, ['ONLY-ONE']);
    const clients = newClients('empty', 2);
    await seedProfiles(aws, config, clients);
    const { log, lines } = logLines();

    const summary = await runCampaignHour(aws, config, AT, 'empty-1', { log });
    expect(countsOf(summary, 'welcome')).toMatchObject({ due: 2, sent: 1, deferred: 1 });
    expect(summary.coupons?.welcome).toMatchObject({ pool: 1, drawn: 1, noCode: 1, left: 0 });
    const ledger = await ledgerEntries(aws, config);
    const held = ledger.filter((e) => e.status === 'deferred');
    expect(held).toHaveLength(1);
    expect(held[0]?.reason).toBe('coupon-pool-empty');
    const [heldClient] = held;
    expect(await emailsTo(aws, `${heldClient?.customerId}@example.com`)).toHaveLength(0);
    expect(lines.find((l) => l.alert === 'coupon-pool-low')).toMatchObject({ campaignId: 'welcome', left: 0, noCode: 1 });
    expect(formatCampaignSummary(summary, config.timeZone)).toContain('Coupon pool welcome: 0 of 1 codes left (1 drawn, 0 given again); WARNING: 1 emails held for want of a code (pool empty)');

    await uploadPool(config, ['ONLY-ONE', 'SECOND-ONE']);
    const later = await runCampaignHour(aws, config, AT + HOUR, 'empty-2');
    expect(countsOf(later, 'welcome')).toMatchObject({ due: 1, sent: 1 });
    const emails = await emailsTo(aws, `${heldClient?.customerId}@example.com`);
    expect(emails.map((e) => codeIn(e.body.html))).toEqual(['SECOND-ONE']);
  });

  it('no pool uploaded: no email, reason coupon-pool-missing', async () => {
    const config = await poolConfig('missing');
    const clients = newClients('missing', 1);
    await seedProfiles(aws, config, clients);
    const summary = await runCampaignHour(aws, config, AT, 'missing-1');
    expect(countsOf(summary, 'welcome')).toMatchObject({ due: 1, sent: 0, deferred: 1 });
    expect(summary.coupons?.welcome).toMatchObject({ pool: 0, missing: true, noCode: 1 });
    expect((await ledgerEntries(aws, config)).map((e) => [e.status, e.reason])).toEqual([['deferred', 'coupon-pool-missing']]);
  });

  it('two runs drawing at once never hand out the same code', async () => {
    const config = await poolConfig('race', 0);
    const pool = Array.from({ length: 30 }, (_, i) => `RACE-${String(i).padStart(2, '0')}`);
    await uploadPool(config, pool);
    const coupons = { documents: aws.clients.documents, table: tableNames(config).couponCodes };
    const drawer = (runId: string) => couponDrawer({ s3: aws.clients.s3, config, coupons, secret: UNSUBSCRIBE_SECRET, runId, at: AT, log: jsonLog({ level: 'error' }) });
    const [first, second] = [drawer('race-1'), drawer('race-2')];
    const offer = { kind: 'coupon' as const, couponFrom: { from: 'pool' as const } };
    const draw = (run: typeof first, prefix: string) =>
      Promise.all(Array.from({ length: 20 }, (_, i) => run.codeFor({ tier: 'Core' }, { campaignId: 'welcome', customerId: `${prefix}-${i}`, occasionKey: 'welcome', details: { offer } })));
    const outcomes = [...(await Promise.all([draw(first, 'a'), draw(second, 'b')])).flat()];
    const codes = outcomes.flatMap((o) => (o.status === 'code' ? [o.code] : []));
    expect(codes).toHaveLength(30);
    expect(new Set(codes).size).toBe(30);
    expect(outcomes.filter((o) => o.status === 'none')).toHaveLength(10);
  });
});
