import { STAGES, TIERS, type Tier } from '#shared/model.ts';
import { displayMinor, displayMinorCompact } from '#shared/money.ts';
import type { CampaignResults, CampaignSegmentResult, DecayBucket, WindowResult } from '#shared/campaign-results/model.ts';
import { NO_STORE, type TaskTally } from '#shared/advisors/follow-through.ts';
import { boughtText, comparisonText, needsAdvisorText } from './advisor-figures.ts';
import { addDays } from '#shared/time.ts';
import { tierRank } from '#shared/tiering/tiers.ts';
import { MIGRATION_ORIGINS, movementCounts, type MigrationOrigin, type TierMatrix } from './migration.ts';
import { ABSENT_BEFORE_MARKING_WORDS, absentTotal, MIGRATION_WINDOW_DAYS, rosterLines, rulesLines, type MigrationView, type NightlyReport, type TrendPoint } from './nightly-report.ts';
import { dotIntervalChart, escapeXml, groupedBarChart, horizontalBarChart, lineChart, matrixChart, PALETTE } from './svg-charts.ts';
import { percentText } from '#shared/percent.ts';

/**
 * The nightly report as one self-contained HTML page: inline CSS and inline SVG charts, no script,
 * no external font, image or stylesheet, so the file opens the same from S3, a laptop or a phone
 * (and survives being forwarded). Pure: a function of the NightlyReport.
 *
 * Sections, in the order of the issue: tiers (clients and revenue), tier migration (since the
 * previous night and since 30 days ago), stages, repurchase rate, rising clients, rejected rows,
 * the 30-run trend, then campaign results when the run has them. Headline figures come first.
 * Clients are named by customer id only: the page goes to the whole marketing team.
 */

const TIER_COLORS: Record<Tier, string> = {
  VIC: '#6f42c1',
  Core: '#0072b2',
  Potential: '#009e73',
  Entry: '#e69f00',
  Prospect: '#8c959f',
};

