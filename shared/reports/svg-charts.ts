/**
 * Small chart functions for the reports: each returns one accessible inline <svg> as a string.
 *
 * - Scales to its container: a viewBox and width="100%", no fixed pixel size, so a chart is as
 *   wide as a phone screen or the report's column on a desktop. The viewBox is narrow (CHART_WIDTH
 *   units) so that text stays readable once a phone scales it down.
 * - Accessible: role="img", a <title> and a <desc> naming what the chart shows, and every value also
 *   written as text next to its mark (a chart is never the only place a number is).
 * - Self-contained: no script, no external font or stylesheet, presentation attributes only (an
 *   email client or a file:// page shows it the same).
 * - Deterministic: the same input gives the same text (coordinates are rounded to 0.1 unit).
 * - Every text given by the caller is escaped; the caller formats numbers (money, percentages).
 */

export const CHART_WIDTH = 360;
const FONT = 'system-ui,-apple-system,&quot;Segoe UI&quot;,Roboto,&quot;Noto Sans&quot;,&quot;PingFang SC&quot;,&quot;Microsoft YaHei&quot;,sans-serif';
const FONT_SIZE = 13;
const SMALL = 11.5;
const INK = '#1f2328';
const MUTED = '#59636e';
const GRID = '#d8dee4';

/** A colour-blind-safe palette (Okabe-Ito), in the order series use it. */
export const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000'] as const;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for XML/HTML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Coordinates rounded to 0.1: deterministic text, small files. */
function r(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** Rough text width in viewBox units: wide (CJK) characters count double. Enough to lay labels out. */
export function textWidth(text: string, fontSize = FONT_SIZE): number {
  let units = 0;
  for (const char of text) units += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(char) ? 1 : 0.58;
  return units * fontSize;
}

/** Ids inside one document must be unique: the caller names the chart, the function derives its ids. */
function idOf(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '-');
}

function svgOpen(id: string, title: string, description: string, height: number): string {
  const base = idOf(id);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" id="${base}" role="img" aria-labelledby="${base}-title ${base}-desc" ` +
    `viewBox="0 0 ${CHART_WIDTH} ${r(height)}" width="100%" preserveAspectRatio="xMinYMin meet" ` +
    `font-family="${FONT}" font-size="${FONT_SIZE}" fill="${INK}">` +
    `<title id="${base}-title">${escapeXml(title)}</title><desc id="${base}-desc">${escapeXml(description)}</desc>`
  );
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${r(x)}" y="${r(y)}"${attributes ? ` ${attributes}` : ''}>${escapeXml(content)}</text>`;
}

/** Clips a label to a width, with an ellipsis (the full text stays in the chart's description). */
function fit(label: string, width: number, fontSize = FONT_SIZE): string {
  if (textWidth(label, fontSize) <= width) return label;
  let clipped = '';
  for (const char of label) {
    if (textWidth(`${clipped}${char}…`, fontSize) > width) break;
    clipped += char;
  }
  return `${clipped}…`;
}

const finite = (value: number) => (Number.isFinite(value) ? value : 0);

// ---------------------------------------------------------------- horizontal bars

export interface Bar {
  label: string;
  value: number;
  /** Written after the bar, e.g. "312 · 15.6%"; the value itself when absent. */
  valueLabel?: string;
  color?: string;
}

export interface BarChartOptions {
  id: string;
  title: string;
  /** What the chart shows, for screen readers; the bars' labels and values are appended. */
  description?: string;
  bars: Bar[];
}

