import type { LocaleSources } from './types.ts';

/**
 * Seasonal reminder (the built-in play `seasonal`), 7 days before a season of the brand's calendar
 * starts, to a client who bought in it last year: what they chose then (last season's products,
 * with picture, price and link), and the new season's date. A personal version is the advisor
 * offering to set new pieces aside or arrange a preview (VIC: no discount). Without a season name
 * for the locale the Chinese email says "the new season" (no raw key).
 */

const p = 'margin:0 0 16px 0;';

export const SEASONAL: Record<'en' | 'zh-CN', LocaleSources> = {
  en: {
    subject: `{% if firstName %}{{ firstName }}, {% endif %}{% if seasonName %}{{ seasonName }} is almost here{% else %}{% if firstName %}the{% else %}The{% endif %} new season is almost here{% endif %}`,
    preheader: `{% if personal %}{% if fromAdvisor %}A note from {{ advisorName }}, your advisor at {{ brandName }}.{% else %}A note from the {{ brandName }} client care team.{% endif %}{% else %}The new collection arrives{% if seasonStartDate %} on {{ seasonStartDate }}{% endif %}: a first look, from what you chose last year.{% endif %}`,
    html: `{% layout 'layout/en' %}{% block content %}
{% include 'greeting/en' %}
{% if personal %}<p style="${p}">The new {% if seasonName %}{{ seasonName }} {% endif %}collection arrives{% if seasonStartDate %} on {{ seasonStartDate }}{% else %} next week{% endif %}, and {% if fromAdvisor %}I{% else %}we{% endif %} thought of the pieces you chose a year ago. {% if fromAdvisor %}I{% else %}We{% endif %} would be glad to set aside new pieces that go with them before they reach the boutique, or to arrange a private preview; simply reply to this email.</p>
{% else %}<p style="${p}">The new {% if seasonName %}{{ seasonName }} {% endif %}collection arrives{% if seasonStartDate %} on {{ seasonStartDate }}{% else %} next week{% endif %}. Before it does, a look back at what you chose this time last year.</p>
{% endif %}{% include 'offer/en' %}
{% if products.size > 0 %}<p style="${p}">Your choices last {% if seasonName %}{{ seasonName }}{% else %}season{% endif %}:</p>
{% include 'products/en' %}{% endif %}
{% include 'button', buttonLabel: 'Preview the new season' %}
{% include 'signature/en' %}
{% endblock %}`,
    text: `{% layout 'layout/en' %}{% block content %}{% include 'greeting/en' %}

{% if personal %}The new {% if seasonName %}{{ seasonName }} {% endif %}collection arrives{% if seasonStartDate %} on {{ seasonStartDate }}{% else %} next week{% endif %}, and {% if fromAdvisor %}I{% else %}we{% endif %} thought of the pieces you chose a year ago. {% if fromAdvisor %}I{% else %}We{% endif %} would be glad to set aside new pieces that go with them before they reach the boutique, or to arrange a private preview; simply reply to this email.
{% else %}The new {% if seasonName %}{{ seasonName }} {% endif %}collection arrives{% if seasonStartDate %} on {{ seasonStartDate }}{% else %} next week{% endif %}. Before it does, a look back at what you chose this time last year.
{% endif %}
{% include 'offer/en' %}
{% if products.size > 0 %}Your choices last {% if seasonName %}{{ seasonName }}{% else %}season{% endif %}:
{% include 'products/en' %}{% endif %}
{% include 'button', buttonLabel: 'Preview the new season' %}

{% include 'signature/en' %}{% endblock %}`,
  },
  'zh-CN': {
    subject: `{% if firstName %}{{ firstName }}，{% endif %}{% if seasonName %}{{ seasonName }}新季{% else %}新一季{% endif %}即将到来`,
    preheader: `{% if personal %}{% if fromAdvisor %}来自您的专属顾问{{ advisorName }}的问候。{% else %}来自{{ brandName }}客户关怀团队的问候。{% endif %}{% else %}新品{% if seasonStartDate %}将于{{ seasonStartDate }}{% else %}即将{% endif %}上市，先从您去年的选择看起。{% endif %}`,
    html: `{% layout 'layout/zh-CN' %}{% block content %}
{% include 'greeting/zh-CN' %}
{% if personal %}<p style="${p}">{% if seasonName %}{{ seasonName }}{% else %}新一季{% endif %}新品{% if seasonStartDate %}将于{{ seasonStartDate }}{% else %}下周即将{% endif %}上市，我{% unless fromAdvisor %}们{% endunless %}想起了您去年此时挑选的作品。如您愿意，我{% unless fromAdvisor %}们{% endunless %}可以在新品到店前，为您预留与之相配的新作，或安排一次私享预览；只需回复这封邮件即可。</p>
{% else %}<p style="${p}">{% if seasonName %}{{ seasonName }}{% else %}新一季{% endif %}新品{% if seasonStartDate %}将于{{ seasonStartDate }}{% else %}下周即将{% endif %}上市。在此之前，不妨回顾一下您去年此时的选择。</p>
{% endif %}{% include 'offer/zh-CN' %}
{% if products.size > 0 %}<p style="${p}">您去年{% if seasonName %}{{ seasonName }}{% else %}同季{% endif %}的选择：</p>
{% include 'products/zh-CN' %}{% endif %}
{% include 'button', buttonLabel: '预览新季' %}
{% include 'signature/zh-CN' %}
{% endblock %}`,
    text: `{% layout 'layout/zh-CN' %}{% block content %}{% include 'greeting/zh-CN' %}

{% if personal %}{% if seasonName %}{{ seasonName }}{% else %}新一季{% endif %}新品{% if seasonStartDate %}将于{{ seasonStartDate }}{% else %}下周即将{% endif %}上市，我{% unless fromAdvisor %}们{% endunless %}想起了您去年此时挑选的作品。如您愿意，我{% unless fromAdvisor %}们{% endunless %}可以在新品到店前，为您预留与之相配的新作，或安排一次私享预览；只需回复这封邮件即可。
{% else %}{% if seasonName %}{{ seasonName }}{% else %}新一季{% endif %}新品{% if seasonStartDate %}将于{{ seasonStartDate }}{% else %}下周即将{% endif %}上市。在此之前，不妨回顾一下您去年此时的选择。
{% endif %}
{% include 'offer/zh-CN' %}
{% if products.size > 0 %}您去年{% if seasonName %}{{ seasonName }}{% else %}同季{% endif %}的选择：
{% include 'products/zh-CN' %}{% endif %}
{% include 'button', buttonLabel: '预览新季' %}

{% include 'signature/zh-CN' %}{% endblock %}`,
  },
};