const count = (value: number) => value.toLocaleString('en-US');
const signedPp = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(1)} pp`;
const e = escapeXml;

function section(id: string, title: string, body: string): string {
  return `<section id="${id}" aria-labelledby="${id}-h"><h2 id="${id}-h">${e(title)}</h2>${body}</section>`;
}

function empty(message: string): string {
  return `<p class="empty">${e(message)}</p>`;
}

/** A chart with its title as a visible caption (the SVG carries it too, for screen readers). */
function chart<Options extends { title: string }>(draw: (options: Options) => string, options: Options): string {
  return `<figure class="chart"><figcaption>${e(options.title)}</figcaption>${draw(options)}</figure>`;
}

/** Tables wider than this many columns stack each row as label: value lines on a phone (unless told; short columns fit). */
const STACK_ABOVE_COLUMNS = 4;

function table(headers: string[], rows: string[][], numericColumns: number[] = [], options: { stack?: boolean } = {}): string {
  const stack = options.stack ?? headers.length > STACK_ABOVE_COLUMNS;
  const cell = (tag: 'th' | 'td', value: string, i: number) => {
    // Stacked, the label and the value are the two items of a flex row: the value stays one item.
    const stacked = tag === 'td' && stack;
    const label = stacked ? ` data-label="${e(headers[i] ?? '')}"` : '';
    return `<${tag}${numericColumns.includes(i) ? ' class="num"' : ''}${label}>${stacked ? `<span>${value}</span>` : value}</${tag}>`;
  };
  return (
    `<div class="table${stack ? ' stack' : ''}"><table><thead><tr>${headers.map((h, i) => cell('th', e(h), i)).join('')}</tr></thead>` +
    `<tbody>${rows.map((row) => `<tr>${row.map((v, i) => cell('td', v, i)).join('')}</tr>`).join('')}</tbody></table></div>`
  );
}

// ---------------------------------------------------------------- headline

function headline(report: NightlyReport): string {
  const d = report.distribution;
  const repurchase = report.repurchase.figures;
  const card = (label: string, value: string, note = '', warn = false) =>
    `<div class="card${warn ? ' warn' : ''}"><div class="label">${e(label)}</div><div class="value">${value}</div>${note ? `<div class="note">${note}</div>` : ''}</div>`;
  const cards = [
    card('Clients', e(count(d.clients)), e(`${count(d.buyers)} buyers`)),
    card('12-month revenue', e(displayMinorCompact(d.revenueMinor, report.currency)), e(displayMinor(d.revenueMinor, report.currency))),
    card(
      'Repurchase rate',
      repurchase && repurchase.buyers12m > 0 ? e(percentText(repurchase.rate)) : '–',
      repurchase
        ? `${e(`${count(repurchase.repeatBuyers12m)} of ${count(repurchase.buyers12m)}`)}${report.repurchase.warning ? ` ${warningBadge(report)}` : ''}`
        : 'not recorded',
      report.repurchase.warning,
    ),
    card('Rising clients', report.rising ? e(count(report.rising.clients)) : '–', report.clv.fitted ? 'next tier predicted' : 'no CLV tonight'),
    card('Rejected rows', e(count(report.rejects.rejected)), e(`${percentText(report.rejects.share, 2)} of ${count(report.rejects.rows)}`), report.rejects.warning),
  ];
  const absent = report.absent;
  // Clients the export no longer has (shared/nightly/absent.ts): shown only when there are some.
  const beforeMarking = absent?.beforeMarking ?? 0;
  if (absent && absentTotal(absent) > 0) {
    const since = beforeMarking > 0 ? `, ${count(beforeMarking)} ${ABSENT_BEFORE_MARKING_WORDS} (marked, not counted)` : '';
    cards.push(card('Not in the export', e(count(absentTotal(absent))), e(`${count(absent.newly)} since tonight${since}; kept, mailed nothing`), absent.newly > 0));
  }
  return `<div class="cards">${cards.join('')}</div>`;
}

function warningBadge(report: NightlyReport): string {
  return `<span class="badge">below ${e(percentText(report.repurchase.warningBelow, 0))}</span>`;
}

// ---------------------------------------------------------------- tiers

function tiersSection(report: NightlyReport): string {
  const d = report.distribution;
  if (d.clients === 0) return section('tiers', 'Clients and revenue per tier', empty('No clients in tonight\'s export.'));
  const clients = chart(horizontalBarChart, {
    id: 'chart-tier-clients',
    title: 'Clients per tier',
    description: 'Number of clients in each tier tonight, with the share of buyers.',
    bars: TIERS.map((tier) => ({
      label: tier,
      value: d.tiers[tier].clients,
      valueLabel: tier === 'Prospect' ? count(d.tiers[tier].clients) : `${count(d.tiers[tier].clients)} · ${percentText(d.tiers[tier].buyerShare)}`,
      color: TIER_COLORS[tier],
    })),
  });
  const buyingTiers = TIERS.filter((t) => t !== 'Prospect');
  const revenue = chart(horizontalBarChart, {
    id: 'chart-tier-revenue',
    title: `12-month revenue per tier (${report.currency})`,
    description: 'Trailing-12-month net revenue of each tier, with its share of the total.',
    bars: buyingTiers.map((tier) => ({
      label: tier,
      value: d.tiers[tier].revenueMinor,
      valueLabel: `${displayMinorCompact(d.tiers[tier].revenueMinor, report.currency)} · ${percentText(d.tiers[tier].revenueShare)}`,
      color: TIER_COLORS[tier],
    })),
  });
  const shares = chart(groupedBarChart, {
    id: 'chart-tier-shares',
    title: 'Share of buyers and share of revenue per tier',
    description: 'A few clients bring most of the revenue: compare each tier\'s share of buyers with its share of revenue.',
    series: [
      { name: 'share of buyers', color: '#8c959f' },
      { name: 'share of revenue', color: PALETTE[0] },
    ],
    groups: buyingTiers.map((tier) => ({
      label: tier,
      values: [d.tiers[tier].buyerShare, d.tiers[tier].revenueShare],
      valueLabels: [percentText(d.tiers[tier].buyerShare), percentText(d.tiers[tier].revenueShare)],
    })),
  });
  const rows = TIERS.map((tier) => [
    e(tier),
    e(count(d.tiers[tier].clients)),
    tier === 'Prospect' ? '–' : e(percentText(d.tiers[tier].buyerShare)),
    e(displayMinor(d.tiers[tier].revenueMinor, report.currency)),
    e(percentText(d.tiers[tier].revenueShare)),
  ]);
  rows.push(['<strong>Total</strong>', `<strong>${e(count(d.clients))}</strong>`, '', `<strong>${e(displayMinor(d.revenueMinor, report.currency))}</strong>`, '']);
  return section(
    'tiers',
    'Clients and revenue per tier',
    `<div class="grid">${clients}${revenue}</div>${shares}` +
      `<details><summary>The figures</summary>${table(['Tier', 'Clients', '% of buyers', '12-month revenue', '% of revenue'], rows, [1, 2, 3, 4])}</details>`,
  );
}

// ---------------------------------------------------------------- migration

function tone(from: MigrationOrigin, to: Tier): 'neutral' | 'positive' | 'negative' | 'info' {
  if (from === 'new') return 'info';
  if (from === to) return 'neutral';
  return tierRank(to) > tierRank(from) ? 'positive' : 'negative';
}

function matrixFigure(id: string, title: string, matrix: TierMatrix): string {
  // The block's heading already names the matrix: no caption repeating it.
  return `<figure class="chart">${matrixChart({
      id,
      title,
      description: 'Rows: tier at the start (new: not a client then); columns: tier now. Green: up, orange: down, blue: new clients, grey: unchanged.',
      rowCaption: 'from',
      columnCaption: 'to',
      rowLabels: MIGRATION_ORIGINS.map((o) => (o === 'new' ? 'new' : o)),
      columnLabels: [...TIERS],
      values: MIGRATION_ORIGINS.map((from) => TIERS.map((to) => matrix.counts[from][to])),
      tone: (ri, ci) => tone(MIGRATION_ORIGINS[ri] ?? 'new', TIERS[ci] ?? 'Prospect'),
      formatValue: count,
    })}</figure>`;
}

function movementSummary(matrix: TierMatrix): string {
  const { up, down, arrived, firstPurchases, unchanged } = movementCounts(matrix);
  const bought = firstPurchases > 0 ? ` · <span class="new">● ${e(count(firstPurchases))} first purchase${firstPurchases === 1 ? '' : 's'}</span>` : '';
  return `<p class="legend"><span class="up">▲ ${e(count(up))} up</span> · <span class="down">▼ ${e(count(down))} down</span> · <span class="new">● ${e(count(arrived))} new</span>${bought} · ${e(count(unchanged))} unchanged</p>`;
}

function migrationBlock(title: string, id: string, view: MigrationView, report: NightlyReport, firstNight: boolean, emptyText: string): string {
  if (report.distribution.clients === 0 && view.matrix.total === 0) return `<h3>${e(title)}</h3>${empty('No clients.')}`;
  if (firstNight) return `<h3>${e(title)}</h3>${empty(emptyText)}`;
  return `<h3>${e(title)}</h3>${movementSummary(view.matrix)}${matrixFigure(id, title, view.matrix)}`;
}

function migrationSection(report: NightlyReport): string {
  const previous = report.sincePreviousNight;
  const first = previous.previousRunDate === undefined;
  const sinceLabel = previous.previousRunDate ? `Since the previous night (${previous.previousRunDate})` : 'Since the previous night';
  const tonight =
    first && report.distribution.clients > 0
      ? `<h3>${e(sinceLabel)}</h3>${empty(`First night: no history yet. All ${count(previous.matrix.moved)} clients are new.`)}`
      : migrationBlock(sinceLabel, 'chart-migration-night', previous, report, false, '');
  const window = report.sinceWindowStart;
  const windowTitle = `Since ${MIGRATION_WINDOW_DAYS} days ago (${window.since})`;
  // Without a night stored on or before the window's start, every client of the first stored night would count as new.
  const older =
    !first && window.firstStoredRunDate !== undefined
      ? `<h3>${e(windowTitle)}</h3>${empty(`No history yet for ${MIGRATION_WINDOW_DAYS} days back: the first stored night is ${window.firstStoredRunDate}. This view starts on ${addDays(window.firstStoredRunDate, MIGRATION_WINDOW_DAYS)}.`)}`
      : migrationBlock(windowTitle, 'chart-migration-30d', window, report, first, 'No history yet: the 30-day view starts with the second night.');
  const coverage =
    !first && window.firstStoredRunDate === undefined && window.runDates.length > 0 && window.runDates.length < 30
      ? `<p class="note">Built from the ${e(count(window.runDates.length))} nightly runs stored since ${e(window.since)}.</p>`
      : '';
  const rules = rulesLines(report).map((line) => `<p class="note warn-text">${e(line)}</p>`).join('');
  return section('migration', 'Tier migration', `${rules}<div class="grid"><div>${tonight}</div><div>${older}${coverage}</div></div>`);
}

// ---------------------------------------------------------------- stages

function stagesSection(report: NightlyReport): string {
  const stages = report.stages;
  const total = STAGES.reduce((sum, s) => sum + stages[s], 0);
  if (total === 0) return section('stages', 'Lifecycle stages', empty('No clients.'));
  const colors: Record<string, string> = {
    prospect: '#8c959f',
    new: '#56b4e9',
    active: '#009e73',
    'at-risk': '#e69f00',
    sleeping: '#d55e00',
    churned: '#6e7781',
  };
  const svg = chart(horizontalBarChart, {
    id: 'chart-stages',
    title: 'Clients per lifecycle stage',
    bars: STAGES.map((stage) => ({ label: stage, value: stages[stage], valueLabel: `${count(stages[stage])} · ${percentText(stages[stage] / total)}`, color: colors[stage] ?? PALETTE[0] })),
  });
  const moves = Object.entries(report.stageMovements).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const list =
    moves.length === 0
      ? '<p class="note">No stage changed tonight among existing clients.</p>'
      : `<p class="note">Tonight: ${moves.slice(0, 8).map(([move, n]) => `${e(move)} <strong>${e(count(n))}</strong>`).join(' · ')}${moves.length > 8 ? ' …' : ''}</p>`;
  return section('stages', 'Lifecycle stages', svg + list);
}

// ---------------------------------------------------------------- RFM segments

function segmentsSection(report: NightlyReport): string {
  const explain =
    '<p class="note">Buyers grouped by their recency, frequency and monetary scores (1–5 against the whole base; the map is <code>rfmSegments</code> in the config). Campaign audiences can name segments.</p>';
  const figures = report.rfmSegments;
  if (!figures) return section('segments', 'RFM segments', empty('Not recorded for this run.') + explain);
  const buyers = figures.segments.reduce((sum, s) => sum + s.buyers, 0);
  if (buyers === 0) return section('segments', 'RFM segments', empty('No buyer tonight.') + explain);
  const svg = chart(horizontalBarChart, {
    id: 'chart-segments',
    title: 'Buyers per RFM segment',
    bars: figures.segments.map((s) => ({ label: s.name, value: s.buyers, valueLabel: `${count(s.buyers)} · ${percentText(s.buyers / buyers)}`, color: PALETTE[0] })),
  });
  const rows = figures.segments.map((s) => [e(s.name), e(count(s.buyers)), e(percentText(s.buyers / buyers)), s.movedIn > 0 ? `+${e(count(s.movedIn))}` : '0', s.movedOut > 0 ? `−${e(count(s.movedOut))}` : '0']);
  const moves = Object.entries(figures.movements).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const list =
    moves.length === 0
      ? '<p class="note">No buyer changed segment tonight.</p>'
      : `<p class="note">Largest moves tonight: ${moves.slice(0, 6).map(([move, n]) => `${e(move)} <strong>${e(count(n))}</strong>`).join(' · ')}${moves.length > 6 ? ' …' : ''}</p>`;
  return section('segments', 'RFM segments', explain + svg + table(['Segment', 'Buyers', 'Share', 'In', 'Out'], rows, [1, 2, 3, 4], { stack: false }) + list);
}

// ---------------------------------------------------------------- repurchase

function repurchaseSection(report: NightlyReport): string {
  const { figures, warning, warningBelow } = report.repurchase;
  const explain = `<p class="note">Share of the clients who bought in the last 12 months who have placed two or more orders. Below ${e(percentText(warningBelow, 0))} is a warning.</p>`;
  if (!figures) return section('repurchase', 'Repurchase rate', empty('Not recorded for this run.') + explain);
  if (figures.buyers12m === 0) return section('repurchase', 'Repurchase rate', empty('No client bought in the last 12 months.') + explain);
  const big = `<p class="big${warning ? ' warn-text' : ''}">${e(percentText(figures.rate))}${warning ? ` ${warningBadge(report)}` : ' <span class="badge ok">healthy</span>'}</p>`;
  const detail = `<p>${e(count(figures.repeatBuyers12m))} repeat buyers of ${e(count(figures.buyers12m))} clients who bought in the last 12 months.</p>`;
  return section('repurchase', 'Repurchase rate', big + detail + explain);
}

// ---------------------------------------------------------------- rising

function risingSection(report: NightlyReport): string {
  const rising = report.rising;
  if (!report.clv.fitted) {
    const why = report.clv.skippedReason ? ` (${report.clv.skippedReason})` : '';
    return section('rising', 'Rising clients', empty(`No predictions tonight: the CLV models were not fitted${why}.`));
  }
  if (!rising) return section('rising', 'Rising clients', empty('Not recorded for this run.'));
  if (rising.clients === 0) return section('rising', 'Rising clients', empty('No rising client tonight.'));
  const tiers = TIERS.filter((t) => t !== 'VIC' && t !== 'Prospect');
  const svg = chart(horizontalBarChart, {
    id: 'chart-rising',
    title: 'Rising clients per tier',
    description: 'Clients whose predicted 12-month value reaches the threshold of the tier above.',
    bars: tiers.map((tier) => ({ label: tier, value: rising.byTier[tier], valueLabel: count(rising.byTier[tier]), color: TIER_COLORS[tier] })),
  });
  const rows = rising.top.map((c) => [
    `<code>${e(c.customerId)}</code>`,
    e(c.tier),
    e(displayMinorCompact(c.clv12mMinor, report.currency)),
    e(displayMinorCompact(c.spend12mMinor, report.currency)),
  ]);
  return section(
    'rising',
    'Rising clients',
    `<p class="note">Predicted 12-month value above the threshold of the next tier: tomorrow's VICs. ${e(count(rising.clients))} in all.</p>` +
      svg +
      `<h3>Top ${e(count(rising.top.length))} by predicted value</h3>` +
      // No break inside "12 m" when the headers wrap on a phone.
      table(['Customer id', 'Tier', 'Predicted 12\u00a0m', 'Spent 12\u00a0m'], rows, [2, 3]),
  );
}

