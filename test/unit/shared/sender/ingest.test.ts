import { describe, expect, it } from 'vitest';
import type { ClientProfile } from '#shared/model.ts';
import { droppedAgain, dropTurns, hasMergedIncrement, INGEST_JOB, lateOptOut, mergedDropList, mergeIncrement, mergeIncrementOrders, newObjects, objectsOfTurns, ownTurnCount, type IngestMarker } from '#shared/sender/ingest.ts';
import { incrementalStamp } from '#shared/store/buckets.ts';
import { firstOrderProducts, runOutDay } from '#shared/campaigns/triggers.ts';
import { profileItem } from '#test/support/profiles.ts';
import { PROTOTYPE_NAMES } from '#test/support/prototype-names.ts';

const STOCK_UPS = { stockUpDays: 15, timeZone: 'Asia/Shanghai', answerDays: 15 };

const stored: ClientProfile = {
  customerId: 'c1',
  email: 'old@example.com',
  acceptsMarketing: true,
  tier: 'Core',
  stage: 'active',
  spend12mMinor: 600_000,
  lifetimeSpendMinor: 900_000,
  currency: 'USD',
  orderCount: 4,
  firstOrderAt: '2025-01-01T00:00:00.000Z',
  lastOrderAt: '2026-10-01T00:00:00.000Z',
  // Three stock-ups since the first order: the night writes the first purchase.
  skus: { CREAM: { lastPurchasedAt: '2026-10-01T00:00:00.000Z', firstPurchasedAt: '2025-01-01T00:00:00.000Z', quantity: 1, purchases: 3, personalCycleDays: 90 } },
};