/** One bar per row, label on the left, value after the bar; bars share one scale starting at 0. */
export function horizontalBarChart(options: BarChartOptions): string {
  const { bars } = options;
  const rowHeight = 30;
  const top = 6;
  const labelWidth = Math.min(130, Math.max(40, ...bars.map((b) => textWidth(b.label) + 10)));
  const valueLabels = bars.map((b) => b.valueLabel ?? String(b.value));
  const valueWidth = Math.min(170, Math.max(30, ...valueLabels.map((v) => textWidth(v, SMALL) + 8)));
  const plotWidth = CHART_WIDTH - labelWidth - valueWidth;
  const max = Math.max(0, ...bars.map((b) => finite(b.value)));
  const height = top * 2 + rowHeight * Math.max(1, bars.length);
  const parts = [
    svgOpen(
      options.id,
      options.title,
      `${options.description ? `${options.description} ` : ''}${bars.map((b, i) => `${b.label}: ${valueLabels[i]}`).join('; ')}.`,
      height,
    ),
  ];
  parts.push(`<line x1="${r(labelWidth)}" y1="${top}" x2="${r(labelWidth)}" y2="${r(height - top)}" stroke="${GRID}"/>`);
  bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    const width = max === 0 ? 0 : (Math.max(0, finite(bar.value)) / max) * plotWidth;
    const color = bar.color ?? PALETTE[0];
    parts.push(text(labelWidth - 6, y + rowHeight / 2 + 4.5, fit(bar.label, labelWidth - 8), 'text-anchor="end"'));
    // A visible sliver for a non-zero value too small for the scale.
    const drawn = bar.value > 0 ? Math.max(width, 1.5) : 0;
    if (drawn > 0) parts.push(`<rect x="${r(labelWidth)}" y="${r(y + 5)}" width="${r(drawn)}" height="${rowHeight - 10}" rx="2" fill="${color}"/>`);
    parts.push(text(labelWidth + drawn + 5, y + rowHeight / 2 + 4, valueLabels[i] ?? '', `font-size="${SMALL}" fill="${MUTED}"`));
  });
  parts.push('</svg>');
  return parts.join('');
}

// ---------------------------------------------------------------- grouped bars

export interface BarGroup {
  label: string;
  /** One value per series, in the series' order. */
  values: number[];
  /** Written after each bar; the value itself when absent. */
  valueLabels?: string[];
}

export interface GroupedBarChartOptions {
  id: string;
  title: string;
  description?: string;
  series: { name: string; color?: string }[];
  groups: BarGroup[];
}

/** Horizontal bars grouped per row (e.g. sent vs control per window), one colour per series, with a legend. */
export function groupedBarChart(options: GroupedBarChartOptions): string {
  const { series, groups } = options;
  const barHeight = 14;
  const gap = 3;
  const groupHeight = series.length * (barHeight + gap) + 12;
  const legendHeight = 24;
  const labelWidth = Math.min(130, Math.max(40, ...groups.map((g) => textWidth(g.label) + 10)));
  const labels = groups.map((g) => g.values.map((v, i) => g.valueLabels?.[i] ?? String(v)));
  const valueWidth = Math.min(150, Math.max(30, ...labels.flat().map((v) => textWidth(v, SMALL) + 8)));
  const plotWidth = CHART_WIDTH - labelWidth - valueWidth;
  const max = Math.max(0, ...groups.flatMap((g) => g.values.map(finite)));
  const height = legendHeight + groupHeight * Math.max(1, groups.length) + 4;
  const colors = series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length] ?? INK);
  const description = groups
    .map((g, gi) => `${g.label}: ${series.map((s, si) => `${s.name} ${labels[gi]?.[si] ?? ''}`).join(', ')}`)
    .join('; ');
  const parts = [svgOpen(options.id, options.title, `${options.description ? `${options.description} ` : ''}${description}.`, height)];
  let legendX = labelWidth;
  series.forEach((s, i) => {
    parts.push(`<rect x="${r(legendX)}" y="5" width="12" height="12" rx="2" fill="${colors[i]}"/>`);
    parts.push(text(legendX + 16, 15.5, s.name, `font-size="${SMALL}"`));
    legendX += 16 + textWidth(s.name, SMALL) + 14;
  });
  groups.forEach((group, gi) => {
    const y = legendHeight + gi * groupHeight;
    parts.push(text(labelWidth - 6, y + (series.length * (barHeight + gap)) / 2 + 4.5, fit(group.label, labelWidth - 8), 'text-anchor="end"'));
    group.values.forEach((value, si) => {
      const by = y + si * (barHeight + gap);
      const width = max === 0 ? 0 : (Math.max(0, finite(value)) / max) * plotWidth;
      const drawn = value > 0 ? Math.max(width, 1.5) : 0;
      if (drawn > 0) parts.push(`<rect x="${r(labelWidth)}" y="${r(by)}" width="${r(drawn)}" height="${barHeight}" rx="2" fill="${colors[si]}"/>`);
      parts.push(text(labelWidth + drawn + 5, by + barHeight - 3, labels[gi]?.[si] ?? '', `font-size="${SMALL}" fill="${MUTED}"`));
    });
  });
  parts.push(`<line x1="${r(labelWidth)}" y1="${legendHeight}" x2="${r(labelWidth)}" y2="${r(height - 4)}" stroke="${GRID}"/>`);
  parts.push('</svg>');
  return parts.join('');
}