// ---------------------------------------------------------------- rejects

function rejectsSection(report: NightlyReport): string {
  const r = report.rejects;
  // A roster not used is a problem of tonight's input, as rejected rows are.
  const roster = rosterLines(report).map((line) => `<p class="note warn-text">${e(line)}</p>`).join('');
  const head = `${roster}<p>${e(count(r.rejected))} of ${e(count(r.rows))} rows rejected (${e(percentText(r.share, 2))}).</p>`;
  if (r.rejected === 0) return section('rejects', 'Rejected rows', head + empty('No row was rejected tonight.'));
  const rows = r.sample.map((reject) => [e(reject.file.split('/').pop() ?? reject.file), e(count(reject.line)), e(reject.reason)]);
  const more = r.rejected > r.sample.length ? `<p class="note">The first ${e(count(r.sample.length))} are shown.</p>` : '';
  const where = r.listedIn ? `<p class="note">${e(r.listedIn)}</p>` : r.object ? `<p class="note">Full list: <code>${e(r.object)}</code></p>` : '';
  return section('rejects', 'Rejected rows', head + table(['File', 'Line', 'Reason'], rows, [1]) + more + where);
}

// ---------------------------------------------------------------- trend

function trendSection(report: NightlyReport): string {
  const trend = report.trend;
  if (trend.length < 2) return section('trend', 'Trend of the last 30 runs', empty('No history yet: the trend starts with the second night.'));
  const dates = trend.map((p) => p.runDate);
  const series = (name: string, pick: (p: TrendPoint) => number | undefined, color?: string) => ({ name, values: trend.map(pick), ...(color ? { color } : {}) });
  const charts = [
    chart(lineChart, {
      id: 'chart-trend-tiers',
      title: 'Clients per tier',
      xLabels: dates,
      series: TIERS.filter((t) => t !== 'Prospect').map((t) => series(t, (p) => p.tierClients[t], TIER_COLORS[t])),
      formatValue: count,
      yDomain: [0, 1],
    }),
    chart(lineChart, {
      id: 'chart-trend-revenue',
      title: `12-month revenue (${report.currency})`,
      xLabels: dates,
      series: [series('12-month revenue', (p) => p.revenueMinor)],
      formatValue: (v) => displayMinorCompact(v, report.currency),
      // From 0: an honest scale, and compact tick labels that stay distinct.
      yDomain: [0, 1],
    }),
    chart(lineChart, {
      id: 'chart-trend-repurchase',
      title: 'Repurchase rate',
      xLabels: dates,
      series: [series('repurchase rate', (p) => p.repurchaseRate, '#009e73')],
      formatValue: (v) => percentText(v, 0),
      threshold: { value: report.repurchase.warningBelow, label: `warning below ${percentText(report.repurchase.warningBelow, 0)}` },
      yDomain: [0, report.repurchase.warningBelow + 0.1],
    }),
    chart(lineChart, {
      id: 'chart-trend-moves',
      title: 'Tier movements per night',
      xLabels: dates,
      series: [series('upgrades', (p) => p.upgrades, '#009e73'), series('downgrades', (p) => p.downgrades, '#d55e00')],
      formatValue: count,
      yDomain: [0, 1],
    }),
    chart(lineChart, {
      id: 'chart-trend-rising',
      title: 'Rising clients',
      xLabels: dates,
      series: [series('rising clients', (p) => p.rising, '#6f42c1')],
      formatValue: count,
      yDomain: [0, 1],
    }),
  ];
  return section('trend', `Trend of the last ${trend.length} runs`, `<div class="grid">${charts.join('')}</div>`);
}

