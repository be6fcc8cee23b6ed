import { describe, expect, it } from 'vitest';
import { erasedNothingStored, formatForgetResult, formatNightlySummary } from '#local/format.ts';
import type { ForgetResult } from '#shared/forget/forget.ts';
import { profiles, RUN_DATE, summary } from '#test/support/nightly-reports.ts';

describe('formatNightlySummary: the CLV lines', () => {
  const base = profiles(300);

  it('counts the rising clients when the models were fitted', () => {
    const text = formatNightlySummary(summary(RUN_DATE, base));
    expect(text).toMatch(/^Rising clients: \d+ \(/m);
    expect(text).not.toContain('not fitted');
  });

  it('says why there are no rising clients when the fit failed or was skipped, with the fit warnings', () => {
    const failed = summary(RUN_DATE, base, {
      clv: {
        fitted: false,
        skippedReason: 'the fit did not converge (BG/NBD)',
        unit: 'weeks',
        calibrationEnd: `${RUN_DATE}T16:00:00.000Z`,
        clients: 300,
        repeatBuyers: 120,
        warnings: ['BG/NBD: a at its upper bound'],
      },
    });
    const text = formatNightlySummary(failed);
    expect(text).toContain('Rising clients: not predicted, CLV models not fitted: the fit did not converge (BG/NBD)');
    expect(text).toContain('  CLV warning: BG/NBD: a at its upper bound');
    expect(text).not.toMatch(/Rising clients: 0/);
  });

  it('counts the clients whose prediction failed with the night’s models', () => {
    const night = summary(RUN_DATE, base);
    expect(formatNightlySummary(night)).not.toContain('no prediction for');
    night.clv = { ...night.clv, predictionFailures: 3 };
    expect(formatNightlySummary(night)).toContain('  CLV: no prediction for 3 clients (their prediction failed; they keep no clv tonight)');
  });
});

describe('formatNightlySummary: the RFM segments', () => {
  it('counts the buyers per segment, largest first, and the segment movements', () => {
    const night = summary(RUN_DATE, profiles(300));
    night.distribution.rfmSegments = { loyal: 12, champions: 30, lost: 12 };
    night.changes.rfmSegmentMovements = { 'loyal→champions': 2, 'new→promising': 5 };
    const text = formatNightlySummary(night);
    expect(text).toContain('RFM segments (buyers): champions 30 · lost 12 · loyal 12');
    expect(text).toContain('  RFM segments: new→promising 5, loyal→champions 2');
  });

  it('says nothing of segments a summary does not have', () => {
    const night = summary(RUN_DATE, profiles(300));
    delete night.distribution.rfmSegments;
    delete night.changes.rfmSegmentMovements;
    expect(formatNightlySummary(night)).not.toContain('RFM segments');
  });
});

describe('formatNightlySummary: the admission', () => {
  it('names the rules that changed since the last completed night, and what the operator accepted', () => {
    const night = summary(RUN_DATE, profiles(300));
    expect(formatNightlySummary(night)).not.toContain('Rules changed');
    night.admission = {
      tonight: { clients: 300, orderLines: 900, revenue12mMinor: 1_000_000, buyers: 200, downgrades: 0, upgrades: 150, unexplainedLapses: 0, newlyAbsent: 0 },
      lastNight: { runDate: '2026-11-21', clients: 300, orderLines: 900, revenue12mMinor: 1_000_000, buyers: 200 },
      accepted: [{ check: 'upgrades', tonight: 150, lastNight: 200, limit: 0.05, message: '150 clients would move up a tier, 75% of the 200 buyers of 2026-11-21, more than the 5% allowed' }],
      rulesChanged: ['tiers.core 5000 → 3000'],
    };
    const text = formatNightlySummary(night);
    expect(text).toContain('Rules changed since 2026-11-21: tiers.core 5000 → 3000');
    expect(text).toContain('ACCEPTED by the operator (--accept-drop): 150 clients would move up a tier, 75% of the 200 buyers of 2026-11-21, more than the 5% allowed');
  });
});

describe('formatNightlySummary: the contact moves', () => {
  it('counts the addresses replaced and the consents given when there were any, and says nothing otherwise', () => {
    const night = summary(RUN_DATE, profiles(300));
    const tonight = { clients: 300, orderLines: 900, revenue12mMinor: 1_000_000, buyers: 200, downgrades: 0, upgrades: 0, unexplainedLapses: 0, newlyAbsent: 0 };
    night.admission = { tonight: { ...tonight, consentGivenBack: 0, addressesChanged: 0 } };
    expect(formatNightlySummary(night)).not.toContain('Contact details');
    night.admission = { tonight: { ...tonight, consentGivenBack: 150, addressesChanged: 3 } };
    expect(formatNightlySummary(night)).toContain("Contact details changed by this export's customers rows: 3 stored addresses replaced, 150 clients given marketing consent");
  });
});

describe('formatNightlySummary: rejects and warnings the objects do not all list', () => {
  it('says how many of the counted rejects and warnings the objects list, and nothing of a cut when they list all', () => {
    const night = summary(RUN_DATE, profiles(10));
    const rejectsObject = 's3://reports/nightly/rejects.jsonl';
    const warningsObject = 's3://reports/nightly/warnings.jsonl';
    night.input = { ...night.input, rejected: 10_500, warned: 12_000 };
    night.report = { ...night.report, rejectsObject, rejectsListed: 10_500, rejectsNotListed: 0, warningsObject, warningsListed: 10_000, warningsNotListed: 2_000 };
    const text = formatNightlySummary(night);
    expect(text).toContain(`Rejects: ${rejectsObject}\n`);
    expect(text).toContain(`Fields dropped with a warning: 12,000  (12,000 warnings, the first 10,000 listed in ${warningsObject})`);
    night.report = { ...night.report, rejectsListed: 10_000, rejectsNotListed: 500 };
    expect(formatNightlySummary(night)).toContain(`Rejects: 10,500 rejects, the first 10,000 listed in ${rejectsObject}\n`);
  });
});

describe('formatNightlySummary: the team email', () => {
  it('says when an earlier attempt of the night left the team email unresolved, apart from what was sent', () => {
    const night = summary(RUN_DATE, profiles(10));
    night.report = { ...night.report, teamEmail: { recipients: 2, sent: 1, failed: 0, unresolved: 1 } };
    const text = formatNightlySummary(night);
    expect(text).toContain('Team email: sent to 1 of 2 addresses\n');
    expect(text).toContain('WARNING: team email to 1 address claimed by an earlier run of this night that did not record it sent (it died before SES answered, or SES may have taken it): not sent again by itself');
    night.report = { ...night.report, teamEmail: { recipients: 2, sent: 0, failed: 0, alreadySent: true } };
    expect(formatNightlySummary(night)).toContain('Team email: already sent by an earlier run of this night');
    expect(formatNightlySummary(night)).not.toContain('WARNING: team email');
  });
});

describe('formatForgetResult', () => {
  const result = (counts: Partial<ForgetResult>): ForgetResult => ({ request: {}, profiles: 0, historyRecords: 0, ledgerEntries: 0, tasks: 0, suppressionEntries: 0, couponCodes: 0, erasureKeys: 1, formerAddresses: 0, bookPairs: 0, ...counts });

  it('says so when nothing stored matched, and that the hashed entry blocks the id or address from now on', () => {
    expect(erasedNothingStored(result({}))).toBe(true);
    expect(formatForgetResult(result({}), { customerId: 'NOPE' })).toBe(
      'Nothing stored matched that customer id: no profile, tier history, send-ledger entry, advisor task, suppression entry, address-book entry or advisor book pair. ' +
        '1 hashed erasure entry recorded all the same: from now on it keeps that customer id out of later exports and campaigns (check the customer id if you expected a match).',
    );
    expect(formatForgetResult(result({ erasureKeys: 2 }), { customerId: 'NOPE', email: 'a@example.com' })).toMatch(
      /^Nothing stored matched that customer id and address: .* 2 hashed erasure entries recorded all the same: from now on they keep that customer id and address out/,
    );
  });

  it('counts what was erased when something matched, without echoing the id or address', () => {
    const text = formatForgetResult(result({ profiles: 1, historyRecords: 3, ledgerEntries: 1, suppressionEntries: 2, erasureKeys: 2 }), { email: 'someone@example.com' });
    expect(text).toBe(
      'Erased: 1 profile(s), 3 tier-history record(s), 1 send-ledger entry, 0 advisor task(s), 2 suppression entries now only hashed; 2 hashed erasure entries keep the person out of later exports and campaigns.',
    );
    expect(erasedNothingStored(result({ suppressionEntries: 1 }))).toBe(false);
  });

  it('counts a former address the address book tied to them and a place in the advisors\' book pairs as a match, and warns when the book was skipped as damaged', () => {
    expect(erasedNothingStored(result({ formerAddresses: 1 }))).toBe(false);
    expect(formatForgetResult(result({ formerAddresses: 1, erasureKeys: 2 }), { email: 'old@example.com' })).toContain(', 1 former address(es) out of the address book; ');
    expect(erasedNothingStored(result({ bookPairs: 1 }))).toBe(false);
    expect(formatForgetResult(result({ profiles: 1, bookPairs: 1 }), { customerId: 'C1' })).toContain(", 1 client(s) out of the advisors' book pairs; ");
    expect(formatForgetResult(result({ addressBook: 'damaged' }), { customerId: 'C1' })).toMatch(/^Nothing stored matched .* WARNING: the address book is damaged and was skipped .* Run this request again once the book is repaired\.$/);
  });
});
