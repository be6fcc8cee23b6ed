import { describe, expect, it } from 'vitest';
import type { AdvisorBook, BookRow } from '#shared/advisors/book.ts';
import { displayName, formatWeek, renderAdvisorDigest, type AdvisorDigestInput } from '#shared/templates/advisor-digest.ts';

const lapsedVic: BookRow = {
  customerId: 'C-001',
  firstName: 'Lin',
  lastName: 'Wang',
  email: 'lin.wang@example.com',
  tier: 'VIC',
  stage: 'sleeping',
  reasons: [
    { kind: 'lapsed-vic', action: 'personal-call', daysSinceLastOrder: 83 },
    { kind: 'birthday', action: 'birthday-gift', date: '2026-11-26' },
  ],
  spend12mMinor: 6_000_000,
  predicted12mMinor: 5_200_000,
  rankValueMinor: 5_200_000,
  lastOrderDate: '2026-09-01',
  topCategory: 'Skincare',
};

const risingCore: BookRow = {
  customerId: 'C-002',
  firstName: '<b>Amy</b>',
  lastName: 'Chen & Co',
  email: 'amy@example.com',
  tier: 'Core',
  stage: 'new',
  reasons: [
    {
      kind: 'replenishment-due',
      action: 'set-aside',
      items: [
        { sku: 'CREAM', productName: 'Night Cream', runOutDate: '2026-11-30', predicted: false },
        { runOutDate: '2026-12-05', predicted: true },
      ],
    },
    { kind: 'newly-rising', action: 'introduce-and-invite', basis: 'first-order' },
  ],
  spend12mMinor: 900_000,
  rankValueMinor: 900_000,
};

const atRiskChinese: BookRow = {
  customerId: 'C-003',
  firstName: '美',
  lastName: '陈',
  tier: 'Core',
  stage: 'at-risk',
  reasons: [{ kind: 'tier-at-risk', action: 'personal-recommendation', basis: 'prediction' }],
  spend12mMinor: 700_000,
  predicted12mMinor: 300_000,
  rankValueMinor: 300_000,
  lastOrderDate: '2026-08-15',
};

const book: AdvisorBook = {
  advisorId: 'A01',
  runDate: '2026-11-23',
  week: { from: '2026-11-24', to: '2026-11-30' },
  introductions: [],
  clients: 12,
  withReasons: 5,
  rows: [lapsedVic, risingCore, atRiskChinese],
  reasonCounts: { handover: 0, 'lapsed-vic': 1, 'tier-at-risk': 1, birthday: 1, 'replenishment-due': 1, 'newly-rising': 1 },
};

const input: AdvisorDigestInput = { brandName: 'Maison Lumière', currency: 'USD', advisorName: 'Sophie Martin', book, maxRows: 3 };

