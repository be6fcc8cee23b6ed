import fc from 'fast-check';
import { Liquid } from 'liquidjs';
import { describe, expect, it } from 'vitest';
import { TEMPLATE_CATALOG, TEMPLATE_NAMES, type TemplateCatalog } from '#shared/templates/catalog.ts';
import { TEMPLATE_LOCALES, templateLocale } from '#shared/templates/locale.ts';
import { MAX_TEXT_CHARS } from '#shared/exports/fields.ts';
import {
  MAX_SHOWN_NAME_CHARS,
  MAX_SHOWN_TEXT_CHARS,
  TemplateError,
  createTemplateRenderer,
  formatRunOutDate,
  renderEmail,
  templateView,
  type TemplateData,
} from '#shared/templates/render.ts';

const UNSUBSCRIBE = 'https://unsubscribe.example.com/?t=Y3VzdC0x.abc_DEF-123';

const full: TemplateData = {
  brandName: 'Maison Lumière',
  firstName: 'Lin',
  lastName: 'Wang',
  tier: 'Core',
  advisor: { id: 'adv-7', name: 'Sophie Martin' },
  products: [
    { name: 'Hydra Night Cream', sku: 'SKU-CREAM', runOutDate: '2026-03-14' },
    { name: 'Vitamin C Serum', sku: 'SKU-SERUM', runOutDate: '2026-03-20' },
  ],
  offer: { kind: 'free-shipping-coupon', couponCode: 'WELCOME15', discountPercent: 15, sample: true },
  unsubscribeUrl: UNSUBSCRIBE,
  recommendedCategory: 'Skincare',
  shopUrl: 'https://shop.example.com/?utm_campaign=lifecycle&utm_source=email',
};

const minimal: TemplateData = {
  brandName: 'Maison Lumière',
  tier: 'Entry',
  products: [],
  offer: { kind: 'none' },
  unsubscribeUrl: UNSUBSCRIBE,
};

const CHINESE = /[\u4e00-\u9fff]/;
const escapeHtml = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');

