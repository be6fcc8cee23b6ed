import { describe, expect, it } from 'vitest';
import { dueOccasions, type DueOccasion } from '#shared/campaigns/due.ts';
import { parseConfig } from '#shared/config.ts';
import { sendEmailCommand } from '#shared/delivery/ses-email.ts';
import type { AdvisorRecord, ProductRecord } from '#shared/model.ts';
import { composeEmail, noteAdvisor, noteEnvelope, templateDataFor } from '#shared/sender/compose.ts';
import { categoryDisplayName } from '#shared/templates/category-names.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { HOUR, at, iso } from '#test/support/time.ts';

const winback = (recommendedCategory: string): DueOccasion => ({
  campaignId: 'winback',
  kind: 'winback',
  customerId: 'c1',
  occasionKey: 'winback#2026-01-01T00:00:00.000Z',
  triggerAt: 0,
  dueAt: 0,
  expiresAt: 1,
  keyOutlivesWindow: false,
  priority: 3,
  template: 'winback',
  details: { recommendedCategory, products: [{ sku: 'LG-1', productName: 'Card Holder' }], offer: { kind: 'none' } },
});

describe('category names in the emails', () => {
  it('the config name per locale; English falls back to the key in words; Chinese leaves it out', () => {
    const names = { 'leather-goods': { 'zh-CN': '皮具' } };
    expect(categoryDisplayName('leather-goods', 'zh-CN', names)).toBe('皮具');
    expect(categoryDisplayName('leather-goods', 'en', names)).toBe('Leather goods');
    expect(categoryDisplayName('home_fragrance', 'en', {})).toBe('Home fragrance');
    expect(categoryDisplayName('leather-goods', 'zh-CN', {})).toBeUndefined();
    expect(categoryDisplayName('leather-goods', 'en', { 'leather-goods': { en: 'Small leather goods' } })).toBe('Small leather goods');
  });

  it('a win-back never shows the raw category key, in either language', async () => {
    const zh = clientProfile({ locale: 'zh-CN', firstName: '芳' });
    const en = clientProfile({ locale: 'en' });
    const bare = parseConfig({});
    const named = parseConfig({ categoryNames: { 'leather-goods': { en: 'Leather goods', 'zh-CN': '皮具' } } });
    const render = async (profile: typeof zh, config: typeof bare) => {
      const email = await composeEmail(profile, winback('leather-goods'), [], config, 'secret');
      return `${email.subject}\n${email.html}\n${email.text}`;
    };
    for (const out of [await render(zh, bare), await render(zh, named), await render(en, bare), await render(en, named)]) expect(out).not.toContain('leather-goods');
    expect(await render(zh, named)).toContain('从您喜爱的皮具中为您精选');
    expect(await render(zh, bare)).toContain('为您精选');
    expect(await render(en, bare)).toContain('Picked for you from Leather goods');
  });
});

