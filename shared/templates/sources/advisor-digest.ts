import type { TemplateLocale } from '#shared/templates/locale.ts';
import { taskButton } from './advisor-task.ts';
import { EMAIL_COLORS, htmlEmailLayout, textEmailLayout } from './common.ts';
import type { LocaleSources } from './types.ts';

/**
 * The advisor's weekly digest: the clients of their book who need a personal touch this week, one
 * card per client (name, tier, stage, email, the reasons with a suggested action each, then spend,
 * predicted value and last order). Cards stack in one column, so the digest reads on a phone as
 * well as a table would on a desk. Built on the campaigns' page layout, with its own footer: the
 * digest goes to a member of staff, so it has no unsubscribe link but asks not to be forwarded.
 *
 * Variables (see templates/advisor-digest.ts `AdvisorDigestView`): locale, lang, fontFamily,
 * brandName, advisorName, weekLabel, rowCount, contactCount, omitted, maxRows, summary[{kind, count}],
 * rows[{position, name, email, customerId, tier, nextTier, stage, reasons[{kind, action, basis,
 * date, days, month, items[{name, date, predicted}]}], spend, predicted, lastOrder, topCategory}],
 * followThrough, bought, introductions[the row's fields and introduction{from, topCategories,
 * lastPurchases, pastTasks, emailSubject, emailLines, sendAfter, doneUrl, snoozeUrl, sendUrl}].
 */

interface DigestCopy {
  subject: string;
  preheader: string;
  greeting: string;
  /** The rows' line; left out when the digest carries introductions only (their heading says it). */
  intro: string;
  footer: string;
  /** One reason's label in the summary line; `kind` is in scope. */
  label: string;
  /** A client's stage; `stage` is in scope. */
  stage: string;
  /** What the reason is; `reason` and `row` are in scope. */
  reason: string;
  /** What the advisor could do about it; `reason` and `row` are in scope. */
  action: string;
  figures: string;
  /** The advisor's follow-through on their tasks; `followThrough` is in scope (not null). */
  followThrough: string;
  /** Who bought after the advisor's tasks against the control group; `bought` is in scope (not null). */
  bought: string;
  /** The introductions' heading; `introductions` is in scope. */
  introHeading: string;
  /** An introduction task's history; `row` (with row.introduction) is in scope. */
  introHistory: string;
  /** A past task's campaign and outcome; `t` is in scope. */
  pastTask: string;
  introDraftLabel: string;
  /** The client cannot be emailed: the advisor introduces themselves in person. */
  introNoEmail: string;
  introDone: string;
  introSnooze: string;
  introSend: string;
  /** `row.introduction.sendAfter` is in scope. */
  introWait: string;
  /** Between the parts of a line ("VIC · active · ..."). */
  dot: string;
  /** Between a reason and its action in the text email: a space in English, none after a Chinese full stop. */
  then: string;
}

