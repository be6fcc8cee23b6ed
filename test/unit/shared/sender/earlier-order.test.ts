import { describe, expect, it } from 'vitest';
import { brandDefaultCampaigns } from '#shared/campaigns/schema.ts';
import { lapseCampaignIds, mailedForLaterOrder } from '#shared/sender/earlier-order.ts';

const DAY = 86_400_000;
const A = '2026-06-01T02:00:00.000Z';
const B = '2026-06-11T02:00:00.000Z';
const LAPSES: ReadonlyMap<string, readonly number[]> = new Map([
  ['winback', [60]],
  ['recall', [120, 180, 365]],
]);
const occasion = (occasionKey: string, lastOrderAt: string | undefined, campaignId = 'winback') => ({ campaignId, occasionKey, details: lastOrderAt === undefined ? {} : { lastOrderAt } });
/** An entry claimed (by default) 60 days after the order its key names, as a win-back is. */
const entry = (occasionKey: string, status: 'sent' | 'maybe-sent' | 'claimed' | 'expired', campaignId = 'winback', claimedAt = Date.parse(occasionKey.split('#')[1] ?? '') + 60 * DAY) => ({
  campaignId,
  occasionKey,
  status,
  claimedAt,
});

describe('an order-keyed occasion mailed under a later order (refunded since)', () => {
  it('is settled by a sent or maybe-sent entry of the same campaign keyed by a later order', () => {
    expect(mailedForLaterOrder(occasion(`winback#${A}`, A), [entry(`winback#${B}`, 'sent')], LAPSES)).toBe(
      `sent for the later order of ${B} (winback#${B}), no longer the last order (refunded or removed)`,
    );
    expect(mailedForLaterOrder(occasion(`winback#${A}`, A), [entry(`winback#${B}`, 'maybe-sent')], LAPSES)).toMatch(/^maybe-sent for the later order/);
    // A purchase's suggestion (any-order, no lapse) too.
    expect(mailedForLaterOrder(occasion(`cross#${A}`, A, 'cross'), [entry(`cross#${B}`, 'sent', 'cross')], LAPSES)).toMatch(/^sent for the later order/);
  });

  it('is not settled by an entry that did not mail, of an earlier order, of another campaign or another lapse step', () => {
    expect(mailedForLaterOrder(occasion(`winback#${A}`, A), [entry(`winback#${B}`, 'expired'), entry(`winback#${B}`, 'claimed')], LAPSES)).toBeUndefined();
    // The email for A's lapse went before B: B started a new lapse.
    expect(mailedForLaterOrder(occasion(`winback#${B}`, B), [entry(`winback#${A}`, 'sent', 'winback', Date.parse(B) - DAY)], LAPSES)).toBeUndefined();
    expect(mailedForLaterOrder(occasion(`winback#${A}`, A), [entry(`recall#${B}`, 'sent', 'recall')], LAPSES)).toBeUndefined();
    // Steps of a lapse: the 60-day step mailed under B does not settle the 120-day step of A.
    expect(mailedForLaterOrder(occasion(`recall#${A}#120d`, A, 'recall'), [entry(`recall#${B}`, 'sent', 'recall')], LAPSES)).toBeUndefined();
    expect(mailedForLaterOrder(occasion(`recall#${A}#120d`, A, 'recall'), [entry(`recall#${B}#120d`, 'sent', 'recall')], LAPSES)).toMatch(/^sent for the later order/);
    // Not keyed by the last order (a yearly key, no order at all): never settled this way.
    expect(mailedForLaterOrder(occasion('birthday#2026', undefined, 'birthday'), [entry('birthday#2027', 'sent', 'birthday')], LAPSES)).toBeUndefined();
  });
});

