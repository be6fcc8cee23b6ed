import type { LocaleSources } from './types.ts';

/**
 * Long-lapse recall (the built-in play `recall`), at 120, 180 and 365 days without an order, after
 * the 60-day win-back: it must not read as a second "welcome back" (the win-back said that), so it
 * says how long it has been (some months; a year from 365 days), shows the client's own top
 * category and the offer graded by how often they used to buy. A personal version is the advisor
 * writing themselves (VIC: no discount); without an active advisor, the client care team.
 */

const p = 'margin:0 0 16px 0;';

/** Liquid: whether the lapse has reached a year (the last step). */
const aYear = 'daysSinceLastOrder >= 365';

export const RECALL: Record<'en' | 'zh-CN', LocaleSources> = {
  en: {
    subject: `{% if personal %}{% if firstName %}{{ firstName }}, thinking{% else %}Thinking{% endif %} of you{% else %}{% if firstName %}{{ firstName }}, {% endif %}{% if ${aYear} %}{% if firstName %}it{% else %}It{% endif %} has been a year{% else %}{% if firstName %}we{% else %}We{% endif %} have kept something for you{% endif %}{% endif %}`,
    preheader: `{% if personal %}{% if fromAdvisor %}A note from {{ advisorName }}, your advisor at {{ brandName }}.{% else %}A note from the {{ brandName }} client care team.{% endif %}{% elsif showCoupon %}{% if freeShipping %}Free shipping{% if discountPercent %} and {{ discountPercent }}% off{% endif %}{% elsif discountPercent %}{{ discountPercent }}% off{% else %}A gift{% endif %}, whenever you are ready.{% else %}What has arrived since your last visit.{% endif %}`,
    html: `{% layout 'layout/en' %}{% block content %}
{% include 'greeting/en' %}
{% if personal %}<p style="${p}">{% if ${aYear} %}It has been a year since we last saw you{% else %}It has been some months since we last saw you{% endif %}, and {% if fromAdvisor %}I wanted to write to you myself{% else %}we wanted to write to you{% endif %}. {% if recommendedCategory %}Pieces have arrived in {{ recommendedCategory }} that {% if fromAdvisor %}I{% else %}we{% endif %} believe you would love.{% else %}Pieces have arrived that {% if fromAdvisor %}I{% else %}we{% endif %} believe you would love.{% endif %} {% if fromAdvisor %}I{% else %}We{% endif %} would be happy to set them aside, or to arrange a private appointment at a time that suits you; simply reply to this email.</p>
{% else %}<p style="${p}">{% if ${aYear} %}It has been a year since your last order, and you are still on our minds.{% else %}It has been some months since your last order.{% endif %} Much has arrived since{% if recommendedCategory %}, in {{ recommendedCategory }} too{% endif %}, and we would love to show you.{% if showCoupon %} Whenever you are ready, this is yours:{% endif %}</p>
{% endif %}{% include 'offer/en' %}
{% if products.size > 0 %}<p style="${p}">{% if recommendedCategory %}From {{ recommendedCategory }}, the pieces you chose:{% else %}The pieces you chose:{% endif %}</p>
{% include 'products/en' %}{% endif %}
{% include 'button', buttonLabel: 'See what is new' %}
{% include 'signature/en' %}
{% endblock %}`,
    text: `{% layout 'layout/en' %}{% block content %}{% include 'greeting/en' %}

{% if personal %}{% if ${aYear} %}It has been a year since we last saw you{% else %}It has been some months since we last saw you{% endif %}, and {% if fromAdvisor %}I wanted to write to you myself{% else %}we wanted to write to you{% endif %}. {% if recommendedCategory %}Pieces have arrived in {{ recommendedCategory }} that {% if fromAdvisor %}I{% else %}we{% endif %} believe you would love.{% else %}Pieces have arrived that {% if fromAdvisor %}I{% else %}we{% endif %} believe you would love.{% endif %} {% if fromAdvisor %}I{% else %}We{% endif %} would be happy to set them aside, or to arrange a private appointment at a time that suits you; simply reply to this email.
{% else %}{% if ${aYear} %}It has been a year since your last order, and you are still on our minds.{% else %}It has been some months since your last order.{% endif %} Much has arrived since{% if recommendedCategory %}, in {{ recommendedCategory }} too{% endif %}, and we would love to show you.{% if showCoupon %} Whenever you are ready, this is yours:{% endif %}
{% endif %}
{% include 'offer/en' %}
{% if products.size > 0 %}{% if recommendedCategory %}From {{ recommendedCategory }}, the pieces you chose:{% else %}The pieces you chose:{% endif %}
{% include 'products/en' %}{% endif %}
{% include 'button', buttonLabel: 'See what is new' %}

{% include 'signature/en' %}{% endblock %}`,
  },
  'zh-CN': {
    subject: `{% if firstName %}{{ firstName }}，{% endif %}{% if personal %}一直惦记着您{% elsif ${aYear} %}转眼已是一年{% else %}我们为您留了一份心意{% endif %}`,
    preheader: `{% if personal %}{% if fromAdvisor %}来自您的专属顾问{{ advisorName }}的问候。{% else %}来自{{ brandName }}客户关怀团队的问候。{% endif %}{% elsif showCoupon %}{% if freeShipping %}免运费{% if discountPercent %}并享 {{ discountPercent }}% 优惠{% endif %}{% elsif discountPercent %}享 {{ discountPercent }}% 优惠{% else %}一份礼物{% endif %}，随时欢迎您回来。{% else %}看看您上次光临后的新品。{% endif %}`,
    html: `{% layout 'layout/zh-CN' %}{% block content %}
{% include 'greeting/zh-CN' %}
{% if personal %}<p style="${p}">{% if ${aYear} %}转眼已有一年没见到您{% else %}已有几个月没见到您{% endif %}，{% if fromAdvisor %}想亲自给您写几句话{% else %}我们特地给您写几句话{% endif %}。{% if recommendedCategory %}{{ recommendedCategory }}系列新到了几件作品，{% else %}新到了几件作品，{% endif %}我{% unless fromAdvisor %}们{% endunless %}相信您会喜欢。如您愿意，我{% unless fromAdvisor %}们{% endunless %}可以为您预留，或按您方便的时间安排一次私享预约；只需回复这封邮件即可。</p>
{% else %}<p style="${p}">{% if ${aYear} %}距您上次下单已有一年，我们一直惦记着您。{% else %}距您上次下单已有几个月了。{% endif %}这段时间{% if recommendedCategory %}，{{ recommendedCategory }}系列也{% endif %}上新了不少作品，很想与您分享。{% if showCoupon %}这份礼遇已为您备好：{% endif %}</p>
{% endif %}{% include 'offer/zh-CN' %}
{% if products.size > 0 %}<p style="${p}">{% if recommendedCategory %}您曾选择的{{ recommendedCategory }}：{% else %}您曾选择的作品：{% endif %}</p>
{% include 'products/zh-CN' %}{% endif %}
{% include 'button', buttonLabel: '查看新品' %}
{% include 'signature/zh-CN' %}
{% endblock %}`,
    text: `{% layout 'layout/zh-CN' %}{% block content %}{% include 'greeting/zh-CN' %}

{% if personal %}{% if ${aYear} %}转眼已有一年没见到您{% else %}已有几个月没见到您{% endif %}，{% if fromAdvisor %}想亲自给您写几句话{% else %}我们特地给您写几句话{% endif %}。{% if recommendedCategory %}{{ recommendedCategory }}系列新到了几件作品，{% else %}新到了几件作品，{% endif %}我{% unless fromAdvisor %}们{% endunless %}相信您会喜欢。如您愿意，我{% unless fromAdvisor %}们{% endunless %}可以为您预留，或按您方便的时间安排一次私享预约；只需回复这封邮件即可。
{% else %}{% if ${aYear} %}距您上次下单已有一年，我们一直惦记着您。{% else %}距您上次下单已有几个月了。{% endif %}这段时间{% if recommendedCategory %}，{{ recommendedCategory }}系列也{% endif %}上新了不少作品，很想与您分享。{% if showCoupon %}这份礼遇已为您备好：{% endif %}
{% endif %}
{% include 'offer/zh-CN' %}
{% if products.size > 0 %}{% if recommendedCategory %}您曾选择的{{ recommendedCategory }}：{% else %}您曾选择的作品：{% endif %}
{% include 'products/zh-CN' %}{% endif %}
{% include 'button', buttonLabel: '查看新品' %}

{% include 'signature/zh-CN' %}{% endblock %}`,
  },
};
