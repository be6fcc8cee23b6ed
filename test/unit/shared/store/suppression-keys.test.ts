import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { email } from '#shared/exports/fields.ts';
import { erasedKey } from '#shared/store/erasure-store.ts';
import { customerSuppressionKey } from '#shared/store/suppression-store.ts';

/**
 * The suppression table holds addresses, clients' own keys ('customer:<id>') and erasure hashes
 * under one key attribute: a client's key must never be an address the export accepts nor an
 * erasure key, or one person's no would suppress (or erase) another.
 */

const customerIds = fc.string({ minLength: 1, maxLength: 64 }).filter((id) => id.trim().length > 0);

describe('customerSuppressionKey', () => {
  it('is never an address the export accepts (no address holds a colon), nor an erasure key', () => {
    fc.assert(
      fc.property(customerIds, (id) => {
        const key = customerSuppressionKey(id);
        expect(email.safeParse(key).success).toBe(false);
        expect(key.startsWith('erased:')).toBe(false);
        expect(key).not.toBe(erasedKey('customer', id));
      }),
    );
  });

  it('keeps the id as it is (ids are case-sensitive, unlike addresses), trimmed', () => {
    expect(customerSuppressionKey('C000123')).toBe('customer:C000123');
    expect(customerSuppressionKey(' C000123 ')).toBe('customer:C000123');
    expect(customerSuppressionKey('c000123')).not.toBe(customerSuppressionKey('C000123'));
    expect(() => customerSuppressionKey('  ')).toThrow(/empty customer id/);
  });
});
