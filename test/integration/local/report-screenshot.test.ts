import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderNightlyReportHtml } from '#shared/reports/render-html.ts';
import { normalReport } from '#test/support/nightly-reports.ts';
import { colourVariety, cropRows, decodePng } from './png.ts';

/**
 * The nightly report as a browser draws it: headless Chromium (Debian's `chromium` package; .ci/run
 * installs it) screenshots a normal night at a phone's and a desktop's width. Skipped where the
 * machine has no Chromium. The screenshots stay in SCREENSHOTS for a person to look at.
 */

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(tmpdir(), 'clientele-report-screenshots');
const HEIGHT = 2400;
const run = promisify(execFile);

let work: string;
let page: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'clientele-report-shot-'));
  page = join(work, 'report.html');
  await writeFile(page, renderNightlyReportHtml(normalReport(), { reportObject: 's3://clientele-exports/reports/nightly/2026-11-23/report.html' }));
  await mkdir(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function screenshot(width: number): Promise<string> {
  const png = join(SCREENSHOTS, `report-${width}.png`);
  await rm(png, { force: true });
  await run(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      '--force-device-scale-factor=1',
      `--user-data-dir=${join(work, `profile-${width}`)}`,
      `--screenshot=${png}`,
      `--window-size=${width},${HEIGHT}`,
      `file://${page}`,
    ],
    { timeout: 60_000 },
  );
  return png;
}

describe.skipIf(!existsSync(CHROMIUM))('nightly report in headless Chromium', () => {
  for (const [device, width] of [
    ['phone', 390],
    ['desktop', 1280],
  ] as const) {
    it(`${device} (${width} px wide): a full-size screenshot with text and charts, not a blank page`, async () => {
      const image = decodePng(await readFile(await screenshot(width)));
      expect([image.width, image.height]).toEqual([width, HEIGHT]);
      // A blank or error page is one or two colours; the report has text, cards and coloured charts.
      const whole = colourVariety(image);
      expect(whole.distinct).toBeGreaterThan(300);
      expect(whole.dominantShare).toBeLessThan(0.9);
      // Every band of the page holds something (no half-rendered page).
      for (let top = 0; top < HEIGHT; top += 600) {
        expect(colourVariety(cropRows(image, top, 600)).distinct, `rows ${top}-${top + 600}`).toBeGreaterThan(50);
      }
      // The tier colours of the first charts are on screen: the SVG was drawn, not only the text.
      const rgb = new Set<string>();
      for (let i = 0; i < image.width * image.height; i++) {
        const o = i * image.channels;
        rgb.add(`${image.pixels[o]},${image.pixels[o + 1]},${image.pixels[o + 2]}`);
      }
      for (const colour of ['230,159,0', '0,114,178', '0,158,115']) expect(rgb.has(colour), colour).toBe(true);
    }, 90_000);
  }
});
