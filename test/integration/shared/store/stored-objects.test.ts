import { beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { readStoredJson, StoredObjectDamagedError, writeJsonObject, writeObject } from '#shared/aws/s3-objects.ts';
import { readCampaignResults } from '#shared/nightly/campaign-results.ts';
import { wholeSummaryOf } from '#shared/nightly/runs-item.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { bookPairsKey, campaignResultsKey, catalogKey, categoryAffinityKey, reportsBucket, rosterKey } from '#shared/store/buckets.ts';
import { readCatalog, readCategoryAffinity } from '#shared/store/catalog-store.ts';
import { readBookPairs, readRoster, writeRoster } from '#shared/store/roster-store.ts';
import { z } from 'zod';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { sharedAws } from '#test/support/local-aws.ts';

/** The suite's own state objects in S3, read back: a damaged one (cut, edited by hand, a bad restore) is named, never guessed at. */

const aws = sharedAws();
let config: Config;
let scenario = 0;

const ROSTER = { runDate: '2026-03-01', advisors: [{ advisorId: 'a1', name: 'Zoë Marchetti', email: 'zoe.marchetti@maison.example.com', active: true }] };

beforeEach(async () => {
  config = await campaignConfig(aws, `stored-objects-${++scenario}`);
});

const put = (key: string, body: string) => writeObject(aws.clients.s3, { bucket: reportsBucket(config), key, body, contentType: 'application/json' });

describe('readStoredJson', () => {
  const schema = z.object({ week: z.string(), count: z.number() });
  const where = () => ({ bucket: reportsBucket(config), key: `${config.storage.reportsPrefix}/catalog/probe.json` });
  const damaged = (object: string, problem: string) => new StoredObjectDamagedError('probe', object, problem, 'repair it.');

  it('gives undefined when there is no object, and the object when it has its shape', async () => {
    await expect(readStoredJson(aws.clients.s3, where(), schema, damaged)).resolves.toBeUndefined();
    await writeJsonObject(aws.clients.s3, where(), { week: '2026-W10', count: 3 });
    await expect(readStoredJson(aws.clients.s3, where(), schema, damaged)).resolves.toEqual({ week: '2026-W10', count: 3 });
  });

  it('refuses an empty object, a cut one and one of another shape, naming the object and never quoting it', async () => {
    const object = `s3://${where().bucket}/${where().key}`;
    for (const [body, problem] of [
      ['', 'empty'],
      ['{"week":"2026-W10","count":', 'not JSON, or cut short: 27 characters'],
      ['{"week":"secret-text","count":"3"}', 'count: Invalid input: expected number, received string'],
      ['[]', '(object): Invalid input: expected object, received array'],
    ] as const) {
      await writeObject(aws.clients.s3, { ...where(), body, contentType: 'application/json' });
      const read = readStoredJson(aws.clients.s3, where(), schema, damaged);
      await expect(read).rejects.toMatchObject({ code: 'STATE_DAMAGED', message: `The probe ${object} is damaged (${problem}): repair it.` });
    }
  });
});

describe('the stores of our own objects', () => {
  it('a cut roster fails its readers with its address and what to do, and no name or address of the advisors it holds', async () => {
    await writeRoster(aws.clients.s3, config, ROSTER);
    await expect(readRoster(aws.clients.s3, config)).resolves.toEqual(ROSTER);
    const whole = JSON.stringify(ROSTER);
    await put(rosterKey(config), whole.slice(0, whole.indexOf('marchetti@') + 5));
    const read = readRoster(aws.clients.s3, config);
    await expect(read).rejects.toBeInstanceOf(StoredObjectDamagedError);
    const error = (await read.catch((caught: unknown) => caught)) as Error;
    expect(error.message).toContain(`s3://${reportsBucket(config)}/${rosterKey(config)} is damaged (not JSON, or cut short`);
    expect(error.message).toContain('Put back a copy of it, or delete it');
    expect(error.message).not.toMatch(/Zo[eë]|marchetti/i);
  });

  it('the catalogue, the category affinity and the book pairs are checked against their shapes', async () => {
    await put(catalogKey(config), JSON.stringify([{ sku: 'CREAM', replenishDays: 'thirty' }]));
    await expect(readCatalog(aws.clients.s3, config)).rejects.toThrow(/product catalogue .* is damaged \(0\.replenishDays: .*\): .*delete it: the next night with a products export stores it again/);
    await put(catalogKey(config), JSON.stringify([{ sku: 'CREAM', replenishDays: 30, futureField: 'kept' }]));
    expect([...(await readCatalog(aws.clients.s3, config)).keys()]).toEqual(['CREAM']);

    await put(categoryAffinityKey(config), '{"buyers":{"skincare":40},"alsoBought":');
    await expect(readCategoryAffinity(aws.clients.s3, config)).rejects.toThrow(/category affinity .* is damaged \(not JSON, or cut short: \d+ characters\): the campaign hours refuse/);

    await put(bookPairsKey(config), JSON.stringify({ week: '2026-W10', before: { c1: 'a1' }, now: [] }));
    await expect(readBookPairs(aws.clients.s3, config)).rejects.toThrow(/book pairs .* is damaged \(now: .*\): the weekly digests, forget and the erasures/);
  });

  it('campaign results of an older shape are completed, a damaged object is named', async () => {
    const key = campaignResultsKey(config, '2026-03-01');
    const older = { runDate: '2026-03-01', periodStart: '2026-01-31', confidenceLevel: 0.95, windowsDays: [7], segments: [{ campaignId: 'welcome', tier: 'all', sends: 9, heldOut: 1, windows: [] }], welcomeDecay: [] };
    await put(key, JSON.stringify(older));
    expect((await readCampaignResults(aws.clients.s3, config, '2026-03-01'))?.segments).toEqual([{ ...older.segments[0], due: 10, unsent: {} }]);
    await put(key, JSON.stringify({ ...older, segments: [{ ...older.segments[0], tier: 'Platinum' }] }));
    await expect(readCampaignResults(aws.clients.s3, config, '2026-03-01')).rejects.toThrow(/campaign results .* is damaged \(segments\.0\.tier: .*\): the reports of the night of 2026-03-01 show none/);
  });

  it("a night's cut summary object leaves its runs item shown, as when the object is gone", async () => {
    const key = `${config.storage.reportsPrefix}/2026-03-01/summary.json`;
    const item = { job: 'nightly', runId: 'r1', runDate: '2026-03-01', listsCut: { lengths: {} }, report: { summaryObject: `s3://${reportsBucket(config)}/${key}` } } as unknown as NightlyRunSummary;
    await expect(wholeSummaryOf(aws.clients.s3, item)).resolves.toBe(item);
    await put(key, JSON.stringify({ ...item, listsCut: undefined, whole: true }));
    await expect(wholeSummaryOf(aws.clients.s3, item)).resolves.toMatchObject({ runId: 'r1', whole: true });
    await put(key, '{"job":"nightly","runId":"r1","runDate":"2026-03');
    await expect(wholeSummaryOf(aws.clients.s3, item)).resolves.toBe(item);
  });

  it('an hour of the campaign sender with a damaged roster stops before reading anyone, saying which object and how to repair it', async () => {
    await put(rosterKey(config), '{"runDate":"2026-03-01","advisors":[{"advisorId":"a1","active":"yes"}]}');
    await expect(runCampaignHour(aws, config, Date.UTC(2026, 2, 2, 10), 'h-damaged-roster')).rejects.toMatchObject({
      code: 'STATE_DAMAGED',
      message: expect.stringContaining(`The advisors roster s3://${reportsBucket(config)}/${rosterKey(config)} is damaged (advisors.0.active: `),
    });
  });
});