const COPY: Record<TemplateLocale, DigestCopy> = {
  en: {
    subject: `Your client book for {{ weekLabel }}: {{ contactCount }} client{% if contactCount != 1 %}s{% endif %} to contact`,
    preheader: `{% for s in summary %}{% include 'digest/label/en', kind: s.kind %} {{ s.count }}{% unless forloop.last %} · {% endunless %}{% endfor %}`,
    greeting: `{% if advisorName %}Dear {{ advisorName }},{% else %}Hello,{% endif %}`,
    intro: `{% if rowCount == 1 %}This client of your book needs{% else %}These {{ rowCount }} clients of your book need{% endif %} a personal touch this week ({{ weekLabel }}), highest predicted value first.{% if omitted > 0 %} {{ omitted }} more {% if omitted == 1 %}client also has{% else %}clients also have{% endif %} a reason this week; the list stops at {{ maxRows }}.{% endif %}`,
    footer: `Confidential: your clients' details, for your own use. Please do not forward this email.`,
    label: `{% case kind %}{% when 'handover' %}Handed over to you{% when 'lapsed-vic' %}Lapsed VICs{% when 'tier-at-risk' %}Tier at risk{% when 'birthday' %}Birthdays{% when 'replenishment-due' %}Replenishment due{% when 'newly-rising' %}Newly rising{% endcase %}`,
    stage: `{% case stage %}{% when 'at-risk' %}at risk{% else %}{{ stage }}{% endcase %}`,
    reason: `{% case reason.kind %}{% when 'handover' %}Handed over to you from {{ reason.from }}{% if reason.date %}; birthday {{ reason.date }}{% elsif reason.month %}; birthday in {{ reason.month }}{% endif %}{% if reason.pastTasks.given > 0 %}; with them: {{ reason.pastTasks.given }} task{% if reason.pastTasks.given != 1 %}s{% endif %}, {{ reason.pastTasks.done }} done in person, {% assign emailed = reason.pastTasks.asked | plus: reason.pastTasks.left | minus: reason.pastTasks.notSent %}{{ emailed }} note{% if emailed != 1 %}s{% endif %} sent by email{% if reason.pastTasks.notSent > 0 %}, {{ reason.pastTasks.notSent }} that could not be sent{% endif %}{% endif %}.{% when 'lapsed-vic' %}Lapsed VIC{% if reason.days %}: no order for {{ reason.days }} days{% endif %}.{% when 'tier-at-risk' %}{{ row.tier }} tier at risk: {% if reason.basis == 'stage' %}no recent order, so their 12-month spend can only fall{% else %}predicted 12-month value below the {{ row.tier }} threshold{% endif %}.{% when 'birthday' %}Birthday on {{ reason.date }}.{% when 'replenishment-due' %}Replenishment: {% for item in reason.items %}{% if item.predicted %}next order expected around {{ item.date }}{% else %}{{ item.name }} runs out around {{ item.date }}{% endif %}{% unless forloop.last %}; {% endunless %}{% endfor %}.{% when 'newly-rising' %}Newly rising: {% if reason.basis == 'upgrade' %}just moved up to {{ row.tier }}{% else %}a new client{% endif %}, predicted to reach {{ row.nextTier }}.{% endcase %}`,
    action: `{% case reason.action %}{% when 'introduce-yourself' %}Introduce yourself with a call or a personal note{% if row.topCategory %}; they favour {{ row.topCategory }}{% endif %}.{% when 'personal-call' %}Call personally, without a discount{% if row.topCategory %}; share what is new in {{ row.topCategory }}{% endif %}.{% when 'private-appointment' %}Invite them to a private appointment or preview.{% when 'personal-recommendation' %}Send a personal recommendation or an event invitation.{% when 'birthday-gift' %}Call with your wishes; a full-size gift with samples.{% when 'birthday-note' %}Send a handwritten note with a sample kit.{% when 'set-aside' %}Offer to set a replacement aside.{% when 'introduce-and-invite' %}Introduce yourself and invite them to an event.{% endcase %}`,
    followThrough: `Your tasks of the last 4 weeks: {{ followThrough.given }} given · {{ followThrough.done }} done yourself · {{ followThrough.asked }} sent at your request · {{ followThrough.snoozed }} snoozed · {{ followThrough.left }} sent after the wait · {{ followThrough.open }} open{% if followThrough.reassigned > 0 %} · {{ followThrough.reassigned }} handed over before the note went out{% endif %}.`,
    bought: `Bought within {{ bought.days }} days of your tasks: {{ bought.bought }} of {{ bought.followed }} client{% if bought.followed != 1 %}s{% endif %} ({{ bought.rate }}%); {% if bought.controlRate == null %}no comparable client held out by the control group yet{% else %}comparable clients without a task (the control group): {{ bought.controlBought }} of {{ bought.controlFollowed }} ({{ bought.controlRate }}%){% endif %}.{% if bought.followed < 30 or bought.controlFollowed < 30 %} Small numbers: read them as a hint, not a verdict.{% endif %}`,
    figures: `12-month spend {{ row.spend }}{% if row.predicted %} · predicted next 12 months {{ row.predicted }}{% endif %}{% if row.lastOrder %} · last order {{ row.lastOrder }}{% endif %}`,
    introHeading: `{% if introductions.size == 1 %}1 client was{% else %}{{ introductions.size }} clients were{% endif %} handed over to you: introduce yourself`,
    introHistory: `{% if row.introduction.topCategories.size > 0 %}Favours: {{ row.introduction.topCategories | join: ', ' }}.<br>{% endif %}{% if row.introduction.lastPurchases.size > 0 %}Last purchases: {% for p in row.introduction.lastPurchases %}{{ p.name }} ({{ p.date }}){% unless forloop.last %}; {% endunless %}{% endfor %}.<br>{% endif %}{% if row.introduction.pastTasks.size > 0 %}Latest tasks with {{ row.introduction.from }}: {% for t in row.introduction.pastTasks %}{% include 'digest/past-task/en' %}{% unless forloop.last %}; {% endunless %}{% endfor %}.{% else %}No task with {{ row.introduction.from }} on record.{% endif %}`,
    pastTask: `{% case t.campaignId %}{% when 'winback' %}win-back note{% when 'welcome' %}welcome{% when 'replenishment' %}replenishment{% when 'advisor-introduction' %}introduction{% else %}{{ t.campaignId }}{% endcase %} of {{ t.date }}, {% case t.outcome %}{% when 'done' %}done in person{% when 'asked' %}sent at their request{% when 'snoozed' %}snoozed{% when 'left' %}sent after the wait{% when 'reassigned' %}handed over before it went out{% when 'unsent' %}not sent (the client could not be emailed){% else %}still open{% endcase %}`,
    introDraftLabel: `Introduction drafted in your name`,
    introNoEmail: `We cannot email this client (no address, or no consent to email): please introduce yourself by phone or in store, then tell us with one click.`,
    introDone: `I introduced myself`,
    introSnooze: `Snooze a week`,
    introSend: `Send the introduction for me`,
    introWait: `If you do nothing by {{ row.introduction.sendAfter }}, the introduction goes out in your name.`,
    dot: ' · ',
    then: ' ',
  },
  'zh-CN': {
    subject: `您的客户名册（{{ weekLabel }}）：{{ contactCount }} 位客户待联系`,
    preheader: `{% for s in summary %}{% include 'digest/label/zh-CN', kind: s.kind %} {{ s.count }}{% unless forloop.last %} · {% endunless %}{% endfor %}`,
    greeting: `{% if advisorName %}{{ advisorName }}，您好：{% else %}您好：{% endif %}`,
    intro: `本周（{{ weekLabel }}）您名册中的这 {{ rowCount }} 位客户需要您亲自关照，按预测价值从高到低排列。{% if omitted > 0 %}另有 {{ omitted }} 位客户本周也值得关注，列表仅显示前 {{ maxRows }} 位。{% endif %}`,
    footer: `内含客户信息，仅供您本人使用，请勿转发。`,
    label: `{% case kind %}{% when 'handover' %}交接给您{% when 'lapsed-vic' %}久未购买的 VIC{% when 'tier-at-risk' %}等级有风险{% when 'birthday' %}生日{% when 'replenishment-due' %}待补货{% when 'newly-rising' %}新晋潜力{% endcase %}`,
    stage: `{% case stage %}{% when 'new' %}新客{% when 'active' %}活跃{% when 'at-risk' %}有流失风险{% when 'sleeping' %}沉睡{% when 'churned' %}已流失{% else %}{{ stage }}{% endcase %}`,
    reason: `{% case reason.kind %}{% when 'handover' %}由{{ reason.from }}交接给您{% if reason.date %}；生日 {{ reason.date }}{% elsif reason.month %}；生日在{{ reason.month }}{% endif %}{% if reason.pastTasks.given > 0 %}；此前共 {{ reason.pastTasks.given }} 项任务，亲自处理 {{ reason.pastTasks.done }} 项，邮件发送 {{ reason.pastTasks.asked | plus: reason.pastTasks.left | minus: reason.pastTasks.notSent }} 封{% if reason.pastTasks.notSent > 0 %}，未能发送 {{ reason.pastTasks.notSent }} 封{% endif %}{% endif %}。{% when 'lapsed-vic' %}VIC 久未购买{% if reason.days %}：已 {{ reason.days }} 天未下单{% endif %}。{% when 'tier-at-risk' %}{{ row.tier }} 等级有下滑风险：{% if reason.basis == 'stage' %}近期未下单，12 个月消费只会减少{% else %}预测 12 个月价值低于 {{ row.tier }} 门槛{% endif %}。{% when 'birthday' %}{{ reason.date }}生日。{% when 'replenishment-due' %}补货：{% for item in reason.items %}{% if item.predicted %}预计{{ item.date }}左右再次下单{% else %}{{ item.name }}预计{{ item.date }}左右用完{% endif %}{% unless forloop.last %}；{% endunless %}{% endfor %}。{% when 'newly-rising' %}新晋潜力客户：{% if reason.basis == 'upgrade' %}刚升级为 {{ row.tier }}{% else %}新客户{% endif %}，预计将达到 {{ row.nextTier }}。{% endcase %}`,
    action: `{% case reason.action %}{% when 'introduce-yourself' %}请亲自致电或写信自我介绍{% if row.topCategory %}；客户偏爱{{ row.topCategory }}{% endif %}。{% when 'personal-call' %}亲自致电问候，不提供折扣{% if row.topCategory %}；分享{{ row.topCategory }}的新品{% endif %}。{% when 'private-appointment' %}邀请其参加私享预约或新品预览。{% when 'personal-recommendation' %}发送个性化推荐或活动邀请。{% when 'birthday-gift' %}致电送上生日祝福，并赠送正装产品及小样。{% when 'birthday-note' %}寄送手写贺卡及小样礼盒。{% when 'set-aside' %}主动为其预留一份替换装。{% when 'introduce-and-invite' %}主动自我介绍，并邀请其参加活动。{% endcase %}`,
    followThrough: `近 4 周您的任务：共 {{ followThrough.given }} 项 · 亲自处理 {{ followThrough.done }} · 应您要求发送 {{ followThrough.asked }} · 推迟 {{ followThrough.snoozed }} · 逾期自动发送 {{ followThrough.left }} · 待处理 {{ followThrough.open }}{% if followThrough.reassigned > 0 %} · 发送前已转交 {{ followThrough.reassigned }}{% endif %}。`,
    bought: `任务后 {{ bought.days }} 天内购买：{{ bought.followed }} 位客户中 {{ bought.bought }} 位（{{ bought.rate }}%）；{% if bought.controlRate == null %}对照组中尚无可比客户{% else %}没有任务的可比客户（对照组）：{{ bought.controlFollowed }} 位中 {{ bought.controlBought }} 位（{{ bought.controlRate }}%）{% endif %}。{% if bought.followed < 30 or bought.controlFollowed < 30 %}样本较小，仅供参考。{% endif %}`,
    figures: `12 个月消费 {{ row.spend }}{% if row.predicted %} · 预测未来 12 个月 {{ row.predicted }}{% endif %}{% if row.lastOrder %} · 最近下单 {{ row.lastOrder }}{% endif %}`,
    introHeading: `{{ introductions.size }} 位客户已交接给您，请自我介绍`,
    introHistory: `{% if row.introduction.topCategories.size > 0 %}偏爱：{{ row.introduction.topCategories | join: '、' }}。<br>{% endif %}{% if row.introduction.lastPurchases.size > 0 %}最近购买：{% for p in row.introduction.lastPurchases %}{{ p.name }}（{{ p.date }}）{% unless forloop.last %}；{% endunless %}{% endfor %}。<br>{% endif %}{% if row.introduction.pastTasks.size > 0 %}此前与{{ row.introduction.from }}的最近任务：{% for t in row.introduction.pastTasks %}{% include 'digest/past-task/zh-CN' %}{% unless forloop.last %}；{% endunless %}{% endfor %}。{% else %}此前与{{ row.introduction.from }}没有任务记录。{% endif %}`,
    pastTask: `{{ t.date }}{% case t.campaignId %}{% when 'winback' %}回购问候{% when 'welcome' %}欢迎{% when 'replenishment' %}补货提醒{% when 'advisor-introduction' %}自我介绍{% else %}{{ t.campaignId }}{% endcase %}，{% case t.outcome %}{% when 'done' %}亲自处理{% when 'asked' %}应顾问要求发送{% when 'snoozed' %}已推迟{% when 'left' %}逾期自动发送{% when 'reassigned' %}发送前已转交{% when 'unsent' %}未发送（无法给客户发邮件）{% else %}待处理{% endcase %}`,
    introDraftLabel: `以您的名义起草的自我介绍`,
    introNoEmail: `我们无法给这位客户发邮件（没有邮箱或未同意接收邮件）：请通过电话或在门店自我介绍，然后一键告诉我们。`,
    introDone: `我已自我介绍`,
    introSnooze: `推迟一周`,
    introSend: `请代我发送自我介绍`,
    introWait: `如您在{{ row.introduction.sendAfter }}前未作选择，这封自我介绍将以您的名义发出。`,
    dot: ' · ',
    then: '',
  },
};