describe('incremental exports', () => {
  it('reads folder stamps in the brand time zone', () => {
    expect(incrementalStamp('2026-11-23T1000', 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 23, 2, 0));
    expect(incrementalStamp('latest', 'Asia/Shanghai')).toBeUndefined();
  });

  it('takes a merged folder written since as dropped again, never one from before markers recorded the write', () => {
    const merged: IngestMarker = { job: INGEST_JOB, runDate: '2026-11-01T0130', runId: 'r', source: 's3://b/x/', status: 'merged', rows: 1, rejected: 0, clients: 1 };
    const written = Date.UTC(2026, 10, 1, 5, 32);
    const recorded = { ...merged, lastWrite: new Date(written).toISOString() };
    expect(droppedAgain(undefined, written)).toBe(false);
    expect(droppedAgain(merged, written)).toBe(false); // from before: merged, as then
    expect(droppedAgain(recorded, written)).toBe(false);
    expect(droppedAgain(recorded, Date.UTC(2026, 10, 1, 6, 33))).toBe(true);
    expect(droppedAgain(recorded, written - 1000)).toBe(false); // an object expired: nothing new
  });

  it('takes a quarantined folder written since as dropped again (the fix, in place), never one from before markers recorded the write', () => {
    const quarantined: IngestMarker = { job: INGEST_JOB, runDate: '2026-11-01T0130', runId: 'r', source: 's3://b/x/', status: 'quarantined', reason: 'bad', quarantinedAt: '2026-11-01T06:00:00.000Z' };
    expect(droppedAgain(quarantined, Date.UTC(2026, 10, 1, 9))).toBe(false); // from before: quarantined, as then
    const written = Date.UTC(2026, 10, 1, 5, 32);
    const recorded: IngestMarker = { ...quarantined, lastWrite: new Date(written).toISOString() };
    expect(droppedAgain(recorded, written)).toBe(false);
    expect(droppedAgain(recorded, written + 1000)).toBe(true);
    expect(droppedAgain(recorded, written - 1000)).toBe(false); // an object expired: nothing new
  });

  describe('a folder whose marker records the objects it read', () => {
    const written = Date.UTC(2026, 11, 6, 1, 30, 7);
    const orders = { key: 'orders.csv', etag: '"a1"', lastModified: written };
    const manifest = { key: '_manifest.json', etag: '"m1"', lastModified: written - 1000 };
    const merged: IngestMarker = {
      job: INGEST_JOB, runDate: '2026-12-06T0930', runId: 'r', source: 's3://b/x/', status: 'merged', rows: 1, rejected: 0, clients: 1,
      lastWrite: new Date(written).toISOString(), objects: [manifest, orders],
    };

    it('takes an object it did not read as a new drop whatever its write time: the same second, or earlier (a multipart upload begun before)', () => {
      expect(droppedAgain(merged, written, [manifest, orders])).toBe(false);
      expect(droppedAgain(merged, written, [manifest, orders, { key: 'customers.csv', etag: '"c1"', lastModified: written }])).toBe(true);
      expect(droppedAgain(merged, written, [manifest, orders, { key: 'customers.csv', etag: '"c1"', lastModified: written - 60_000 }])).toBe(true);
      // One of its objects written again, in the same second: another ETag.
      expect(droppedAgain(merged, written, [manifest, { ...orders, etag: '"a2"' }])).toBe(true);
      // An object deleted or expired: nothing new.
      expect(droppedAgain(merged, written, [orders])).toBe(false);
      expect(droppedAgain(merged, written, [])).toBe(false);
      // A quarantined folder's fix, in the same second.
      const quarantined: IngestMarker = { ...merged, status: 'quarantined', reason: 'bad', quarantinedAt: '2026-12-06T02:00:00.000Z' };
      expect(droppedAgain(quarantined, written, [manifest, orders])).toBe(false);
      expect(droppedAgain(quarantined, written, [manifest, { ...orders, etag: '"a2"' }])).toBe(true);
    });

    it('tells a marker recording no objects (from before, or a folder of too many) by time, as then', () => {
      const { objects: _objects, ...byTime } = merged;
      expect(droppedAgain(byTime, written, [manifest, orders, { key: 'customers.csv', etag: '"c1"', lastModified: written }])).toBe(false);
      expect(droppedAgain(byTime, written + 1000, [manifest, orders])).toBe(true);
      // No listing given: by time too.
      expect(droppedAgain(merged, written + 1000)).toBe(true);
    });

    it('lists the new drop as the objects not recorded, by key, ETag and write', () => {
      const customers = { key: 'customers.csv', etag: '"c1"', lastModified: written };
      expect(newObjects([manifest, { ...orders, etag: '"a2"' }, customers], [manifest, orders])).toEqual([{ ...orders, etag: '"a2"' }, customers]);
      expect(newObjects([{ ...orders, lastModified: written + 1000 }], [orders])).toEqual([{ ...orders, lastModified: written + 1000 }]);
      expect(newObjects([orders], [orders])).toEqual([]);
    });

    it("puts back each drop's recorded objects after a night; a turn with a drop recording none reads by time", () => {
      const customers = { key: 'customers.csv', etag: '"c1"', lastModified: written };
      const w = new Date(written).toISOString();
      const stampedAt = '2026-12-06T01:30:00.000Z';
      const both: IngestMarker = { ...merged, drops: [{ stampedAt, lastWrite: w, objects: [manifest, orders] }, { stampedAt, lastWrite: w, objects: [customers] }] };
      expect(dropTurns(both)).toEqual([{ stampedAt: Date.parse(stampedAt), until: written, objects: [manifest, orders, customers] }]);
      const mixed: IngestMarker = { ...merged, drops: [{ stampedAt, lastWrite: w }, { stampedAt, lastWrite: w, objects: [customers] }] };
      expect(dropTurns(mixed)).toEqual([{ stampedAt: Date.parse(stampedAt), until: written }]);
      expect(objectsOfTurns([{ objects: [orders] }, { objects: [customers] }])).toEqual([orders, customers]);
      expect(objectsOfTurns([{ objects: [orders] }, {}])).toBeUndefined();
      expect(objectsOfTurns([])).toBeUndefined();
    });
  });

  describe("a folder's merged drops", () => {
    const merged: IngestMarker = { job: INGEST_JOB, runDate: '2026-11-01T0130', runId: 'r', source: 's3://b/x/', status: 'merged', rows: 1, rejected: 0, clients: 1 };
    const firstPass = '2026-11-01T05:30:00.000Z';
    const secondPass = '2026-11-01T06:30:00.000Z';
    const w1 = '2026-11-01T05:31:00.000Z';
    const w2 = '2026-11-01T06:31:00.000Z';

    it('reads a marker from before drops were listed (one stamp and write) as one drop, as then', () => {
      // Both passes merged by the version before: one drop, as of the later stamp.
      expect(mergedDropList({ ...merged, stampedAt: secondPass, lastWrite: w2 })).toEqual([{ stampedAt: secondPass, lastWrite: w2 }]);
      // A quarantined later drop carries the merged drop's stamp and write (mergedWrite).
      const quarantined: IngestMarker = { ...merged, status: 'quarantined', reason: 'bad', quarantinedAt: '2026-11-01T07:00:00.000Z', lastWrite: w2, mergedWrite: w1, stampedAt: firstPass };
      expect(mergedDropList(quarantined)).toEqual([{ stampedAt: firstPass, lastWrite: w1 }]);
      // Older still (no stamp, or no write), or nothing merged: no drop known.
      expect(mergedDropList({ ...merged, lastWrite: w1 })).toEqual([]);
      expect(mergedDropList(merged)).toEqual([]);
      expect(mergedDropList(undefined)).toEqual([]);
      expect(mergedDropList({ ...merged, status: 'quarantined', reason: 'bad', quarantinedAt: '2026-11-01T07:00:00.000Z', lastWrite: w2, stampedAt: firstPass })).toEqual([]);
    });

    it('reads the list of a marker that has one', () => {
      const drops = [{ stampedAt: firstPass, lastWrite: w1 }, { stampedAt: secondPass, lastWrite: w2 }];
      expect(mergedDropList({ ...merged, stampedAt: secondPass, lastWrite: w2, drops })).toEqual(drops);
    });

    it('puts back the drops of a marker from before drops were listed in one turn, as then', () => {
      // Both passes merged by the version before: one turn, the whole folder up to its write, in the folder's own turn.
      const old: IngestMarker = { ...merged, stampedAt: secondPass, lastWrite: w2 };
      expect(dropTurns(old)).toEqual([{ stampedAt: Date.parse(secondPass), until: Date.parse(w2) }]);
      expect(ownTurnCount(dropTurns(old), Date.parse(secondPass), false)).toBe(0);
      // The first pass merged, the second dropped since (or quarantined): its own turn before the folder's, as then.
      const first: IngestMarker = { ...merged, stampedAt: firstPass, lastWrite: w1 };
      expect(ownTurnCount(dropTurns(first), Date.parse(secondPass), true)).toBe(1);
      expect(ownTurnCount(dropTurns(first), Date.parse(secondPass), false)).toBe(0); // nothing beside it: the folder's turn, as then
      const quarantined: IngestMarker = { ...merged, status: 'quarantined', reason: 'bad', quarantinedAt: '2026-11-01T07:00:00.000Z', lastWrite: w2, mergedWrite: w1, stampedAt: firstPass };
      expect(dropTurns(quarantined)).toEqual([{ stampedAt: Date.parse(firstPass), until: Date.parse(w1) }]);
      // Older still: a write without a stamp, or neither: the folder up to its write, or all of it, as of the folder's stamp.
      expect(dropTurns({ ...merged, lastWrite: w1 })).toEqual([{ until: Date.parse(w1) }]);
      expect(dropTurns(merged)).toEqual([{}]);
      expect(ownTurnCount([{}], Date.parse(secondPass), true)).toBe(0);
      // No merged drops: nothing to put back.
      expect(dropTurns(undefined)).toEqual([]);
      expect(dropTurns({ ...merged, status: 'quarantined', reason: 'bad', quarantinedAt: '2026-11-01T07:00:00.000Z', lastWrite: w2 })).toEqual([]);
    });

    it('gives each pass of a listed folder its own turn, reading only the files its drops wrote', () => {
      const both: IngestMarker = { ...merged, stampedAt: secondPass, lastWrite: w2, drops: [{ stampedAt: firstPass, lastWrite: w1 }, { stampedAt: secondPass, lastWrite: w2 }] };
      const turns = dropTurns(both);
      expect(turns).toEqual([
        { stampedAt: Date.parse(firstPass), until: Date.parse(w1) },
        { stampedAt: Date.parse(secondPass), after: Date.parse(w1), until: Date.parse(w2) },
      ]);
      // The first pass apart, before the folder's turn; the second, as of the folder's reading, in the folder's own.
      expect(ownTurnCount(turns, Date.parse(secondPass), false)).toBe(1);
      expect(ownTurnCount(turns, Date.parse(secondPass), true)).toBe(1);
      // Drops stamped the same (a producer writing the folder again): one turn, up to the last one's write.
      const w3 = '2026-11-01T06:40:00.000Z';
      const again: IngestMarker = { ...both, drops: [...(both.drops ?? []), { stampedAt: secondPass, lastWrite: w3 }] };
      expect(dropTurns(again)).toEqual([
        { stampedAt: Date.parse(firstPass), until: Date.parse(w1) },
        { stampedAt: Date.parse(secondPass), after: Date.parse(w1), until: Date.parse(w3) },
      ]);
    });
  });

  it("compares a profile's last increment with a folder by instant, not by name", () => {
    const NY = 'America/New_York';
    const firstPass0145 = Date.UTC(2026, 10, 1, 5, 45); // 01:45 EDT
    const secondPass0130 = Date.UTC(2026, 10, 1, 6, 30); // 01:30 EST: a smaller name, a later instant
    const options = { droppedAgain: false, timeZone: NY };
    // A name stored before stamps carried their offset reads as it always did (the first pass).
    expect(hasMergedIncrement('2026-11-01T0145', secondPass0130, options)).toBe(false);
    expect(hasMergedIncrement('2026-11-01T0145', firstPass0145, options)).toBe(true); // the same increment: a rerun after a crash
    expect(hasMergedIncrement('2026-11-01T0130-0500', firstPass0145, options)).toBe(true); // a later one
    expect(hasMergedIncrement('2026-11-01T0130-0500', secondPass0130, options)).toBe(true);
    expect(hasMergedIncrement(undefined, secondPass0130, options)).toBe(false);
    // The same instant in a folder dropped again is the earlier drop's: the new rows are not old.
    expect(hasMergedIncrement('2026-11-01T0130-0500', secondPass0130, { droppedAgain: true, timeZone: NY })).toBe(false);
    expect(hasMergedIncrement('2026-11-01T0200', secondPass0130, { droppedAgain: true, timeZone: NY })).toBe(true);
  });

  it('applies only the opt-out of a folder read after a later increment merged the client', () => {
    const SH = 'Asia/Shanghai';
    const at0900 = Date.UTC(2026, 10, 23, 1, 0);
    const mergedLater = profileItem('c1', { acceptsMarketing: true, firstName: 'Mei' });
    mergedLater.lastIncrement = '2026-11-23T0930+0800';
    expect(lateOptOut(mergedLater, false, at0900, SH)).toEqual({ ...mergedLater, acceptsMarketing: false });
    // A yes, or no word, is the later increment's (or the night's) to give.
    expect(lateOptOut(mergedLater, true, at0900, SH)).toBeUndefined();
    expect(lateOptOut(mergedLater, undefined, at0900, SH)).toBeUndefined();
    expect(lateOptOut({ ...mergedLater, acceptsMarketing: false }, false, at0900, SH)).toBeUndefined();
    // The same instant is this increment's own merge (a run died before its marker); an earlier one merges whole.
    expect(lateOptOut({ ...mergedLater, lastIncrement: '2026-11-23T0900+0800' }, false, at0900, SH)).toBeUndefined();
    expect(lateOptOut({ ...mergedLater, lastIncrement: '2026-11-23T0830' }, false, at0900, SH)).toBeUndefined();
    expect(lateOptOut(profileItem('c2'), false, at0900, SH)).toBeUndefined();
    expect(lateOptOut(undefined, false, at0900, SH)).toBeUndefined();
  });

  it('moves a stored profile forward with new orders and contact details, keeping tier, stage and consent (increment-consent.ts decides it)', () => {
    const increment: ClientProfile = {
      ...stored,
      email: 'new@example.com',
      acceptsMarketing: false,
      spend12mMinor: 20_000,
      lifetimeSpendMinor: 20_000,
      orderCount: 1,
      firstOrderAt: '2026-11-23T02:00:00.000Z',
      lastOrderAt: '2026-11-23T02:00:00.000Z',
      tier: 'Entry',
      stage: 'new',
      skus: { CREAM: { lastPurchasedAt: '2026-11-23T02:00:00.000Z', quantity: 2, purchases: 1 } },
    };
    const merged = mergeIncrement(stored, increment, STOCK_UPS);
    expect(merged).toMatchObject({
      email: 'new@example.com',
      acceptsMarketing: true,
      orderCount: 5,
      spend12mMinor: 620_000,
      lifetimeSpendMinor: 920_000,
      firstOrderAt: '2025-01-01T00:00:00.000Z',
      lastOrderAt: '2026-11-23T02:00:00.000Z',
      tier: 'Core',
      stage: 'active',
    });
    expect(merged.skus.CREAM).toEqual({ lastPurchasedAt: '2026-11-23T02:00:00.000Z', firstPurchasedAt: '2025-01-01T00:00:00.000Z', quantity: 2, purchases: 4, personalCycleDays: 90 });
  });

  it('leaves orders alone when the increment only updates the customer row', () => {
    const increment: ClientProfile = { ...stored, orderCount: 0, spend12mMinor: 0, lifetimeSpendMinor: 0, skus: {}, firstName: 'Ann' };
    const { firstOrderAt: _f, lastOrderAt: _l, ...noOrders } = increment;
    const merged = mergeIncrement(stored, noOrders, STOCK_UPS);
    expect(merged.orderCount).toBe(4);
    expect(merged.firstName).toBe('Ann');
  });
});

