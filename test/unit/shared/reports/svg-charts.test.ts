import { describe, expect, it } from 'vitest';
import {
  CHART_WIDTH,
  dotIntervalChart,
  escapeXml,
  groupedBarChart,
  horizontalBarChart,
  lineChart,
  matrixChart,
  niceTicks,
} from '#shared/reports/svg-charts.ts';
import { wellFormedProblems } from './markup.ts';

const hostile = '<script>alert("x")</script> & Co\'s';

const charts = {
  bars: () =>
    horizontalBarChart({
      id: 'bars',
      title: `Clients ${hostile}`,
      bars: [
        { label: 'VIC', value: 2, valueLabel: '2 · 0.1%' },
        { label: hostile, value: 1200 },
        { label: 'Zero', value: 0 },
      ],
    }),
  grouped: () =>
    groupedBarChart({
      id: 'grouped',
      title: 'Sent vs control',
      series: [{ name: 'sent' }, { name: hostile }],
      groups: [
        { label: '7 days', values: [0.21, 0.09], valueLabels: ['21%', '9%'] },
        { label: '30 days', values: [0.34, 0.2] },
      ],
    }),
  line: () =>
    lineChart({
      id: 'line',
      title: 'Repurchase rate',
      xLabels: ['2026-11-21', '2026-11-22', '2026-11-23'],
      series: [
        { name: 'rate', values: [0.31, undefined, 0.28] },
        { name: hostile, values: [0.2, 0.21, 0.22] },
      ],
      formatValue: (v) => `${Math.round(v * 100)}%`,
      threshold: { value: 0.3, label: 'warning below 30%' },
    }),
  matrix: () =>
    matrixChart({
      id: 'matrix',
      title: 'Migration',
      rowCaption: 'from',
      columnCaption: 'to',
      rowLabels: ['new', 'VIC', 'Core'],
      columnLabels: ['VIC', 'Core'],
      values: [
        [1, 4],
        [10, 2],
        [3, 70],
      ],
      tone: (row, column) => (row === 0 ? 'info' : row - 1 === column ? 'neutral' : row - 1 < column ? 'negative' : 'positive'),
    }),
  interval: () =>
    dotIntervalChart({
      id: 'interval',
      title: 'Uplift',
      rows: [
        { label: '7 days', estimate: 0.12, low: 0.05, high: 0.18, significant: true, valueLabel: '+12 pp' },
        { label: hostile, estimate: 0.01, low: -0.05, high: 0.08, significant: false, valueLabel: '+1 pp' },
      ],
      formatValue: (v) => `${Math.round(v * 100)}`,
    }),
};

describe('svg charts', () => {
  for (const [name, draw] of Object.entries(charts)) {
    it(`${name}: well-formed, scalable, accessible, deterministic, escaped`, () => {
      const svg = draw();
      expect(wellFormedProblems(svg)).toEqual([]);
      // Scales with its container: a viewBox, a relative width, no fixed pixel height.
      expect(svg).toMatch(new RegExp(`^<svg [^>]*viewBox="0 0 ${CHART_WIDTH} [\\d.]+" width="100%"`));
      expect(svg).not.toMatch(/<svg[^>]* height=/);
      expect(svg).toMatch(/role="img" aria-labelledby="[\w-]+-title [\w-]+-desc"/);
      expect(svg).toMatch(/<title id="[\w-]+-title">[^<]+<\/title><desc id="[\w-]+-desc">[^<]+<\/desc>/);
      // Nothing to load or run.
      expect(svg).not.toMatch(/<script|href=|url\(|@import|<image/i);
      expect(draw()).toBe(svg);
      if (svg.includes('Co&#39;s')) expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;s');
      // Coordinates are rounded (deterministic, compact).
      expect(svg).not.toMatch(/="\d+\.\d{2,}"/);
    });
  }

  it('bars: the longest bar fills the plot, the others in proportion, a zero draws nothing', () => {
    const svg = horizontalBarChart({ id: 'b', title: 't', bars: [{ label: 'a', value: 100 }, { label: 'b', value: 50 }, { label: 'c', value: 0 }] });
    const widths = [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(2);
    expect((widths[1] ?? 0) / (widths[0] ?? 1)).toBeCloseTo(0.5, 2);
    expect(svg).toContain('>0</text>');
  });

  it('bars: every value is also written as text (and in the description)', () => {
    const svg = charts.bars();
    expect(svg).toContain('>2 · 0.1%</text>');
    expect(svg).toMatch(/<desc[^>]*>[^<]*VIC: 2 · 0.1%/);
  });

  it('line: a missing value splits the line; the threshold is drawn dashed with its label', () => {
    const svg = charts.line();
    // The first series has two points separated by a gap: no polyline (each segment has one point).
    expect(svg.match(/<polyline/g)?.length).toBe(1);
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('warning below 30%');
  });

  it('line: one run or no values still draws an axis without NaN', () => {
    const one = lineChart({ id: 'one', title: 't', xLabels: ['2026-11-23'], series: [{ name: 's', values: [5] }], formatValue: String });
    const none = lineChart({ id: 'none', title: 't', xLabels: ['2026-11-23'], series: [{ name: 's', values: [undefined] }], formatValue: String });
    for (const svg of [one, none]) {
      expect(svg).not.toMatch(/NaN|Infinity/);
      expect(wellFormedProblems(svg)).toEqual([]);
    }
  });

  it('matrix: every cell value is written; neutral cells stay grey, toned ones get a shade', () => {
    const svg = charts.matrix();
    for (const value of ['1', '4', '10', '2', '3', '70']) expect(svg).toContain(`>${value}</text>`);
    expect(svg).toContain('fill="#eaeef2"');
    expect(svg).toMatch(/fill="rgb\(\d+,\d+,\d+\)"/);
  });

  it('dot and interval: the axis always includes 0; a non-significant estimate is a hollow dot', () => {
    const svg = charts.interval();
    expect(svg).toContain('>0</text>');
    expect(svg).toMatch(/<circle [^>]*fill="#ffffff"/);
    expect(svg).toContain('(not significant)');
  });

  it('niceTicks covers the range with round steps', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(niceTicks(0, 1222)).toEqual([0, 500, 1000, 1500]);
    expect(niceTicks(-0.05, 0.18)).toEqual([-0.1, 0, 0.1, 0.2]);
    expect(niceTicks(0, 0)).toEqual([0, 1]);
    expect(niceTicks(7, 7)[0]).toBeLessThan(7);
  });

  it('escapeXml escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
