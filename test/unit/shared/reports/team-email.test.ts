import { describe, expect, it } from 'vitest';
import type { ClvRunReport } from '#shared/clv/profile-clv.ts';
import { consoleUrl } from '#shared/nightly/publish-report.ts';
import { renderTeamEmail, reportWarnings } from '#shared/reports/team-email.ts';
import { buildNightlyReport } from '#shared/nightly/report.ts';
import { MigrationWindows } from '#shared/reports/nightly-report.ts';
import { renderNightlyReportHtml } from '#shared/reports/render-html.ts';
import { formatNightlySummary } from '#local/format.ts';
import { emptyReport, firstNightReport, history, moves, normalReport, profiles, reportConfig, RUN_DATE, summary } from '#test/support/nightly-reports.ts';
import { wellFormedProblems } from './markup.ts';

const location = { reportObject: 's3://clientele-exports/reports/nightly/2026-11-23/report.html' };

describe('team summary email', () => {
  it('headline figures, the report location, HTML and text, no personal data', () => {
    const report = normalReport();
    const email = renderTeamEmail(report, { ...location, reportUrl: 'https://console.example/x?a=1&b=2' });
    // 7 rejected rows of 11,000 (0.06%) are listed, not warned about: below the 1% default.
    expect(email.subject).toBe('Maison <Test> & Co: nightly report 2026-11-23 (1 warning)');
    expect(reportWarnings(report).some((w) => w.includes('rejected'))).toBe(false);
    for (const part of [email.text, email.html]) {
      expect(part).toContain('s3://clientele-exports/reports/nightly/2026-11-23/report.html');
      expect(part).toContain('2,000 (1,579 buyers)');
      expect(part).toContain('Repurchase rate');
      expect(part).toContain('52.4% (827 of 1,579)');
      expect(part).toContain('Since 2026-11-22');
      expect(part).toContain('6 up, 25 down, 21 new');
      expect(part).toContain('1,060 due, 900 sent, 100 held out; 7 days: 21.0% vs 9.2% control');
      expect(part).toContain('15 due, 12 sent, 0 held out; no conversion window ended with both groups yet');
      expect(part).not.toContain('@example.com');
    }
    expect(email.html).toContain('Maison &lt;Test&gt; &amp; Co');
    expect(email.html).toContain('href="https://console.example/x?a=1&amp;b=2"');
    expect(wellFormedProblems(email.html, { html: true })).toEqual([]);
    expect(email.text).toContain('https://console.example/x?a=1&b=2');
  });

  it('warns about a low repurchase rate, rejects and VICs moving down', () => {
    const report = normalReport(reportConfig({ reports: { repurchaseWarningBelow: 0.6, rejectedRowsWarningAbove: 0.0005 } }));
    const warnings = reportWarnings(report);
    expect(warnings[0]).toBe('Repurchase rate 52.4% is below 60%.');
    expect(warnings).toContain('7 rows rejected (0.06%, above 0.05%): see the rejects list.');
    expect(warnings.some((w) => w.startsWith('1 VIC clients moved down'))).toBe(true);
    expect(renderTeamEmail(report, location).html).toContain('Repurchase rate 52.4% is below 60%.');
  });

  it('says when the rejects list holds only the first rejects, and where', () => {
    const report = normalReport(reportConfig({ reports: { rejectedRowsWarningAbove: 0.0005 } }));
    const listedIn = '10,500 rejects, the first 10,000 listed in s3://clientele-exports/reports/nightly/2026-11-23/rejects.jsonl';
    const cut = { ...report, rejects: { ...report.rejects, listedIn } };
    expect(reportWarnings(cut)).toContain(`7 rows rejected (0.06%, above 0.05%): see the rejects list (${listedIn}).`);
    expect(renderTeamEmail(cut, location).text).toContain('the first 10,000 listed in s3://');
  });

  it('says when the report page could not be written', () => {
    const email = renderTeamEmail(firstNightReport(), {}, 'AccessDenied: no');
    expect(email.text).toContain('The report could not be written: AccessDenied: no');
    expect(email.text).toContain('Full report (charts): not written');
    expect(email.text).toContain('first night: 500 new clients');
  });

  it('an empty night: one warning, no division by zero', () => {
    const email = renderTeamEmail(emptyReport(), location);
    expect(email.subject).toContain('(1 warning)');
    expect(email.text).toContain("Tonight's export held no client.");
    expect(`${email.text}${email.html}`).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('links to the S3 console when deployed, not on the emulators', () => {
    const deployed = reportConfig({ endpoints: { region: 'ap-east-1' } });
    expect(consoleUrl(deployed, 'my-bucket', 'reports/nightly/2026-11-23/report.html')).toBe(
      'https://ap-east-1.console.aws.amazon.com/s3/object/my-bucket?region=ap-east-1&prefix=reports%2Fnightly%2F2026-11-23%2Freport.html',
    );
    expect(consoleUrl(reportConfig({ endpoints: { region: 'us-east-1', s3: 'http://127.0.0.1:4569' } }), 'b', 'k')).toBeUndefined();
  });
});

describe('team email with a presigned report link', () => {
  it('leads with the link that opens without an AWS login and says until when it works', () => {
    const link = { url: 'https://bucket.s3.amazonaws.com/reports/report.html?X-Amz-Signature=abc&X-Amz-Expires=86400', expiresAt: '2026-11-24T18:00:00.000Z' };
    const email = renderTeamEmail(firstNightReport(), { reportObject: 's3://bucket/reports/report.html', reportLink: link });
    expect(email.text).toContain(`link valid until ${link.expiresAt}:\n${link.url}`);
    expect(email.html).toContain(`href="${link.url.replace('&', '&amp;')}"`);
    expect(email.html).toContain('Open the full report with its charts');
    expect(email.text).toContain('Stored at s3://bucket/reports/report.html');
  });
});

describe('tier moves on every screen', () => {
  it('counts a known prospect\'s first purchase apart from the moves up (as the summary and the CLI do), and warns of a VIC fallen to Prospect', () => {
    const tonight = profiles(300, 7);
    const prospect = tonight.find((p) => p.tier === 'Entry');
    const vic = tonight.find((p) => p.tier === 'Prospect');
    if (!prospect || !vic) throw new Error('the fixture has an Entry client and a Prospect');
    // One prospect bought for the first time (Prospect → Entry); one VIC's only order was refunded (VIC → Prospect).
    const migrations = MigrationWindows.of(RUN_DATE, [
      { customerId: prospect.customerId, runDate: RUN_DATE, fromTier: 'Prospect', toTier: 'Entry' },
      { customerId: vic.customerId, runDate: RUN_DATE, fromTier: 'VIC', toTier: 'Prospect' },
    ]);
    const report = buildNightlyReport({ config: reportConfig(), summary: summary(RUN_DATE, tonight), history: history(3), migrations });
    const email = renderTeamEmail(report, location);
    expect(email.text).toMatch(/Since \d{4}-\d{2}-\d{2}: 0 up, 1 down, 0 new, 1 first purchase\n/);
    expect(reportWarnings(report).filter((w) => w.startsWith('1 VIC clients moved down a tier tonight'))).toHaveLength(1);
    const html = renderNightlyReportHtml(report);
    expect(html).toContain('▲ 0 up</span> · <span class="down">▼ 1 down</span> · <span class="new">● 0 new</span> · <span class="new">● 1 first purchase</span>');
  });
});

describe('rules changed since the last night', () => {
  it('tells the team beside tonight\'s moves that the rules changed and what the operator accepted; nothing when neither', () => {
    const tonight = profiles(300, 7);
    const base = summary(RUN_DATE, tonight);
    const figures = { clients: 300, orderLines: 900, revenue12mMinor: 1, buyers: 200, downgrades: 1, upgrades: 0, unexplainedLapses: 0, newlyAbsent: 0 };
    const accepted = [{ check: 'downgrades' as const, tonight: 1, lastNight: 200, limit: 0, message: '1 clients would move down a tier, 0.5% of the 200 buyers of 2026-11-21, more than the 0% allowed' }];
    const admission = { tonight: figures, lastNight: { runDate: '2026-11-21', clients: 300, orderLines: 900, revenue12mMinor: 1, buyers: 200 }, rulesChanged: ['tiers.vic 50000 → 70000'], accepted };
    const report = buildNightlyReport({ config: reportConfig(), summary: { ...base, admission }, history: [], migrations: MigrationWindows.of(RUN_DATE, moves(tonight)) });
    const lines = [
      "The rules that place clients changed since 2026-11-21: tiers.vic 50000 → 70000; tonight's tier moves include those the new rules made.",
      'Accepted by the operator (--accept-drop): 1 clients would move down a tier, 0.5% of the 200 buyers of 2026-11-21, more than the 0% allowed.',
    ];
    expect(reportWarnings(report)).toEqual(expect.arrayContaining(lines));
    const text = renderTeamEmail(report, location).text;
    for (const line of lines) expect(text).toContain(line);
    const html = renderNightlyReportHtml(report);
    expect(html).toContain('<p class="note warn-text">The rules that place clients changed since 2026-11-21: tiers.vic 50000 → 70000; tonight&#39;s tier moves include those the new rules made.</p>');
    expect(wellFormedProblems(html, { html: true })).toEqual([]);
    const plain = buildNightlyReport({ config: reportConfig(), summary: { ...base, admission: { tonight: figures } }, history: [], migrations: MigrationWindows.of(RUN_DATE, moves(tonight)) });
    expect(plain.rules).toBeUndefined();
    expect(renderNightlyReportHtml(plain)).not.toContain('The rules that place clients');
  });
});

describe('an advisors roster the night did not use', () => {
  it('warns the team and the report when tonight\'s roster file was set aside, with the reason and the roster in use; not when used or when the export has none', () => {
    const tonight = profiles(300, 7);
    const base = summary(RUN_DATE, tonight);
    const rosterFile = { location: 's3://clientele-exports/exports/2026-11-23/advisors.csv', kind: 'advisors' as const, format: 'generic' as const, rows: 4, rejected: 0, warnings: 0, sha256: '', bytes: 1 };
    const reason = "tonight's roster takes 4 of the 4 advisors holding a book out of service at once (inactive, without an email or not listed): all of them, which a broken file does, not a night's departures";
    const build = (overrides: Partial<typeof base>) => buildNightlyReport({ config: reportConfig(), summary: { ...base, ...overrides }, history: [], migrations: MigrationWindows.of(RUN_DATE, moves(tonight)) });
    const kept = build({ roster: { status: 'kept', reason, since: '2026-11-21', advisors: 4, active: 4 }, input: { ...base.input, files: [rosterFile] } });
    const line = `The advisors roster of tonight's export was not used (${reason}): the roster of 2026-11-21 stays in use. Check the roster file.`;
    expect(reportWarnings(kept)).toContain(line);
    expect(renderTeamEmail(kept, location).text).toContain(line);
    const html = renderNightlyReportHtml(kept);
    expect(html).toContain('<p class="note warn-text">The advisors roster of tonight&#39;s export was not used (');
    expect(wellFormedProblems(html, { html: true })).toEqual([]);

    const none = build({ roster: { status: 'none', reason: 'the advisors file has no valid row', advisors: 0, active: 0 }, input: { ...base.input, files: [rosterFile] } });
    expect(reportWarnings(none)).toContain("The advisors roster of tonight's export was not used (the advisors file has no valid row): no roster is in use yet. Check the roster file.");

    // No roster file at all (a brand without one), and a roster used: nothing said.
    const noFile = build({ roster: { status: 'kept', reason: 'no advisors file in the export', since: '2026-11-21', advisors: 4, active: 4 } });
    const used = build({ roster: { status: 'updated', since: RUN_DATE, advisors: 4, active: 2 }, input: { ...base.input, files: [rosterFile] } });
    for (const report of [noFile, used]) {
      expect(report.rosterNotUsed).toBeUndefined();
      expect(reportWarnings(report).join('\n')).not.toMatch(/advisors roster/);
    }
  });
});

describe('clients in no file of the export', () => {
  /** Tonight's summary as a night that found clients in no file records it (admission.tonight). */
  const absentNight = (newlyAbsent: number, stillAbsent: number, absentBeforeMarking?: number) => {
    const tonight = profiles(300, 7);
    const base = summary(RUN_DATE, tonight);
    const figures = { clients: 300, orderLines: 900, revenue12mMinor: 1, buyers: 200, downgrades: 0, upgrades: 0, unexplainedLapses: 0, newlyAbsent, stillAbsent, ...(absentBeforeMarking === undefined ? {} : { absentBeforeMarking }) };
    return { summary: { ...base, admission: { tonight: figures } }, tonight };
  };
  const withAbsent = (newlyAbsent: number, stillAbsent: number, absentBeforeMarking?: number) => {
    const night = absentNight(newlyAbsent, stillAbsent, absentBeforeMarking);
    return buildNightlyReport({ config: reportConfig(), summary: night.summary, history: [], migrations: MigrationWindows.of(RUN_DATE, moves(night.tonight)) });
  };

  it('warns the team of clients missing for the first time, and lists every missing one among the figures', () => {
    const report = withAbsent(3, 5);
    expect(report.absent).toEqual({ newly: 3, still: 5 });
    expect(reportWarnings(report)).toContain("3 clients are in no file of tonight's export (deleted or merged on the platform?): kept, and mailed nothing until an export has them again.");
    const email = renderTeamEmail(report, location);
    for (const part of [email.text, email.html]) expect(part).toContain('8 clients (3 since tonight), mailed nothing');
    const html = renderNightlyReportHtml(report);
    expect(html).toContain('Not in the export');
    expect(wellFormedProblems(html, { html: true })).toEqual([]);
  });

  it('counts those missing since before a version that marked absence apart, in the same words on the three screens', () => {
    // The first night after an upgrade (guards.ts withAbsentBeforeMarking): 1 lost tonight, 4 missing since before it.
    const report = withAbsent(1, 12, 4);
    expect(report.absent).toEqual({ newly: 1, still: 12, beforeMarking: 4 });
    const email = renderTeamEmail(report, location);
    const line = "17 clients (1 since tonight, 4 missing since before this version's first night, marked, not counted), mailed nothing";
    expect(email.text).toContain(line);
    expect(email.html).toContain(line.replace("'", '&#39;'));
    const html = renderNightlyReportHtml(report);
    expect(html).toContain('1 since tonight, 4 missing since before this version&#39;s first night (marked, not counted); kept, mailed nothing');
    expect(formatNightlySummary(absentNight(1, 12, 4).summary)).toContain(
      "In no file of this export (kept, not mailed): 17 clients, 1 of them for the first time, 4 missing since before this version's first night, marked, not counted",
    );
  });

  it('does not warn of clients missing since an earlier night, and says nothing when none is missing', () => {
    expect(reportWarnings(withAbsent(0, 5)).some((w) => w.includes('no file'))).toBe(false);
    const none = withAbsent(0, 0);
    expect(renderTeamEmail(none, location).text).not.toContain('Not in the export');
    expect(renderNightlyReportHtml(none)).not.toContain('Not in the export');
    // A summary stored before the count: no figure at all.
    expect(normalReport().absent).toBeUndefined();
  });
});

describe('a night without a CLV fit', () => {
  const notFitted: ClvRunReport = {
    fitted: false,
    skippedReason: 'the fit did not converge (BG/NBD)',
    unit: 'weeks',
    calibrationEnd: `${RUN_DATE}T16:00:00.000Z`,
    clients: 0,
    repeatBuyers: 0,
    warnings: [],
  };

  function reportWithoutFit(): ReturnType<typeof buildNightlyReport> {
    const tonight = profiles(600, 5).map(({ clv: _clv, ...profile }) => profile);
    const fittedNight = summary('2026-11-21', profiles(580, 6));
    const unfittedNight = summary('2026-11-22', tonight, { clv: notFitted });
    return buildNightlyReport({
      config: reportConfig(),
      summary: summary(RUN_DATE, tonight, { clv: notFitted }),
      history: [fittedNight, unfittedNight],
      migrations: MigrationWindows.of(RUN_DATE, moves(tonight)),
    });
  }

  it('shows no rising figure beside the warning: "–" in the email and the headline card, not 0', () => {
    const report = reportWithoutFit();
    // The distribution counts 0 rising clients; the report does not pass that 0 on.
    expect(report.distribution.rising?.clients).toBe(0);
    expect(report.rising).toBeUndefined();
    const email = renderTeamEmail(report, location);
    expect(email.text).toContain('No CLV predictions tonight: the fit did not converge (BG/NBD).');
    expect(email.text).toContain('Rising clients: –');
    expect(email.text).not.toMatch(/Rising clients: 0/);
    expect(renderNightlyReportHtml(report)).toMatch(/Rising clients<\/div>\s*<div[^>]*>–</);
  });

  it('leaves a gap in the trend for each night without a fit', () => {
    const report = reportWithoutFit();
    expect(report.trend.map((p) => [p.runDate, p.rising])).toEqual([
      ['2026-11-21', expect.any(Number)],
      ['2026-11-22', undefined],
      [RUN_DATE, undefined],
    ]);
  });

  it('still shows the figure, 0 included, on a fitted night', () => {
    const tonight = profiles(300, 8).map((p) => (p.clv ? { ...p, clv: { ...p.clv, rising: false } } : p));
    const report = buildNightlyReport({ config: reportConfig(), summary: summary(RUN_DATE, tonight), history: [], migrations: MigrationWindows.of(RUN_DATE, moves(tonight)) });
    expect(renderTeamEmail(report, location).text).toContain('Rising clients: 0');
    expect(report.trend.at(-1)?.rising).toBe(0);
  });
});
