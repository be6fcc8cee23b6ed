import { describe, expect, it } from 'vitest';
import { mailedForLaterOrder } from '#shared/sender/earlier-order.ts';

const A = '2026-06-01T02:00:00.000Z';
const B = '2026-06-11T02:00:00.000Z';
const occasion = (occasionKey: string, lastOrderAt: string | undefined, campaignId = 'winback') => ({ campaignId, occasionKey, details: lastOrderAt === undefined ? {} : { lastOrderAt } });
const entry = (occasionKey: string, status: 'sent' | 'maybe-sent' | 'claimed' | 'expired', campaignId = 'winback') => ({ campaignId, occasionKey, status });

describe('an order-keyed occasion mailed under a later order (refunded since)', () => {
  it('is settled by a sent or maybe-sent entry of the same campaign keyed by a later order', () => {
    expect(mailedForLaterOrder(occasion(`winback#${A}`, A), [entry(`winback#${B}`, 'sent')])).toBe(
      `sent for the later order of ${B} (winback#${B}), no longer the last order (refunded or removed)`,
    );
    expect(mailedForLaterOrder(occasion(`winback#${A}`, A), [entry(`winback#${B}`, 'maybe-sent')])).toMatch(/^maybe-sent for the later order/);
  });

  it('is not settled by an entry that did not mail, of an earlier order, of another campaign or another lapse step', () => {
    expect(mailedForLaterOrder(occasion(`winback#${A}`, A), [entry(`winback#${B}`, 'expired'), entry(`winback#${B}`, 'claimed')])).toBeUndefined();
    expect(mailedForLaterOrder(occasion(`winback#${B}`, B), [entry(`winback#${A}`, 'sent')])).toBeUndefined();
    expect(mailedForLaterOrder(occasion(`winback#${A}`, A), [entry(`recall#${B}`, 'sent', 'recall')])).toBeUndefined();
    // Steps of a lapse: the 60-day step mailed under B does not settle the 120-day step of A.
    expect(mailedForLaterOrder(occasion(`recall#${A}#120d`, A, 'recall'), [entry(`recall#${B}`, 'sent', 'recall')])).toBeUndefined();
    expect(mailedForLaterOrder(occasion(`recall#${A}#120d`, A, 'recall'), [entry(`recall#${B}#120d`, 'sent', 'recall')])).toMatch(/^sent for the later order/);
    // Not keyed by the last order (a yearly key, no order at all): never settled this way.
    expect(mailedForLaterOrder(occasion('birthday#2026', undefined, 'birthday'), [entry('birthday#2027', 'sent', 'birthday')])).toBeUndefined();
  });
});
