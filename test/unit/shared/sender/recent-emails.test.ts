import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CampaignContext, DueOccasion } from '#shared/campaigns/due.ts';
import { companionOccasions, decide } from '#shared/campaigns/policy.ts';
import type { CampaignKind } from '#shared/campaigns/schema.ts';
import { emailOf, entriesOfOtherEmails, recentEmails } from '#shared/sender/recent-emails.ts';
import type { LedgerStatus } from '#shared/store/ledger-store.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { DAY, HOUR, MINUTE } from '#test/support/time.ts';
import { context } from '../campaigns/fixtures.ts';

/** The frequency cap counts emails: one email settling several occasions (a reminder and its companion products) counts once. */

const AT = Date.UTC(2026, 10, 23, 2);
type Entry = Parameters<typeof recentEmails>[0][number];

/** The ledger entries one email leaves, one per occasion it settles. */
function emailEntries(
  occasions: number,
  fields: { runId?: string; campaignId?: string; claimedAt?: number; status?: LedgerStatus; emailId?: string } = {},
): Entry[] {
  const claimedAt = fields.claimedAt ?? AT - DAY;
  const status = fields.status ?? 'sent';
  return Array.from({ length: occasions }, () => ({
    runId: fields.runId ?? 'run-1',
    campaignId: fields.campaignId ?? 'replenishment',
    claimedAt,
    status,
    ...(status === 'sent' ? { sentAt: claimedAt + MINUTE } : {}),
    ...(fields.emailId !== undefined ? { emailId: fields.emailId } : {}),
  }));
}

describe('recentEmails', () => {
  it('counts a reminder listing three products once', () => {
    expect(recentEmails(emailEntries(3, { emailId: 'e-1' }), AT)).toEqual([{ campaignId: 'replenishment', sentAt: AT - DAY + MINUTE }]);
  });

  it('tells the emails of one run apart by their id', () => {
    const entries = [...emailEntries(2, { emailId: 'e-1' }), ...emailEntries(1, { emailId: 'e-2', campaignId: 'advisor-introduction' })];
    expect(recentEmails(entries, AT)).toHaveLength(2);
  });

  it('groups entries written before emails had an id by run, campaign and claim time', () => {
    const entries = [
      ...emailEntries(3),
      ...emailEntries(1, { runId: 'run-2' }),
      ...emailEntries(1, { campaignId: 'advisor-introduction' }),
      ...emailEntries(1, { claimedAt: AT - 2 * DAY }),
    ];
    expect(recentEmails(entries, AT)).toHaveLength(4);
  });

  it('counts an email in flight or maybe sent, at its latest time, and nothing that did not go', () => {
    // The run recorded 'sent' on two occasions and died before the third: still one email.
    const partly = [...emailEntries(2, { emailId: 'e-1' }), ...emailEntries(1, { emailId: 'e-1', status: 'claimed' })];
    expect(recentEmails(partly, AT)).toEqual([{ campaignId: 'replenishment', sentAt: AT - DAY + MINUTE }]);
    expect(recentEmails(emailEntries(2, { emailId: 'e-2', status: 'maybe-sent' }), AT)).toEqual([{ campaignId: 'replenishment', sentAt: AT - DAY }]);
    const notSends: LedgerStatus[] = ['held-out', 'capped', 'deferred', 'failed', 'expired', 'suppressed', 'no-consent', 'advisor-handled'];
    expect(recentEmails(notSends.flatMap((status) => emailEntries(2, { status, emailId: status })), AT)).toEqual([]);
  });

  it('forgets emails older than 7 days', () => {
    const entries = [...emailEntries(2, { emailId: 'old', claimedAt: AT - 7 * DAY - MINUTE }), ...emailEntries(2, { emailId: 'new', claimedAt: AT - 7 * DAY + HOUR })];
    expect(recentEmails(entries, AT).map((e) => e.sentAt)).toEqual([AT - 7 * DAY + HOUR + MINUTE]);
  });

  it('lets the next campaign through the week after a three-product reminder (1 a day, 3 a week)', () => {
    const ctx = context({ policy: { controlShare: 0, frequencyCap: { per24h: 1, per7d: 3 }, quietHours: { start: '00:00', end: '00:00' } } });
    const winback = occasion('winback', 'winback', 0, AT - DAY, 30 * DAY);
    const decided = decide({ profile: clientProfile(), suppressed: false, recentSends: recentEmails(emailEntries(3, { emailId: 'e-1', claimedAt: AT - 25 * HOUR }), AT) }, [winback], AT, ctx);
    expect(decided.map((d) => d.decision)).toEqual([{ outcome: 'send' }]);
  });
});

const KINDS: Record<string, CampaignKind> = { welcome: 'welcome', replenishment: 'replenishment', winback: 'winback' };
const PRIORITY: Record<string, number> = { welcome: 1, replenishment: 2, winback: 3 };

function occasion(campaignId: string, kind: CampaignKind, index: number, dueAt: number, windowMs: number): DueOccasion {
  return {
    campaignId,
    kind,
    customerId: 'c1',
    occasionKey: `${campaignId}#${index}`,
    triggerAt: dueAt,
    dueAt,
    expiresAt: dueAt + windowMs,
    keyOutlivesWindow: false,
    priority: PRIORITY[campaignId] ?? 5,
    template: campaignId,
    details: { offer: { kind: 'none' } },
  };
}

