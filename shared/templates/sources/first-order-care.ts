import type { LocaleSources } from './types.ts';

/**
 * First order + 7 days (the `first-order-care` play): care and use tips for what the first order
 * bought. The products of that order show with their pictures, prices and links; under them, the
 * brand's tip for each of their categories (config.categoryCare, headed by the category's name),
 * or without any tip a general word on keeping a piece at its best. Then our care service (reply
 * to ask) and the offer: a sample when the order bought a beauty category, none otherwise. A
 * VIC's is a note from their advisor (or the client care team), no offer.
 */

const p = 'margin:0 0 16px 0;';

const EN_INTRO = `{% if fromAdvisor %}It has been a week since your first order, and I hope you are enjoying it.{% else %}It has been a week since your first order with {{ brandName }}, and we hope you are enjoying it.{% endif %} Here are a few words on getting the best from {% if categoryList %}your {{ categoryList }}{% else %}what you chose{% endif %}.`;
const EN_GENERAL = `Keep each piece away from direct sunlight and heat, store it clean and dry, and follow the notes that came with it: that is how it stays at its best for a long time.`;
const EN_SERVICE = `{% if fromAdvisor %}If you have any question about using or caring for it, simply reply to this email and I will help you myself.{% else %}Our client care team is happy to help with any question about using or caring for what you bought: simply reply to this email.{% endif %}`;

const ZH_INTRO = `{% if fromAdvisor %}您的首次订购已满一周，希望您用得称心。{% else %}您在{{ brandName }}的首次订购已满一周，希望您用得称心。{% endif %}{% if categoryList %}以下是关于{{ categoryList }}产品的一些使用与护理建议，助您发挥它们的最佳效果。{% else %}以下是一些使用与护理建议，助您充分享受所选的每一件作品。{% endif %}`;
const ZH_GENERAL = `请避免阳光直射和高温，存放于干燥洁净处，并参照随附的使用与护理说明，让它长久保持最佳状态。`;
const ZH_SERVICE = `{% if fromAdvisor %}如您对使用或护理有任何疑问，只需回复这封邮件，我会亲自为您解答。{% else %}关于使用或护理的任何问题，我们的客户关怀团队都乐意为您解答，只需回复这封邮件即可。{% endif %}`;

/** Each category's tip, under its name when the email can name it. */
const htmlTips = (general: string) =>
  `{% if hasCare %}{% for c in categories %}{% if c.care %}<p style="${p}">{% if c.name %}<strong>{{ c.name }}</strong><br>{% endif %}{{ c.care }}</p>
{% endif %}{% endfor %}{% else %}<p style="${p}">${general}</p>
{% endif %}`;
const textTips = (general: string) =>
  `{% if hasCare %}{% for c in categories %}{% if c.care %}{% if c.name %}{{ c.name }}
{% endif %}{{ c.care }}

{% endif %}{% endfor %}{% else %}${general}

{% endif %}`;

export const FIRST_ORDER_CARE: Record<'en' | 'zh-CN', LocaleSources> = {
  en: {
    subject: `{% if firstName %}{{ firstName }}, getting{% else %}Getting{% endif %} the best from your {% if products.size == 1 %}{{ productName }}{% else %}first order{% endif %}`,
    preheader: `{% if fromAdvisor %}A note from {{ advisorName }}, your advisor at {{ brandName }}.{% elsif personal %}A note from the {{ brandName }} client care team.{% else %}Care and use tips for your first order{% if sample %}, and a sample for your next{% endif %}.{% endif %}`,
    html: `{% layout 'layout/en' %}{% block content %}
{% include 'greeting/en' %}
<p style="${p}">${EN_INTRO}</p>
{% include 'products/en' %}
${htmlTips(EN_GENERAL)}<p style="${p}">${EN_SERVICE}</p>
{% include 'offer/en' %}
{% include 'button', buttonLabel: 'Discover the collection' %}
{% include 'signature/en' %}
{% endblock %}`,
    text: `{% layout 'layout/en' %}{% block content %}{% include 'greeting/en' %}

${EN_INTRO}

{% include 'products/en' %}${textTips(EN_GENERAL)}${EN_SERVICE}

{% include 'offer/en' %}
{% include 'button', buttonLabel: 'Discover the collection' %}

{% include 'signature/en' %}{% endblock %}`,
  },
  'zh-CN': {
    subject: `{% if firstName %}{{ firstName }}，{% endif %}{% if products.size == 1 %}{{ productName }}的{% else %}您首单商品的{% endif %}使用与护理建议`,
    preheader: `{% if fromAdvisor %}来自您的专属顾问{{ advisorName }}的问候。{% elsif personal %}来自{{ brandName }}客户关怀团队的问候。{% else %}首单商品的使用与护理建议{% if sample %}，另有新品小样相赠{% endif %}。{% endif %}`,
    html: `{% layout 'layout/zh-CN' %}{% block content %}
{% include 'greeting/zh-CN' %}
<p style="${p}">${ZH_INTRO}</p>
{% include 'products/zh-CN' %}
${htmlTips(ZH_GENERAL)}<p style="${p}">${ZH_SERVICE}</p>
{% include 'offer/zh-CN' %}
{% include 'button', buttonLabel: '探索系列' %}
{% include 'signature/zh-CN' %}
{% endblock %}`,
    text: `{% layout 'layout/zh-CN' %}{% block content %}{% include 'greeting/zh-CN' %}

${ZH_INTRO}

{% include 'products/zh-CN' %}${textTips(ZH_GENERAL)}${ZH_SERVICE}

{% include 'offer/zh-CN' %}
{% include 'button', buttonLabel: '探索系列' %}

{% include 'signature/zh-CN' %}{% endblock %}`,
  },
};