function expectClean(value: string) {
  expect(value).not.toMatch(/undefined|\bnull\b|\[object|NaN|\{\{|\{%/);
}

describe('the advisor digest email', () => {
  it('en: the week, every client with reasons, actions and figures in the brand currency', async () => {
    const email = await renderAdvisorDigest('en', input);
    expect(email.subject).toBe('Your client book for 24–30 November: 3 clients to contact');
    const text = email.text;
    expect(text).toContain('Dear Sophie Martin,');
    expect(text).toContain('These 3 clients of your book need a personal touch this week (24–30 November), highest predicted value first. 2 more clients also have a reason this week; the list stops at 3.');
    expect(text).toContain('Lapsed VICs 1 · Tier at risk 1 · Birthdays 1 · Replenishment due 1 · Newly rising 1');
    expect(text).toContain('1. Lin Wang\n   VIC · sleeping · lin.wang@example.com · C-001\n');
    expect(text).toContain('- Lapsed VIC: no order for 83 days. Call personally, without a discount; share what is new in Skincare.');
    expect(text).toContain('- Birthday on 26 November. Call with your wishes; a full-size gift with samples.');
    expect(text).toContain('12-month spend USD 60,000.00 · predicted next 12 months USD 52,000.00 · last order 1 Sept 2026');
    expect(text).toContain('- Replenishment: Night Cream runs out around 30 November; next order expected around 5 December. Offer to set a replacement aside.');
    expect(text).toContain('- Newly rising: a new client, predicted to reach VIC. Introduce yourself and invite them to an event.');
    // No prediction, no last order: those parts are left out, not printed empty.
    expect(text).toContain('   12-month spend USD 9,000.00\n');
    expect(text).toContain('- Core tier at risk: predicted 12-month value below the Core threshold. Send a personal recommendation or an event invitation.');
    expect(text).toContain('Please do not forward this email.');
    expect(text.indexOf('Lin Wang')).toBeLessThan(text.indexOf('Amy'));
    expectClean(email.subject);
    expectClean(email.text);
    expectClean(email.html);
  });

  it('zh-CN: Chinese copy, a Chinese name family name first, dates the Chinese way', async () => {
    const email = await renderAdvisorDigest('zh-CN', { ...input, categoryNames: { Skincare: { 'zh-CN': '护肤' } } });
    expect(email.subject).toBe('您的客户名册（11月24日至30日）：3 位客户待联系');
    expect(email.html).toContain('<html lang="zh-CN">');
    expect(email.html).toContain('PingFang SC');
    expect(email.text).toContain('Sophie Martin，您好：');
    expect(email.text).toContain('3. 陈美\n   Core · 有流失风险 · C-003\n');
    // The category by its configured Chinese name; without one the action leaves it out (never the raw key).
    expect(email.text).toContain('- VIC 久未购买：已 83 天未下单。亲自致电问候，不提供折扣；分享护肤的新品。');
    const unnamed = await renderAdvisorDigest('zh-CN', input);
    expect(unnamed.text).toContain('- VIC 久未购买：已 83 天未下单。亲自致电问候，不提供折扣。');
    expect(unnamed.text).not.toContain('Skincare');
    expect(email.text).toContain('最近下单 2026年9月1日');
    expect(email.text).toContain('请勿转发');
    expectClean(email.text);
    expectClean(email.html);
  });

  it('escapes what the clients typed in the HTML, and keeps it as typed in the text', async () => {
    const email = await renderAdvisorDigest('en', input);
    expect(email.html).toContain('&lt;b&gt;Amy&lt;/b&gt; Chen &amp; Co');
    expect(email.html).not.toContain('<b>Amy</b>');
    expect(email.text).toContain('<b>Amy</b> Chen & Co');
  });

  it('shows the advisor their own follow-through on their tasks, in both languages; no line without tasks', async () => {
    const followThrough = { given: 5, done: 3, asked: 1, snoozed: 0, left: 1, open: 0, reassigned: 0 };
    const en = await renderAdvisorDigest('en', { ...input, followThrough });
    expect(en.text).toContain('Your tasks of the last 4 weeks: 5 given · 3 done yourself · 1 sent at your request · 0 snoozed · 1 sent after the wait · 0 open.');
    expect(en.html).toContain('5 given · 3 done yourself');
    const zh = await renderAdvisorDigest('zh-CN', { ...input, followThrough });
    expect(zh.text).toContain('近 4 周您的任务：共 5 项 · 亲自处理 3');
    expect((await renderAdvisorDigest('en', input)).text).not.toContain('Your tasks');
  });

  it('without an advisor name, greets plainly; without a summary, leaves the line out', async () => {
    const single: AdvisorBook = { ...book, withReasons: 1, rows: [atRiskChinese], reasonCounts: { ...book.reasonCounts, 'lapsed-vic': 0, birthday: 0, 'replenishment-due': 0, 'newly-rising': 0 } };
    const email = await renderAdvisorDigest('en', { ...input, advisorName: undefined, book: single, maxRows: 40 });
    expect(email.subject).toBe('Your client book for 24–30 November: 1 client to contact');
    expect(email.text).toContain('Hello,');
    expect(email.text).toContain('This client of your book needs a personal touch this week (24–30 November), highest predicted value first.');
    expect(email.text).not.toMatch(/also ha(s|ve) a reason/);
  });

  describe('a client handed over to the advisor', () => {
    const handedOver = (birthday?: string): BookRow => ({
      customerId: 'C-100', firstName: 'Lin', lastName: 'Wang', email: 'lin@example.com', tier: 'VIC', stage: 'active', spend12mMinor: 6_000_000, rankValueMinor: 6_000_000,
      reasons: [{ kind: 'handover', action: 'introduce-yourself', from: 'A02', fromName: 'Paul', pastTasks: { given: 0, done: 0, asked: 0, snoozed: 0, left: 0, open: 0, reassigned: 0, notSent: 0 }, ...(birthday === undefined ? {} : { birthday }) }],
    });
    const withHandover = (birthday?: string): AdvisorDigestInput => ({
      ...input,
      book: { ...book, introductions: [handedOver(birthday)], withReasons: 1, rows: [], reasonCounts: { handover: 1, 'lapsed-vic': 0, 'tier-at-risk': 0, birthday: 0, 'replenishment-due': 0, 'newly-rising': 0 } },
    });

    it('shows their birthday in every form the exports accept; a month-only birthday as its month', async () => {
      for (const birthday of ['1990-11', '--11']) {
        const en = await renderAdvisorDigest('en', withHandover(birthday));
        expect(en.text, birthday).toContain('Handed over to you from Paul; birthday in November.');
        const zh = await renderAdvisorDigest('zh-CN', withHandover(birthday));
        expect(zh.text, birthday).toContain('由Paul交接给您；生日在11月。');
      }
      for (const birthday of ['1990-11-05', '11-05']) {
        expect((await renderAdvisorDigest('en', withHandover(birthday))).text, birthday).toContain('Handed over to you from Paul; birthday 5 November.');
        expect((await renderAdvisorDigest('zh-CN', withHandover(birthday))).text, birthday).toContain('由Paul交接给您；生日 11月5日。');
      }
      expect((await renderAdvisorDigest('en', withHandover())).text).toContain('Handed over to you from Paul.');
    });

    it('lists the latest tasks with the previous advisor as they ended: a note that never went says so, in both languages', async () => {
      const pastTaskList = [
        { campaignId: 'winback', date: '2026-11-02', outcome: 'unsent' as const },
        { campaignId: 'replenishment', date: '2026-10-01', outcome: 'left' as const },
      ];
      const row = handedOver();
      const reasons = row.reasons.map((reason) => (reason.kind === 'handover' ? { ...reason, history: { topCategories: [], lastPurchases: [], pastTaskList } } : reason));
      const input = withHandover();
      const withHistory = { ...input, book: { ...input.book, introductions: [{ ...row, reasons }] } };
      expect((await renderAdvisorDigest('en', withHistory)).text).toContain('Latest tasks with Paul: win-back note of 2 Nov 2026, not sent (the client could not be emailed); replenishment of 1 Oct 2026, sent after the wait.');
      expect((await renderAdvisorDigest('zh-CN', withHistory)).text).toContain('回购问候，未发送（无法给客户发邮件）');
    });

    it('a digest of introductions only has no line counting rows ("these 0 clients"), in both languages', async () => {
      const en = await renderAdvisorDigest('en', withHandover());
      expect(en.subject).toBe('Your client book for 24–30 November: 1 client to contact');
      expect(en.text).toContain('Dear Sophie Martin,\n\nHanded over to you 1\n');
      expect(en.text).toContain('1 client was handed over to you: introduce yourself');
      for (const body of [en.text, en.html]) expect(body).not.toMatch(/\b0 clients|personal touch this week/);
      const zh = await renderAdvisorDigest('zh-CN', withHandover());
      expect(zh.text).toContain('Sophie Martin，您好：\n\n交接给您 1\n');
      for (const body of [zh.text, zh.html]) expect(body).not.toMatch(/这 0 位客户|需要您亲自关照/);
    });
  });

});

describe('displayName', () => {
  it('a Chinese name family name first; each part its visible text; no name when nothing is visible', () => {
    expect(displayName('芳', '王')).toBe('王芳');
    expect(displayName('Lin', 'Wang')).toBe('Lin Wang');
    expect(displayName('\u202ELin\u200B', '\u2060')).toBe('Lin');
    expect(displayName('\u200B', undefined)).toBeNull();
  });
});

describe('formatWeek', () => {
  it('says the week as a person would', () => {
    expect(formatWeek('2026-11-24', '2026-11-30', 'en')).toBe('24–30 November');
    expect(formatWeek('2026-11-28', '2026-12-04', 'en')).toBe('28 November – 4 December');
    expect(formatWeek('2026-12-29', '2027-01-04', 'zh-CN')).toBe('12月29日至1月4日');
    expect(formatWeek('2026-11-24', '2026-11-30', 'zh-CN')).toBe('11月24日至30日');
  });
});