/** Text a template must never leak: JavaScript placeholders and unrendered Liquid. */
function expectClean(value: string) {
  expect(value).not.toMatch(/undefined|\bnull\b|\[object|NaN|\{\{|\{%/);
}

describe('templateLocale', () => {
  it('maps any Chinese locale to zh-CN and everything else to en', () => {
    expect(templateLocale('zh-CN')).toBe('zh-CN');
    expect(templateLocale('zh')).toBe('zh-CN');
    expect(templateLocale('zh-Hans-SG')).toBe('zh-CN');
    expect(templateLocale('zh_TW')).toBe('zh-CN');
    expect(templateLocale('ZH-cn')).toBe('zh-CN');
    expect(templateLocale('en-US')).toBe('en');
    expect(templateLocale('fr-FR')).toBe('en');
    expect(templateLocale('zu')).toBe('en');
    expect(templateLocale('')).toBe('en');
    expect(templateLocale(undefined)).toBe('en');
  });
});

describe('renderEmail: every template in every locale', () => {
  for (const template of TEMPLATE_NAMES) {
    for (const locale of TEMPLATE_LOCALES) {
      describe(`${template} / ${locale}`, () => {
        it('renders with full data, personalised', async () => {
          const email = await renderEmail(template, locale, full);
          for (const part of [email.subject, email.html, email.text]) expectClean(part);
          expect(email.subject.length).toBeGreaterThan(5);
          expect(email.subject).not.toMatch(/\n/);
          expect(email.html).toContain('Maison Lumière');
          expect(email.html).toContain('Lin');
          expect(email.text).toContain('Lin');
          expect(email.html).toContain('Hydra Night Cream');
          expect(email.text).toContain('Hydra Night Cream');
          expect(email.html).toContain('WELCOME15');
          expect(email.text).toContain('WELCOME15');
          expect(email.text).toContain('15%');
          expect(email.html).toContain(escapeHtml(full.shopUrl ?? ''));
          expect(email.text).toContain(full.shopUrl);
          expect(email.html).toContain(escapeHtml(UNSUBSCRIBE));
          expect(email.text).toContain(UNSUBSCRIBE);
          if (locale === 'zh-CN') {
            expect(email.subject).toMatch(CHINESE);
            expect(email.html).toContain('亲爱的Lin');
            expect(email.html).toContain('lang="zh-CN"');
          } else {
            expect(email.subject).not.toMatch(CHINESE);
            expect(email.text).not.toMatch(CHINESE);
            expect(email.html).toContain('Dear Lin,');
            expect(email.html).toContain('lang="en"');
          }
        });

        it('renders with minimal data, with the fallback greeting', async () => {
          const email = await renderEmail(template, locale, minimal);
          for (const part of [email.subject, email.html, email.text]) expectClean(part);
          expect(email.subject.length).toBeGreaterThan(3);
          const greeting = locale === 'zh-CN' ? '尊敬的顾客' : 'Dear client';
          expect(email.html).toContain(greeting);
          expect(email.text).toContain(greeting);
          expect(email.html).toContain(escapeHtml(UNSUBSCRIBE));
          expect(email.text).toContain(UNSUBSCRIBE);
          // No offer, no button: nothing promised that the data does not hold.
          expect(email.text).not.toMatch(/%|WELCOME15|优惠码|code/i);
          expect(email.html).not.toMatch(/WELCOME15|优惠码|Code:/);
          expect(email.html).not.toContain('shop.example.com');
          if (locale === 'zh-CN') expect(email.subject).toMatch(CHINESE);
        });

        it('a VIC gets a personal note signed by the advisor and no discount', async () => {
          const email = await renderEmail(template, locale, { ...full, tier: 'VIC' });
          for (const part of [email.subject, email.html, email.text]) expectClean(part);
          expect(email.html).toContain('Sophie Martin');
          expect(email.text).toContain('Sophie Martin');
          for (const part of [email.subject, email.html, email.text]) {
            expect(part).not.toContain('WELCOME15');
            expect(part).not.toContain('15%');
          }
          expect(email.text).toMatch(locale === 'zh-CN' ? /此致\nSophie Martin\n/ : /Warm regards,\nSophie Martin\n/);
        });

        it('a VIC without an advisor gets the client care team’s note: no advisor promised, nobody speaking as one', async () => {
          const { advisor: _advisor, ...noAdvisor } = full;
          const email = await renderEmail(template, locale, { ...noAdvisor, tier: 'VIC' });
          for (const part of [email.subject, email.html, email.text]) {
            expectClean(part);
            expect(part).not.toMatch(/personal advisor|专属顾问|I am|I will|I noticed|I wanted|我是|我会|我留意|让我(?!们)/);
            expect(part).not.toContain('15%');
          }
          expect(email.text).toMatch(locale === 'zh-CN' ? /此致\nMaison Lumière客户关怀团队/ : /Warm regards,\nThe Maison Lumière client care team/);
        });
      });
    }
  }

  it('replenishment names the product running out and its run-out date', async () => {
    const en = await renderEmail('replenishment', 'en', full);
    expect(en.subject).toBe('Time to restock your Hydra Night Cream, Lin');
    expect(en.text).toContain('Your Hydra Night Cream is likely to run out around 14 March.');
    expect(en.text).toContain('- Vitamin C Serum (runs out around 20 March)');
    const zh = await renderEmail('replenishment', 'zh-CN', full);
    expect(zh.subject).toBe('Lin，您的Hydra Night Cream快用完了');
    expect(zh.text).toContain('预计在3月14日左右用完');
  });

  it('win-back carries the welcome-back gift and picks from the top category', async () => {
    const en = await renderEmail('winback', 'en', { ...full, products: [{ name: 'Summer Sun Set' }] });
    expect(en.text).toContain('Free shipping and 15% off your next order with the code WELCOME15.');
    expect(en.text).toContain('Picked for you from Skincare:');
    expect(en.text).toContain('- Summer Sun Set');
    const zh = await renderEmail('winback', 'zh-CN', { ...full, products: [{ name: '夏日防晒套装' }] });
    expect(zh.text).toContain('下次订单免运费，并享 15% 优惠，优惠码：WELCOME15。');
    expect(zh.text).toContain('从您喜爱的Skincare中为您精选：');
  });

  it('a personal-note offer is signed by the advisor even below VIC, with their signature line; without an advisor, by the client care team', async () => {
    const signed = await renderEmail('welcome', 'en', { ...full, offer: { kind: 'personal-note' }, advisor: { id: 'adv-7', name: 'Sophie Martin', signature: 'Senior advisor, Rue Cambon' } });
    expect(signed.text).toContain('Warm regards,\nSophie Martin\nSenior advisor, Rue Cambon\nMaison Lumière');
    expect(signed.text).toContain('I am Sophie Martin, and I will be your personal advisor.');
    expect(signed.text).not.toContain('WELCOME15');
    const { advisor: _advisor, ...noAdvisor } = full;
    const team = await renderEmail('welcome', 'zh-CN', { ...noAdvisor, offer: { kind: 'personal-note' } });
    expect(team.text).toContain('我们的客户关怀团队随时为您服务');
    expect(team.text).not.toContain('专属顾问');
  });

  it('a sample offer is described without a coupon', async () => {
    const email = await renderEmail('replenishment', 'en', { ...minimal, offer: { kind: 'sample' } });
    expect(email.text).toContain('A sample of something new');
    expect(email.text).not.toMatch(/code/i);
  });
});

describe('escaping', () => {
  const hostile = ['<script>alert(1)</script>', '"Tom & Jerry"', `O'Brien <b>`];

  for (const locale of TEMPLATE_LOCALES) {
    for (const name of hostile) {
      it(`escapes ${JSON.stringify(name)} in HTML (${locale}), keeps it raw in text`, async () => {
        for (const template of TEMPLATE_NAMES) {
          const email = await renderEmail(template, locale, {
            ...full,
            firstName: name,
            brandName: `Brand ${name}`,
            products: [{ name: `Cream ${name}` }],
            recommendedCategory: `Cat ${name}`,
          });
          expect(email.html).not.toContain(name);
          expect(email.html).not.toContain('<script>');
          expect(email.html).not.toContain('<b>');
          expect(email.html).toContain(escapeHtml(name));
          // Never escaped twice.
          expect(email.html).not.toContain('&amp;amp;');
          expect(email.html).not.toContain('&amp;lt;');
          expect(email.text).toContain(name);
        }
      });
    }
  }

  it('keeps header injection out of the subject', async () => {
    const email = await renderEmail('welcome', 'en', { ...full, firstName: 'Lin\r\nBcc: victim@example.com' });
    expect(email.subject).not.toMatch(/[\r\n]/);
  });

  it('refuses non-http(s) links, which escaping alone would not make safe', async () => {
    await expect(renderEmail('welcome', 'en', { ...full, unsubscribeUrl: 'javascript:alert(1)' })).rejects.toThrow(
      /unsubscribeUrl: must be an http\(s\) URL/,
    );
    await expect(renderEmail('welcome', 'en', { ...full, shopUrl: 'data:text/html,hi' })).rejects.toThrow(/shopUrl/);
  });

  it('refuses a coupon code that is not a plain code', async () => {
    await expect(
      renderEmail('welcome', 'en', { ...full, offer: { kind: 'coupon', couponCode: 'A B<script>' } }),
    ).rejects.toThrow(/offer.couponCode/);
  });
});

describe('whatever the exports keep makes a mailable email', () => {
  const greeting = { en: 'Dear client', 'zh-CN': '尊敬的顾客' } as const;
  const all = async (data: TemplateData, check: (email: { subject: string; html: string; text: string }, locale: 'en' | 'zh-CN') => void) => {
    for (const template of TEMPLATE_NAMES) for (const locale of TEMPLATE_LOCALES) check(await renderEmail(template, locale, data), locale);
  };

  it(`a name longer than ${MAX_SHOWN_NAME_CHARS} characters (the exports keep ${MAX_TEXT_CHARS}) is no name: the email greets as without one`, async () => {
    const junk = 'x'.repeat(MAX_TEXT_CHARS);
    await all({ ...full, firstName: junk, lastName: junk }, (email, locale) => {
      expect(`${email.subject}${email.html}${email.text}`).not.toContain('xxxx');
      expect(email.text).toContain(greeting[locale]);
    });
    const longest = 'L'.repeat(MAX_SHOWN_NAME_CHARS);
    expect(templateView('en', { ...full, firstName: longest }).firstName).toBe(longest);
    expect(templateView('en', { ...full, firstName: `${longest}L` }).firstName).toBeNull();
  });

  it(`product names, categories and seasons longer than ${MAX_SHOWN_TEXT_CHARS} characters are shortened, with an ellipsis`, async () => {
    const view = templateView('en', {
      ...full,
      products: [{ name: 'P'.repeat(MAX_TEXT_CHARS), sku: 'SKU-1' }, { name: `${'Q'.repeat(MAX_SHOWN_TEXT_CHARS - 2)}😀😀` }],
      recommendedCategory: 'C'.repeat(MAX_TEXT_CHARS),
      favouriteCategory: 'F'.repeat(MAX_TEXT_CHARS),
      seasonName: 'S'.repeat(MAX_TEXT_CHARS),
      categories: [{ name: 'K'.repeat(MAX_TEXT_CHARS) }],
    });
    expect(view.products.map((p) => p.name)).toEqual([`${'P'.repeat(MAX_SHOWN_TEXT_CHARS - 1)}…`, `${'Q'.repeat(MAX_SHOWN_TEXT_CHARS - 2)}…`]);
    for (const shown of [view.recommendedCategory, view.favouriteCategory, view.seasonName, view.categories[0]?.name]) {
      expect(shown).toHaveLength(MAX_SHOWN_TEXT_CHARS);
      expect(shown?.endsWith('…')).toBe(true);
    }
    await all({ ...full, products: [{ name: 'P'.repeat(MAX_TEXT_CHARS) }], recommendedCategory: 'C'.repeat(MAX_TEXT_CHARS) }, (email) => {
      expect(email.html).not.toContain('P'.repeat(MAX_SHOWN_TEXT_CHARS));
    });
  });

  it('control, bidi and zero-width characters never reach the subject or the greeting; a name of nothing else is no name', async () => {
    for (const firstName of ['\u202E', '\u200B\u2060', ' \uFEFF ']) {
      await all({ ...full, firstName }, (email, locale) => {
        expect(email.subject).toBe(email.subject.trim());
        expect(email.text).toContain(greeting[locale]);
        expect(`${email.subject}${email.html}${email.text}`).not.toMatch(/[\u200B\u202E\u2060\uFEFF]/);
      });
    }
    const zh = await renderEmail('welcome', 'zh-CN', { ...full, firstName: '\u202E' });
    expect(zh.subject).toBe((await renderEmail('welcome', 'zh-CN', { ...full, firstName: undefined })).subject);
    const ansi = await renderEmail('welcome', 'en', { ...full, firstName: 'Ann\u0000\u001b[31m' });
    expect(ansi.subject).toBe('Welcome to Maison Lumière, Ann[31m');
  });

  it('a product without a visible name is shown by its SKU, or not at all', () => {
    const view = templateView('en', { ...full, products: [{ name: '\u200B', sku: 'SKU-CREAM' }, { name: ' ' }] });
    expect(view.products.map((p) => p.name)).toEqual(['SKU-CREAM']);
  });

  it('property: any names and product names render, with no control, bidi or zero-width character in the subject', async () => {
    const text = fc.string({ unit: 'binary', maxLength: MAX_TEXT_CHARS });
    await fc.assert(
      fc.asyncProperty(text, text, text, fc.constantFrom(...TEMPLATE_LOCALES), async (firstName, lastName, productName, locale) => {
        const email = await renderEmail('replenishment', locale, { ...full, firstName, lastName, products: [{ name: productName, sku: 'SKU-1' }] });
        expect(email.subject).not.toMatch(/[\p{Cc}\p{Cs}\u200B\u200C\u200E\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/u);
      }),
      { numRuns: 300 },
    );
  });
});

describe('failures', () => {
  it('an unknown template fails clearly', async () => {
    await expect(renderEmail('anniversary', 'en', full)).rejects.toThrow(TemplateError);
    await expect(renderEmail('anniversary', 'en', full)).rejects.toThrow(
      'Unknown template "anniversary"; known templates: welcome, replenishment, winback',
    );
    // Object prototype keys are not templates.
    await expect(renderEmail('constructor', 'en', full)).rejects.toThrow(/Unknown template "constructor"/);
  });

  it('an unknown locale fails clearly', async () => {
    const locale = 'fr' as unknown as 'en';
    await expect(renderEmail('welcome', locale, full)).rejects.toThrow('Template "welcome" has no locale "fr"; available: en, zh-CN');
  });

  it('strict variables turn a typo in a template into an error', async () => {
    const welcome = TEMPLATE_CATALOG.campaigns.welcome?.en;
    if (!welcome) throw new Error('welcome/en missing');
    const typo: TemplateCatalog = {
      ...TEMPLATE_CATALOG,
      campaigns: { ...TEMPLATE_CATALOG.campaigns, welcome: { en: { ...welcome, html: welcome.html.replaceAll('{{ brandName }}', '{{ brandNmae }}') } } },
    };
    const render = createTemplateRenderer(typo);
    await expect(render('welcome', 'en', full)).rejects.toThrow(TemplateError);
    await expect(render('welcome', 'en', full)).rejects.toThrow(/campaign\/welcome\/en\/html \(html\).*undefined variable: brandNmae/);
  });

  it('strict variables also catch a typo in a subject and an unknown filter', async () => {
    const welcome = TEMPLATE_CATALOG.campaigns.welcome?.en;
    if (!welcome) throw new Error('welcome/en missing');
    const render = createTemplateRenderer({
      ...TEMPLATE_CATALOG,
      campaigns: { welcome: { en: { ...welcome, subject: 'Hi {{ frist_name }}' } }, replenishment: { en: { ...welcome, subject: '{{ brandName | shout }}' } } },
    });
    await expect(render('welcome', 'en', full)).rejects.toThrow(/undefined variable: frist_name/);
    await expect(render('replenishment', 'en', full)).rejects.toThrow(/undefined filter: shout/);
  });

  it('no template reads a variable the view does not define, even in branches the tests do not render', () => {
    const known = new Set([...Object.keys(templateView('en', full)), 'subject', 'preheader']);
    for (const [campaign, locales] of Object.entries(TEMPLATE_CATALOG.campaigns)) {
      for (const [locale, sources] of Object.entries(locales)) {
        if (!sources) continue;
        const engines = [
          [new Liquid({ templates: { ...TEMPLATE_CATALOG.htmlPartials, main: sources.html } }), 'html'],
          [new Liquid({ templates: { ...TEMPLATE_CATALOG.textPartials, main: sources.text } }), 'text'],
        ] as const;
        for (const [engine, part] of engines) {
          const used = engine.globalVariablesSync(engine.parseFileSync('main'), { partials: true });
          expect(used.filter((name) => !known.has(name)), `${campaign}/${locale}/${part}`).toEqual([]);
        }
        const text = new Liquid();
        for (const part of ['subject', 'preheader'] as const) {
          const used = text.globalVariablesSync(sources[part]);
          expect(used.filter((name) => !known.has(name)), `${campaign}/${locale}/${part}`).toEqual([]);
        }
      }
    }
  });

  it('rejects data that breaks the contract', async () => {
    await expect(renderEmail('welcome', 'en', { ...full, brandName: ' ' })).rejects.toThrow(/brandName/);
    await expect(renderEmail('welcome', 'en', { ...full, offer: { kind: 'coupon', discountPercent: 150 } })).rejects.toThrow(
      /offer.discountPercent/,
    );
  });
});

describe('formatRunOutDate', () => {
  it('formats a date (or an instant’s date) per locale and leaves anything else alone', () => {
    expect(formatRunOutDate('2026-03-14', 'en')).toBe('14 March');
    expect(formatRunOutDate('2026-03-14', 'zh-CN')).toBe('3月14日');
    expect(formatRunOutDate('2026-12-01T08:00:00.000Z', 'en')).toBe('1 December');
    expect(formatRunOutDate('next week', 'en')).toBe('next week');
  });
});