describe('an increment merged again after a night', () => {
  it('puts its orders back and leaves the contact details and consent as the night wrote them', () => {
    const increment: ClientProfile = {
      ...stored,
      email: 'older@example.com',
      acceptsMarketing: true,
      firstName: 'Ann',
      spend12mMinor: 8_000,
      lifetimeSpendMinor: 8_000,
      orderCount: 1,
      firstOrderAt: '2026-11-23T16:30:00.000Z',
      lastOrderAt: '2026-11-23T16:30:00.000Z',
      skus: { BELT: { lastPurchasedAt: '2026-11-23T16:30:00.000Z', quantity: 1, purchases: 1 } },
    };
    const night: ClientProfile = { ...stored, acceptsMarketing: false };
    const merged = mergeIncrementOrders(night, increment, STOCK_UPS);
    expect(merged).toMatchObject({ email: 'old@example.com', acceptsMarketing: false, orderCount: 5, lifetimeSpendMinor: 908_000, lastOrderAt: '2026-11-23T16:30:00.000Z' });
    expect(merged.firstName).toBeUndefined();
    expect(merged.skus.BELT).toEqual(increment.skus.BELT);
    expect(merged.skus.CREAM).toEqual(stored.skus.CREAM);
  });

  it('puts back the purchases of SKUs named like Object.prototype members, as of any other SKU', () => {
    // SKUs are free text from the export; a plain {} took "toString" for a SKU already bought.
    const bought = { lastPurchasedAt: '2026-11-23T16:30:00.000Z', quantity: 1, purchases: 1 };
    const increment: ClientProfile = { ...stored, orderCount: 1, skus: Object.fromEntries(PROTOTYPE_NAMES.map((sku) => [sku, bought])) };
    // The stored profile as read back: a plain object, here already holding a "__proto__" SKU.
    const night: ClientProfile = JSON.parse(JSON.stringify({ ...stored, skus: { ...stored.skus, ...Object.fromEntries([['__proto__', { ...bought, lastPurchasedAt: '2026-10-01T00:00:00.000Z', purchases: 2 }]]) } }));
    const merged = JSON.parse(JSON.stringify(mergeIncrementOrders(night, increment, STOCK_UPS)));
    expect(Object.keys(merged.skus).sort()).toEqual(['CREAM', ...PROTOTYPE_NAMES].sort());
    expect(merged.skus.toString).toEqual(bought);
    // Stored before firstPurchasedAt: its stock-up's start is all the profile says of the first purchase, kept until the night.
    expect(merged.skus['__proto__']).toEqual({ ...bought, purchases: 3, personalCycleDays: 54, firstPurchasedAt: '2026-10-01T00:00:00.000Z' });
  });
});