// ---------------------------------------------------------------- campaign results

function windowLabel(w: WindowResult) {
  return `${w.windowDays} days`;
}

function segmentLabel(segment: CampaignSegmentResult): string {
  return segment.tier === 'all' ? 'all tiers' : segment.tier;
}

/** "3 suppressed, 2 expired": the emails that were due but neither sent nor held out. */
function unsentLabel(segment: CampaignSegmentResult): string {
  return Object.entries(segment.unsent)
    .map(([status, n]) => `${count(n)} ${status}`)
    .join(', ');
}

/** One window's conversion, sent against control, with the uplift; or why there is none yet. */
function conversionCell(w: WindowResult | undefined): string {
  if (!w) return '–';
  if (w.sent.members + w.control.members === 0) {
    const maturing = w.maturing.sent + w.maturing.control;
    return maturing > 0 ? `<small>${e(`window not ended (${count(maturing)} maturing)`)}</small>` : '–';
  }
  if (w.control.members === 0) return `${e(percentText(w.sent.conversionRate))}<br><small>${e(`of ${count(w.sent.members)} sent; no control member to compare with`)}</small>`;
  if (w.sent.members === 0) return `${e(`– vs ${percentText(w.control.conversionRate)}`)}<br><small>${e(`nobody sent; ${count(w.control.members)} control`)}</small>`;
  const uplift = w.conversionUplift ? `${signedPp(w.conversionUplift.estimate)}${w.significant ? '' : ', not conclusive'}; ` : '';
  return `${e(`${percentText(w.sent.conversionRate)} vs ${percentText(w.control.conversionRate)} control`)}<br><small>${e(`${uplift}of ${count(w.sent.members)} sent, ${count(w.control.members)} control`)}</small>`;
}