// ---------------------------------------------------------------- line chart

export interface LineSeries {
  name: string;
  color?: string;
  /** One value per x label; undefined leaves a gap (a run that did not record the figure). */
  values: (number | undefined)[];
}

export interface LineChartOptions {
  id: string;
  title: string;
  description?: string;
  /** The x positions' labels (run dates), oldest first. */
  xLabels: string[];
  series: LineSeries[];
  formatValue: (value: number) => string;
  /** A dashed reference line, e.g. the repurchase warning threshold. */
  threshold?: { value: number; label: string };
  /** Force the axis to include these values (e.g. 0 and 1 for a rate). */
  yDomain?: [number, number];
}

/** "Nice" axis ticks (1, 2, 2.5, 5 x 10^n steps) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 4): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    if (max === 0) return [0, 1];
    const pad = Math.abs(max) * 0.1;
    min -= pad;
    max += pad;
  }
  const rough = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude;
  const first = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let tick = first; tick <= max + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  if ((ticks[ticks.length - 1] ?? 0) < max) ticks.push(Number((first + ticks.length * step).toPrecision(12)));
  return ticks;
}

/** Lines over run dates, with a y axis, the first and last date labelled, and each series' last value written. */
export function lineChart(options: LineChartOptions): string {
  const { xLabels, series } = options;
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const domain = [
    Math.min(...values, ...(options.yDomain ? [options.yDomain[0]] : []), ...(options.threshold ? [options.threshold.value] : [])),
    Math.max(...values, ...(options.yDomain ? [options.yDomain[1]] : []), ...(options.threshold ? [options.threshold.value] : [])),
  ] as const;
  const ticks = values.length === 0 && !options.yDomain ? [0, 1] : niceTicks(domain[0], domain[1]);
  const yMin = ticks[0] ?? 0;
  const yMax = ticks[ticks.length - 1] ?? 1;
  const tickLabels = ticks.map(options.formatValue);
  const left = Math.max(...tickLabels.map((t) => textWidth(t, SMALL))) + 10;
  const lastLabels = series.map((s) => {
    const last = [...s.values].reverse().find((v) => v !== undefined);
    return last === undefined ? '' : options.formatValue(last);
  });
  const right = Math.min(140, Math.max(16, ...series.map((s, i) => textWidth(`${lastLabels[i]}`, SMALL) + 10)));
  const legendHeight = series.length > 1 ? 22 : 4;
  const top = legendHeight + 8;
  const plotHeight = 120;
  const bottom = 22;
  const height = top + plotHeight + bottom;
  const plotWidth = CHART_WIDTH - left - right;
  const x = (i: number) => left + (xLabels.length <= 1 ? plotWidth / 2 : (i / (xLabels.length - 1)) * plotWidth);
  const y = (v: number) => top + plotHeight - ((v - yMin) / (yMax - yMin || 1)) * plotHeight;
  const colors = series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length] ?? INK);
  const first = xLabels[0] ?? '';
  const last = xLabels[xLabels.length - 1] ?? '';
  const description =
    `${options.description ? `${options.description} ` : ''}${xLabels.length} runs from ${first} to ${last}. ` +
    series.map((s, i) => `${s.name}: latest ${lastLabels[i] || 'not recorded'}`).join('; ') +
    (options.threshold ? `; ${options.threshold.label}` : '') +
    '.';
  const parts = [svgOpen(options.id, options.title, description, height)];
  if (series.length > 1) {
    let legendX = left;
    series.forEach((s, i) => {
      parts.push(`<line x1="${r(legendX)}" y1="11" x2="${r(legendX + 14)}" y2="11" stroke="${colors[i]}" stroke-width="3"/>`);
      parts.push(text(legendX + 18, 15, s.name, `font-size="${SMALL}"`));
      legendX += 18 + textWidth(s.name, SMALL) + 14;
    });
  }
  ticks.forEach((tick, i) => {
    parts.push(`<line x1="${r(left)}" y1="${r(y(tick))}" x2="${r(left + plotWidth)}" y2="${r(y(tick))}" stroke="${GRID}" stroke-width="${i === 0 ? 1 : 0.6}"/>`);
    parts.push(text(left - 5, y(tick) + 4, tickLabels[i] ?? '', `font-size="${SMALL}" fill="${MUTED}" text-anchor="end"`));
  });
  if (options.threshold) {
    const ty = y(options.threshold.value);
    parts.push(`<line x1="${r(left)}" y1="${r(ty)}" x2="${r(left + plotWidth)}" y2="${r(ty)}" stroke="#d1242f" stroke-width="1.2" stroke-dasharray="5 4"/>`);
    parts.push(text(left + 4, ty - 4, options.threshold.label, `font-size="${SMALL}" fill="#d1242f"`));
  }
  parts.push(text(left, height - 6, first, `font-size="${SMALL}" fill="${MUTED}"`));
  if (xLabels.length > 1) parts.push(text(left + plotWidth, height - 6, last, `font-size="${SMALL}" fill="${MUTED}" text-anchor="end"`));
  series.forEach((s, si) => {
    // A gap (undefined) ends one path and starts the next.
    const segments: string[][] = [[]];
    s.values.forEach((v, i) => {
      if (v === undefined || !Number.isFinite(v)) {
        if ((segments[segments.length - 1] ?? []).length > 0) segments.push([]);
        return;
      }
      segments[segments.length - 1]?.push(`${r(x(i))},${r(y(v))}`);
    });
    for (const points of segments) {
      if (points.length > 1) parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${colors[si]}" stroke-width="2.2" stroke-linejoin="round" stroke-linecap="round"/>`);
    }
    const lastIndex = s.values.map((v) => v !== undefined).lastIndexOf(true);
    const lastValue = s.values[lastIndex];
    if (lastValue !== undefined) parts.push(`<circle cx="${r(x(lastIndex))}" cy="${r(y(lastValue))}" r="3.5" fill="${colors[si]}"/>`);
  });
  // The latest values, written at the right end; pushed apart when lines end close together.
  const ends = series
    .map((s, si) => {
      const lastIndex = s.values.map((v) => v !== undefined).lastIndexOf(true);
      const value = s.values[lastIndex];
      return value === undefined ? undefined : { si, x: x(lastIndex), y: y(value) + 4 };
    })
    .filter((end): end is { si: number; x: number; y: number } => end !== undefined)
    .sort((a, b) => a.y - b.y || a.si - b.si);
  const lineGap = SMALL + 1;
  for (let i = 1; i < ends.length; i++) {
    const previous = ends[i - 1] as { y: number };
    const end = ends[i] as { y: number };
    if (end.y - previous.y < lineGap) end.y = previous.y + lineGap;
  }
  // Keep the block inside the chart: shift it up if the last label fell below the plot.
  const overflow = (ends[ends.length - 1]?.y ?? 0) - (top + plotHeight + 8);
  for (const end of ends) {
    if (overflow > 0) end.y -= overflow;
    parts.push(text(end.x + 6, end.y, lastLabels[end.si] ?? '', `font-size="${SMALL}" fill="${colors[end.si]}"`));
  }
  parts.push('</svg>');
  return parts.join('');
}

