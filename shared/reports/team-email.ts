import { TIERS } from '#shared/model.ts';
import { displayMinor } from '#shared/money.ts';
import { boughtText, comparisonText, needsAdvisorText, taskTallyText } from './advisor-figures.ts';
import { movementCounts } from './migration.ts';
import { ABSENT_BEFORE_MARKING_WORDS, absentTotal, rosterLines, rulesLines, type NightlyReport } from './nightly-report.ts';
import { escapeXml } from './svg-charts.ts';
import { percentText, thresholdText } from '#shared/percent.ts';

/**
 * The short summary email to the marketing team: the night's headline figures, the warnings,
 * and where the full report is. Plain HTML with inline styles (mail clients strip <style>) and a
 * text part; no chart (many clients block SVG in mail): the charts are in the report itself.
 * Customer ids only, like the report. English: the team's own working language is configuration
 * for a later day (reports.teamLocale).
 */

export interface TeamEmail {
  subject: string;
  html: string;
  text: string;
}

export interface ReportLocation {
  /** s3://bucket/key of report.html. */
  reportObject?: string;
  /** A link a person can open (the S3 console page of the object when deployed). */
  reportUrl?: string;
  /** A presigned https link to report.html that opens without an AWS login, and when it stops working (ISO instant). */
  reportLink?: { url: string; expiresAt: string };
}

const count = (value: number) => value.toLocaleString('en-US');

/** The night's warnings, most important first; empty when all is well. */
export function reportWarnings(report: NightlyReport, publishingError?: string): string[] {
  const warnings: string[] = [];
  const repurchase = report.repurchase.figures;
  if (report.repurchase.warning && repurchase) {
    warnings.push(`Repurchase rate ${percentText(repurchase.rate)} is below ${percentText(report.repurchase.warningBelow, 0)}.`);
  }
  if (report.distribution.clients === 0) warnings.push('Tonight\'s export held no client.');
  if (report.rejects.warning) {
    // A list cut at its cap says so: the team would otherwise look for rows it does not hold.
    const list = report.rejects.listedIn === undefined ? 'the rejects list' : `the rejects list (${report.rejects.listedIn})`;
    warnings.push(`${count(report.rejects.rejected)} rows rejected (${percentText(report.rejects.share, 2)}, above ${thresholdText(report.rejects.warningAbove)}): see ${list}.`);
  }
  const absent = report.absent?.newly ?? 0;
  if (absent > 0) {
    warnings.push(
      `${count(absent)} client${absent === 1 ? ' is' : 's are'} in no file of tonight's export (deleted or merged on the platform?): kept, and mailed nothing until an export has them again.`,
    );
  }
  for (const line of rulesLines(report)) warnings.push(line);
  const downgrades = report.trend[report.trend.length - 1]?.downgrades ?? 0;
  const vicLosses = report.sincePreviousNight.matrix.counts.VIC;
  // Down to Prospect too: every order refunded or cancelled, the loss the team most needs to hear of.
  const vicDown = vicLosses.Core + vicLosses.Potential + vicLosses.Entry + vicLosses.Prospect;
  if (vicDown > 0) warnings.push(`${count(vicDown)} VIC clients moved down a tier tonight (${count(downgrades)} downgrades in all).`);
  if (!report.clv.fitted && report.distribution.clients > 0) {
    warnings.push(`No CLV predictions tonight${report.clv.skippedReason ? `: ${report.clv.skippedReason}` : ''}.`);
  }
  for (const line of rosterLines(report)) warnings.push(line);
  const waiting = report.advisors?.needsNewAdvisor.count ?? 0;
  if (waiting > 0) warnings.push(`${count(waiting)} book client${waiting === 1 ? ' has' : 's have'} no active advisor (their advisor left): assign a new one (clientele advisors plan).`);
  if (publishingError) warnings.push(`The report could not be written: ${publishingError}`);
  return warnings;
}

/** Known prospects who bought for the first time tonight, after the moves (none: nothing said). */
function firstPurchaseText(firstPurchases: number): string {
  return firstPurchases === 0 ? '' : `, ${count(firstPurchases)} first purchase${firstPurchases === 1 ? '' : 's'}`;
}