describe('an increment\'s repeat purchase within the replenishment\'s lead', () => {
  it('stays one stock-up with the stored purchase: the reminder moves later, never to the day after the purchase (attack-model\'s probe 2)', () => {
    // A travel size of 16 days: one unit from 04-21 runs out 05-07; two units, 05-23 (the reminder 15 days before).
    const product = { sku: 'MINI', category: 'skincare', replenishDays: 16 };
    const trigger = { daysBefore: 15, replenishableCategories: [] };
    const night: ClientProfile = { ...stored, skus: { MINI: { category: 'skincare', lastPurchasedAt: '2026-04-21T03:00:00.000Z', quantity: 1, purchases: 1 } } };
    const increment: ClientProfile = { ...stored, orderCount: 1, skus: { MINI: { category: 'skincare', lastPurchasedAt: '2026-04-22T02:00:00.000Z', quantity: 1, purchases: 1 } } };
    expect(runOutDay(trigger, night.skus.MINI!, product, 'Asia/Shanghai')?.runOutDate).toBe('2026-05-07');
    const merged = mergeIncrementOrders(night, increment, STOCK_UPS);
    expect(merged.skus.MINI).toEqual({ category: 'skincare', lastPurchasedAt: '2026-04-22T02:00:00.000Z', stockUpFrom: '2026-04-21T03:00:00.000Z', quantity: 2, purchases: 2 });
    expect(runOutDay(trigger, merged.skus.MINI!, product, 'Asia/Shanghai')?.runOutDate).toBe('2026-05-23');
  });
});