/** Every campaign in one table: what was due, what became of it, who converted within each window. */
function campaignOverview(results: CampaignResults): string {
  const rows = results.segments
    .filter((segment) => segment.tier === 'all')
    .map((segment) => [
      e(segment.campaignId),
      e(count(segment.due)),
      e(count(segment.sends)),
      e(count(segment.heldOut)),
      e(count(segment.due - segment.sends - segment.heldOut)),
      ...results.windowsDays.map((days) => conversionCell(segment.windows.find((w) => w.windowDays === days))),
    ]);
  // Why the unsent were not sent is in each campaign's own block below.
  return table(['Campaign', 'Due', 'Sent', 'Held out', 'Not sent', ...results.windowsDays.map((days) => `Converted in ${days} days`)], rows, [1, 2, 3, 4]);
}

function campaignBlock(results: CampaignResults, campaignId: string, segments: CampaignSegmentResult[], currency: string, index: number): string {
  const all = segments.find((s) => s.tier === 'all') ?? segments[0];
  if (!all) return '';
  const windows = all.windows;
  const unsent = unsentLabel(all);
  const parts = [
    `<h3>${e(campaignId)}</h3><p class="note">${e(
      `${count(all.due)} due: ${count(all.sends)} sent, ${count(all.heldOut)} held out (control group)${unsent ? `, not sent: ${unsent}` : ''}.`,
    )}</p>`,
  ];
  const measured = windows.filter((w) => w.sent.members + w.control.members > 0);
  if (measured.length === 0) {
    const maturing = windows.reduce((sum, w) => Math.max(sum, w.maturing.sent + w.maturing.control), 0);
    parts.push(empty(`No window has ended yet${maturing > 0 ? ` (${count(maturing)} clients still maturing)` : ''}.`));
    return parts.join('');
  }
  parts.push(
    chart(groupedBarChart, {
        id: `chart-campaign-${index}-conversion`,
        title: `${campaignId}: conversion, sent vs control`,
        description: 'Share of each group who ordered within the window after the email (or the held-out decision).',
        series: [
          { name: 'sent', color: PALETTE[0] },
          { name: 'control', color: '#8c959f' },
        ],
        groups: measured.map((w) => ({
          label: windowLabel(w),
          values: [w.sent.conversionRate, w.control.conversionRate],
          valueLabels: [
            `${percentText(w.sent.conversionRate)} (${count(w.sent.converted)}/${count(w.sent.members)})`,
            `${percentText(w.control.conversionRate)} (${count(w.control.converted)}/${count(w.control.members)})`,
          ],
        })),
      },
    ),
  );
  // Uplift with its interval: every window for all tiers, then each tier over the shortest window.
  const shortest = Math.min(...results.windowsDays);
  const rows: { label: string; w: WindowResult }[] = [];
  for (const w of measured) rows.push({ label: `${windowLabel(w)} · all tiers`, w });
  for (const segment of segments) {
    if (segment === all) continue;
    const w = segment.windows.find((x) => x.windowDays === shortest);
    if (w) rows.push({ label: `${windowLabel(w)} · ${segmentLabel(segment)}`, w });
  }
  const withUplift = rows.filter((row) => row.w.conversionUplift !== undefined);
  if (withUplift.length > 0) {
    parts.push(
      chart(dotIntervalChart, {
          id: `chart-campaign-${index}-uplift`,
          title: `${campaignId}: conversion uplift (${percentText(results.confidenceLevel, 0)} interval)`,
          description: 'Sent minus control conversion, in percentage points; an interval that crosses 0 is not conclusive.',
          rows: withUplift.map(({ label, w }) => {
            const uplift = w.conversionUplift as NonNullable<WindowResult['conversionUplift']>;
            return {
              label,
              estimate: uplift.estimate,
              low: uplift.interval.low,
              high: uplift.interval.high,
              significant: w.significant,
              valueLabel: `${signedPp(uplift.estimate)} (${signedPp(uplift.interval.low)} to ${signedPp(uplift.interval.high)})`,
            };
          }),
          formatValue: (v) => (v === 0 ? '0 pp' : `${v > 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(0)}`),
        },
      ),
    );
  }
  const revenueRows = measured.map((w) => [
    e(windowLabel(w)),
    w.relativeUplift === undefined ? '–' : e(`${w.relativeUplift >= 0 ? '+' : '−'}${percentText(Math.abs(w.relativeUplift), 0)}`),
    w.revenuePerMemberUpliftMinor
      ? `${e(displayMinor(Math.round(w.revenuePerMemberUpliftMinor.estimate), currency))}<br><small>${e(
          `${displayMinor(Math.round(w.revenuePerMemberUpliftMinor.interval.low), currency)} to ${displayMinor(Math.round(w.revenuePerMemberUpliftMinor.interval.high), currency)}`,
        )}</small>`
      : '–',
    w.incrementalRevenueMinor === undefined ? '–' : e(displayMinor(Math.round(w.incrementalRevenueMinor), currency)),
    w.significant ? '<span class="badge ok">yes</span>' : 'no',
    e(count(w.maturing.sent + w.maturing.control)),
  ]);
  parts.push(
    table(['Window', 'Relative uplift', 'Revenue per client (sent − control)', 'Incremental revenue', 'Conclusive', 'Maturing'], revenueRows, [1, 2, 3, 5]),
  );
  return parts.join('');
}

