import type { Config } from '#shared/config.ts';
import { visibleText } from '#shared/display-text.ts';
import { displayMinor } from '#shared/money.ts';
import { birthdayIn, birthdayMonth } from '#shared/time.ts';
import type { AdvisorBook, BookReason, BookReasonKind, BookRow } from '#shared/advisors/book.ts';
import { BOOK_REASONS } from '#shared/advisors/book.ts';
import type { BoughtTally, TaskTally } from '#shared/advisors/follow-through.ts';
import type { PastTasksTally } from '#shared/advisors/handover.ts';
import { categoryDisplayName } from './category-names.ts';
import type { TemplateLocale } from './locale.ts';
import { addSources, createPartsRenderer, FONT_FAMILY, formatRunOutDate, type EmailContent } from './render.ts';
import { ADVISOR_DIGEST, DIGEST_HTML_PARTIALS, DIGEST_TEXT_PARTIALS } from './sources/advisor-digest.ts';

/**
 * Renders an advisor's weekly digest from their book (shared/reports/advisor-book.ts).
 *
 * A catalog of its own rather than a fourth entry of the campaigns' catalog: the campaign renderer
 * validates campaign data (a client, a tier, an offer, a signed unsubscribe link) into the view
 * every campaign template relies on, none of which a digest to a member of staff has. The two share
 * what makes an email an email: the page layout (sources/common.ts) and the strict Liquid engines
 * with the same escaping and tidying (render.ts createPartsRenderer).
 */

export interface AdvisorDigestInput {
  brandName: string;
  /** The brand currency, for the money figures. */
  currency: string;
  advisorName?: string;
  book: AdvisorBook;
  /** The cap the book was built with, to say how many were left out. */
  maxRows: number;
  /** config.categoryNames: the digest names a client's top category, never shows its raw key. */
  categoryNames?: Config['categoryNames'];
  /** The advisor's own follow-through on their tasks of the last weeks; no line without tasks. */
  followThrough?: TaskTally;
  /** Clients who bought within `days` of the advisor's tasks, and the control group of the same campaigns and tiers; no line before a task was followed to the end. */
  bought?: { afterTasks: BoughtTally; control: BoughtTally; days: number };
}

interface ReasonView {
  kind: BookReasonKind;
  action: string;
  basis: string | null;
  date: string | null;
  days: number | null;
  /** Handover: the birthday month alone ("November" / "11月") when the export gives no day (then `date` is null). */
  month: string | null;
  /** Handover: the previous advisor (their name, else their id) and what became of the client's tasks with them. */
  from: string | null;
  pastTasks: PastTasksTally | null;
  items: { name: string | null; date: string; predicted: boolean }[];
}

/** What the digest templates see: every variable defined (null when absent), every figure formatted. */
export interface AdvisorDigestView {
  locale: TemplateLocale;
  lang: string;
  fontFamily: string;
  brandName: string;
  advisorName: string | null;
  weekLabel: string;
  rowCount: number;
  /** Clients the advisor is asked to contact: the introductions and the rows. */
  contactCount: number;
  /** Clients with a reason this week left out by the cap. */
  omitted: number;
  maxRows: number;
  /** Rows per reason, only the reasons that occur, in the book's order. */
  summary: { kind: BookReasonKind; count: number }[];
  /** The advisor's tasks of the last weeks and what became of them; null without any. */
  followThrough: TaskTally | null;
  /** Bought within `days` after the advisor's tasks, against the control group (rates as whole percents); null before any was followed. */
  bought: { followed: number; bought: number; rate: number; controlFollowed: number; controlBought: number; controlRate: number | null; days: number } | null;
  rows: RowView[];
  /** Clients handed over to the advisor: one introduction task each, with the client's history and the drafted email. */
  introductions: (RowView & { introduction: IntroductionView })[];
}

interface RowView {
  position: number;
  name: string | null;
  email: string | null;
  customerId: string;
  tier: string;
  /** The tier a rising client is predicted to reach. */
  nextTier: string | null;
  stage: string;
  reasons: ReasonView[];
  spend: string;
  predicted: string | null;
  lastOrder: string | null;
  topCategory: string | null;
}

/** An introduction task as the digest shows it (every field defined). */
interface IntroductionView {
  from: string;
  topCategories: string[];
  lastPurchases: { name: string; date: string }[];
  pastTasks: { campaignId: string; date: string; outcome: string }[];
  emailSubject: string | null;
  emailLines: string[];
  sendAfter: string | null;
  doneUrl: string | null;
  snoozeUrl: string | null;
  sendUrl: string | null;
}

