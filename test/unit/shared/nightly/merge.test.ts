import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STAGES, TIERS } from '#shared/model.ts';
import { KEPT_FIELDS, mergeWithStored } from '#shared/nightly/merge.ts';
import type { ProfileItem } from '#shared/store/profile-store.ts';

type KeptField = (typeof KEPT_FIELDS)[number];

/** A profile as the night computes it for a client the export knows nothing personal about. */
function computed(customerId: string, fields: Partial<ProfileItem> = {}): ProfileItem {
  return {
    customerId,
    tier: 'Entry',
    stage: 'active',
    spend12mMinor: 50_000,
    lifetimeSpendMinor: 50_000,
    currency: 'USD',
    orderCount: 1,
    skus: {},
    digest: 'tonight',
    updatedRunDate: '2026-03-02',
    ...fields,
  };
}

/** Every kept field present, as a stored profile of a client who told the brand everything. */
const STORED_CONTACT: Required<Pick<ProfileItem, KeptField>> = {
  email: 'ada@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
  locale: 'en',
  timeZone: 'Europe/London',
  birthday: '1815-12-10',
  advisorId: 'adv-1',
  signedUpAt: '2020-01-01T00:00:00.000Z',
  acceptsMarketing: true,
};

const TONIGHT_CONTACT: Required<Pick<ProfileItem, KeptField>> = {
  email: 'ada.king@example.org',
  firstName: 'Augusta Ada',
  lastName: 'King',
  locale: 'zh-CN',
  timeZone: 'Asia/Shanghai',
  birthday: '1815-12-11',
  advisorId: 'adv-2',
  signedUpAt: '2021-06-01T00:00:00.000Z',
  acceptsMarketing: false,
};

const stored = computed('c1', {
  ...STORED_CONTACT,
  tier: 'VIC',
  stage: 'at-risk',
  spend12mMinor: 9_000_000,
  rfm: { r: 5, f: 5, m: 5 },
  clv: { probabilityAlive: 0.9, expectedPurchases90d: 1, expectedPurchases365d: 3, expectedAverageOrderValueMinor: 300_000, clv12mMinor: 900_000, rising: false, churnRisk: 'low' },
  topCategory: 'skin',
  digest: 'stored',
  updatedRunDate: '2026-02-01',
  lastIncrement: 'exports/2026-02-15/orders.csv',
  incrementOrderIds: ['o-intraday'],
});

/** tonight with only these kept fields (and nothing else the client said). */
const withFields = (base: ProfileItem, source: Pick<ProfileItem, KeptField>, fields: readonly KeptField[]): ProfileItem => {
  const item: ProfileItem = { ...base };
  for (const field of fields) Object.assign(item, { [field]: source[field] });
  return item;
};

describe('mergeWithStored', () => {
  it('returns tonight\u2019s profile as it is for a client with nothing stored', () => {
    const tonight = computed('c1', { email: 'new@example.com' });
    expect(mergeWithStored(tonight, undefined)).toBe(tonight);
    expect(mergeWithStored(tonight, null)).toBe(tonight);
  });

  it.each(KEPT_FIELDS)('keeps the stored %s when tonight\u2019s export leaves it out', (field) => {
    const merged = mergeWithStored(computed('c1'), stored);
    expect(merged[field]).toEqual(STORED_CONTACT[field]);
  });

  it.each(KEPT_FIELDS)('takes tonight\u2019s %s when the export says something', (field) => {
    const merged = mergeWithStored(withFields(computed('c1'), TONIGHT_CONTACT, [field]), stored);
    expect(merged[field]).toEqual(TONIGHT_CONTACT[field]);
  });

  it('keeps a stored consent when tonight says nothing about it', () => {
    expect(mergeWithStored(computed('c1'), computed('c1', { acceptsMarketing: true })).acceptsMarketing).toBe(true);
    expect(mergeWithStored(computed('c1'), computed('c1', { acceptsMarketing: false })).acceptsMarketing).toBe(false);
    expect(mergeWithStored(computed('c1'), computed('c1')).acceptsMarketing).toBeUndefined();
  });

  it('withdraws consent on an explicit false tonight, whatever was stored', () => {
    for (const before of [true, false, undefined]) {
      const storedItem = computed('c1', before === undefined ? {} : { acceptsMarketing: before });
      expect(mergeWithStored(computed('c1', { acceptsMarketing: false }), storedItem).acceptsMarketing).toBe(false);
    }
  });

  it('grants consent on an explicit true tonight, even over a stored false', () => {
    expect(mergeWithStored(computed('c1', { acceptsMarketing: true }), computed('c1', { acceptsMarketing: false })).acceptsMarketing).toBe(true);
  });

  it('takes everything the night computes from tonight, even what tonight leaves out (no stale clv, rfm or increment)', () => {
    const tonight = computed('c1', { tier: 'Prospect', stage: 'prospect', spend12mMinor: 0, orderCount: 0 });
    const merged = mergeWithStored(tonight, stored);
    expect(merged).toMatchObject({ tier: 'Prospect', stage: 'prospect', spend12mMinor: 0, orderCount: 0, digest: 'tonight', updatedRunDate: '2026-03-02' });
    expect(merged.clv).toBeUndefined();
    expect(merged.rfm).toBeUndefined();
    expect(merged.topCategory).toBeUndefined();
    expect(merged.lastIncrement).toBeUndefined();
    expect(merged.incrementOrderIds).toBeUndefined();
    expect(Object.keys(merged).sort()).toEqual([...Object.keys(tonight), ...KEPT_FIELDS].sort());
  });

  it('changes neither tonight\u2019s profile nor the stored one', () => {
    const tonight = computed('c1', { email: 'x@example.com' });
    const tonightBefore = structuredClone(tonight);
    const storedBefore = structuredClone(stored);
    mergeWithStored(tonight, stored);
    expect(tonight).toEqual(tonightBefore);
    expect(stored).toEqual(storedBefore);
  });

  it('for any fields present tonight and stored: each kept field is tonight\u2019s if present, else the stored one, and the computed fields are always tonight\u2019s', () => {
    const subset = fc.subarray([...KEPT_FIELDS]);
    const tierStage = fc.record({ tier: fc.constantFrom(...TIERS), stage: fc.constantFrom(...STAGES), spend12mMinor: fc.nat() });
    fc.assert(
      fc.property(subset, subset, tierStage, tierStage, fc.boolean(), fc.boolean(), (tonightFields, storedFields, tonightComputed, storedComputed, consentTonight, consentStored) => {
        const tonight = withFields(computed('c1', { ...tonightComputed, digest: 'tonight' }), { ...TONIGHT_CONTACT, acceptsMarketing: consentTonight }, tonightFields);
        const storedItem = withFields(computed('c1', { ...storedComputed, digest: 'stored' }), { ...STORED_CONTACT, acceptsMarketing: consentStored }, storedFields);
        const merged = mergeWithStored(tonight, storedItem);
        for (const field of KEPT_FIELDS) {
          if (storedItem[field] !== undefined) expect(merged[field]).not.toBeUndefined();
          expect(merged[field]).toEqual(tonight[field] !== undefined ? tonight[field] : storedItem[field]);
        }
        expect(merged.tier).toBe(tonightComputed.tier);
        expect(merged.stage).toBe(tonightComputed.stage);
        expect(merged.spend12mMinor).toBe(tonightComputed.spend12mMinor);
        expect(merged.digest).toBe('tonight');
        if (tonight.acceptsMarketing === false) expect(merged.acceptsMarketing).toBe(false);
      }),
    );
  });
});
