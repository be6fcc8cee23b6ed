import { describe, expect, it } from 'vitest';
import { birthdayBetween, buildAdvisorBook } from '#shared/advisors/book.ts';
import { parseConfig } from '#shared/config.ts';
import type { ClientProfile, TierChange } from '#shared/model.ts';
import { dueOccasions, sendWindows, type CampaignContext } from '#shared/campaigns/due.ts';
import { campaignsConfigSchema, type CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import { isQuietTime, nextAllowedTime } from '#shared/campaigns/policy.ts';
import { lastYearWindow, seasonOn } from '#shared/campaigns/seasons.ts';
import { digestNightOf } from '#shared/digests/advisor-digests.ts';
import { lastNightDue, nightBefore } from '#shared/nightly/run-date.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { addDays, isoWeek, localDate, startOfLocalDay, zoneOffsetMs } from '#shared/time.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { at, DAY, HOUR, iso, MINUTE } from '#test/support/time.ts';

/**
 * The calendar at the year's end, ISO week 53 (2020-W53 has the shape 2026-W53 will have) and
 * 29 February, in zones on both sides of the date line.
 */

const ZONES = ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kathmandu', 'Asia/Tokyo', 'Pacific/Auckland', 'America/Los_Angeles', 'Pacific/Chatham', 'Asia/Shanghai'];

/** The zone's offset as Intl names it ("GMT+5:45"), in ms: an independent reading. */
function intlOffset(instant: number, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(new Date(instant)).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const m = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  if (!m) throw new Error(`unreadable offset ${name}`);
  return m[1] === undefined ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * MINUTE;
}

/** ISO week by the textbook rule, written apart from time.ts: the week of the Thursday, counted from the week holding 4 January. */
function referenceIsoWeek(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  const weekday = (d.getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(d.getTime() + (3 - weekday) * DAY);
  const year = thursday.getUTCFullYear();
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const week1Monday = jan4.getTime() - ((jan4.getUTCDay() + 6) % 7) * DAY;
  return `${year}-W${String(Math.floor((thursday.getTime() - week1Monday) / (7 * DAY)) + 1).padStart(2, '0')}`;
}

const ctx = (input: CampaignsConfigInput = {}, brandTimeZone = 'Asia/Shanghai'): CampaignContext => ({ campaigns: campaignsConfigSchema.parse(input), brandTimeZone });

describe('time.ts at the turn of the year', () => {
  it('zoneOffsetMs agrees with Intl every quarter hour from 2020-12-30 to 2021-01-03 in zones on both sides of the date line', () => {
    for (const zone of ZONES) {
      for (let t = Date.parse('2020-12-30T00:00:00Z'); t < Date.parse('2021-01-03T00:00:00Z'); t += 15 * MINUTE) {
        expect(zoneOffsetMs(t, zone), `${zone} ${iso(t)}`).toBe(intlOffset(t, zone));
        expect(zoneOffsetMs(t + 7 * MINUTE, zone), `${zone} ${iso(t + 7 * MINUTE)}`).toBe(intlOffset(t + 7 * MINUTE, zone));
      }
      expect(localDate(startOfLocalDay('2021-01-01', zone), zone)).toBe('2021-01-01');
      expect(localDate(startOfLocalDay('2021-01-01', zone) - 1, zone)).toBe('2020-12-31');
    }
  });

  it('isoWeek: 2020-12-28..2021-01-03 is 2020-W53, 2021-01-04 is 2021-W01, and the textbook rule agrees from 1990 to 2040', () => {
    for (let d = 0; d < 7; d++) expect(isoWeek(addDays('2020-12-28', d))).toBe('2020-W53');
    for (let d = 0; d < 7; d++) expect(isoWeek(addDays('2026-12-28', d))).toBe('2026-W53');
    expect(isoWeek('2021-01-04')).toBe('2021-W01');
    expect(isoWeek('2019-12-30')).toBe('2020-W01');
    for (let date = '1990-01-01'; date < '2041-01-01'; date = addDays(date, 1)) {
      if (isoWeek(date) !== referenceIsoWeek(date)) expect.fail(`${date}: ${isoWeek(date)} vs ${referenceIsoWeek(date)}`);
    }
  });

  it('the digest night and key of every night of the turn, for Sunday, Monday and Friday digests', () => {
    expect(digestNightOf('2021-01-03', 'sunday')).toMatchObject({ digestDate: '2021-01-03', week: '2020-W53', send: 'all' });
    expect(digestNightOf('2021-01-09', 'sunday')).toMatchObject({ digestDate: '2021-01-03', week: '2020-W53', lastNight: true });
    expect(digestNightOf('2021-01-03', 'monday')).toMatchObject({ digestDate: '2020-12-28', week: '2020-W53', lastNight: true });
    expect(digestNightOf('2021-01-04', 'monday')).toMatchObject({ digestDate: '2021-01-04', week: '2021-W01', send: 'all' });
    expect(digestNightOf('2021-01-01', 'friday')).toMatchObject({ digestDate: '2021-01-01', week: '2020-W53', send: 'all' });
    expect(digestNightOf('2021-01-07', 'friday')).toMatchObject({ digestDate: '2021-01-01', week: '2020-W53', lastNight: true });
  });

  it('a digest week across New Year finds the birthdays of both years, and 29 February once in 2021 (on the 28th)', () => {
    expect(birthdayBetween('01-01', '2020-12-28', '2021-01-03')).toBe('2021-01-01');
    expect(birthdayBetween('1970-12-31', '2020-12-28', '2021-01-03')).toBe('2020-12-31');
    expect(birthdayBetween('1992-02-29', '2021-02-22', '2021-02-28')).toBe('2021-02-28');
    expect(birthdayBetween('1992-02-29', '2021-03-01', '2021-03-07')).toBeUndefined();
    expect(birthdayBetween('1992-02-29', '2020-02-24', '2020-03-01')).toBe('2020-02-29');
    expect(birthdayBetween('1992-02-28', '2020-02-29', '2020-03-06')).toBeUndefined();
  });
});

describe('run dates and the 12-month window across the turn and 29 February', () => {
  it('a sale of 2019-12-31 leaves on the night of 2020-12-31, one of 2020-01-01 on the night of 2021-01-01', () => {
    const inWindow = (sale: string, runDate: string, zone = 'Asia/Tokyo') => {
      const { windowStart, now } = runClock(runDate, zone);
      const t = at(`${sale} 12:00`, zone);
      return t >= windowStart && t < now;
    };
    expect(inWindow('2019-12-31', '2020-12-30')).toBe(true);
    expect(inWindow('2019-12-31', '2020-12-31')).toBe(false);
    expect(inWindow('2020-01-01', '2020-12-31')).toBe(true);
    expect(inWindow('2020-01-01', '2021-01-01')).toBe(false);
    // 29 February 2020 is in the window of the night of 2021-02-28 (the 366 days since) and leaves on 2021-03-01.
    expect(inWindow('2020-02-29', '2021-02-28')).toBe(true);
    expect(inWindow('2020-02-29', '2021-03-01')).toBe(false);
    expect(inWindow('2020-03-01', '2021-02-28')).toBe(true);
    expect(inWindow('2020-03-01', '2021-03-01')).toBe(false);
  });

  it('the night a schedule runs and the last night due, on both sides of the date line', () => {
    // 04:00 on 1 January in brand time tiers the night of 31 December, whatever the UTC date.
    for (const zone of ['Asia/Tokyo', 'Pacific/Auckland', 'America/Los_Angeles', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kathmandu']) {
      const fourAm = at('2021-01-01 04:00', zone);
      expect(nightBefore(fourAm, { timeZone: zone }), zone).toBe('2020-12-31');
      expect(lastNightDue(at('2021-01-01 04:29', zone), zone), zone).toBe('2020-12-30');
      expect(lastNightDue(at('2021-01-01 04:30', zone), zone), zone).toBe('2020-12-31');
      expect(lastNightDue(at('2021-01-02 04:29', zone), zone), zone).toBe('2020-12-31');
    }
  });
});

describe('campaign windows across the turn in far zones', () => {
  const quiet = { start: '21:00', end: '09:00' };

  it('quiet hours on 31 December: a welcome due at 23:30 local goes at 09:00 local on 1 January, in every zone', () => {
    for (const zone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kathmandu']) {
      const due = at('2020-12-31 23:30', zone);
      expect(isQuietTime(due, zone, quiet)).toBe(true);
      expect(nextAllowedTime(due, zone, quiet), zone).toBe(at('2021-01-01 09:00', zone));
      expect(nextAllowedTime(at('2020-12-31 20:59', zone), zone, quiet)).toBe(at('2020-12-31 20:59', zone));
    }
  });

  it('the birthday month play: January opens at local midnight of 1 January in Kiritimati (key 2021), December closes at local midnight in Pago Pago (key 2020)', () => {
    const context = ctx({});
    const jan = clientProfile({ customerId: 'k1', tier: 'Entry', birthday: '1990-01-15', timeZone: 'Pacific/Kiritimati' });
    const dec = clientProfile({ customerId: 'p1', tier: 'Entry', birthday: '12-20', timeZone: 'Pacific/Pago_Pago' });
    const birthdayOf = (profile: typeof jan, instant: number) => dueOccasions(profile, new Map(), instant, context).filter((o) => o.campaignId === 'birthday');
    const kiriNewYear = at('2021-01-01 00:00', 'Pacific/Kiritimati');
    expect(birthdayOf(jan, kiriNewYear - 1)).toEqual([]);
    expect(birthdayOf(jan, kiriNewYear)).toEqual([expect.objectContaining({ occasionKey: 'birthday#2021', dueAt: kiriNewYear, expiresAt: at('2021-02-01 00:00', 'Pacific/Kiritimati') })]);
    const pagoNewYear = at('2021-01-01 00:00', 'Pacific/Pago_Pago');
    expect(birthdayOf(dec, pagoNewYear - 1)).toEqual([expect.objectContaining({ occasionKey: 'birthday#2020', expiresAt: pagoNewYear })]);
    expect(birthdayOf(dec, pagoNewYear)).toEqual([]);
    // 25 hours apart in UTC, the same local midnight.
    expect(pagoNewYear - kiriNewYear).toBe(25 * HOUR);
  });

  it('a birthday on 29 February is celebrated on 28 February 2021, once, keyed 2021', () => {
    const context = ctx({ campaigns: [{ id: 'bday', template: 'birthday', trigger: { on: 'birthday' } } as never] });
    const profile = clientProfile({ customerId: 'l1', tier: 'Entry', birthday: '1992-02-29', timeZone: 'Asia/Shanghai' });
    const windows = sendWindows(profile, new Map(), context, { from: at('2021-01-01 00:00'), to: at('2021-12-31 23:00') }).filter((w) => w.campaign.id === 'bday');
    // The range's years and one on each side: 2020's on the 29th, 2021's on the 28th, 2022's on the 28th.
    expect(windows.map((w) => [w.occasionKey, iso(w.dueAt), iso(w.expiresAt)])).toEqual(
      expect.arrayContaining([
        ['bday#2020', iso(at('2020-02-29 00:00')), iso(at('2020-03-01 00:00'))],
        ['bday#2021', iso(at('2021-02-28 00:00')), iso(at('2021-03-01 00:00'))],
      ]),
    );
    expect(windows.filter((w) => w.occasionKey === 'bday#2021')).toHaveLength(1);
  });

  it('seasons across New Year: a season starting on 01-01 is announced 7 days before, keyed by its own year, to last year\'s buyers of it', () => {
    const seasons = [
      { name: 'winter', starts: '01-01' },
      { name: 'summer', starts: '07-01' },
    ];
    expect(seasonOn(seasons, '2020-12-31')).toEqual({ season: 'summer', from: '2020-07-01', to: '2021-01-01' });
    expect(lastYearWindow(seasons, '2021-01-01')).toEqual({ season: 'winter', from: '2020-01-01', to: '2020-07-01' });
    const context = ctx({ seasons, campaigns: [{ kind: 'seasonal' }] as never });
    const buyer = clientProfile({
      customerId: 's1',
      tier: 'Core',
      timeZone: 'Asia/Shanghai',
      skus: { COAT: { lastPurchasedAt: iso(at('2020-01-10 12:00')), quantity: 1, purchases: 1, productName: 'Coat' } },
      lastOrderAt: iso(at('2020-01-10 12:00')),
      firstOrderAt: iso(at('2020-01-10 12:00')),
      orderCount: 1,
    });
    const due = dueOccasions(buyer, new Map(), at('2020-12-25 10:00'), context).filter((o) => o.campaignId === 'seasonal');
    expect(due.map((o) => o.occasionKey)).toEqual(['seasonal#winter#2021']);
  });
});

describe('the book, the recall ladder and month-only birthdays across the turn', () => {
  const CONFIG = parseConfig({});
  const vic = (customerId: string, fields: Partial<ClientProfile> = {}): ClientProfile =>
    clientProfile({ customerId, advisorId: 'A1', tier: 'VIC', stage: 'active', spend12mMinor: 6_000_000, firstOrderAt: iso(at('2019-06-01 10:00')), lastOrderAt: iso(at('2020-12-20 10:00')), usualReorderGapDays: 40, ...fields });
  const bookOf = (runDate: string, profiles: ClientProfile[], recentTierChanges: TierChange[] = []) =>
    buildAdvisorBook({ advisorId: 'A1', profiles, runDate, now: runClock(runDate, CONFIG.timeZone).now, config: CONFIG, catalog: new Map(), recentTierChanges });

  it('newly rising: an upgrade recorded on the night of 2020-12-29 is in the digest of Sunday 2021-01-03 (W53), not in that of 2021-01-10 (W01)', () => {
    const rising = vic('r1', { tier: 'Core', spend12mMinor: 900_000, clv: { probabilityAlive: 0.9, expectedPurchases90d: 1, expectedPurchases365d: 4, expectedAverageOrderValueMinor: 200_000, clv12mMinor: 7_000_000, rising: true, churnRisk: 'low' } });
    const upgrade: TierChange = { customerId: 'r1', runDate: '2020-12-29', fromTier: 'Potential', toTier: 'Core', toStage: 'active', spend12mMinor: 900_000 };
    const kinds = (runDate: string) => bookOf(runDate, [rising], [upgrade]).rows.find((r) => r.customerId === 'r1')?.reasons.map((r) => r.kind) ?? [];
    expect(kinds('2021-01-03')).toContain('newly-rising');
    expect(kinds('2021-01-10')).not.toContain('newly-rising');
  });

  it('the recall ladder across 29 February: 120, 180 and 365 days after an order of 2020-01-15 are 2020-05-14, 2020-07-13 and 2021-01-14, each once', () => {
    const recall = ctx({ campaigns: [{ kind: 'recall' }] as never });
    const lapsed = clientProfile({ customerId: 'rl', tier: 'Core', timeZone: 'Asia/Shanghai', orderCount: 2, topCategory: 'skin', lastOrderAt: iso(at('2020-01-15 10:00')), firstOrderAt: iso(at('2019-01-15 10:00')), skus: { CREAM: { lastPurchasedAt: iso(at('2020-01-15 10:00')), quantity: 1, purchases: 2, category: 'skin' } } });
    const windows = sendWindows(lapsed, new Map(), recall, { from: at('2020-01-15 00:00'), to: at('2021-03-01 00:00') })
      .filter((w) => w.campaign.id === 'recall')
      .map((w) => [w.occasionKey.replace(/^recall#[^#]+#/, ''), localDate(w.dueAt, 'Asia/Shanghai'), localDate(w.expiresAt, 'Asia/Shanghai')]);
    expect(windows).toEqual([
      ['120d', '2020-05-14', '2020-06-13'],
      ['180d', '2020-07-13', '2020-08-12'],
      ['365d', '2021-01-14', '2021-02-13'],
    ]);
  });

  it('month-only birthdays of December and January: the birthday month play opens on the 1st in the client\'s zone, keyed by its year', () => {
    const context = ctx({});
    const december = clientProfile({ customerId: 'm12', tier: 'Entry', birthday: '1980-12', timeZone: 'Asia/Kathmandu' });
    const january = clientProfile({ customerId: 'm01', tier: 'Entry', birthday: '--01', timeZone: 'Asia/Kathmandu' });
    const keys = (profile: ClientProfile, when: string) => dueOccasions(profile, new Map(), at(when, 'Asia/Kathmandu'), context).filter((o) => o.campaignId === 'birthday').map((o) => o.occasionKey);
    expect(keys(december, '2020-12-31 23:59')).toEqual(['birthday#2020']);
    expect(keys(december, '2021-01-01 00:00')).toEqual([]);
    expect(keys(january, '2020-12-31 23:59')).toEqual([]);
    expect(keys(january, '2021-01-01 00:00')).toEqual(['birthday#2021']);
  });
});