const c = EMAIL_COLORS;
const colonOf = (locale: TemplateLocale) => (locale === 'zh-CN' ? '：' : ': ');

function htmlBody(locale: TemplateLocale, copy: DigestCopy): string {
  return `{% layout 'digest/layout/${locale}' %}{% block content %}
<p style="margin:0 0 16px 0;">${copy.greeting}</p>
{% if rowCount > 0 %}<p style="margin:0 0 16px 0;">${copy.intro}</p>
{% endif %}{% if summary.size > 0 %}<p style="margin:0 0 20px 0;font-size:14px;color:${c.muted};">{% for s in summary %}{% include 'digest/label/${locale}', kind: s.kind %} {{ s.count }}{% unless forloop.last %}${copy.dot}{% endunless %}{% endfor %}</p>{% endif %}
{% if followThrough or bought %}<p style="margin:0 0 20px 0;padding:10px 12px;font-size:14px;color:${c.body};background-color:${c.highlight};">{% if followThrough %}${copy.followThrough}{% endif %}{% if followThrough and bought %}<br>{% endif %}{% if bought %}${copy.bought}{% endif %}</p>{% endif %}
{% if introductions.size > 0 %}<h2 style="margin:0 0 12px 0;font-size:18px;font-weight:normal;color:${c.ink};">${copy.introHeading}</h2>
{% for row in introductions %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;margin:0 0 20px 0;border:2px solid ${c.ink};">
<tr>
<td style="padding:12px 16px;background-color:${c.highlight};font-family:{{ fontFamily }};">
<strong style="font-size:17px;color:${c.ink};">{% if row.name %}{{ row.name }}{% else %}{{ row.customerId }}{% endif %}</strong><br>
<span style="font-size:14px;color:${c.muted};">{{ row.tier }}${copy.dot}{% include 'digest/stage/${locale}', stage: row.stage %}{% if row.email %}${copy.dot}{{ row.email }}{% endif %}${copy.dot}{{ row.customerId }}</span>
</td>
</tr>
<tr>
<td style="padding:12px 16px 2px 16px;font-family:{{ fontFamily }};font-size:15px;line-height:1.6;color:${c.body};">
{% for reason in row.reasons %}<p style="margin:0 0 10px 0;"><strong style="color:${c.ink};">{% include 'digest/reason/${locale}' %}</strong><br>{% include 'digest/action/${locale}' %}</p>
{% endfor %}<p style="margin:0 0 10px 0;">${copy.introHistory}</p>
<p style="margin:0 0 12px 0;font-size:14px;color:${c.muted};">${copy.figures}</p>
{% if row.introduction.emailSubject %}<p style="margin:0 0 4px 0;font-size:14px;color:${c.muted};">${copy.introDraftLabel}${colonOf(locale)}<strong style="color:${c.ink};">{{ row.introduction.emailSubject }}</strong></p>
<p style="margin:0 0 12px 0;padding:10px 12px;border-left:3px solid ${c.rule};font-size:14px;line-height:1.6;">{% for line in row.introduction.emailLines %}{% if line == '' %}<br>{% else %}{{ line }}<br>{% endif %}{% endfor %}</p>
{% else %}<p style="margin:0 0 12px 0;">${copy.introNoEmail}</p>
{% endif %}</td>
</tr>
{% if row.introduction.doneUrl %}<tr>
<td style="padding:0 16px 8px 16px;font-family:{{ fontFamily }};">
${taskButton('row.introduction.doneUrl', copy.introDone, true)}
${taskButton('row.introduction.snoozeUrl', copy.introSnooze, false)}
{% if row.introduction.sendUrl %}${taskButton('row.introduction.sendUrl', copy.introSend, false)}{% endif %}
{% if row.introduction.sendAfter %}<p style="margin:4px 0 8px 0;font-size:14px;color:${c.muted};">${copy.introWait}</p>{% endif %}
</td>
</tr>{% endif %}
</table>
{% endfor %}{% endif %}
{% for row in rows %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;margin:0 0 16px 0;border:1px solid ${c.rule};">
<tr>
<td style="padding:12px 16px;background-color:${c.highlight};font-family:{{ fontFamily }};">
<strong style="font-size:17px;color:${c.ink};">{{ row.position }}. {% if row.name %}{{ row.name }}{% else %}{{ row.customerId }}{% endif %}</strong><br>
<span style="font-size:14px;color:${c.muted};">{{ row.tier }}${copy.dot}{% include 'digest/stage/${locale}', stage: row.stage %}{% if row.email %}${copy.dot}{{ row.email }}{% endif %}${copy.dot}{{ row.customerId }}</span>
</td>
</tr>
<tr>
<td style="padding:12px 16px 2px 16px;font-family:{{ fontFamily }};font-size:15px;line-height:1.6;color:${c.body};">
{% for reason in row.reasons %}<p style="margin:0 0 10px 0;"><strong style="color:${c.ink};">{% include 'digest/reason/${locale}' %}</strong><br>{% include 'digest/action/${locale}' %}</p>
{% endfor %}</td>
</tr>
<tr>
<td style="padding:0 16px 12px 16px;font-family:{{ fontFamily }};font-size:14px;line-height:1.6;color:${c.muted};">${copy.figures}</td>
</tr>
</table>
{% endfor %}{% endblock %}`;
}

