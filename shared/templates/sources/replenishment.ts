import type { LocaleSources } from './types.ts';

/**
 * Replenishment, 15 days before a product runs out: names the product and its run-out date, lists
 * the others running low, and carries the repurchase offer (coupon, sample). A personal version
 * offers to set the product aside instead of a discount.
 */

const p = 'margin:0 0 16px 0;';

export const REPLENISHMENT: Record<'en' | 'zh-CN', LocaleSources> = {
  en: {
    subject: `{% if productName %}Time to restock your {{ productName }}{% else %}Time to restock your favourites{% endif %}{% if firstName %}, {{ firstName }}{% endif %}`,
    preheader: `{% if productName %}Your {{ productName }} runs out {% if runOutDate %}around {{ runOutDate }}{% else %}soon{% endif %}.{% else %}Some of your favourites are running low.{% endif %}`,
    html: `{% layout 'layout/en' %}{% block content %}
{% include 'greeting/en' %}
{% if personal %}<p style="${p}">{% if productName %}{% if fromAdvisor %}I{% else %}We{% endif %} noticed that your {{ productName }} may be running low{% if runOutDate %} around {{ runOutDate }}{% endif %}.{% else %}{% if fromAdvisor %}I{% else %}We{% endif %} noticed that some of your favourites may be running low.{% endif %} Shall {% if fromAdvisor %}I{% else %}we{% endif %} set a replacement aside for you? Simply reply to this email and {% if fromAdvisor %}I{% else %}we{% endif %} will arrange everything.</p>
{% else %}<p style="${p}">{% if productName %}Your {{ productName }} is likely to run out {% if runOutDate %}around {{ runOutDate }}{% else %}soon{% endif %}.{% else %}Some of your favourites are likely to run out soon.{% endif %} Reorder now and you will never be without it.</p>
{% endif %}{% include 'products/en' %}
{% include 'offer/en' %}
{% include 'button', buttonLabel: 'Reorder now' %}
{% include 'signature/en' %}
{% endblock %}`,
    text: `{% layout 'layout/en' %}{% block content %}{% include 'greeting/en' %}

{% if personal %}{% if productName %}{% if fromAdvisor %}I{% else %}We{% endif %} noticed that your {{ productName }} may be running low{% if runOutDate %} around {{ runOutDate }}{% endif %}.{% else %}{% if fromAdvisor %}I{% else %}We{% endif %} noticed that some of your favourites may be running low.{% endif %} Shall {% if fromAdvisor %}I{% else %}we{% endif %} set a replacement aside for you? Simply reply to this email and {% if fromAdvisor %}I{% else %}we{% endif %} will arrange everything.
{% else %}{% if productName %}Your {{ productName }} is likely to run out {% if runOutDate %}around {{ runOutDate }}{% else %}soon{% endif %}.{% else %}Some of your favourites are likely to run out soon.{% endif %} Reorder now and you will never be without it.
{% endif %}
{% include 'products/en' %}
{% include 'offer/en' %}
{% include 'button', buttonLabel: 'Reorder now' %}

{% include 'signature/en' %}{% endblock %}`,
  },
  'zh-CN': {
    subject: `{% if firstName %}{{ firstName }}，{% endif %}{% if productName %}您的{{ productName }}快用完了{% else %}您的心爱好物快用完了{% endif %}`,
    preheader: `{% if productName %}您的{{ productName }}预计{% if runOutDate %}在{{ runOutDate }}左右{% else %}即将{% endif %}用完。{% else %}您的心爱好物即将用完。{% endif %}`,
    html: `{% layout 'layout/zh-CN' %}{% block content %}
{% include 'greeting/zh-CN' %}
{% if personal %}<p style="${p}">{% if productName %}我{% unless fromAdvisor %}们{% endunless %}留意到您的{{ productName }}{% if runOutDate %}预计在{{ runOutDate }}左右{% else %}可能即将{% endif %}用完。{% else %}我{% unless fromAdvisor %}们{% endunless %}留意到您的心爱好物可能即将用完。{% endif %}需要我{% unless fromAdvisor %}们{% endunless %}为您预留一份吗？只需回复这封邮件，我{% unless fromAdvisor %}们{% endunless %}会为您安排妥当。</p>
{% else %}<p style="${p}">{% if productName %}您的{{ productName }}预计{% if runOutDate %}在{{ runOutDate }}左右{% else %}即将{% endif %}用完。{% else %}您的心爱好物即将用完。{% endif %}现在补货，让美好不断档。</p>
{% endif %}{% include 'products/zh-CN' %}
{% include 'offer/zh-CN' %}
{% include 'button', buttonLabel: '立即补货' %}
{% include 'signature/zh-CN' %}
{% endblock %}`,
    text: `{% layout 'layout/zh-CN' %}{% block content %}{% include 'greeting/zh-CN' %}

{% if personal %}{% if productName %}我{% unless fromAdvisor %}们{% endunless %}留意到您的{{ productName }}{% if runOutDate %}预计在{{ runOutDate }}左右{% else %}可能即将{% endif %}用完。{% else %}我{% unless fromAdvisor %}们{% endunless %}留意到您的心爱好物可能即将用完。{% endif %}需要我{% unless fromAdvisor %}们{% endunless %}为您预留一份吗？只需回复这封邮件，我{% unless fromAdvisor %}们{% endunless %}会为您安排妥当。
{% else %}{% if productName %}您的{{ productName }}预计{% if runOutDate %}在{{ runOutDate }}左右{% else %}即将{% endif %}用完。{% else %}您的心爱好物即将用完。{% endif %}现在补货，让美好不断档。
{% endif %}
{% include 'products/zh-CN' %}
{% include 'offer/zh-CN' %}
{% include 'button', buttonLabel: '立即补货' %}

{% include 'signature/zh-CN' %}{% endblock %}`,
  },
};
