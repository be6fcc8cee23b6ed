import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { welcomeOccasion } from '#shared/campaigns/due.ts';
import { inControlGroup } from '#shared/campaigns/policy.ts';
import { campaignsConfigSchema, type WelcomeCampaign } from '#shared/campaigns/schema.ts';
import type { ClientProfile } from '#shared/model.ts';
import { campaignsEnabledSince, closedAtDepartureReason, expiryReason, expirySince } from '#shared/sender/expiry.ts';
import { clientProfile } from '#test/support/profiles.ts';

const HOUR = 3_600_000;
const campaigns = campaignsConfigSchema.parse({});
const welcome = campaigns.campaigns.find((c): c is WelcomeCampaign => c.kind === 'welcome');
const T = Date.UTC(2026, 10, 20, 2);
const client: ClientProfile = clientProfile({ stage: 'new', spend12mMinor: 1, lifetimeSpendMinor: 1, firstOrderAt: new Date(T).toISOString() });
const occasion = welcomeOccasion(welcome as WelcomeCampaign, client, T + 72 * HOUR - 1);
if (!occasion) throw new Error('fixture: the welcome is due in its last hour');

describe('expiry of an ended occasion', () => {
  it('expires an occasion left waiting, saying when its window closed and why it waited', () => {
    expect(expiryReason(occasion, { status: 'deferred', reason: 'unreachable after 3 attempts: ECONNREFUSED' }, client, false, campaigns)).toBe(
      'welcome window closed at 2026-11-23T02:00:00.000Z while deferred: unreachable after 3 attempts: ECONNREFUSED',
    );
    expect(expiryReason(occasion, { status: 'capped', reason: 'frequency-24h' }, client, false, campaigns)).toMatch(/while capped: frequency-24h$/);
  });

  it('expires a due occasion no run decided, for a client who would have been mailed', () => {
    expect(expiryReason(occasion, undefined, client, false, campaigns)).toBe('welcome window closed at 2026-11-23T02:00:00.000Z before any run decided it');
    // Out of the audience, without consent or suppressed (unsubscribed): never a send, nothing missing.
    expect(expiryReason(occasion, undefined, { ...client, acceptsMarketing: false }, false, campaigns)).toBeUndefined();
    expect(expiryReason(occasion, undefined, client, true, campaigns)).toBeUndefined();
    expect(expiryReason(occasion, undefined, { ...client, acceptsMarketing: undefined }, false, campaigns)).toBeUndefined();
    const vicOnly = campaignsConfigSchema.parse({ campaigns: [{ kind: 'welcome', audience: { tiers: ['VIC'] } }] });
    expect(expiryReason(occasion, undefined, client, false, vicOnly)).toBeUndefined();
  });

  it('leaves out a client of the control group: no run would have sent it, the outage lost no email of hers', () => {
    // The default share: the clients it holds out are never recorded, the others are.
    const ids = Array.from({ length: 200 }, (_, i) => `C${String(i).padStart(4, '0')}`);
    const recorded = ids.filter((customerId) => expiryReason({ ...occasion, customerId }, undefined, { ...client, customerId }, false, campaigns) !== undefined);
    const heldOut = ids.filter((customerId) => inControlGroup(customerId, 'welcome', campaigns.policy.controlShare));
    expect(heldOut.length).toBeGreaterThan(0);
    expect(recorded).toEqual(ids.filter((id) => !heldOut.includes(id)));
  });

  it('leaves every settled entry alone', () => {
    for (const status of ['claimed', 'sent', 'failed', 'maybe-sent', 'held-out', 'suppressed', 'no-consent', 'expired'] as const) {
      expect(expiryReason(occasion, { status }, client, false, campaigns), status).toBeUndefined();
    }
  });
});

describe('a window closed when the email would leave', () => {
  it('an email leaving before the close goes; at or after it, the occasion expires, saying when the run reached it', () => {
    expect(closedAtDepartureReason(occasion, occasion.expiresAt - 1)).toBeUndefined();
    expect(closedAtDepartureReason(occasion, occasion.expiresAt)).toBe('welcome window closed at 2026-11-23T02:00:00.000Z before the run reached it (2026-11-23T02:00:00.000Z)');
    expect(closedAtDepartureReason(occasion, occasion.expiresAt + 30 * 60_000)).toMatch(/before the run reached it \(2026-11-23T02:30:00\.000Z\)$/);
  });
});

describe('how far back a run records closed windows', () => {
  const DAY = 24 * HOUR;
  const at = T + 10 * DAY;
  const lookback = 72 * HOUR;
  const retention = 30 * DAY;

  it('the lookback after a run within it; back to the last run after a longer outage; the retention at most', () => {
    expect(expirySince(at, lookback, at - HOUR, retention)).toBe(at - lookback);
    expect(expirySince(at, lookback, undefined, retention)).toBe(at - lookback);
    expect(expirySince(at, lookback, at - 5 * DAY, retention)).toBe(at - 5 * DAY);
    expect(expirySince(at, lookback, at - 45 * DAY, retention)).toBe(at - retention);
    // A backfill (the last run later than this hour): the lookback.
    expect(expirySince(at, lookback, at + DAY, retention)).toBe(at - lookback);
  });

  it('property: never shorter than the lookback, covers every window closed since a last run within the retention, never past both bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 * 31 }), fc.integer({ min: 30, max: 400 }), fc.option(fc.integer({ min: -500 * 24, max: 24 }), { nil: undefined }), (hours, days, lastRunHours) => {
        const lastRunAt = lastRunHours === undefined ? undefined : at + lastRunHours * HOUR;
        const since = expirySince(at, hours * HOUR, lastRunAt, days * DAY);
        expect(since).toBeLessThanOrEqual(at - hours * HOUR);
        if (lastRunAt !== undefined && lastRunAt >= at - days * DAY) expect(since).toBeLessThanOrEqual(lastRunAt);
        expect(since).toBeGreaterThanOrEqual(Math.min(at - hours * HOUR, at - days * DAY));
      }),
    );
  });
});

describe('from when a campaign counts as enabled', () => {
  const AT = Date.UTC(2026, 10, 20, 2);
  const config = campaignsConfigSchema.parse({ campaigns: [{ kind: 'welcome' }, { kind: 'winback', enabled: false }, { kind: 'birthday' }] });

  it('keeps what the hours recorded, from this hour for a campaign added or turned back on, and drops one turned off', () => {
    expect(campaignsEnabledSince({ welcome: AT - 100, winback: AT - 50 }, config, AT)).toEqual({ welcome: AT - 100, birthday: AT });
  });

  it('counts a campaign added under an id a plain object answers ("constructor") from this hour, like any other', () => {
    const named = campaignsConfigSchema.parse({ campaigns: [{ kind: 'welcome' }, { kind: 'welcome', id: 'constructor' }] });
    // The record as read back from the runs table: a plain object.
    expect(campaignsEnabledSince({ welcome: AT - 100 }, named, AT)).toEqual({ welcome: AT - 100, constructor: AT });
  });

  it('with no record yet (a first deployment, an upgrade), the campaigns enabled count as enabled all along', () => {
    expect(campaignsEnabledSince(undefined, config, AT)).toEqual({ welcome: 0, birthday: 0 });
  });
});