function textBody(locale: TemplateLocale, copy: DigestCopy): string {
  return `{% layout 'digest/layout/${locale}' %}{% block content %}${copy.greeting}

{% if rowCount > 0 %}${copy.intro}

{% endif %}{% for s in summary %}{% include 'digest/label/${locale}', kind: s.kind %} {{ s.count }}{% unless forloop.last %}${copy.dot}{% endunless %}{% endfor %}
{% if followThrough %}
${copy.followThrough}
{% endif %}{% if bought %}${copy.bought}
{% endif %}
{% if introductions.size > 0 %}
${copy.introHeading}

{% for row in introductions %}* {% if row.name %}{{ row.name }}{% else %}{{ row.customerId }}{% endif %}
   {{ row.tier }}${copy.dot}{% include 'digest/stage/${locale}', stage: row.stage %}{% if row.email %}${copy.dot}{{ row.email }}{% endif %}${copy.dot}{{ row.customerId }}
{% for reason in row.reasons %}   - {% include 'digest/reason/${locale}' %}${copy.then}{% include 'digest/action/${locale}' %}
{% endfor %}   {% include 'digest/intro-history/${locale}' %}
   ${copy.figures}
{% if row.introduction.emailSubject %}   ${copy.introDraftLabel}${colonOf(locale)}{{ row.introduction.emailSubject }}
{% for line in row.introduction.emailLines %}   > {{ line }}
{% endfor %}{% else %}   ${copy.introNoEmail}
{% endif %}{% if row.introduction.doneUrl %}   ${copy.introDone}${colonOf(locale)}{{ row.introduction.doneUrl }}
   ${copy.introSnooze}${colonOf(locale)}{{ row.introduction.snoozeUrl }}
{% if row.introduction.sendUrl %}   ${copy.introSend}${colonOf(locale)}{{ row.introduction.sendUrl }}
{% endif %}{% if row.introduction.sendAfter %}   ${copy.introWait}
{% endif %}{% endif %}
{% endfor %}{% endif %}
{% for row in rows %}{{ row.position }}. {% if row.name %}{{ row.name }}{% else %}{{ row.customerId }}{% endif %}
   {{ row.tier }}${copy.dot}{% include 'digest/stage/${locale}', stage: row.stage %}{% if row.email %}${copy.dot}{{ row.email }}{% endif %}${copy.dot}{{ row.customerId }}
{% for reason in row.reasons %}   - {% include 'digest/reason/${locale}' %}${copy.then}{% include 'digest/action/${locale}' %}
{% endfor %}   ${copy.figures}

{% endfor %}{% endblock %}`;
}

