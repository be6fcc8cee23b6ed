import { describe, expect, it } from 'vitest';
import type { NightlyReport } from '#shared/reports/nightly-report.ts';
import { renderNightlyReportHtml } from '#shared/reports/render-html.ts';
import { buildNightlyReport } from '#shared/nightly/report.ts';
import { MigrationWindows } from '#shared/reports/nightly-report.ts';
import { campaignResults, emptyReport, firstNightReport, history, moves, normalReport, profiles, reportConfig, RUN_DATE, summary } from '#test/support/nightly-reports.ts';
import { wellFormedProblems } from './markup.ts';

const SECTIONS = ['tiers', 'migration', 'stages', 'segments', 'repurchase', 'rising', 'rejects', 'trend', 'campaigns'];

function sectionIds(html: string): string[] {
  return [...html.matchAll(/<section id="([\w-]+)"/g)].map((m) => m[1] ?? '');
}

function sectionOf(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  if (start < 0) return '';
  return html.slice(start, html.indexOf('</section>', start));
}

function expectSelfContained(html: string): void {
  expect(wellFormedProblems(html, { html: true })).toEqual([]);
  expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
  expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  expect(html).toContain('<meta charset="utf-8">');
  // Nothing to fetch or run: no script, stylesheet link, image, frame or CSS import.
  expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i);
  expect(html).not.toMatch(/NaN|Infinity|undefined|\[object/);
}

