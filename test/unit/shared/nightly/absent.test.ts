import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { absenceOwner, absentClientsOf, withAbsence } from '#shared/nightly/absent.ts';
import { shardsOf } from '#shared/nightly/shards.ts';
import { clientProfile } from '#test/support/profiles.ts';

const GENERIC = [{ kind: 'customers', format: 'generic' }, { kind: 'orders', format: 'generic' }] as const;
const SHOPIFY = [{ kind: 'customers', format: 'shopify' }, { kind: 'orders', format: 'shopify' }] as const;

describe('absenceOwner', () => {
  it('gives every stored client exactly one shard, by the key the export is split by', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(GENERIC, SHOPIFY),
        fc.integer({ min: 1, max: 8 }),
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.option(fc.emailAddress(), { nil: undefined }),
        (files, count, customerId, email) => {
          const profile = { customerId, ...(email === undefined ? {} : { email }) };
          const owners = shardsOf(count).filter((shard) => absenceOwner(files, shard)(profile));
          expect(owners).toHaveLength(1);
        },
      ),
    );
  });
});

describe('withAbsence', () => {
  it('marks a profile absent since tonight, and keeps the first night of an earlier mark', () => {
    const profile = clientProfile({ customerId: 'c1' });
    expect(withAbsence(profile, '2026-11-09')).toEqual({ ...profile, absentSince: '2026-11-09' });
    expect(withAbsence({ ...profile, absentSince: '2026-11-01' }, '2026-11-09')).toEqual({ ...profile, absentSince: '2026-11-01' });
  });
});

describe('absentClientsOf', () => {
  it("is every shard's counted clients less those another shard counted back", () => {
    const absent = absentClientsOf([
      { counted: ['a', 'b'], countedBack: [] },
      { counted: ['c'], countedBack: ['b'] },
    ]);
    expect([...(absent ?? [])].sort()).toEqual(['a', 'c']);
  });

  it('is unknown when an outcome of an earlier version has no count', () => {
    expect(absentClientsOf([{ counted: ['a'], countedBack: [] }, undefined])).toBeUndefined();
    expect(absentClientsOf([])).toEqual(new Set());
  });
});
