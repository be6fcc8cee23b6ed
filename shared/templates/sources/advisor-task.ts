import type { TemplateLocale } from '#shared/templates/locale.ts';
import { EMAIL_COLORS, htmlEmailLayout, textEmailLayout } from './common.ts';
import type { LocaleSources } from './types.ts';

/**
 * An advisor's task (issue 16, one touch): a client's personal occasion, the note drafted in the
 * advisor's name, and three one-click links. Built on the campaigns' page layout with the
 * digest's kind of footer (it goes to a member of staff: no unsubscribe link).
 *
 * Variables (templates/advisor-task.ts `AdvisorTaskView`): locale, lang, fontFamily, brandName,
 * advisorName, clientName, customerId, tier, noteSubject, noteLines[], sendAfter, doneUrl,
 * snoozeUrl, sendUrl.
 */

interface TaskCopy {
  subject: string;
  preheader: string;
  greeting: string;
  intro: string;
  noteLabel: string;
  done: string;
  snooze: string;
  send: string;
  wait: string;
  footer: string;
}

const COPY: Record<TemplateLocale, TaskCopy> = {
  en: {
    subject: `A note for {{ clientName }} in your name: yours to send`,
    preheader: `Call, write, or let us send it for you by {{ sendAfter }}.`,
    greeting: `{% if advisorName %}Dear {{ advisorName }},{% else %}Hello,{% endif %}`,
    intro: `{{ clientName }} ({{ tier }}, {{ customerId }}) is due a personal note. Here is the one we drafted in your name: reach out yourself if you can, and tell us with one click.`,
    noteLabel: `Drafted note`,
    done: `I took care of it`,
    snooze: `Snooze a week`,
    send: `Send the email for me`,
    wait: `If you do nothing by {{ sendAfter }}, the note goes out in your name.`,
    footer: `Confidential: a client's details, for your own use. Please do not forward this email.`,
  },
  'zh-CN': {
    subject: `以您的名义为{{ clientName }}准备的问候，请您定夺`,
    preheader: `请亲自联系，或在{{ sendAfter }}前让我们代您发送。`,
    greeting: `{% if advisorName %}{{ advisorName }}，您好：{% else %}您好：{% endif %}`,
    intro: `{{ clientName }}（{{ tier }}，{{ customerId }}）需要一份亲自的问候。以下是我们以您的名义起草的内容：如您方便，请亲自联系客户，并一键告诉我们。`,
    noteLabel: `草拟的问候`,
    done: `我已亲自处理`,
    snooze: `推迟一周`,
    send: `请代我发送邮件`,
    wait: `如您在{{ sendAfter }}前未作选择，这封问候将以您的名义发出。`,
    footer: `内含客户信息，仅供您本人使用，请勿转发。`,
  },
};

const c = EMAIL_COLORS;
/** A one-click link as a button: 48px tall, full width, one per line on a phone (the digest's introductions use it too). */
export const taskButton = (url: string, label: string, primary: boolean) =>
  `<a href="{{ ${url} }}" style="display:block;margin:0 0 12px 0;padding:14px 16px;border-radius:4px;text-align:center;font-size:16px;line-height:20px;text-decoration:none;${primary ? `background-color:${c.ink};color:#ffffff;` : `border:1px solid ${c.ink};color:${c.ink};`}">${label}</a>`;

function html(locale: TemplateLocale, copy: TaskCopy): string {
  return `{% layout 'task/layout/${locale}' %}{% block content %}
<p style="margin:0 0 16px 0;">${copy.greeting}</p>
<p style="margin:0 0 16px 0;">${copy.intro}</p>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;margin:0 0 20px 0;border:1px solid ${c.rule};">
<tr><td style="padding:12px 16px;background-color:${c.highlight};font-size:14px;color:${c.muted};">${copy.noteLabel}: <strong style="color:${c.ink};">{{ noteSubject }}</strong></td></tr>
<tr><td style="padding:12px 16px;font-size:15px;line-height:1.6;color:${c.body};">{% for line in noteLines %}{% if line == '' %}<br>{% else %}{{ line }}<br>{% endif %}{% endfor %}</td></tr>
</table>
${taskButton('doneUrl', copy.done, true)}
${taskButton('snoozeUrl', copy.snooze, false)}
${taskButton('sendUrl', copy.send, false)}
<p style="margin:16px 0 0 0;font-size:14px;color:${c.muted};">${copy.wait}</p>
{% endblock %}`;
}

function text(locale: TemplateLocale, copy: TaskCopy): string {
  const colon = locale === 'zh-CN' ? '：' : ': ';
  return `{% layout 'task/layout/${locale}' %}{% block content %}${copy.greeting}

${copy.intro}

${copy.noteLabel}${colon}{{ noteSubject }}
{% for line in noteLines %}> {{ line }}
{% endfor %}
${copy.done}${colon}{{ doneUrl }}
${copy.snooze}${colon}{{ snoozeUrl }}
${copy.send}${colon}{{ sendUrl }}

${copy.wait}{% endblock %}`;
}

function partials(layout: (footer: string) => string): Record<string, string> {
  return Object.fromEntries((Object.keys(COPY) as TemplateLocale[]).map((locale) => [`task/layout/${locale}`, layout(COPY[locale].footer)]));
}

export const TASK_HTML_PARTIALS = partials((footer) => htmlEmailLayout(`<p style="margin:0;">${footer}</p>`));
export const TASK_TEXT_PARTIALS = partials(textEmailLayout);

export const ADVISOR_TASK: Record<TemplateLocale, LocaleSources> = {
  en: { subject: COPY.en.subject, preheader: COPY.en.preheader, html: html('en', COPY.en), text: text('en', COPY.en) },
  'zh-CN': { subject: COPY['zh-CN'].subject, preheader: COPY['zh-CN'].preheader, html: html('zh-CN', COPY['zh-CN']), text: text('zh-CN', COPY['zh-CN']) },
};
