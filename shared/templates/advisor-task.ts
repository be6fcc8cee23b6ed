import { displayName, noteBody } from './advisor-digest.ts';
import type { TemplateLocale } from './locale.ts';
import { addSources, createPartsRenderer, FONT_FAMILY, type EmailContent } from './render.ts';
import { ADVISOR_TASK, TASK_HTML_PARTIALS, TASK_TEXT_PARTIALS } from './sources/advisor-task.ts';

/** Renders an advisor's task email (shared/advisors/tasks.ts) in the advisor's language. */

export interface AdvisorTaskInput {
  brandName: string;
  advisorName?: string;
  client: { customerId: string; firstName?: string; lastName?: string; tier: string };
  /** The note that would go out in the advisor's name: its subject and plain-text body. */
  note: { subject: string; text: string };
  /** When the note goes out without an answer, as the advisor reads it (a local date and time). */
  sendAfter: string;
  links: { done: string; snooze: string; send: string };
}

export interface AdvisorTaskView {
  locale: TemplateLocale;
  lang: string;
  fontFamily: string;
  brandName: string;
  advisorName: string | null;
  clientName: string;
  customerId: string;
  tier: string;
  noteSubject: string;
  noteLines: string[];
  sendAfter: string;
  doneUrl: string;
  snoozeUrl: string;
  sendUrl: string;
}

export function advisorTaskView(locale: TemplateLocale, input: AdvisorTaskInput): AdvisorTaskView {
  return {
    locale,
    lang: locale === 'zh-CN' ? 'zh-CN' : 'en',
    fontFamily: FONT_FAMILY[locale],
    brandName: input.brandName,
    advisorName: input.advisorName ?? null,
    clientName: displayName(input.client.firstName, input.client.lastName) ?? input.client.customerId,
    customerId: input.client.customerId,
    tier: input.client.tier,
    noteSubject: input.note.subject,
    noteLines: noteBody(input.note.text).split('\n'),
    sendAfter: input.sendAfter,
    doneUrl: input.links.done,
    snoozeUrl: input.links.snooze,
    sendUrl: input.links.send,
  };
}

/** When the note goes out without an answer, as the advisor reads it: date and time in the brand's zone. */
export function sendAfterLabel(instant: number, locale: string, timeZone: string): string {
  return new Intl.DateTimeFormat(locale === 'zh-CN' ? 'zh-CN' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone }).format(instant);
}

const htmlTemplates: Record<string, string> = { ...TASK_HTML_PARTIALS };
const textTemplates: Record<string, string> = { ...TASK_TEXT_PARTIALS };
for (const [locale, sources] of Object.entries(ADVISOR_TASK)) addSources(htmlTemplates, textTemplates, `advisor-task/${locale}`, sources);
const renderParts = createPartsRenderer(htmlTemplates, textTemplates);

export function renderAdvisorTask(locale: TemplateLocale, input: AdvisorTaskInput): Promise<EmailContent> {
  return renderParts(`advisor-task/${locale}`, advisorTaskView(locale, input));
}
