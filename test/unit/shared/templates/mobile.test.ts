import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { renderAdvisorDigest, type AdvisorDigestInput } from '#shared/templates/advisor-digest.ts';
import { TEMPLATE_NAMES } from '#shared/templates/catalog.ts';
import { TEMPLATE_LOCALES } from '#shared/templates/locale.ts';
import { renderEmail, type TemplateData } from '#shared/templates/render.ts';

/**
 * A screenshot-free mobile check: what makes an email readable on a phone is visible in the markup
 * (viewport meta, nothing wider than 600px, inline styles, tap targets, a visible unsubscribe link).
 */

const data: TemplateData = {
  brandName: 'Maison Lumière',
  firstName: 'Lin',
  tier: 'Potential',
  products: [{ name: 'Hydra Night Cream', runOutDate: '2026-03-14' }, { name: 'Vitamin C Serum' }],
  offer: { kind: 'coupon', couponCode: 'BACK15', discountPercent: 15 },
  unsubscribeUrl: 'https://unsubscribe.example.com/?t=abc.def',
  recommendedCategory: 'Skincare',
  shopUrl: 'https://shop.example.com/',
};

/** Every fixed pixel width in the markup: width="N" attributes and width/min-width: Npx declarations. */
function fixedWidths(html: string): number[] {
  const widths: number[] = [];
  for (const match of html.matchAll(/\bwidth\s*=\s*"?(\d+)(?:px)?"?/gi)) widths.push(Number(match[1]));
  for (const match of html.matchAll(/(?:^|[;"\s])(?:min-)?width\s*:\s*(\d+(?:\.\d+)?)px/gi)) widths.push(Number(match[1]));
  return widths;
}

function anchors(html: string): { href: string; style: string; label: string }[] {
  return [...html.matchAll(/<a\s+href="([^"]*)"\s+style="([^"]*)"[^>]*>([^<]*)<\/a>/g)].map((m) => ({
    href: m[1] ?? '',
    style: m[2] ?? '',
    label: m[3] ?? '',
  }));
}

function paddingTotal(style: string): number {
  const match = /padding:\s*(\d+)px(?:\s+(\d+)px)?/.exec(style);
  const line = /line-height:\s*(\d+)px/.exec(style);
  const vertical = match ? Number(match[1]) * 2 : 0;
  return vertical + (line ? Number(line[1]) : 16);
}

describe('mobile-friendly HTML', () => {
  for (const template of TEMPLATE_NAMES) {
    for (const locale of TEMPLATE_LOCALES) {
      it(`${template} / ${locale}`, async () => {
        const { html } = await renderEmail(template, locale, data);
        expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
        expect(html).toMatch(/^<!DOCTYPE html>/);
        // Single column capped at 600px, nothing fixed wider.
        expect(html).toContain('max-width:600px');
        const widths = fixedWidths(html);
        expect(Math.max(0, ...widths)).toBeLessThanOrEqual(600);
        expect(html).not.toMatch(/min-width\s*:\s*(?:[6-9]\d\d|\d{4,})px/);
        // Inline styles only: no style sheets a webmail client would strip.
        expect(html).not.toMatch(/<style|<link[^>]+stylesheet/i);
        // Hidden preheader right after <body>.
        expect(html).toMatch(/<body[^>]*>\n<div style="display:none;[^"]*">[^<]+<\/div>/);
        // Every link is a finger-sized target (>= 44px tall incl. padding).
        const links = anchors(html);
        expect(links.length).toBeGreaterThanOrEqual(2);
        for (const link of links) {
          expect(link.style).toContain('display:inline-block');
          expect(paddingTotal(link.style), link.label).toBeGreaterThanOrEqual(40);
        }
        // A visible unsubscribe link in the footer, after the content.
        const unsubscribe = links.find((l) => l.href === data.unsubscribeUrl);
        expect(unsubscribe?.label).toMatch(locale === 'zh-CN' ? /退订/ : /Unsubscribe/);
        expect(unsubscribe?.style).not.toMatch(/display:\s*none|font-size:\s*[0-9]px/);
        expect(html.lastIndexOf(data.unsubscribeUrl)).toBeGreaterThan(html.indexOf('Hydra Night Cream'));
        // Body text large enough to read without zooming.
        for (const size of html.matchAll(/font-size:\s*(\d+)px/g)) {
          if (Number(size[1]) !== 1) expect(Number(size[1])).toBeGreaterThanOrEqual(13);
        }
      });
    }
  }
});

describe('mobile-friendly advisor digest', () => {
  const digest: AdvisorDigestInput = {
    brandName: 'Maison Lumière',
    currency: 'USD',
    maxRows: 40,
    book: {
      advisorId: 'A01',
      runDate: '2026-11-23',
      week: { from: '2026-11-24', to: '2026-11-30' },
      introductions: [],
      clients: 1,
      withReasons: 1,
      rows: [
        {
          customerId: 'C-1',
          firstName: 'Lin',
          email: 'lin@example.com',
          tier: 'VIC',
          stage: 'active',
          reasons: [{ kind: 'birthday', action: 'birthday-gift', date: '2026-11-25' }],
          spend12mMinor: 6_000_000,
          rankValueMinor: 6_000_000,
        },
      ],
      reasonCounts: { handover: 0, 'lapsed-vic': 0, 'tier-at-risk': 0, birthday: 1, 'replenishment-due': 0, 'newly-rising': 0 },
    },
  };

  for (const locale of TEMPLATE_LOCALES) {
    it(`${locale}: the same page as the campaigns, no links (it goes to staff: nothing to unsubscribe from)`, async () => {
      const { html } = await renderAdvisorDigest(locale, digest);
      expect(html).toMatch(/^<!DOCTYPE html>/);
      expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      expect(html).toContain('max-width:600px');
      expect(Math.max(0, ...fixedWidths(html))).toBeLessThanOrEqual(600);
      expect(html).not.toMatch(/<style|<link[^>]+stylesheet/i);
      expect(html).toMatch(/<body[^>]*>\n<div style="display:none;[^"]*">[^<]+<\/div>/);
      expect(anchors(html)).toEqual([]);
      expect(html).not.toMatch(/unsubscribe|退订/i);
      for (const size of html.matchAll(/font-size:\s*(\d+)px/g)) {
        if (Number(size[1]) !== 1) expect(Number(size[1])).toBeGreaterThanOrEqual(13);
      }
    });
  }
});

describe('bundled into a Lambda', () => {
  it('renders from an esbuild bundle with no template files beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clientele-templates-bundle-'));
    try {
      const result = await build({
        // The module the campaign sender bundles (through shared/sender/compose.ts), resolved by its alias.
        entryPoints: [fileURLToPath(import.meta.resolve('#shared/templates/render.ts'))],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        write: false,
        logLevel: 'silent',
      });
      const file = join(dir, 'index.mjs');
      await writeFile(file, result.outputFiles[0]?.contents ?? new Uint8Array());
      const bundled = (await import(pathToFileURL(file).href)) as { renderEmail: typeof renderEmail };
      const email = await bundled.renderEmail('replenishment', 'zh-CN', data);
      expect(email.subject).toBe('Lin，您的Hydra Night Cream快用完了');
      expect(email.text).toContain(data.unsubscribeUrl);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
