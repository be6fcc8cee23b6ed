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
import { DAY, HOUR, at, iso } from '#test/support/time.ts';

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

const uploadFile = (config: Config, campaignId: string, body: string | Uint8Array) =>
  writeObject(aws.clients.s3, { bucket: config.storage.exportsBucket, key: couponPoolKey(config, campaignId), body, contentType: 'text/csv' });

const uploadPool = (config: Config, codes: readonly string[]) => uploadFile(config, 'welcome', `code\n${codes.join('\n')}\n`);

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

  it('a pool file that is not a pool holds its own campaign only: deferred coupon-pool-unreadable, one alerted line naming the file, the hour goes on; read again next hour', async () => {
    const poolOffer = { kind: 'coupon' as const, discountPercent: 10, couponFrom: { from: 'pool' as const } };
    const config = await scenarioConfig(aws, 'unreadable', {
      campaigns: {
        policy: { controlShare: 0 },
        campaigns: [
          { kind: 'welcome' },
          { kind: 'winback', offers: { default: poolOffer } },
          // Served after the win-back (priority 6): the clients a run that stopped at the pool would never reach.
          { id: 'later', trigger: { on: 'any-order', daysAfter: 10 }, template: 'welcome', priority: 6 },
        ],
      },
      sender: { ...aws.config.sender, maxSendRate: 500 },
      coupons: { poolsPrefix: `pools-${aws.scope}-unreadable` },
    });
    await uploadFile(config, 'winback', 'coupon_code\nWB-SECRET-1\nWB-SECRET-2\n');
    await seedProfiles(aws, config, [
      profileItem('unr-new', { stage: 'new', firstOrderAt: iso(AT - 2 * HOUR), lastOrderAt: iso(AT - 2 * HOUR) }),
      profileItem('unr-lapsed', { stage: 'sleeping', firstOrderAt: iso(AT - 61 * DAY), lastOrderAt: iso(AT - 61 * DAY) }),
      profileItem('unr-later', { stage: 'active', firstOrderAt: iso(AT - 11 * DAY), lastOrderAt: iso(AT - 11 * DAY) }),
    ]);
    const { log, lines } = logLines();

    const summary = await runCampaignHour(aws, config, AT, 'unr-1', { log });
    expect(countsOf(summary, 'welcome')).toMatchObject({ due: 1, sent: 1 });
    expect(countsOf(summary, 'winback')).toMatchObject({ due: 1, sent: 0, deferred: 1 });
    expect(countsOf(summary, 'later')).toMatchObject({ due: 1, sent: 1 });
    expect(summary.introductions).toBeDefined();
    expect(summary.coupons?.winback).toMatchObject({ pool: 0, left: 0, noCode: 1, missing: false, unreadable: 'its first line is not the header "code"' });
    expect((await ledgerEntries(aws, config)).filter((e) => e.campaignId === 'winback').map((e) => [e.status, e.reason])).toEqual([['deferred', 'coupon-pool-unreadable']]);
    expect(await emailsTo(aws, 'unr-lapsed@example.com')).toHaveLength(0);

    // One line for the alarm, naming the object and the problem; no code of the file anywhere in the log.
    const alerted = lines.filter((l) => l.alert === 'coupon-pool-low');
    expect(alerted).toEqual([
      expect.objectContaining({
        level: 'error',
        message: expect.stringContaining('coupon pool unreadable'),
        campaignId: 'winback',
        pool: `s3://${config.storage.exportsBucket}/${couponPoolKey(config, 'winback')}`,
        problem: 'its first line is not the header "code"',
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('WB-SECRET');
    expect(formatCampaignSummary(summary, config.timeZone)).toContain(
      'Coupon pool winback: 0 of 0 codes left (0 drawn, 0 given again); WARNING: the pool file is unreadable (its first line is not the header "code"); WARNING: 1 emails held for want of a code (pool file unreadable)',
    );

    // The brand fixes the file: the next hour reads it again and the win-back goes out with a code.
    await uploadFile(config, 'winback', 'code\nWB-SECRET-1\nWB-SECRET-2\n');
    const next = await runCampaignHour(aws, config, AT + HOUR, 'unr-2');
    expect(countsOf(next, 'winback')).toMatchObject({ due: 1, sent: 1 });
    expect(next.coupons?.winback).toMatchObject({ pool: 2, drawn: 1, left: 1 });
    expect(next.coupons?.winback?.unreadable).toBeUndefined();
    expect((await emailsTo(aws, 'unr-lapsed@example.com')).map((e) => codeIn(e.body.html))).toEqual(['WB-SECRET-1']);
  });

  it('an empty file, or one S3 will not hand over, is unreadable too; a code drawn before the file broke is still given again', async () => {
    const config = await poolConfig('broken');
    await uploadPool(config, ['KEPT-1', 'KEPT-2']);
    const coupons = { documents: aws.clients.documents, table: tableNames(config).couponCodes };
    const drawer = (runId: string, runConfig: Config = config) => couponDrawer({ s3: aws.clients.s3, config: runConfig, coupons, secret: UNSUBSCRIBE_SECRET, runId, at: AT, log: jsonLog({ level: 'error', write: () => undefined }) });
    const offer = { kind: 'coupon' as const, couponFrom: { from: 'pool' as const } };
    const occasion = (customerId: string) => ({ campaignId: 'welcome', customerId, occasionKey: 'welcome', details: { offer } });
    expect(await drawer('broken-1').codeFor({ tier: 'Core' }, occasion('drew-before'))).toEqual({ status: 'code', code: 'KEPT-1' });

    await uploadFile(config, 'welcome', new Uint8Array()); // 0 bytes
    const emptyFile = drawer('broken-2');
    expect(await emptyFile.codeFor({ tier: 'Core' }, occasion('drew-before'))).toEqual({ status: 'code', code: 'KEPT-1' });
    expect(await emptyFile.codeFor({ tier: 'Core' }, occasion('new-one'))).toEqual({ status: 'none', reason: 'coupon-pool-unreadable' });
    expect(emptyFile.pools().welcome).toMatchObject({ pool: 0, reused: 1, noCode: 1, unreadable: expect.stringMatching(/^the file is empty/) });

    const refused = drawer('broken-3', { ...config, storage: { ...config.storage, exportsBucket: `no-such-bucket-${aws.scope}`.toLowerCase() } });
    expect(await refused.codeFor({ tier: 'Core' }, occasion('new-one'))).toEqual({ status: 'none', reason: 'coupon-pool-unreadable' });
    expect(refused.pools().welcome?.unreadable).toMatch(/^reading it from S3 failed: NoSuchBucket/);
  });

  it('an email waiting for a code lets the client\'s next occasion go that hour, one email at most, under the frequency cap', async () => {
    const poolOffer = { kind: 'coupon' as const, discountPercent: 10, couponFrom: { from: 'pool' as const } };
    const config = await scenarioConfig(aws, 'next', {
      campaigns: {
        policy: { controlShare: 0 },
        campaigns: [
          { kind: 'winback', offers: { default: poolOffer } },
          { id: 'later', trigger: { on: 'any-order', daysAfter: 61 }, template: 'welcome', priority: 6 },
          { id: 'last', trigger: { on: 'any-order', daysAfter: 61 }, template: 'welcome', priority: 7 },
        ],
      },
      sender: { ...aws.config.sender, maxSendRate: 500 },
      coupons: { poolsPrefix: `pools-${aws.scope}-next`, lowBelow: 0 },
    });
    await seedProfiles(aws, config, [profileItem('next-1', { stage: 'sleeping', firstOrderAt: iso(AT - 61 * DAY), lastOrderAt: iso(AT - 61 * DAY) })]);
    const statuses = async () => Object.fromEntries((await ledgerEntries(aws, config)).map((e) => [e.campaignId, [e.status, e.reason]]));

    // No pool yet: the win-back waits for a code, the next occasion by priority goes in its place, the one after is capped.
    const first = await runCampaignHour(aws, config, AT, 'next-1');
    expect(countsOf(first, 'winback')).toMatchObject({ due: 1, deferred: 1, sent: 0 });
    expect(countsOf(first, 'later')).toMatchObject({ due: 1, sent: 1 });
    expect(countsOf(first, 'last')).toMatchObject({ due: 1, sent: 0, capped: 1 });
    expect(await statuses()).toEqual({ winback: ['deferred', 'coupon-pool-missing'], later: ['sent', undefined], last: ['capped', 'priority'] });
    expect(await emailsTo(aws, 'next-1@example.com')).toHaveLength(1);

    // Codes arrive within the day: the win-back is first again, but the day's email has gone.
    await uploadFile(config, 'winback', 'code\nNEXT-1\n');
    const second = await runCampaignHour(aws, config, AT + HOUR, 'next-2');
    expect(countsOf(second, 'winback')).toMatchObject({ due: 1, capped: 1, sent: 0 });
    expect(countsOf(second, 'last')).toMatchObject({ due: 1, capped: 1, sent: 0 });
    expect(second.coupons).toBeUndefined();
    expect((await statuses()).winback).toEqual(['capped', 'frequency-24h']);

    // The next day the win-back goes with its code.
    const third = await runCampaignHour(aws, config, AT + 25 * HOUR, 'next-3');
    expect(countsOf(third, 'winback')).toMatchObject({ due: 1, sent: 1 });
    expect(countsOf(third, 'last')).toMatchObject({ due: 1, capped: 1 });
    const emails = await emailsTo(aws, 'next-1@example.com');
    expect(emails).toHaveLength(2);
    expect(emails.map((e) => codeIn(e.body.html))).toContain('NEXT-1');
  });
});