/** The layout (with the digest's footer) and the wording snippets the bodies include, per locale. */
function partials(layout: (footer: string) => string): Record<string, string> {
  const templates: Record<string, string> = {};
  for (const locale of Object.keys(COPY) as TemplateLocale[]) {
    const copy = COPY[locale];
    templates[`digest/layout/${locale}`] = layout(copy.footer);
    templates[`digest/label/${locale}`] = copy.label;
    templates[`digest/stage/${locale}`] = copy.stage;
    templates[`digest/reason/${locale}`] = copy.reason;
    templates[`digest/action/${locale}`] = copy.action;
    templates[`digest/past-task/${locale}`] = copy.pastTask;
    templates[`digest/intro-history/${locale}`] = copy.introHistory.replaceAll('<br>', '\n   ');
  }
  return templates;
}

/** Layout and snippets of the digest for the HTML engine (escaping). */
export const DIGEST_HTML_PARTIALS = partials((footer) => htmlEmailLayout(`<p style="margin:0;">${footer}</p>`));
/** The same names for the text engine. */
export const DIGEST_TEXT_PARTIALS = partials(textEmailLayout);

export const ADVISOR_DIGEST: Record<TemplateLocale, LocaleSources> = {
  en: { subject: COPY.en.subject, preheader: COPY.en.preheader, html: htmlBody('en', COPY.en), text: textBody('en', COPY.en) },
  'zh-CN': {
    subject: COPY['zh-CN'].subject,
    preheader: COPY['zh-CN'].preheader,
    html: htmlBody('zh-CN', COPY['zh-CN']),
    text: textBody('zh-CN', COPY['zh-CN']),
  },
};