const START = Date.UTC(2026, 5, 1);

/** Three weeks of one client's hours: occasions opening at random (several reminders at once), runs at random gaps, SES answering sent, maybe sent or never (a crash). */
const scenarioArb = fc.record({
  per24h: fc.integer({ min: 1, max: 3 }),
  extra7d: fc.integer({ min: 0, max: 3 }),
  occasions: fc.array(
    fc.record({
      campaignId: fc.constantFrom('welcome', 'replenishment', 'replenishment', 'winback'),
      opensAfterHours: fc.integer({ min: 0, max: 18 * 24 }),
      windowHours: fc.integer({ min: 1, max: 10 * 24 }),
    }),
    { minLength: 1, maxLength: 16 },
  ),
  runs: fc.array(
    fc.record({
      gapHours: fc.integer({ min: 1, max: 30 }),
      outcome: fc.constantFrom<LedgerStatus>('sent', 'sent', 'sent', 'maybe-sent', 'claimed'),
      // Entries written before emails carried an id are counted too.
      withEmailId: fc.boolean(),
    }),
    { minLength: 1, maxLength: 150 },
  ),
});

describe('the frequency cap over weeks of hourly runs', () => {
  it('never counts one email twice, and never lets more emails through than the cap in any 24 h or 7 d', () => {
    fc.assert(
      fc.property(scenarioArb, ({ per24h, extra7d, occasions, runs }) => {
        const per7d = per24h + extra7d;
        const ctx: CampaignContext = context({
          policy: { controlShare: 0, frequencyCap: { per24h, per7d }, quietHours: { start: '00:00', end: '00:00' } },
          campaigns: [{ kind: 'welcome' }, { kind: 'replenishment' }, { kind: 'winback' }],
        });
        const profile = clientProfile({ timeZone: 'UTC' });
        const all = occasions.map((o, i) => occasion(o.campaignId, KINDS[o.campaignId] ?? 'custom', i, START + o.opensAfterHours * HOUR, o.windowHours * HOUR));
        const ledger: (Entry & { occasionKey: string })[] = [];
        /** What went out, as the client's inbox sees it: one instant per email. */
        const emails: number[] = [];
        const emailsWithin = (now: number, ms: number) => emails.filter((t) => t > now - ms).length;
        let now = START;
        runs.forEach((run, step) => {
          now += run.gapHours * HOUR;
          const settled = new Set(ledger.map((e) => e.occasionKey));
          const due = all.filter((o) => o.dueAt <= now && now < o.expiresAt && !settled.has(o.occasionKey));
          const recentSends = recentEmails(ledger, now);
          // Counted once each: what the cap sees is what the inbox holds.
          expect(recentSends).toHaveLength(emailsWithin(now, 7 * DAY));
          const decided = decide({ profile, suppressed: false, recentSends }, due, now, ctx);
          for (const item of decided) {
            const { decision } = item;
            if (decision.outcome === 'capped' && decision.reason === 'frequency-24h') expect(emailsWithin(now, DAY)).toBeGreaterThanOrEqual(per24h);
            if (decision.outcome === 'capped' && decision.reason === 'frequency-7d') expect(emailsWithin(now, 7 * DAY)).toBeGreaterThanOrEqual(per7d);
            if (decision.outcome !== 'send') continue;
            const emailId = `email-${step}`;
            for (const settles of [item.occasion, ...companionOccasions(item, decided)]) {
              ledger.push({
                occasionKey: settles.occasionKey,
                campaignId: settles.campaignId,
                runId: `run-${step}`,
                claimedAt: now,
                status: run.outcome,
                ...(run.outcome === 'sent' ? { sentAt: now } : {}),
                ...(run.withEmailId ? { emailId } : {}),
              });
            }
            emails.push(now);
          }
        });
        for (const t of emails) {
          expect(emails.filter((u) => u > t - DAY && u <= t).length).toBeLessThanOrEqual(per24h);
          expect(emails.filter((u) => u > t - 7 * DAY && u <= t).length).toBeLessThanOrEqual(per7d);
        }
        // Each email is one group of entries, whichever way it is identified.
        expect(new Set(ledger.map(emailOf)).size).toBe(emails.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('entriesOfOtherEmails', () => {
  it('leaves out every entry of the email itself (all its occasions), whatever the others are', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.uuid()), { maxLength: 4 }), (own, others) => {
        const ours = emailEntries(own, { emailId: 'ours', status: 'claimed', claimedAt: AT });
        // Another hour's run, in flight or sent.
        const theirs = others.flatMap(([n, id], i) => emailEntries(n, { emailId: id, status: i % 2 === 0 ? 'claimed' : 'sent', claimedAt: AT - HOUR }));
        // A run of the same hour, in flight: the occasions' claims settle which one sends.
        const sameHour = emailEntries(1, { emailId: 'same-hour', status: 'claimed', claimedAt: AT });
        const kept = entriesOfOtherEmails([...ours, ...theirs, ...sameHour], 'ours', AT);
        expect(kept).toEqual(theirs);
        // The cap then counts the others' emails once each.
        expect(recentEmails(kept, AT + MINUTE)).toHaveLength(new Set(others.map(([, id]) => id)).size);
      }),
    );
  });
});
