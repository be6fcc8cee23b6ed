import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueOccasions, endedOccasions, type CampaignContext } from '#shared/campaigns/due.ts';
import { campaignsConfigSchema } from '#shared/campaigns/schema.ts';
import { ledgerOutcomeOf, type SendOutcome } from '#shared/delivery/outcome.ts';
import type { ClientProfile, ProductRecord, SkuPurchase } from '#shared/model.ts';
import { expiryReason } from '#shared/sender/expiry.ts';
import { isClaimable, type LedgerStatus } from '#shared/store/ledger-store.ts';
import { clientProfile } from '#test/support/profiles.ts';

/**
 * The delivery protocol's rules composed over weeks of hourly runs for one client, with SES
 * answering at random (sent, unreachable, a reset after the request left, a rejection), runs
 * crashing between claim and send, decisions that wait (capped) and missed hours: which occasions
 * are due (dueOccasions), which ledger entries a claim may take (isClaimable), what the ledger
 * records of each outcome (ledgerOutcomeOf), which ended occasions are expired (endedOccasions,
 * expiryReason). The sender (run.ts) does exactly these steps with DynamoDB in between.
 *
 * Invariants: an occasion is never handed to SES again once an attempt may have delivered it, no
 * attempt happens at or after its cut-off, and every occasion whose window has closed ends sent,
 * failed, maybe-sent, claimed (reported stale) or expired: never waiting, never missing.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LOOKBACK = 72 * HOUR;
const context: CampaignContext = { campaigns: campaignsConfigSchema.parse({ policy: { controlShare: 0 } }), brandTimeZone: 'Asia/Shanghai' };
const CATALOG = new Map<string, ProductRecord>([
  ['CREAM', { sku: 'CREAM', name: 'Night Cream', category: 'skin', replenishDays: 40 }],
  ['MIST', { sku: 'MIST', name: 'Face Mist', category: 'skin', replenishDays: 25 }],
]);
const START = Date.UTC(2026, 5, 1);
const iso = (ms: number) => new Date(ms).toISOString();

type Step = 'sent' | 'unreachable' | 'maybe' | 'rejected' | 'crash' | 'capped' | 'skip-hour';
const STEPS: Step[] = ['sent', 'unreachable', 'unreachable', 'maybe', 'rejected', 'crash', 'capped', 'skip-hour', 'skip-hour'];

const outcomeOf = (step: Exclude<Step, 'crash' | 'capped' | 'skip-hour'>): SendOutcome => {
  switch (step) {
    case 'sent':
      return { status: 'sent', messageId: 'm', attempts: 1 };
    case 'unreachable':
      return { status: 'not-sent', retry: 'later', scope: 'connection', errorName: 'ECONNREFUSED', reason: 'unreachable after 3 attempts: ECONNREFUSED', attempts: 3 };
    case 'maybe':
      return { status: 'maybe-sent', errorName: 'TimeoutError', reason: 'TimeoutError: socket hang up', attempts: 1 };
    case 'rejected':
      return { status: 'not-sent', retry: 'never', scope: 'message', errorName: 'MessageRejected', reason: 'MessageRejected: Illegal address', attempts: 1 };
  }
};

const near = fc.integer({ min: START - 70 * DAY, max: START + 5 * DAY }).map(iso);
const purchase: fc.Arbitrary<SkuPurchase> = fc.record({ lastPurchasedAt: near, quantity: fc.integer({ min: 1, max: 2 }), purchases: fc.constant(1) });
const clientArb: fc.Arbitrary<ClientProfile> = fc
  .record({ signedUpAt: near, firstOrderAt: near, lastOrderAt: near, skus: fc.dictionary(fc.constantFrom('CREAM', 'MIST'), purchase, { maxKeys: 2 }) })
  .map((fields) => clientProfile({ spend12mMinor: 1, lifetimeSpendMinor: 1, ...fields }));

describe('delivery protocol over weeks of hourly runs', () => {
  it('never hands an occasion to SES twice, never after its cut-off, and leaves none unaccounted for', () => {
    fc.assert(
      fc.property(clientArb, fc.array(fc.constantFrom(...STEPS), { minLength: 50, maxLength: 300 }), fc.integer({ min: 1, max: 5 }), (profile, steps, stride) => {
        const ledger = new Map<string, { status: LedgerStatus; reason?: string }>();
        /** Per key: attempts that may have delivered the email (sent, maybe sent, crashed after the claim). */
        const mayHaveDelivered = new Map<string, number>();
        const everDue = new Map<string, number>();
        let cursor = 0;
        const next = (): Step => steps[cursor++ % steps.length] as Step;
        const end = START + 45 * DAY;
        let t = START;
        while (t <= end) {
          if (next() === 'skip-hour') {
            t += HOUR; // an hour without a run (an outage), never longer than the lookback
            continue;
          }
          for (const occasion of endedOccasions(profile, CATALOG, t - LOOKBACK, t, context)) {
            const reason = expiryReason(occasion, ledger.get(occasion.occasionKey), profile, false, context.campaigns);
            if (reason === undefined) continue;
            expect(isClaimable(ledger.get(occasion.occasionKey)?.status)).toBe(true);
            ledger.set(occasion.occasionKey, { status: 'expired', reason });
          }
          for (const occasion of dueOccasions(profile, CATALOG, t, context)) {
            const key = occasion.occasionKey;
            everDue.set(key, occasion.expiresAt);
            if (!isClaimable(ledger.get(key)?.status)) continue;
            const step = next();
            if (step === 'capped' || step === 'skip-hour') {
              ledger.set(key, { status: 'capped', reason: 'priority' });
              continue;
            }
            // Claimed: SES is called now.
            expect(t).toBeLessThan(occasion.expiresAt);
            expect(mayHaveDelivered.get(key) ?? 0, `${key} handed to SES again`).toBe(0);
            if (step === 'crash') {
              ledger.set(key, { status: 'claimed' });
              mayHaveDelivered.set(key, 1);
              continue;
            }
            const outcome = outcomeOf(step);
            const record = ledgerOutcomeOf(outcome, t, t + HOUR);
            ledger.set(key, { status: record.status, ...('reason' in record ? { reason: record.reason } : {}) });
            if (outcome.status === 'sent' || outcome.status === 'maybe-sent') mayHaveDelivered.set(key, 1);
          }
          t += stride * HOUR;
        }
        // A last run after the horizon settles what ended since the previous one.
        for (const occasion of endedOccasions(profile, CATALOG, t - LOOKBACK, t, context)) {
          const reason = expiryReason(occasion, ledger.get(occasion.occasionKey), profile, false, context.campaigns);
          if (reason !== undefined) ledger.set(occasion.occasionKey, { status: 'expired', reason });
        }
        for (const [key, expiresAt] of everDue) {
          if (expiresAt > t) continue; // still due: a later run decides it
          const entry = ledger.get(key);
          expect(['sent', 'failed', 'maybe-sent', 'claimed', 'expired'], `${key}: ${JSON.stringify(entry)}`).toContain(entry?.status);
          if (entry?.status === 'expired') expect(entry.reason).toMatch(/window closed at .* (while (deferred|capped)|before any run decided it)/);
        }
      }),
      { numRuns: 60 },
    );
  });
});