function decayLabel(bucket: DecayBucket): string {
  return bucket.toHours === undefined ? `${bucket.fromHours} h +` : `${bucket.fromHours}–${bucket.toHours} h`;
}

/** Campaigns that cannot send yet, each with the reason: on, yet silent, is worth a line. */
function waitingNote(report: NightlyReport): string {
  const waiting = report.campaignsWaiting ?? [];
  return waiting.map((w) => `<p class="note"><strong>${e(w.campaignId)}</strong> ${e(w.reason)}.</p>`).join('');
}

function campaignsSection(report: NightlyReport): string {
  const results = report.campaignResults;
  const waiting = waitingNote(report);
  if (!results && report.campaignResultsError) {
    return section('campaigns', 'Campaign results', empty(`The campaign results could not be read: ${report.campaignResultsError}`) + waiting);
  }
  if (!results) return waiting === '' ? '' : section('campaigns', 'Campaign results', waiting);
  const byCampaign = new Map<string, CampaignSegmentResult[]>();
  for (const segment of results.segments) byCampaign.set(segment.campaignId, [...(byCampaign.get(segment.campaignId) ?? []), segment]);
  const intro = `<p class="note">Emails due (a reminder listing several products is one) from ${e(results.periodStart)} to ${e(results.runDate)}; a client converts by ordering within the window after the email (or after being held out). Only a control group that did not receive the email shows a campaign's effect; a window counts only the clients it has watched to its end.</p>`;
  if (byCampaign.size === 0) return section('campaigns', 'Campaign results', intro + waiting + empty('No campaign decision in the period.'));
  const blocks = [...byCampaign].map(([id, segments], i) => campaignBlock(results, id, segments, report.currency, i));
  const overview = campaignOverview(results);
  let decay = '';
  if (results.welcomeDecay.length > 0) {
    const shortest = Math.min(...results.windowsDays);
    decay =
      `<h3>Welcome: response by how fast it went out</h3>` +
      chart(horizontalBarChart, {
          id: 'chart-welcome-decay',
          title: `Welcome conversion within ${shortest} days, by hours after the first order or sign-up`,
          description: 'A welcome loses value fast: compare the conversion of early and late sends.',
          bars: results.welcomeDecay.map((bucket) => ({
            label: decayLabel(bucket),
            value: bucket.conversionRate,
            valueLabel: `${percentText(bucket.conversionRate)} of ${count(bucket.members)}`,
            color: PALETTE[0],
          })),
        },
      );
  }
  return section('campaigns', 'Campaign results', intro + waiting + overview + blocks.join('') + decay);
}