describe('nightly report HTML', () => {
  it('normal night: every section, in the issue\'s order, self-contained and deterministic', () => {
    const report = normalReport();
    const html = renderNightlyReportHtml(report, { reportObject: 's3://bucket/reports/nightly/2026-11-23/report.html' });
    expectSelfContained(html);
    expect(sectionIds(html)).toEqual(SECTIONS);
    expect(renderNightlyReportHtml(report, { reportObject: 's3://bucket/reports/nightly/2026-11-23/report.html' })).toBe(html);
    // Real charts: tiers (3), migrations (2), stages, rising, trend (5), campaigns (2 + 2 + decay).
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(17);
    expect(html).toContain('<title>Maison &lt;Test&gt; &amp; Co: nightly report 2026-11-23</title>');
    expect(html).toContain('s3://bucket/reports/nightly/2026-11-23/report.html');
  });

  it('normal night: figures in the brand currency, healthy repurchase, the migrations and the trend', () => {
    const report = normalReport();
    const html = renderNightlyReportHtml(report);
    const tiers = sectionOf(html, 'tiers');
    expect(tiers).toContain('Clients per tier');
    expect(tiers).toContain(`USD ${report.distribution.revenueMinor.toString().slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.`);
    const migration = sectionOf(html, 'migration');
    expect(migration).toContain('Since the previous night (2026-11-22)');
    expect(migration).toContain('Since 30 days ago (2026-10-24)');
    expect(migration.match(/<svg /g)?.length).toBe(2);
    const repurchase = sectionOf(html, 'repurchase');
    expect(repurchase).toContain('healthy');
    expect(repurchase).toContain(`${(report.repurchase.figures!.rate * 100).toFixed(1)}%`);
    expect(sectionOf(html, 'trend')).toContain('Trend of the last 30 runs');
    expect(sectionOf(html, 'trend').match(/<svg /g)?.length).toBe(5);
  });

  it('names rising clients by customer id only, never by email; escapes reject reasons', () => {
    const report = normalReport();
    const html = renderNightlyReportHtml(report);
    const rising = sectionOf(html, 'rising');
    for (const client of report.rising!.top) expect(rising).toContain(`<code>${client.customerId}</code>`);
    expect(html).not.toContain('@example.com');
    const rejects = sectionOf(html, 'rejects');
    expect(rejects).toContain('ordered_at: &lt;script&gt;alert(1)&lt;/script&gt; is not a timestamp');
    expect(rejects).toContain('s3://clientele-exports/reports/nightly/2026-11-23/rejects.jsonl');
    expect(rejects).toContain('orders-0001.csv');
  });

  it('warns when the repurchase rate is below the configured threshold', () => {
    const html = renderNightlyReportHtml(normalReport(reportConfig({ reports: { repurchaseWarningBelow: 0.6 } })));
    expect(sectionOf(html, 'repurchase')).toContain('<span class="badge">below 60%</span>');
    expect(html).toContain('<div class="card warn"><div class="label">Repurchase rate');
    expect(sectionOf(html, 'trend')).toContain('warning below 60%');
  });

  it('first night: no history yet, every client new, no campaign section', () => {
    const report = firstNightReport();
    const html = renderNightlyReportHtml(report);
    expectSelfContained(html);
    expect(sectionIds(html)).toEqual(SECTIONS.filter((s) => s !== 'campaigns'));
    expect(report.sincePreviousNight.previousRunDate).toBeUndefined();
    expect(report.sincePreviousNight.matrix.counts.new.Entry).toBe(report.distribution.tiers.Entry.clients);
    expect(sectionOf(html, 'migration')).toContain('First night: no history yet. All 500 clients are new.');
    expect(sectionOf(html, 'migration')).toContain('No history yet: the 30-day view starts with the second night.');
    expect(sectionOf(html, 'trend')).toContain('No history yet');
    expect(sectionOf(html, 'trend')).not.toContain('<svg');
    expect(sectionOf(html, 'tiers')).toContain('<svg');
  });

  it('empty night (no client): every section says so instead of drawing empty charts', () => {
    const report = emptyReport();
    const html = renderNightlyReportHtml(report);
    expectSelfContained(html);
    expect(sectionIds(html)).toEqual(SECTIONS.filter((s) => s !== 'campaigns'));
    expect(sectionOf(html, 'tiers')).toContain('No clients in tonight');
    expect(sectionOf(html, 'migration')).toContain('No clients.');
    expect(sectionOf(html, 'stages')).toContain('No clients.');
    expect(sectionOf(html, 'repurchase')).toContain('No client bought in the last 12 months.');
    expect(sectionOf(html, 'rising')).toContain('No predictions tonight');
    expect(sectionOf(html, 'rejects')).toContain('No row was rejected tonight.');
    expect(report.repurchase.warning).toBe(false);
    expect(html).not.toContain('<svg');
  });

  it('the 30-day view says there is no history yet when no night is stored from before the window', () => {
    const young = buildNightlyReport({
      config: reportConfig(),
      summary: summary(RUN_DATE, profiles(2000, 99)),
      history: history(3),
      migrations: MigrationWindows.of(RUN_DATE, moves(profiles(2000, 99))),
    });
    expect(young.sinceWindowStart.firstStoredRunDate).toBe('2026-11-20');
    const migration = sectionOf(renderNightlyReportHtml(young), 'migration');
    expect(migration).toContain('No history yet for 30 days back: the first stored night is 2026-11-20. This view starts on 2026-12-20.');
    expect(migration).not.toMatch(/[\d,]+ new · 0 unchanged/);
    // Tonight's view is unaffected: the previous night is known.
    expect(migration).toContain('Since the previous night (2026-11-22)');
    expect(migration.match(/<svg /g)?.length).toBe(1);
    expect(normalReport().sinceWindowStart.firstStoredRunDate).toBeUndefined();
  });

  it('fits a phone: wide tables stack as label: value rows, narrow ones wrap their headers', () => {
    const html = renderNightlyReportHtml(normalReport());
    expect(html).toMatch(/@media \(max-width:480px\)\{th\{white-space:normal\}/);
    expect(sectionOf(html, 'rising')).toContain('<div class="table"><table>');
    expect(sectionOf(html, 'rising')).toContain('<th class="num">Predicted 12\u00a0m</th>');
    const campaigns = sectionOf(html, 'campaigns');
    expect(campaigns).toContain('<div class="table stack"><table>');
    expect(campaigns).toMatch(/<td data-label="Window"><span>7 days<\/span><\/td>/);
  });

  it('RFM segments: buyers per segment in the map\'s order, with tonight\'s moves in and out', () => {
    const report = normalReport();
    const names = report.rfmSegments?.segments.map((s) => s.name);
    expect(names).toEqual(['champions', 'loyal', 'potential-loyalists', 'new', 'promising', 'needs-attention', 'about-to-sleep', 'cant-lose', 'at-risk', 'hibernating', 'lost']);
    expect(report.rfmSegments?.segments.reduce((sum, s) => sum + s.buyers, 0)).toBe(report.distribution.buyers);
    expect(report.rfmSegments?.segments.find((s) => s.name === 'loyal')).toMatchObject({ movedIn: 6, movedOut: 11 });
    const html = sectionOf(renderNightlyReportHtml(report), 'segments');
    expect(html).toContain('Buyers per RFM segment');
    expect(html).toContain('<td>at-risk</td>');
    expect(html).toContain('loyal→at-risk <strong>11</strong>');
    // A summary from before segments says so.
    const { rfmSegments: _s, ...older } = report;
    expect(sectionOf(renderNightlyReportHtml(older as NightlyReport), 'segments')).toContain('Not recorded for this run.');
  });

  it('marks the rejected-rows card only above the configured share', () => {
    // The normal night rejects 7 rows of 11,000 (0.06%).
    const card = (html: string) => html.slice(html.lastIndexOf('<div class="card', html.indexOf('Rejected rows')), html.indexOf('Rejected rows'));
    expect(card(renderNightlyReportHtml(normalReport()))).toBe('<div class="card"><div class="label">');
    const strict = normalReport(reportConfig({ reports: { rejectedRowsWarningAbove: 0.0005 } }));
    expect(strict.rejects.warning).toBe(true);
    expect(card(renderNightlyReportHtml(strict))).toBe('<div class="card warn"><div class="label">');
  });

  it('a summary stored before the repurchase and rising figures: "not recorded"', () => {
    const report = normalReport();
    const { repurchase: _r, rising: _s, ...older } = report.distribution;
    const html = renderNightlyReportHtml({
      ...report,
      distribution: older,
      repurchase: { warningBelow: 0.3, warning: false },
      rising: undefined,
      trend: report.trend.map(({ repurchaseRate: _x, rising: _y, ...point }) => point),
    } as NightlyReport);
    expectSelfContained(html);
    expect(sectionOf(html, 'repurchase')).toContain('Not recorded for this run.');
    expect(sectionOf(html, 'rising')).toContain('Not recorded for this run.');
  });
});

describe('campaign results section (constructed CampaignResults)', () => {
  const withResults = (results: NightlyReport['campaignResults']): string => {
    const report = firstNightReport();
    return sectionOf(renderNightlyReportHtml({ ...report, ...(results ? { campaignResults: results } : {}) }), 'campaigns');
  };

  it('per campaign: sent vs control per window, the uplift with its interval, revenue, the welcome decay curve', () => {
    const section = withResults(campaignResults());
    expect(section).toContain('<h3>welcome</h3>');
    expect(section).toContain('<h3>winback</h3>');
    expect(section).toContain('1,060 due: 900 sent, 100 held out (control group), not sent: 40 suppressed, 20 expired.');
    // The overview: every campaign, due / sent / held out / not sent / converted in each window.
    expect(section).toContain('<th>Converted in 7 days</th>');
    expect(section).toContain('<td class="num" data-label="Due"><span>1,060</span></td>');
    expect(section).toMatch(/21\.0% vs 9\.2% control<br><small>\+11\.8 pp; of 880 sent, 98 control<\/small>/);
    expect(section).toContain('window not ended (12 maturing)');
    expect(section).toContain('<td class="num" data-label="Not sent"><span>3</span></td>');
    // Grouped bars: conversion of each group with its counts.
    expect(section).toContain('welcome: conversion, sent vs control');
    expect(section).toContain('21.0% (185/880)');
    expect(section).toContain('9.2% (9/98)');
    // Dot and interval: all tiers per window, then each tier over the shortest window.
    expect(section).toContain('welcome: conversion uplift (95% interval)');
    for (const label of ['7 days · all tiers', '30 days · all tiers', '7 days · Entry', '7 days · Potential']) expect(section).toContain(label);
    expect(section).toMatch(/\+11\.8 pp \(\+\d+\.\d pp to \+\d+\.\d pp\)/);
    // The winback uplift is not conclusive: drawn hollow, said so.
    expect(section).toMatch(/winback: conversion uplift[\s\S]*\(not significant\)/);
    // Revenue uplift and incremental revenue, in the brand currency.
    expect(section).toContain('Incremental revenue');
    expect(section).toMatch(/USD \d[\d,]*\.\d{2}/);
    // A campaign whose windows have not ended yet.
    expect(section).toContain('<h3>replenishment</h3>');
    expect(section).toContain('No window has ended yet (12 clients still maturing).');
    // The welcome decay curve.
    expect(section).toContain('Welcome: response by how fast it went out');
    for (const bucket of ['0–24 h', '24–48 h', '48–72 h', '72 h +']) expect(section).toContain(bucket);
    expect(section).toContain('24.0% of 520');
    expect(wellFormedProblems(section + '</section>', { html: true })).toEqual([]);
  });

  it('a campaign that cannot send yet (the seasonal play without seasons) is named with the reason', () => {
    const waiting = [{ campaignId: 'seasonal', reason: 'waits for campaigns.seasons: no season is set, so it sends nothing' }];
    const section = sectionOf(renderNightlyReportHtml({ ...firstNightReport(), campaignResults: campaignResults(), campaignsWaiting: waiting }), 'campaigns');
    expect(section).toContain('<p class="note"><strong>seasonal</strong> waits for campaigns.seasons: no season is set, so it sends nothing.</p>');
    // Without results yet, the section still says it.
    expect(sectionOf(renderNightlyReportHtml({ ...firstNightReport(), campaignsWaiting: waiting }), 'campaigns')).toContain('<strong>seasonal</strong> waits for campaigns.seasons');
  });

  it('campaign results that could not be read: said in their section, the rest of the report as usual', () => {
    const html = renderNightlyReportHtml({ ...firstNightReport(), campaignResultsError: 'AccessDenied: <denied>' });
    expect(sectionOf(html, 'campaigns')).toContain('The campaign results could not be read: AccessDenied: &lt;denied&gt;');
    expect(sectionOf(html, 'tiers')).toContain('<svg');
  });

  it('no decision in the period, no welcome sends: says so, no chart', () => {
    const section = withResults({ ...campaignResults(), segments: [], welcomeDecay: [] });
    expect(section).toContain('No campaign decision in the period.');
    expect(section).not.toContain('<svg');
  });

  it('a window with members but no uplift (an empty control group): the bars, no interval chart', () => {
    const results = campaignResults();
    const only = results.segments[0]!;
    const windows = only.windows.map((w) => {
      const { conversionUplift: _u, relativeUplift: _r, revenuePerMemberUpliftMinor: _v, incrementalRevenueMinor: _i, ...rest } = w;
      return { ...rest, control: { members: 0, converted: 0, conversionRate: 0, revenueMinor: 0, revenuePerMemberMinor: 0 }, significant: false };
    });
    const section = withResults({ ...results, segments: [{ ...only, heldOut: 0, windows }], welcomeDecay: [] });
    expect(section).toContain('welcome: conversion, sent vs control');
    expect(section).not.toContain('conversion uplift');
    expect(section).toMatch(/<td class="num" data-label="Relative uplift"><span>–<\/span><\/td>/);
  });
});
