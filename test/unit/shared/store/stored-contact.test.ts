import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contactMoves, storedContactOf } from '#shared/store/stored-contact.ts';

const none = { addressChanged: false, consentGivenBack: false };

describe('storedContactOf and contactMoves', () => {
  it('counts an address replaced by another, not the same one in other case or with spaces, nor a first address, nor a row without one', () => {
    const stored = storedContactOf({ email: 'ann@example.com', acceptsMarketing: true });
    expect(contactMoves(stored, { email: 'bob@example.com' })).toEqual({ ...none, addressChanged: true });
    expect(contactMoves(stored, { email: ' ANN@example.com ' })).toEqual(none);
    expect(contactMoves(stored, {})).toEqual(none);
    expect(contactMoves(stored, { email: '' })).toEqual(none);
    expect(contactMoves(storedContactOf({ acceptsMarketing: true }), { email: 'ann@example.com' })).toEqual(none);
  });

  it('does not compare an address an hourly increment changed since the night: tonight agreeing with the night or the hour is no change of its own', () => {
    const stored = storedContactOf({ email: 'new@example.com', nightEmail: 'old@example.com' });
    expect(contactMoves(stored, { email: 'new@example.com' })).toEqual(none);
    expect(contactMoves(stored, { email: 'old@example.com' })).toEqual(none);
    // A nightEmail the same as the address (case aside) is no change by the hour: compared as usual.
    expect(contactMoves(storedContactOf({ email: 'ann@example.com', nightEmail: 'ANN@example.com' }), { email: 'bob@example.com' }).addressChanged).toBe(true);
  });

  it('counts consent given to a profile that held a no or none, not one that held a yes, nor a no or nothing tonight', () => {
    for (const [held, counted] of [[false, true], [undefined, true], [true, false]] as const) {
      const stored = storedContactOf({ email: 'ann@example.com', ...(held === undefined ? {} : { acceptsMarketing: held }) });
      expect(contactMoves(stored, { acceptsMarketing: true }).consentGivenBack, `held ${held}`).toBe(counted);
      expect(contactMoves(stored, { acceptsMarketing: false }).consentGivenBack).toBe(false);
      expect(contactMoves(stored, {}).consentGivenBack).toBe(false);
    }
  });

  it('counts nothing for a client the base does not hold', () => {
    expect(contactMoves(undefined, { email: 'ann@example.com', acceptsMarketing: true })).toEqual(none);
  });

  it('is always a small integer (below 2^30, stored in the object by V8), and never counts the stored address itself as a change', () => {
    fc.assert(
      fc.property(fc.option(fc.emailAddress(), { nil: undefined }), fc.option(fc.boolean(), { nil: undefined }), (email, acceptsMarketing) => {
        const stored = storedContactOf({ email, acceptsMarketing });
        expect(Number.isInteger(stored) && stored >= 0 && stored < 2 ** 30).toBe(true);
        expect(contactMoves(stored, { email, acceptsMarketing })).toEqual(none);
      }),
    );
  });
});