/** "2026-11-16" → "16 Nov 2026" / "2026年11月16日". */
function formatDateWithYear(date: string, locale: TemplateLocale): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return date;
  const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  const intlLocale = locale === 'zh-CN' ? 'zh-CN' : 'en-GB';
  return new Intl.DateTimeFormat(intlLocale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(day);
}

/** A month, 1-12, as a person says it: "November" / "11月". */
function formatMonth(month: number, locale: TemplateLocale): string {
  const intlLocale = locale === 'zh-CN' ? 'zh-CN' : 'en-GB';
  return new Intl.DateTimeFormat(intlLocale, { month: locale === 'zh-CN' ? 'numeric' : 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2000, month - 1, 1)));
}

/** The week as a person says it: "24–30 November", "28 November – 4 December"; "11月24日至30日". */
export function formatWeek(from: string, to: string, locale: TemplateLocale): string {
  const sameMonth = from.slice(0, 7) === to.slice(0, 7);
  const toDay = String(Number(to.slice(8, 10)));
  if (locale === 'zh-CN') return sameMonth ? `${formatRunOutDate(from, locale)}至${toDay}日` : `${formatRunOutDate(from, locale)}至${formatRunOutDate(to, locale)}`;
  return sameMonth ? `${String(Number(from.slice(8, 10)))}–${formatRunOutDate(to, locale)}` : `${formatRunOutDate(from, locale)} – ${formatRunOutDate(to, locale)}`;
}

const CJK_NAME = /^[\u3400-\u9fff]+$/;

/** A Chinese name (both parts in Chinese characters) is written family name first, without a space; each part its visible text. */
export function displayName(firstName: string | undefined, lastName: string | undefined): string | null {
  const first = visibleText(firstName) ?? '';
  const last = visibleText(lastName) ?? '';
  if (CJK_NAME.test(first) && CJK_NAME.test(last)) return `${last}${first}`;
  const name = [first, last].filter((part) => part !== '').join(' ');
  return name === '' ? null : name;
}

/**
 * The body of a rendered text email without the brand line above it and the footer below the
 * signature separator: what the client would read.
 */
export function noteBody(text: string): string {
  const lines = text.split('\n');
  const end = lines.lastIndexOf('--');
  const body = (end === -1 ? lines : lines.slice(0, end)).slice(1);
  return body.join('\n').trim();
}

function reasonView(reason: BookReason, locale: TemplateLocale): ReasonView {
  const view: ReasonView = { kind: reason.kind, action: reason.action, basis: null, date: null, days: null, month: null, from: null, pastTasks: null, items: [] };
  switch (reason.kind) {
    case 'handover': {
      view.from = reason.fromName ?? reason.from;
      view.pastTasks = reason.pastTasks;
      if (reason.birthday === undefined) break;
      // Every form the exports accept: a day (YYYY-MM-DD, MM-DD) or a month only (YYYY-MM, --MM).
      const month = birthdayMonth(reason.birthday);
      const day = birthdayIn(reason.birthday, 2000);
      if (month !== undefined) view.month = formatMonth(month, locale);
      else if (day !== undefined) view.date = formatRunOutDate(day, locale);
      break;
    }
    case 'lapsed-vic':
      view.days = reason.daysSinceLastOrder ?? null;
      break;
    case 'tier-at-risk':
    case 'newly-rising':
      view.basis = reason.basis;
      break;
    case 'birthday':
      view.date = formatRunOutDate(reason.date, locale);
      break;
    case 'replenishment-due':
      view.items = reason.items.map((item) => ({
        name: item.productName ?? item.sku ?? null,
        date: formatRunOutDate(item.runOutDate, locale),
        predicted: item.predicted,
      }));
      break;
  }
  return view;
}

const NEXT_TIER: Record<string, string> = { Potential: 'Core', Core: 'VIC' };

const percent = (part: number, whole: number) => Math.round((100 * part) / whole);

function boughtView(bought: NonNullable<AdvisorDigestInput['bought']>): NonNullable<AdvisorDigestView['bought']> {
  const { afterTasks, control } = bought;
  return {
    followed: afterTasks.followed,
    bought: afterTasks.bought,
    rate: afterTasks.followed === 0 ? 0 : percent(afterTasks.bought, afterTasks.followed),
    controlFollowed: control.followed,
    controlBought: control.bought,
    controlRate: control.followed === 0 ? null : percent(control.bought, control.followed),
    days: bought.days,
  };
}

