import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { afterOutcome, CLOSED_BREAKER, type BreakerState } from '#shared/delivery/circuit-breaker.ts';
import type { SendOutcome } from '#shared/delivery/outcome.ts';

const sent: SendOutcome = { status: 'sent', messageId: 'm', attempts: 1 };
const unreachable: SendOutcome = { status: 'not-sent', retry: 'later', scope: 'connection', errorName: 'ECONNREFUSED', reason: 'unreachable after 3 attempts: ECONNREFUSED', attempts: 3 };
const maybe: SendOutcome = { status: 'maybe-sent', errorName: 'TimeoutError', reason: 'TimeoutError: socket hang up', attempts: 1 };
const rejected: SendOutcome = { status: 'not-sent', retry: 'never', scope: 'message', errorName: 'MessageRejected', reason: 'MessageRejected: Illegal address', attempts: 1 };
const badRequest: SendOutcome = { status: 'not-sent', retry: 'later', scope: 'request', errorName: 'BadRequestException', reason: 'BadRequestException: Configuration set does not exist.', attempts: 1 };
const badAddress: SendOutcome = { status: 'not-sent', retry: 'never', scope: 'message', errorName: 'InvalidRecipient', reason: 'InvalidRecipient', attempts: 0 };

const fold = (outcomes: SendOutcome[], threshold: number): BreakerState => outcomes.reduce((state, o) => afterOutcome(state, o, threshold), CLOSED_BREAKER);

describe('circuit breaker', () => {
  it('opens after the threshold of transport failures in a row, unreachable or maybe sent alike', () => {
    expect(fold([unreachable, maybe, unreachable, unreachable], 5).open).toBe(false);
    expect(fold([unreachable, maybe, unreachable, unreachable, maybe], 5)).toEqual({ consecutive: 5, open: true, lastFailure: 'TimeoutError: socket hang up' });
  });

  it('counts a request SES refused without naming the recipient (a configuration problem every email meets), in a row only', () => {
    expect(fold([badRequest, badRequest, badRequest], 3)).toEqual({ consecutive: 3, open: true, lastFailure: 'BadRequestException: Configuration set does not exist.' });
    expect(fold([unreachable, badRequest, maybe], 3).open).toBe(true);
    // One address SES refuses each hour cannot stop a run alone: the next answered send closes the streak.
    expect(fold([badRequest, sent, badRequest, rejected, badRequest], 2)).toMatchObject({ consecutive: 1, open: false });
  });

  it('is closed again by any answer from SES, and left alone by outcomes decided without SES', () => {
    expect(fold([unreachable, unreachable, sent, unreachable], 3)).toMatchObject({ consecutive: 1, open: false });
    expect(fold([unreachable, unreachable, rejected, unreachable], 3)).toMatchObject({ consecutive: 1, open: false });
    expect(fold([unreachable, unreachable, badAddress, unreachable], 3)).toMatchObject({ consecutive: 3, open: true });
  });

  it('stays open once open, and refuses a threshold below one', () => {
    expect(fold([unreachable, sent, sent], 1).open).toBe(true);
    expect(() => afterOutcome(CLOSED_BREAKER, sent, 0)).toThrow(RangeError);
  });

  it('opens exactly when some run of consecutive transport failures or refused requests (ignoring outcomes without SES calls) reaches the threshold', () => {
    const outcome = fc.constantFrom(sent, unreachable, maybe, badRequest, rejected, badAddress);
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), (outcomes, threshold) => {
        let streak = 0;
        let expected = false;
        for (const o of outcomes) {
          if (o === unreachable || o === maybe || o === badRequest) streak++;
          else if (o.attempts > 0) streak = 0;
          if (streak >= threshold) expected = true;
        }
        expect(fold(outcomes, threshold).open).toBe(expected);
      }),
    );
  });
});
