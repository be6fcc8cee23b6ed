import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareIncrements, incrementalStamp, incrementalStampIsAmbiguous, incrementalStampLabel, STAMP_CLOCK_ALLOWANCE_MS } from '#shared/store/buckets.ts';
import { zonedWallTimeInstants, zoneOffsetMs } from '#shared/time.ts';

const NY = 'America/New_York';
const MINUTE = 60_000;

/** The folder name a platform stamping in brand time gives an increment cut at `instant`: YYYY-MM-DDTHHmm. */
function localStamp(instant: number, timeZone: string): string {
  const wall = new Date(instant + zoneOffsetMs(instant, timeZone)).toISOString();
  return `${wall.slice(0, 10)}T${wall.slice(11, 13)}${wall.slice(14, 16)}`;
}

describe('zonedWallTimeInstants', () => {
  it('gives both passes of the hour the clocks go back, none of the hour they skip', () => {
    expect(zonedWallTimeInstants(2026, 11, 1, 1, 30, NY)).toEqual([Date.UTC(2026, 10, 1, 5, 30), Date.UTC(2026, 10, 1, 6, 30)]);
    expect(zonedWallTimeInstants(2026, 3, 8, 2, 30, NY)).toEqual([]);
    expect(zonedWallTimeInstants(2026, 11, 1, 3, 0, NY)).toEqual([Date.UTC(2026, 10, 1, 8, 0)]);
    // Lord Howe goes back half an hour (02:00 +11:00 to 01:30 +10:30).
    expect(zonedWallTimeInstants(2026, 4, 5, 1, 45, 'Australia/Lord_Howe')).toEqual([Date.UTC(2026, 3, 4, 14, 45), Date.UTC(2026, 3, 4, 15, 15)]);
  });
});