describe('a client whose export values the templates once refused is mailed', () => {
  const welcome: DueOccasion = { ...winback('skincare'), campaignId: 'welcome', kind: 'welcome', occasionKey: 'welcome', template: 'welcome', details: { offer: { kind: 'sample' } } };

  it('a 300-character first name (the exports keep 500): the welcome goes out, greeting as without a name', async () => {
    const email = await composeEmail(clientProfile({ firstName: 'A'.repeat(300), lastName: 'B'.repeat(300) }), welcome, [], parseConfig({}), 'secret');
    expect(email.text).toContain('Dear client');
    expect(`${email.subject}${email.text}`).not.toContain('AAAA');
  });

  it('a 300-character product name is shown shortened', async () => {
    const profile = clientProfile({ firstOrderAt: '2026-11-20T02:00:00.000Z', skus: { S1: { lastPurchasedAt: '2026-11-20T02:00:00.000Z', quantity: 1, purchases: 1, productName: 'P'.repeat(300) } } });
    const email = await composeEmail(profile, welcome, [], parseConfig({}), 'secret');
    expect(email.text).toContain(`${'P'.repeat(199)}…`);
  });

  it('a replenishment reminder for 11 products of 11 categories goes, naming every product and the first 10 categories', async () => {
    const categories = ['cleansers', 'toners', 'serums', 'eye-care', 'moisturisers', 'masks', 'suncare', 'lip-care', 'bodycare', 'hand-care', 'haircare'];
    const bought = '2026-01-02T03:04:05.000Z';
    const skus = Object.fromEntries(categories.map((category, i) => [`SKU-${i}`, { lastPurchasedAt: bought, quantity: 1, purchases: 1, productName: `Product ${i}`, category }]));
    const [first, ...companions] = categories.map(
      (category, i): DueOccasion => ({
        ...winback(category),
        campaignId: 'replenishment',
        kind: 'replenishment',
        occasionKey: `replenishment#SKU-${i}#${bought}`,
        template: 'replenishment',
        details: { sku: `SKU-${i}`, productName: `Product ${i}`, category, runOutDate: '2026-04-02', offer: { kind: 'none' } },
      }),
    );
    const profile = clientProfile({ locale: 'en', firstOrderAt: bought, lastOrderAt: bought, skus });
    const email = await composeEmail(profile, first as DueOccasion, companions, parseConfig({}), 'secret');
    expect(email.text).toContain('Product 10');
    const data = templateDataFor(profile, first as DueOccasion, companions, parseConfig({}), 'https://unsubscribe.example.com/?t=x', 'en');
    expect(data.categories?.map((c) => c.name)).toEqual(['Cleansers', 'Toners', 'Serums', 'Eye care', 'Moisturisers', 'Masks', 'Suncare', 'Lip care', 'Bodycare', 'Hand care']);
  });

  it('a bidi override or NUL and ESC in a stored name never reach the Subject SES gets', async () => {
    const config = parseConfig({ brandName: 'Maison' });
    for (const [locale, firstName] of [['zh-CN', '\u202E'], ['en', '\u202Eelif-ruoy-yfirev\u202C'], ['en', '\u200B\u2060'], ['en', 'Ann\u0000\u001b[31m']] as const) {
      const email = await composeEmail(clientProfile({ locale, firstName }), welcome, [], config, 'secret');
      const subject = sendEmailCommand({ to: 'c1@example.com', from: email.from, subject: email.subject, html: email.html, text: email.text, tags: {} }).input.Content?.Simple?.Subject?.Data ?? '';
      expect(subject).not.toMatch(/[\u0000-\u001f\u200B-\u200F\u202A-\u202E\u2060-\u2069]/);
    }
  });
});