// ---------------------------------------------------------------- matrix (heat map)

export type CellTone = 'neutral' | 'positive' | 'negative' | 'info';

export interface MatrixChartOptions {
  id: string;
  title: string;
  description?: string;
  /** Axis captions, e.g. "from" and "to". */
  rowCaption: string;
  columnCaption: string;
  rowLabels: string[];
  columnLabels: string[];
  /** values[row][column] */
  values: number[][];
  /** The colour family of each cell; the shade grows with the value (neutral cells stay grey). */
  tone: (row: number, column: number) => CellTone;
  formatValue?: (value: number) => string;
}

const TONES: Record<Exclude<CellTone, 'neutral'>, [number, number, number]> = {
  positive: [0, 158, 115],
  negative: [213, 94, 0],
  info: [0, 114, 178],
};

/** A grid of counts: rows and columns labelled, each cell shaded by its value within its tone. */
export function matrixChart(options: MatrixChartOptions): string {
  const { rowLabels, columnLabels, values } = options;
  const format = options.formatValue ?? ((v: number) => String(v));
  const headerSize = 10.5;
  const rowLabelWidth = Math.min(110, Math.max(50, ...rowLabels.map((l) => textWidth(l, SMALL) + 12)));
  const captionHeight = 18;
  const headerHeight = 24;
  const cellHeight = 32;
  const cellWidth = (CHART_WIDTH - rowLabelWidth) / Math.max(1, columnLabels.length);
  const height = captionHeight + headerHeight + cellHeight * rowLabels.length + 4;
  const toned: number[] = [];
  values.forEach((row, ri) => row.forEach((v, ci) => options.tone(ri, ci) !== 'neutral' && toned.push(v)));
  const max = Math.max(0, ...toned);
  const described = rowLabels
    .map((row, ri) =>
      columnLabels
        .map((column, ci) => ({ column, value: values[ri]?.[ci] ?? 0 }))
        .filter((c) => c.value > 0)
        .map((c) => `${row} to ${c.column}: ${format(c.value)}`)
        .join(', '),
    )
    .filter((s) => s.length > 0)
    .join('; ');
  const parts = [
    svgOpen(options.id, options.title, `${options.description ? `${options.description} ` : ''}${described || 'No clients.'}`, height),
  ];
  parts.push(text(rowLabelWidth, 12, `${options.columnCaption} →`, `font-size="${SMALL}" fill="${MUTED}"`));
  parts.push(text(4, 12, `${options.rowCaption} ↓`, `font-size="${SMALL}" fill="${MUTED}"`));
  columnLabels.forEach((label, ci) => {
    parts.push(text(rowLabelWidth + (ci + 0.5) * cellWidth, captionHeight + 16, fit(label, cellWidth - 2, headerSize), `font-size="${headerSize}" font-weight="600" text-anchor="middle"`));
  });
  rowLabels.forEach((label, ri) => {
    const y = captionHeight + headerHeight + ri * cellHeight;
    parts.push(text(rowLabelWidth - 8, y + cellHeight / 2 + 4.5, fit(label, rowLabelWidth - 10, SMALL), `font-size="${SMALL}" font-weight="600" text-anchor="end"`));
    columnLabels.forEach((_, ci) => {
      const value = values[ri]?.[ci] ?? 0;
      const tone = options.tone(ri, ci);
      let fill = '#f6f8fa';
      let ink = value === 0 ? '#8c959f' : INK;
      if (tone !== 'neutral' && value > 0 && max > 0) {
        // Square root: a single mover still shows, a big flow does not wash the others out.
        const strength = 0.15 + 0.85 * Math.sqrt(value / max);
        const [red, green, blue] = TONES[tone];
        const mix = (c: number) => Math.round(255 - (255 - c) * strength);
        fill = `rgb(${mix(red)},${mix(green)},${mix(blue)})`;
        if (strength > 0.6) ink = '#ffffff';
      } else if (tone === 'neutral' && value > 0) {
        fill = '#eaeef2';
      }
      const x = rowLabelWidth + ci * cellWidth;
      parts.push(`<rect x="${r(x + 1)}" y="${r(y + 1)}" width="${r(cellWidth - 2)}" height="${cellHeight - 2}" rx="3" fill="${fill}"/>`);
      parts.push(text(x + cellWidth / 2, y + cellHeight / 2 + 4.5, format(value), `text-anchor="middle" fill="${ink}"`));
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

// ---------------------------------------------------------------- dot and interval

export interface IntervalRow {
  label: string;
  estimate: number;
  low: number;
  high: number;
  /** The interval excludes 0: drawn in the strong colour. */
  significant: boolean;
  /** Written at the right, e.g. "+2.1 pp (−0.4 to +4.6)". */
  valueLabel: string;
}

export interface DotIntervalChartOptions {
  id: string;
  title: string;
  description?: string;
  rows: IntervalRow[];
  /** Axis tick labels, e.g. percentage points. */
  formatValue: (value: number) => string;
}

/** Estimates with their intervals on one axis that always shows 0 (no effect), one row each. */
export function dotIntervalChart(options: DotIntervalChartOptions): string {
  const { rows } = options;
  const rowHeight = 34;
  const top = 8;
  const axisHeight = 22;
  const labelWidth = Math.min(150, Math.max(50, ...rows.map((row) => textWidth(row.label, SMALL) + 10)));
  const bounds = rows.flatMap((row) => [row.low, row.high, row.estimate]).filter(Number.isFinite);
  const ticks = niceTicks(Math.min(0, ...bounds), Math.max(0, ...bounds), 4);
  const min = ticks[0] ?? 0;
  const max = ticks[ticks.length - 1] ?? 1;
  // The last tick's label is centred on the plot's right end: room for its half ("+100 pp" was cut).
  const plotWidth = CHART_WIDTH - labelWidth - Math.max(12, textWidth(options.formatValue(max), SMALL) / 2 + 4);
  const x = (v: number) => labelWidth + ((Math.min(max, Math.max(min, v)) - min) / (max - min || 1)) * plotWidth;
  const height = top + rowHeight * Math.max(1, rows.length) + axisHeight;
  const plotBottom = top + rowHeight * Math.max(1, rows.length);
  const parts = [
    svgOpen(
      options.id,
      options.title,
      `${options.description ? `${options.description} ` : ''}${rows.map((row) => `${row.label}: ${row.valueLabel}${row.significant ? '' : ' (not significant)'}`).join('; ')}.`,
      height,
    ),
  ];
  ticks.forEach((tick) => {
    parts.push(`<line x1="${r(x(tick))}" y1="${top}" x2="${r(x(tick))}" y2="${r(plotBottom)}" stroke="${GRID}" stroke-width="0.6"/>`);
    parts.push(text(x(tick), plotBottom + 15, options.formatValue(tick), `font-size="${SMALL}" fill="${MUTED}" text-anchor="middle"`));
  });
  parts.push(`<line x1="${r(x(0))}" y1="${top}" x2="${r(x(0))}" y2="${r(plotBottom)}" stroke="${INK}" stroke-width="1.2"/>`);
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    const cy = y + 12;
    const color = row.significant ? PALETTE[0] : '#8c959f';
    parts.push(text(labelWidth - 8, cy + 4, fit(row.label, labelWidth - 10, SMALL), `font-size="${SMALL}" text-anchor="end"`));
    parts.push(`<line x1="${r(x(row.low))}" y1="${r(cy)}" x2="${r(x(row.high))}" y2="${r(cy)}" stroke="${color}" stroke-width="3" stroke-linecap="round"/>`);
    parts.push(`<circle cx="${r(x(row.estimate))}" cy="${r(cy)}" r="5" fill="${row.significant ? color : '#ffffff'}" stroke="${color}" stroke-width="2"/>`);
    parts.push(text(labelWidth + plotWidth, cy + 18, row.valueLabel, `font-size="${SMALL}" fill="${MUTED}" text-anchor="end"`));
  });
  parts.push('</svg>');
  return parts.join('');
}