describe('incrementalStamp', () => {
  it('reads a stamp with its offset as that instant, whatever the brand zone', () => {
    expect(incrementalStamp('2026-11-01T0130-0500', NY)).toBe(Date.UTC(2026, 10, 1, 6, 30));
    expect(incrementalStamp('2026-11-01T0130-0400', NY)).toBe(Date.UTC(2026, 10, 1, 5, 30));
    expect(incrementalStamp('2026-11-01T0630Z', NY)).toBe(Date.UTC(2026, 10, 1, 6, 30));
    expect(incrementalStamp('2026-11-23T1000+0800', NY)).toBe(Date.UTC(2026, 10, 23, 2, 0));
    expect(incrementalStamp('2026-11-23T1000+0530', 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 23, 4, 30));
  });

  it('refuses what is not a stamp', () => {
    for (const name of ['latest', '2026-11-23', '2026-11-23T10:00', '2026-11-23T1000-05:00', '2026-11-23T1000+1500', '2026-11-23T2460', '2026-02-30T1000', '2026-11-23T1000EST']) {
      expect(incrementalStamp(name, NY), name).toBeUndefined();
    }
  });

  it('reads a local stamp in brand time, the S3 write changing nothing outside the repeated hour', () => {
    const written = Date.UTC(2026, 10, 23, 2, 3);
    expect(incrementalStamp('2026-11-23T1000', 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 23, 2, 0));
    expect(incrementalStamp('2026-11-23T1000', 'Asia/Shanghai', written)).toBe(Date.UTC(2026, 10, 23, 2, 0));
    // A skipped time reads as it always did (shifted past the gap), with or without the write.
    expect(incrementalStamp('2026-03-08T0230', NY, Date.UTC(2026, 2, 8, 7, 40))).toBe(incrementalStamp('2026-03-08T0230', NY));
  });

  it('tells the two passes of a repeated local stamp apart by when S3 says the folder was written', () => {
    const firstPass = Date.UTC(2026, 10, 1, 5, 30); // 01:30 EDT
    const secondPass = Date.UTC(2026, 10, 1, 6, 30); // 01:30 EST
    expect(incrementalStamp('2026-11-01T0130', NY, firstPass + 2 * MINUTE)).toBe(firstPass);
    expect(incrementalStamp('2026-11-01T0130', NY, firstPass + 50 * MINUTE)).toBe(firstPass);
    expect(incrementalStamp('2026-11-01T0130', NY, secondPass + 2 * MINUTE)).toBe(secondPass);
    // The platform's clock a little ahead of S3's: the write seems to come just before the stamp.
    expect(incrementalStamp('2026-11-01T0130', NY, secondPass - STAMP_CLOCK_ALLOWANCE_MS + MINUTE)).toBe(secondPass);
    expect(incrementalStamp('2026-11-01T0130', NY, Date.UTC(2026, 11, 5))).toBe(secondPass);
    // No write to go by (a name stored before stamps carried offsets), or a write before both readings: the first pass, as before.
    expect(incrementalStamp('2026-11-01T0130', NY)).toBe(firstPass);
    expect(incrementalStamp('2026-11-01T0130', NY, firstPass - 3_600_000)).toBe(firstPass);
  });

  it('merges increments in the order of their instants, across the repeated hour (property)', () => {
    const zones = [NY, 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Shanghai'];
    // Around the clock changes of 2026, where names and instants part, and anywhere else.
    const changes = [Date.UTC(2026, 10, 1, 6), Date.UTC(2026, 9, 25, 1), Date.UTC(2026, 3, 4, 15), Date.UTC(2026, 3, 5, 3), Date.UTC(2026, 2, 8, 7)];
    const instant = fc.oneof(
      fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -180, max: 180 })).map(([change, minutes]) => change + minutes * MINUTE),
      fc.integer({ min: Date.UTC(2020, 0, 1) / MINUTE, max: Date.UTC(2035, 0, 1) / MINUTE }).map((minutes) => minutes * MINUTE),
    );
    // Written from just before its stamp (the platform's clock ahead) to 20 minutes after; named locally or with its offset.
    const increment = fc.record({ at: instant, writtenAfter: fc.integer({ min: -4, max: 20 }), withOffset: fc.boolean() });
    fc.assert(
      fc.property(fc.constantFrom(...zones), increment, increment, (timeZone, a, b) => {
        const read = ({ at, writtenAfter, withOffset }: typeof a) => {
          const folder = withOffset ? incrementalStampLabel(localStamp(at, timeZone), at, timeZone) : localStamp(at, timeZone);
          return { folder, stamp: incrementalStamp(folder, timeZone, at + writtenAfter * MINUTE) ?? Number.NaN };
        };
        const [readA, readB] = [read(a), read(b)];
        expect(readA.stamp).toBe(a.at);
        expect(readB.stamp).toBe(b.at);
        if (a.at !== b.at) expect(Math.sign(compareIncrements(readA, readB))).toBe(Math.sign(a.at - b.at));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('incrementalStampIsAmbiguous', () => {
  it('is true only for a local name of the hour the clocks go back', () => {
    expect(incrementalStampIsAmbiguous('2026-11-01T0130', NY)).toBe(true);
    expect(incrementalStampIsAmbiguous('2026-11-01T0130-0400', NY)).toBe(false);
    expect(incrementalStampIsAmbiguous('2026-11-01T0230', NY)).toBe(false);
    expect(incrementalStampIsAmbiguous('2026-03-08T0230', NY)).toBe(false); // skipped, read as one instant
    expect(incrementalStampIsAmbiguous('2026-11-01T0130', 'Asia/Shanghai')).toBe(false);
    expect(incrementalStampIsAmbiguous('2026-04-05T0145', 'Australia/Lord_Howe')).toBe(true);
    expect(incrementalStampIsAmbiguous('not-a-stamp', NY)).toBe(false);
  });
});

describe('incrementalStampLabel', () => {
  it('keeps a folder name that carries its offset, and adds the brand zone\'s offset to one that does not', () => {
    // A local name alone would be read in whatever zone the brand has when it is read back.
    expect(incrementalStampLabel('2026-11-23T1000', Date.UTC(2026, 10, 23, 15), NY)).toBe('2026-11-23T1000-0500');
    expect(incrementalStampLabel('2026-11-01T0130', Date.UTC(2026, 10, 1, 5, 30), NY)).toBe('2026-11-01T0130-0400');
    expect(incrementalStampLabel('2026-11-01T0130', Date.UTC(2026, 10, 1, 6, 30), NY)).toBe('2026-11-01T0130-0500');
    expect(incrementalStampLabel('2026-11-01T0630Z', Date.UTC(2026, 10, 1, 6, 30), NY)).toBe('2026-11-01T0630Z');
    expect(incrementalStampLabel('2026-04-05T0145', Date.UTC(2026, 3, 4, 15, 15), 'Australia/Lord_Howe')).toBe('2026-04-05T0145+1030');
  });

  it('reads back as the same instant with no S3 to ask, whatever the brand\'s zone then (property)', () => {
    const zones = [NY, 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham'];
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(2020, 0, 1) / MINUTE, max: Date.UTC(2035, 0, 1) / MINUTE }), (timeZone, minutes) => {
        const at = minutes * MINUTE;
        for (const folder of [localStamp(at, timeZone), `${new Date(at).toISOString().slice(0, 10)}T${new Date(at).toISOString().slice(11, 13)}${new Date(at).toISOString().slice(14, 16)}Z`]) {
          const stamp = incrementalStamp(folder, timeZone, at);
          if (stamp === undefined) throw new Error(`${folder} is not read as a stamp`);
          const label = incrementalStampLabel(folder, stamp, timeZone);
          // The same instant under any zone the brand may move to.
          for (const laterZone of zones) expect(incrementalStamp(label, laterZone)).toBe(stamp);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