describe('an increment\'s purchase of a SKU the first order bought', () => {
  // The night's profile of a client whose first order bought the cream on 2 March, 10:00 in Shanghai.
  const first = '2026-03-02T02:00:00.000Z';
  const night: ClientProfile = {
    ...stored,
    orderCount: 1,
    firstOrderAt: first,
    lastOrderAt: first,
    skus: { CREAM: { category: 'skincare', lastPurchasedAt: first, quantity: 1, purchases: 1 } },
  };
  const incrementAt = (at: string, skus: ClientProfile['skus'] = { CREAM: { category: 'skincare', lastPurchasedAt: at, quantity: 1, purchases: 1 } }): ClientProfile => ({
    ...stored,
    orderCount: 1,
    firstOrderAt: at,
    lastOrderAt: at,
    skus,
  });
  const products = (profile: ClientProfile) => firstOrderProducts(profile, undefined).map(({ sku }) => sku);

  it('keeps the first purchase: the same day (written, the profile keeping the last), the next day (the stock-up\'s start), past the lead (written)', () => {
    const sameDay = mergeIncrementOrders(night, incrementAt('2026-03-02T08:00:00.000Z'), STOCK_UPS);
    expect(sameDay.skus.CREAM).toEqual({ category: 'skincare', lastPurchasedAt: '2026-03-02T08:00:00.000Z', firstPurchasedAt: first, quantity: 2, purchases: 1 });
    const nextDay = mergeIncrementOrders(night, incrementAt('2026-03-03T02:00:00.000Z'), STOCK_UPS);
    expect(nextDay.skus.CREAM).toEqual({ category: 'skincare', lastPurchasedAt: '2026-03-03T02:00:00.000Z', stockUpFrom: first, quantity: 2, purchases: 2 });
    const pastLead = mergeIncrementOrders(night, incrementAt('2026-03-20T02:00:00.000Z'), STOCK_UPS);
    expect(pastLead.skus.CREAM).toEqual({ category: 'skincare', lastPurchasedAt: '2026-03-20T02:00:00.000Z', firstPurchasedAt: first, quantity: 1, purchases: 2, personalCycleDays: 18 });
    for (const merged of [sameDay, nextDay, pastLead]) {
      expect(merged.firstOrderAt).toBe(first);
      expect(products(merged)).toEqual(['CREAM']);
    }
    // And once more past the lead: the stored first purchase stays.
    expect(mergeIncrementOrders(pastLead, incrementAt('2026-04-20T02:00:00.000Z'), STOCK_UPS).skus.CREAM).toMatchObject({ firstPurchasedAt: first, lastPurchasedAt: '2026-04-20T02:00:00.000Z' });
  });

  it('takes a SKU new to the profile as the increment computed it, its own first purchase included', () => {
    const serum = { lastPurchasedAt: '2026-03-05T08:00:00.000Z', firstPurchasedAt: '2026-03-05T02:00:00.000Z', quantity: 2, purchases: 1 };
    const merged = mergeIncrementOrders(night, incrementAt('2026-03-05T02:00:00.000Z', { SERUM: serum }), STOCK_UPS);
    expect(merged.skus.SERUM).toEqual(serum);
    expect(products(merged)).toEqual(['CREAM']);
  });

  it('takes a late order before the stored purchases as the first: the first order it now is bought the cream', () => {
    const late = '2026-02-27T02:00:00.000Z';
    const merged = mergeIncrementOrders(night, incrementAt(late), STOCK_UPS);
    expect(merged.firstOrderAt).toBe(late);
    expect(merged.skus.CREAM).toEqual({ ...night.skus.CREAM, firstPurchasedAt: late });
    expect(products(merged)).toEqual(['CREAM']);
  });
});