function rowView(row: BookRow, index: number, locale: TemplateLocale, input: AdvisorDigestInput): RowView {
  const category = (key: string | undefined) => (key === undefined ? undefined : categoryDisplayName(key, locale, input.categoryNames ?? {})) ?? null;
  return {
    position: index + 1,
    name: displayName(row.firstName, row.lastName),
    email: row.email ?? null,
    customerId: row.customerId,
    tier: row.tier,
    nextTier: NEXT_TIER[row.tier] ?? null,
    stage: row.stage,
    reasons: row.reasons.map((reason) => reasonView(reason, locale)),
    spend: displayMinor(row.spend12mMinor, input.currency),
    predicted: row.predicted12mMinor === undefined ? null : displayMinor(row.predicted12mMinor, input.currency),
    lastOrder: row.lastOrderDate === undefined ? null : formatDateWithYear(row.lastOrderDate, locale),
    topCategory: category(row.topCategory),
  };
}

function introductionView(row: BookRow, index: number, locale: TemplateLocale, input: AdvisorDigestInput): RowView & { introduction: IntroductionView } {
  const view = rowView(row, index, locale, input);
  const handover = row.reasons.find((reason) => reason.kind === 'handover');
  const history = handover?.history;
  const draft = handover?.introduction;
  const category = (key: string) => categoryDisplayName(key, locale, input.categoryNames ?? {}) ?? key;
  return {
    ...view,
    introduction: {
      from: handover === undefined ? '' : (handover.fromName ?? handover.from),
      topCategories: (history?.topCategories ?? []).map(category),
      lastPurchases: (history?.lastPurchases ?? []).map((p) => ({ name: p.name, date: formatDateWithYear(p.date, locale) })),
      pastTasks: (history?.pastTaskList ?? []).map((t) => ({ campaignId: t.campaignId, date: formatDateWithYear(t.date, locale), outcome: t.outcome })),
      emailSubject: draft?.email?.subject ?? null,
      emailLines: draft?.email === undefined ? [] : noteBody(draft.email.text).split('\n'),
      sendAfter: draft?.sendAfter ?? null,
      doneUrl: draft?.links.done ?? null,
      snoozeUrl: draft?.links.snooze ?? null,
      sendUrl: draft?.links.send ?? null,
    },
  };
}

export function advisorDigestView(locale: TemplateLocale, input: AdvisorDigestInput): AdvisorDigestView {
  const { book } = input;
  const advisorName = input.advisorName?.trim();
  return {
    locale,
    lang: locale === 'zh-CN' ? 'zh-CN' : 'en',
    fontFamily: FONT_FAMILY[locale],
    brandName: input.brandName,
    advisorName: advisorName ? advisorName : null,
    weekLabel: formatWeek(book.week.from, book.week.to, locale),
    rowCount: book.rows.length,
    contactCount: book.rows.length + book.introductions.length,
    omitted: book.withReasons - book.rows.length - book.introductions.length,
    maxRows: input.maxRows,
    summary: BOOK_REASONS.filter((kind) => book.reasonCounts[kind] > 0).map((kind) => ({ kind, count: book.reasonCounts[kind] })),
    followThrough: input.followThrough ?? null,
    bought: input.bought === undefined ? null : boughtView(input.bought),
    rows: book.rows.map((row, index) => rowView(row, index, locale, input)),
    introductions: book.introductions.map((row, index) => introductionView(row, index, locale, input)),
  };
}

const htmlTemplates: Record<string, string> = { ...DIGEST_HTML_PARTIALS };
const textTemplates: Record<string, string> = { ...DIGEST_TEXT_PARTIALS };
for (const [locale, sources] of Object.entries(ADVISOR_DIGEST)) addSources(htmlTemplates, textTemplates, `advisor-digest/${locale}`, sources);
const renderParts = createPartsRenderer(htmlTemplates, textTemplates);

/** The digest email (subject, HTML, text) in the advisor's language. */
export function renderAdvisorDigest(locale: TemplateLocale, input: AdvisorDigestInput): Promise<EmailContent> {
  return renderParts(`advisor-digest/${locale}`, advisorDigestView(locale, input));
}