// ---------------------------------------------------------------- page

const STYLE = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#1f2328;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif;-webkit-text-size-adjust:100%}
main{max-width:980px;margin:0 auto;padding:16px 12px 40px}
header h1{margin:0;font-size:22px}
header p{margin:2px 0 0;color:#59636e}
section{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:14px 14px 10px;margin:14px 0}
h2{font-size:18px;margin:0 0 8px}
h3{font-size:15px;margin:12px 0 6px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:14px 0}
.card{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:10px 12px}
.card.warn{border-color:#d1242f;background:#fff5f5}
.card .label{font-size:13px;color:#59636e}
.card .value{font-size:24px;font-weight:600;line-height:1.3}
.card .note{font-size:12px;color:#59636e}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:6px 18px}
figure.chart{margin:8px 0 12px;max-width:460px}
figcaption{font-size:13px;font-weight:600;color:#424a53;margin:0 0 4px}
figure.chart svg{display:block;height:auto}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#d1242f;color:#fff;font-size:12px;font-weight:600;vertical-align:middle}
.badge.ok{background:#1a7f37}
.big{font-size:34px;font-weight:700;margin:4px 0}
.warn-text,.note.warn-text{color:#d1242f}
.empty{color:#59636e;font-style:italic;margin:6px 0 10px}
.note,.legend{color:#59636e;font-size:13px;margin:4px 0 8px}
.legend .up{color:#1a7f37}.legend .down{color:#bc4c00}.legend .new{color:#0969da}
.table{overflow-x:auto;margin:6px 0 10px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{white-space:nowrap}
small{color:#59636e}
th{color:#59636e;font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f6f8fa;padding:1px 4px;border-radius:4px;word-break:break-all}
details summary{cursor:pointer;color:#0969da;font-size:13px;margin:4px 0}
footer{color:#59636e;font-size:12px;margin-top:18px}
/* Phones: tables fit the width (headers wrap, tighter cells) instead of scrolling sideways. */
@media (max-width:480px){th{white-space:normal}th,td{padding:5px 4px}section{padding:12px 10px 8px}code{padding:1px 2px}
.stack thead{display:none}.stack tr{display:block;border-bottom:1px solid #d8dee4;padding:4px 0}
.stack td{display:flex;justify-content:space-between;gap:12px;border:0;padding:2px 4px;text-align:right}
.stack td::before{content:attr(data-label);color:#59636e;font-weight:600;text-align:left}}
`;

// ---------------------------------------------------------------- advisors

function advisorsSection(report: NightlyReport): string {
  const advisors = report.advisors;
  if (!advisors) return '';
  const explain =
    `<p class="note">Tasks given to each advisor in the last ${advisors.days} days and what became of them. ` +
    `Bought: clients who placed an order within ${advisors.boughtWithinDays} days of a task given in the last ${advisors.periodDays} days (introductions aside), ` +
    'against the campaigns\' control group of the same campaign and tier, who got neither a task nor an email. Counts are shown: a small sample is a hint, not a verdict.</p>';
  const tallyCells = (tasks: TaskTally) => [tasks.given, tasks.done, tasks.asked, tasks.snoozed, tasks.left, tasks.open].map(count);
  const headers = ['Given', 'Done', 'Asked', 'Snoozed', 'Left', 'Open', 'Bought'];
  const byAdvisor = table(
    ['Advisor', 'Store', ...headers],
    advisors.advisors.map((a) => [e(a.advisorId) + (a.active ? '' : ' (left)'), e(a.store ?? NO_STORE), ...tallyCells(a.tasks), e(boughtText(a.bought))]),
    [2, 3, 4, 5, 6, 7],
  );
  const stores = Object.entries(advisors.byStore).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const byStore = table(['Store', ...headers], stores.map(([store, f]) => [e(store), ...tallyCells(f.tasks), e(boughtText(f.bought))]), [1, 2, 3, 4, 5, 6]);
  const waiting = needsAdvisorText(advisors);
  const needs = waiting
    ? `<h3>Clients needing a new advisor</h3><p>${e(waiting)}</p><p class="note">Their advisor left; until the brand assigns a new one (clientele advisors plan), their personal notes come from the client care team, never in an advisor's name.</p>`
    : '';
  return section('advisors', 'Advisors: follow-through', explain + `<p><strong>${e(comparisonText(advisors))}</strong></p>` + `<h3>Per advisor</h3>${byAdvisor}<h3>Per store</h3>${byStore}` + needs);
}

/** The report page. `reportObject` (where it is stored) is printed in the footer when known. */
export function renderNightlyReportHtml(report: NightlyReport, options: { reportObject?: string } = {}): string {
  const title = `${report.brandName}: nightly report ${report.runDate}`;
  const body = [
    `<header><h1>${e(report.brandName)}</h1><p>Nightly client report · ${e(report.runDate)}</p></header>`,
    headline(report),
    tiersSection(report),
    migrationSection(report),
    stagesSection(report),
    segmentsSection(report),
    repurchaseSection(report),
    risingSection(report),
    rejectsSection(report),
    trendSection(report),
    campaignsSection(report),
    advisorsSection(report),
    `<footer><p>Run ${e(report.runId)} · summary <code>${e(report.summaryObject)}</code>${options.reportObject ? ` · this report <code>${e(options.reportObject)}</code>` : ''}</p>` +
      '<p>Clients are named by customer id only. Amounts are trailing-12-month net of refunds, in ' +
      `${e(report.currency)}.</p></footer>`,
  ];
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    '<meta name="color-scheme" content="light">\n' +
    `<title>${e(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n<main>\n${body.filter((b) => b.length > 0).join('\n')}\n</main>\n</body>\n</html>\n`
  );
}