describe('personal notes in the advisor’s name (issue 16 point 2)', () => {
  const sophie = { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@brand.example.com', locale: 'en', active: true, signature: 'Senior advisor, Rue Cambon' };
  const fang = { advisorId: 'A02', name: '王芳', email: 'wang.fang@brand.example.com', locale: 'zh-CN', active: true };
  const advisors = new Map<string, AdvisorRecord>([
    ['A01', sophie],
    ['A02', fang],
    ['A03', { advisorId: 'A03', name: 'Gone', email: 'gone@brand.example.com', active: false }],
    ['A04', { advisorId: 'A04', email: 'nameless@brand.example.com', active: true }],
  ]);
  const config = parseConfig({ brandName: 'Maison Lumière', sender: { fromAddress: 'hello@maison.example.com' } });
  const vicWinback = { ...winback('leather-goods'), details: { ...winback('leather-goods').details, offer: { kind: 'personal-note' as const } } };

  it('a VIC win-back goes out as "Advisor via Brand", replying to the advisor, signed with name and signature', async () => {
    const email = await composeEmail(clientProfile({ tier: 'VIC', advisorId: 'A01', locale: 'en' }), vicWinback, [], config, 'secret', advisors);
    expect(email.from).toBe('Sophie Martin via Maison Lumière <hello@maison.example.com>');
    expect(email.replyTo).toBe('sophie@brand.example.com');
    expect(email.text).toContain('Warm regards,\nSophie Martin\nSenior advisor, Rue Cambon\nMaison Lumière');
    // The display name as SES gets it: encoded (the brand's name is not ASCII), decoding to the same.
    const header = sendEmailCommand({ to: 'c1@example.com', from: email.from, subject: email.subject, html: email.html, text: email.text, tags: {} }).input.FromEmailAddress ?? '';
    expect(header).toMatch(/^(=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= ?)+ <hello@maison\.example\.com>$/);
    expect(decodeWords(header)).toBe('Sophie Martin via Maison Lumière');
  });

  it('a Chinese advisor name is encoded for the header and signs the zh-CN note', async () => {
    const email = await composeEmail(clientProfile({ tier: 'VIC', advisorId: 'A02', locale: 'zh-CN' }), vicWinback, [], config, 'secret', advisors);
    expect(email.from).toBe('王芳 via Maison Lumière <hello@maison.example.com>');
    expect(email.text).toContain('此致\n王芳\nMaison Lumière专属顾问');
    const header = sendEmailCommand({ to: 'c1@example.com', from: email.from, replyTo: email.replyTo ?? '', subject: email.subject, html: email.html, text: email.text, tags: {} });
    expect(decodeWords(header.input.FromEmailAddress ?? '')).toBe('王芳 via Maison Lumière');
    expect(header.input.ReplyToAddresses).toEqual(['wang.fang@brand.example.com']);
  });

  it.each([
    ['no advisor', undefined],
    ['an inactive advisor', 'A03'],
    ['an advisor without a name', 'A04'],
    ['an advisor the roster does not know', 'A99'],
  ])('a VIC with %s gets the client care team’s note from the brand, no Reply-To', async (_, advisorId) => {
    const email = await composeEmail(clientProfile({ tier: 'VIC', locale: 'en', ...(advisorId ? { advisorId } : {}) }), vicWinback, [], config, 'secret', advisors);
    expect(email.from).toBe('hello@maison.example.com');
    expect(email).not.toHaveProperty('replyTo');
    expect(email.text).toContain('The Maison Lumière client care team');
    expect(email.text).not.toMatch(/personal advisor|I wanted/);
  });

  it('a lapse’s step is composed by the tier it is judged by (DueOccasion.tier), not the tier of the hour: the preview shows what the sender sends', async () => {
    // A VIC when the win-back came due, Entry since a night during its window.
    const lapsed = clientProfile({ tier: 'Entry', advisorId: 'A01', locale: 'en' });
    const email = await composeEmail(lapsed, { ...winback('leather-goods'), tier: 'VIC' }, [], config, 'secret', advisors);
    expect(email.from).toBe('Sophie Martin via Maison Lumière <hello@maison.example.com>');
    expect((await composeEmail(lapsed, winback('leather-goods'), [], config, 'secret', advisors)).from).toBe('hello@maison.example.com');
  });

  it('only campaigns marked personal speak in the advisor’s name: the win-back by default, any other when the config says so', () => {
    const vic = clientProfile({ tier: 'VIC', advisorId: 'A01' });
    const welcome = { ...vicWinback, campaignId: 'welcome' };
    expect(noteAdvisor(vic, welcome, config, advisors)).toBeUndefined();
    const marked = parseConfig({ campaigns: { campaigns: [{ kind: 'welcome', personal: true }, { kind: 'winback', personal: false }] } });
    expect(noteAdvisor(vic, welcome, marked, advisors)).toBe(sophie);
    expect(noteAdvisor(vic, vicWinback, marked, advisors)).toBeUndefined();
    // A Core client of the win-back gets the brand's coupon email, not a note.
    expect(noteAdvisor(clientProfile({ tier: 'Core', advisorId: 'A01' }), winback('x'), config, advisors)).toBeUndefined();
  });

  it('a name that would break the header is made one plain line', () => {
    expect(noteEnvelope(config, { name: 'Eve <x@evil.example>\r\nBcc: y', email: 'eve@brand.example.com' }).from).toBe('Eve x@evil.example Bcc: y via Maison Lumière <hello@maison.example.com>');
  });

  it('an advisor name that is an encoded word ("=?UTF-8?B?...?=", which the visible-text rule lets through) reaches From encoded by us: shown as written, no bidi override', () => {
    const name = `=?UTF-8?B?${Buffer.from('\u202Emoc.lapyap Sophie', 'utf8').toString('base64')}?=`;
    // An ASCII brand name: with a non-ASCII one the whole name was always encoded.
    const envelope = noteEnvelope(parseConfig({ brandName: 'Maison', sender: { fromAddress: 'hello@maison.example.com' } }), { name, email: 'sophie@brand.example.com' });
    const from = sendEmailCommand({ to: 'c@example.com', from: envelope.from, subject: 's', html: 'h', text: 't', tags: {} }).input.FromEmailAddress ?? '';
    expect(from).not.toContain(name);
    expect(decodeWords(from)).toBe(`${name} via Maison`);
    expect(decodeWords(from)).not.toContain('\u202E');
  });
});

/** The text of RFC 2047 B-encoded words, for checking a header. */
function decodeWords(header: string): string {
  const name = header.replace(/\s*<[^<>]+>$/, '');
  return name.replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=\s*/g, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
}

describe('a welcome shows what the first order bought', () => {
  it('held by quiet hours past a second order, it lists the first order\'s products, never the later one\'s', async () => {
    const config = parseConfig({});
    const first = at('2026-11-23 21:30');
    const second = first + 10 * HOUR;
    const profile = clientProfile({
      stage: 'new',
      firstOrderAt: iso(first),
      lastOrderAt: iso(second),
      orderCount: 2,
      skus: {
        LIP: { lastPurchasedAt: iso(first), quantity: 1, purchases: 1, productName: 'Lipstick' },
        BAG: { lastPurchasedAt: iso(second), quantity: 1, purchases: 1, productName: 'Leather Tote' },
      },
    });
    const [welcome] = dueOccasions(profile, new Map(), at('2026-11-24 09:00'), { campaigns: config.campaigns, brandTimeZone: config.timeZone }).filter((o) => o.campaignId === 'welcome');
    expect(welcome).toBeDefined();
    const email = await composeEmail(profile, welcome!, [], config, 'secret');
    expect(email.text).toContain('Lipstick');
    expect(`${email.text}\n${email.html}`).not.toContain('Leather Tote');
  });

  it('at most 3 of the first order\'s SKUs (by SKU), and none for a client who has not ordered', async () => {
    const config = parseConfig({});
    const first = at('2026-11-23 21:30');
    const bought = (name: string) => ({ lastPurchasedAt: iso(first), quantity: 1, purchases: 1, productName: name });
    const profile = clientProfile({ stage: 'new', firstOrderAt: iso(first), lastOrderAt: iso(first), orderCount: 1, skus: { D: bought('Delta'), A: bought('Alpha'), C: bought('Charlie'), B: bought('Bravo') } });
    const [welcome] = dueOccasions(profile, new Map(), first + HOUR, { campaigns: config.campaigns, brandTimeZone: config.timeZone }).filter((o) => o.campaignId === 'welcome');
    const email = await composeEmail(profile, welcome!, [], config, 'secret');
    expect(['Alpha', 'Bravo', 'Charlie', 'Delta'].filter((name) => email.text.includes(name))).toEqual(['Alpha', 'Bravo', 'Charlie']);

    const prospect = clientProfile({ stage: 'new', signedUpAt: iso(first), skus: {} });
    const [prospectWelcome] = dueOccasions(prospect, new Map(), first + HOUR, { campaigns: config.campaigns, brandTimeZone: config.timeZone }).filter((o) => o.campaignId === 'welcome');
    expect(prospectWelcome).toBeDefined();
    await expect(composeEmail(prospect, prospectWelcome!, [], config, 'secret')).resolves.toBeDefined();
  });
});

describe('a product the orders export gives no name for (product_name is optional) is named from the products export', () => {
  const config = parseConfig({});
  const context = { campaigns: config.campaigns, brandTimeZone: config.timeZone };
  const catalog = new Map<string, ProductRecord>([
    ['SK-00123', { sku: 'SK-00123', name: 'Hydra Night Cream', category: 'skincare', url: 'https://shop.example.com/cream', priceMinor: 12000, currency: 'USD' }],
  ]);
  const unnamed = (bought: string) => ({ 'SK-00123': { lastPurchasedAt: bought, quantity: 1, purchases: 1, category: 'skincare' } });

  /** The campaign's occasion at `now` and its email, composed as the sender does (with the catalogue); the occasion's key as without it. */
  async function emailOf(profile: ReturnType<typeof clientProfile>, campaignId: string, now: number) {
    const occasion = dueOccasions(profile, catalog, now, context).find((o) => o.campaignId === campaignId);
    expect(occasion, campaignId).toBeDefined();
    const withoutCatalog = dueOccasions(profile, new Map(), now, context).find((o) => o.campaignId === campaignId);
    // A name found in the catalogue changes what is shown, never which occasion it is.
    expect(withoutCatalog?.occasionKey).toBe(occasion!.occasionKey);
    return composeEmail(profile, occasion!, [], config, 'secret', new Map(), { catalog });
  }

  it('welcome: "We hope you enjoy your Hydra Night Cream", with its price, never the SKU code', async () => {
    const bought = iso(at('2026-11-20 10:00'));
    const profile = clientProfile({ stage: 'new', firstOrderAt: bought, lastOrderAt: bought, orderCount: 1, skus: unnamed(bought) });
    const email = await emailOf(profile, 'welcome', at('2026-11-20 12:00'));
    expect(email.text).toContain('We hope you enjoy your Hydra Night Cream');
    expect(email.text).toContain('$120.00');
    expect(`${email.subject}\n${email.text}\n${email.html}`).not.toContain('SK-00123');
  });

  it('win-back: the top category\'s products by name', async () => {
    const bought = iso(at('2026-09-01 10:00'));
    const profile = clientProfile({ stage: 'sleeping', firstOrderAt: bought, lastOrderAt: bought, orderCount: 1, topCategory: 'skincare', skus: unnamed(bought) });
    const email = await emailOf(profile, 'winback', at('2026-11-01 12:00'));
    expect(email.text).toMatch(/^- Hydra Night Cream/m);
    expect(`${email.subject}\n${email.text}\n${email.html}`).not.toContain('SK-00123');
  });

  it('first-order-care and first-purchase-thanks: the first order\'s products by name, subject included', async () => {
    const bought = iso(at('2026-11-10 10:00'));
    const care = await emailOf(clientProfile({ stage: 'new', firstOrderAt: bought, lastOrderAt: bought, orderCount: 1, skus: unnamed(bought) }), 'first-order-care', at('2026-11-17 12:00'));
    expect(care.subject).toContain('Hydra Night Cream');
    expect(`${care.subject}\n${care.text}\n${care.html}`).not.toContain('SK-00123');

    const thanked = clientProfile({ stage: 'new', signedUpAt: iso(at('2026-11-01 10:00')), firstOrderAt: bought, lastOrderAt: bought, orderCount: 1, skus: unnamed(bought) });
    const thanks = await emailOf(thanked, 'first-purchase-thanks', at('2026-11-10 12:00'));
    expect(thanks.text).toContain('we hope you enjoy your Hydra Night Cream');
    expect(`${thanks.subject}\n${thanks.text}\n${thanks.html}`).not.toContain('SK-00123');
  });

  it('the name the orders export gives wins over the catalogue\'s', async () => {
    const bought = iso(at('2026-11-20 10:00'));
    const profile = clientProfile({ stage: 'new', firstOrderAt: bought, lastOrderAt: bought, orderCount: 1, skus: { 'SK-00123': { ...unnamed(bought)['SK-00123'], productName: 'Night Cream 50 ml' } } });
    const email = await emailOf(profile, 'welcome', at('2026-11-20 12:00'));
    expect(email.text).toContain('We hope you enjoy your Night Cream 50 ml');
    expect(email.text).not.toContain('Hydra Night Cream');
  });
});