/** Headline figures as label/value pairs, shared by the HTML and the text part. */
function figures(report: NightlyReport): [string, string][] {
  const d = report.distribution;
  const { up, down, arrived: newClients, firstPurchases } = movementCounts(report.sincePreviousNight.matrix);
  const rows: [string, string][] = [
    ['Clients', `${count(d.clients)} (${count(d.buyers)} buyers)`],
    ['12-month revenue', displayMinor(d.revenueMinor, report.currency)],
    ['Per tier', TIERS.map((t) => `${t} ${count(d.tiers[t].clients)}`).join(' · ')],
    ['VIC share of revenue', percentText(d.tiers.VIC.revenueShare)],
    [
      report.sincePreviousNight.previousRunDate ? `Since ${report.sincePreviousNight.previousRunDate}` : 'Tonight',
      report.sincePreviousNight.previousRunDate ? `${count(up)} up, ${count(down)} down, ${count(newClients)} new${firstPurchaseText(firstPurchases)}` : `first night: ${count(newClients)} new clients`,
    ],
  ];
  const repurchase = report.repurchase.figures;
  if (repurchase && repurchase.buyers12m > 0) rows.push(['Repurchase rate', `${percentText(repurchase.rate)} (${count(repurchase.repeatBuyers12m)} of ${count(repurchase.buyers12m)})`]);
  // No figure without a CLV fit (or in a summary stored before the figure): a 0 would say nobody is rising.
  rows.push(['Rising clients', report.rising ? count(report.rising.clients) : '–']);
  rows.push(['Rejected rows', `${count(report.rejects.rejected)} of ${count(report.rejects.rows)}`]);
  const beforeMarking = report.absent?.beforeMarking ?? 0;
  const absentClients = absentTotal(report.absent);
  const sinceBefore = beforeMarking > 0 ? `, ${count(beforeMarking)} ${ABSENT_BEFORE_MARKING_WORDS}, marked, not counted` : '';
  if (absentClients > 0) rows.push(['Not in the export', `${count(absentClients)} clients (${count(report.absent?.newly ?? 0)} since tonight${sinceBefore}), mailed nothing`]);
  for (const segment of report.campaignResults?.segments ?? []) {
    if (segment.tier !== 'all') continue;
    const window = segment.windows.find((w) => w.conversionUplift !== undefined);
    const uplift = window?.conversionUplift ? window.conversionUplift.estimate * 100 : undefined;
    const conversion =
      window && uplift !== undefined
        ? `${window.windowDays} days: ${percentText(window.sent.conversionRate)} vs ${percentText(window.control.conversionRate)} control, ${uplift >= 0 ? '+' : '−'}${Math.abs(uplift).toFixed(1)} pp${window.significant ? '' : ' (not conclusive)'}`
        : 'no conversion window ended with both groups yet';
    rows.push([segment.campaignId, `${count(segment.due)} due, ${count(segment.sends)} sent, ${count(segment.heldOut)} held out; ${conversion}`]);
  }
  const advisors = report.advisors;
  if (advisors) {
    rows.push([`Advisor tasks (${advisors.days} days)`, taskTallyText(advisors.total.tasks)]);
    for (const [store, figures] of Object.entries(advisors.byStore).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      rows.push([`Tasks, ${store}`, `${taskTallyText(figures.tasks)}; bought after a task ${boughtText(figures.bought)}`]);
    }
    rows.push(['Advisors: bought after a task', comparisonText(advisors)]);
    const waiting = needsAdvisorText(advisors);
    if (waiting) rows.push(['Clients needing a new advisor', waiting]);
  }
  return rows;
}

export function renderTeamEmail(report: NightlyReport, location: ReportLocation = {}, publishingError?: string): TeamEmail {
  const warnings = reportWarnings(report, publishingError);
  const rows = figures(report);
  const subject =
    `${report.brandName}: nightly report ${report.runDate}` +
    (warnings.length > 0 ? ` (${warnings.length} warning${warnings.length > 1 ? 's' : ''})` : '');
  const where = location.reportObject ?? 'not written';

  const textLines = [`${report.brandName}: nightly client report ${report.runDate}`, ''];
  if (warnings.length > 0) textLines.push('Warnings:', ...warnings.map((w) => `- ${w}`), '');
  for (const [label, value] of rows) textLines.push(`${label}: ${value}`);
  textLines.push('');
  if (location.reportLink) textLines.push(`Full report (charts), link valid until ${location.reportLink.expiresAt}:`, location.reportLink.url, `Stored at ${where}`);
  else textLines.push(`Full report (charts): ${where}`);
  if (location.reportUrl) textLines.push(`In the AWS console: ${location.reportUrl}`);
  textLines.push(`Run ${report.runId}`);

  const e = escapeXml;
  const font = 'font-family:Helvetica,Arial,sans-serif;';
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(subject)}</title></head>`,
    `<body style="margin:0;padding:16px;background:#f6f8fa;${font}color:#1f2328;">`,
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;margin:0 auto;background:#ffffff;border:1px solid #d8dee4;">',
    `<tr><td style="padding:16px 18px 4px;${font}font-size:18px;font-weight:bold;">${e(report.brandName)}</td></tr>`,
    `<tr><td style="padding:0 18px 12px;${font}font-size:14px;color:#59636e;">Nightly client report · ${e(report.runDate)}</td></tr>`,
    ...(warnings.length > 0
      ? [
          `<tr><td style="padding:0 18px 12px;"><div style="border:1px solid #d1242f;background:#fff5f5;padding:10px 12px;${font}font-size:14px;color:#82071e;">`,
          `<strong>${warnings.length === 1 ? 'Warning' : 'Warnings'}</strong><ul style="margin:6px 0 0;padding-left:18px;">`,
          ...warnings.map((w) => `<li>${e(w)}</li>`),
          '</ul></div></td></tr>',
        ]
      : []),
    '<tr><td style="padding:0 18px 8px;"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">',
    ...rows.map(
      ([label, value]) =>
        `<tr><td style="padding:6px 8px 6px 0;border-bottom:1px solid #eaeef2;${font}font-size:14px;color:#59636e;vertical-align:top;">${e(label)}</td>` +
        `<td style="padding:6px 0;border-bottom:1px solid #eaeef2;${font}font-size:14px;font-weight:bold;">${e(value)}</td></tr>`,
    ),
    '</table></td></tr>',
    `<tr><td style="padding:8px 18px 16px;${font}font-size:14px;">` +
      (location.reportLink
        ? `<a href="${e(location.reportLink.url)}" style="color:#0969da;font-weight:bold;">Open the full report with its charts</a> (link valid until ${e(location.reportLink.expiresAt)})<br>Stored at <code style="word-break:break-all;">${e(where)}</code>`
        : `The full report with its charts: <code style="word-break:break-all;">${e(where)}</code>`) +
      (location.reportUrl ? `<br><a href="${e(location.reportUrl)}" style="color:#0969da;">Open it in the AWS console</a>` : '') +
      '</td></tr>',
    `<tr><td style="padding:0 18px 14px;${font}font-size:12px;color:#59636e;">Run ${e(report.runId)}. Clients are named by customer id only.</td></tr>`,
    '</table></body></html>',
    '',
  ].join('\n');
  return { subject, html, text: `${textLines.join('\n')}\n` };
}