describe('a lapse whose last order moved later with no order since (its time corrected)', () => {
  // The same order, re-dated two hours later (or read in the brand's corrected zone).
  const MOVED = '2026-06-01T04:00:00.000Z';

  it('is settled by an email of the same campaign and step claimed after the current last order', () => {
    expect(mailedForLaterOrder(occasion(`winback#${MOVED}`, MOVED), [entry(`winback#${A}`, 'sent')], LAPSES)).toBe(
      `sent on 2026-07-31T02:00:00.000Z for the lapse from ${A} (winback#${A}), with no order since: the same lapse, its last order's time moved`,
    );
    expect(mailedForLaterOrder(occasion(`winback#${MOVED}`, MOVED), [entry(`winback#${A}`, 'maybe-sent')], LAPSES)).toMatch(/^maybe-sent on .* with no order since/);
    // The timestamp written another way (an offset) is the same instant: the same lapse.
    expect(mailedForLaterOrder(occasion(`winback#${A}`, A), [entry('winback#2026-06-01T10:00:00+08:00', 'sent')], LAPSES)).toMatch(/with no order since/);
    // Each recall step by its own step only.
    const step120 = entry(`recall#${A}#120d`, 'sent', 'recall', Date.parse(A) + 120 * DAY);
    expect(mailedForLaterOrder(occasion(`recall#${MOVED}#120d`, MOVED, 'recall'), [step120], LAPSES)).toMatch(/with no order since/);
    expect(mailedForLaterOrder(occasion(`recall#${MOVED}#180d`, MOVED, 'recall'), [step120], LAPSES)).toBeUndefined();
  });

  it('is not settled by an email claimed before the current last order, one that did not mail, a bare key for a step, or another campaign', () => {
    // An order after the email: a new lapse, mailed again.
    expect(mailedForLaterOrder(occasion(`winback#${B}`, B), [entry(`winback#${A}`, 'sent', 'winback', Date.parse(B) - 1)], LAPSES)).toBeUndefined();
    expect(mailedForLaterOrder(occasion(`winback#${MOVED}`, MOVED), [entry(`winback#${A}`, 'expired'), entry(`winback#${A}`, 'claimed')], LAPSES)).toBeUndefined();
    // A ladder's bare entry that legacy-keys could not place in a step settles no step.
    expect(mailedForLaterOrder(occasion(`recall#${MOVED}#120d`, MOVED, 'recall'), [entry(`recall#${A}`, 'sent', 'recall', Date.parse(A) + 130 * DAY)], LAPSES)).toBeUndefined();
    expect(mailedForLaterOrder(occasion(`winback#${MOVED}`, MOVED), [entry(`recall#${A}`, 'sent', 'recall')], LAPSES)).toBeUndefined();
  });

  it('is not settled by an email of the lapse from an order farther back: a new order placed before the email but read after it starts a lapse of its own', () => {
    // Ordered on the win-back's day, before the 10:00 hour sent it; the night had run before the order.
    const READ_LATE = '2026-07-31T00:00:00.000Z';
    expect(mailedForLaterOrder(occasion(`winback#${READ_LATE}`, READ_LATE), [entry(`winback#${A}`, 'sent', 'winback', Date.parse(A) + 60 * DAY + 2 * 3_600_000)], LAPSES)).toBeUndefined();
    // Moved by a zone correction of up to 26 hours: still the same order.
    const ZONE_MOVED = '2026-06-02T04:00:00.000Z';
    expect(mailedForLaterOrder(occasion(`winback#${ZONE_MOVED}`, ZONE_MOVED), [entry(`winback#${A}`, 'sent')], LAPSES)).toMatch(/with no order since/);
    // A 2-day lapse: an order a day later can be a new one, so the bound is under half its days.
    const short = new Map([['nudge', [2]]]);
    const dayLater = '2026-06-02T02:00:00.000Z';
    expect(mailedForLaterOrder(occasion(`nudge#${dayLater}`, dayLater, 'nudge'), [entry(`nudge#${A}`, 'sent', 'nudge', Date.parse(A) + 2 * DAY)], short)).toBeUndefined();
  });

  it('does not settle a purchase\u2019s occasion (any-order): an order placed before its email but read after it is a purchase of its own', () => {
    expect(mailedForLaterOrder(occasion(`cross#${MOVED}`, MOVED, 'cross'), [entry(`cross#${A}`, 'sent', 'cross', Date.parse(A) + 21 * DAY)], LAPSES)).toBeUndefined();
  });

  it('applies to the no-order-for campaigns (the win-back, the recall ladder), not to the cross-category suggestion', () => {
    const lapses = lapseCampaignIds(brandDefaultCampaigns());
    expect(lapses.has('winback')).toBe(true);
    expect(lapses.has('recall')).toBe(true);
    expect(lapses.has('cross-category')).toBe(false);
    expect(lapses.has('welcome')).toBe(false);
  });
});
