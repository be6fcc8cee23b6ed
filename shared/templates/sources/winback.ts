import type { LocaleSources } from './types.ts';

/**
 * Win-back, at 60 days without an order: a welcome-back gift (free shipping + discount) and picks
 * from the client's own top category. A personal version is the advisor checking in (or, for a VIC
 * without an active advisor, the client care team), no discount.
 */

const p = 'margin:0 0 16px 0;';

export const WINBACK: Record<'en' | 'zh-CN', LocaleSources> = {
  en: {
    subject: `{% if personal %}{% if firstName %}{{ firstName }}, it{% else %}It{% endif %} has been a while{% elsif showCoupon %}A welcome-back gift for you{% if firstName %}, {{ firstName }}{% endif %}{% else %}We miss you{% if firstName %}, {{ firstName }}{% endif %}{% endif %}`,
    preheader: `{% if personal %}{% if fromAdvisor %}A note from {{ advisorName }}, your advisor at {{ brandName }}.{% else %}A note from the {{ brandName }} client care team.{% endif %}{% elsif showCoupon %}{% if freeShipping %}Free shipping{% if discountPercent %} and {{ discountPercent }}% off{% endif %}{% elsif discountPercent %}{{ discountPercent }}% off{% else %}A gift{% endif %}, to welcome you back.{% else %}New picks chosen for you.{% endif %}`,
    html: `{% layout 'layout/en' %}{% block content %}
{% include 'greeting/en' %}
{% if personal %}<p style="${p}">It has been a little while, and {% if fromAdvisor %}I{% else %}we{% endif %} wanted to check in. {% if recommendedCategory %}New pieces have arrived in {{ recommendedCategory }} that made {% if fromAdvisor %}me{% else %}us{% endif %} think of you.{% else %}New pieces have arrived that made {% if fromAdvisor %}me{% else %}us{% endif %} think of you.{% endif %} {% if fromAdvisor %}I{% else %}We{% endif %} would be happy to set them aside or arrange a private appointment; simply reply to this email.</p>
{% else %}<p style="${p}">It has been a while since your last visit, and we have missed you.{% if showCoupon %} To welcome you back, we have set aside a gift:{% endif %}</p>
{% endif %}{% include 'offer/en' %}
{% if products.size > 0 %}<p style="${p}">{% if recommendedCategory %}Picked for you from {{ recommendedCategory }}:{% else %}Picked for you:{% endif %}</p>
{% include 'products/en' %}{% endif %}
{% include 'button', buttonLabel: 'See what is new' %}
{% include 'signature/en' %}
{% endblock %}`,
    text: `{% layout 'layout/en' %}{% block content %}{% include 'greeting/en' %}

{% if personal %}It has been a little while, and {% if fromAdvisor %}I{% else %}we{% endif %} wanted to check in. {% if recommendedCategory %}New pieces have arrived in {{ recommendedCategory }} that made {% if fromAdvisor %}me{% else %}us{% endif %} think of you.{% else %}New pieces have arrived that made {% if fromAdvisor %}me{% else %}us{% endif %} think of you.{% endif %} {% if fromAdvisor %}I{% else %}We{% endif %} would be happy to set them aside or arrange a private appointment; simply reply to this email.
{% else %}It has been a while since your last visit, and we have missed you.{% if showCoupon %} To welcome you back, we have set aside a gift:{% endif %}
{% endif %}
{% include 'offer/en' %}
{% if products.size > 0 %}{% if recommendedCategory %}Picked for you from {{ recommendedCategory }}:{% else %}Picked for you:{% endif %}
{% include 'products/en' %}{% endif %}
{% include 'button', buttonLabel: 'See what is new' %}

{% include 'signature/en' %}{% endblock %}`,
  },
  'zh-CN': {
    subject: `{% if personal %}{% if firstName %}{{ firstName }}，{% endif %}好久不见{% elsif showCoupon %}{% if firstName %}{{ firstName }}，{% endif %}一份欢迎回来的礼物{% else %}{% if firstName %}{{ firstName }}，{% endif %}我们想念您{% endif %}`,
    preheader: `{% if personal %}{% if fromAdvisor %}来自您的专属顾问{{ advisorName }}的问候。{% else %}来自{{ brandName }}客户关怀团队的问候。{% endif %}{% elsif showCoupon %}{% if freeShipping %}免运费{% if discountPercent %}并享 {{ discountPercent }}% 优惠{% endif %}{% elsif discountPercent %}享 {{ discountPercent }}% 优惠{% else %}一份礼物{% endif %}，欢迎您回来。{% else %}为您精选的新品。{% endif %}`,
    html: `{% layout 'layout/zh-CN' %}{% block content %}
{% include 'greeting/zh-CN' %}
{% if personal %}<p style="${p}">好久不见，特地来问候您。{% if recommendedCategory %}{{ recommendedCategory }}系列新到了几件作品，让我{% unless fromAdvisor %}们{% endunless %}第一时间想到了您。{% else %}新到了几件作品，让我{% unless fromAdvisor %}们{% endunless %}第一时间想到了您。{% endif %}如您感兴趣，我{% unless fromAdvisor %}们{% endunless %}可以为您预留，或安排一次私享预约；只需回复这封邮件即可。</p>
{% else %}<p style="${p}">距离您上次光临已有一段时间，我们很想念您。{% if showCoupon %}为欢迎您回来，我们为您准备了一份礼物：{% endif %}</p>
{% endif %}{% include 'offer/zh-CN' %}
{% if products.size > 0 %}<p style="${p}">{% if recommendedCategory %}从您喜爱的{{ recommendedCategory }}中为您精选：{% else %}为您精选：{% endif %}</p>
{% include 'products/zh-CN' %}{% endif %}
{% include 'button', buttonLabel: '查看新品' %}
{% include 'signature/zh-CN' %}
{% endblock %}`,
    text: `{% layout 'layout/zh-CN' %}{% block content %}{% include 'greeting/zh-CN' %}

{% if personal %}好久不见，特地来问候您。{% if recommendedCategory %}{{ recommendedCategory }}系列新到了几件作品，让我{% unless fromAdvisor %}们{% endunless %}第一时间想到了您。{% else %}新到了几件作品，让我{% unless fromAdvisor %}们{% endunless %}第一时间想到了您。{% endif %}如您感兴趣，我{% unless fromAdvisor %}们{% endunless %}可以为您预留，或安排一次私享预约；只需回复这封邮件即可。
{% else %}距离您上次光临已有一段时间，我们很想念您。{% if showCoupon %}为欢迎您回来，我们为您准备了一份礼物：{% endif %}
{% endif %}
{% include 'offer/zh-CN' %}
{% if products.size > 0 %}{% if recommendedCategory %}从您喜爱的{{ recommendedCategory }}中为您精选：{% else %}为您精选：{% endif %}
{% include 'products/zh-CN' %}{% endif %}
{% include 'button', buttonLabel: '查看新品' %}

{% include 'signature/zh-CN' %}{% endblock %}`,
  },
};
