import type { LocaleSources } from './types.ts';

/**
 * First purchase thank-you (the `first-purchase-thanks` play): the first order of a client who
 * signed up long before (their sign-up welcome has expired). Recognition of the time they have
 * followed the brand, thanks for the first order, the products it bought, and the offer per tier
 * like the welcome's (a sample; a VIC's is a note from their advisor, or the client care team).
 */

const p = 'margin:0 0 16px 0;';

const EN_THANKS = `You have been following {{ brandName }} for a while, and today you placed your first order. Thank you for your trust{% if productName %}: we hope you enjoy your {{ productName }}{% endif %}.`;
const EN_PERSONAL = `You have been following {{ brandName }} for a while, and {% if fromAdvisor %}I was{% else %}we were{% endif %} delighted to see your first order: thank you for choosing us. {% include 'advisor-intro/en' %}`;

const ZH_THANKS = `您关注{{ brandName }}已有一段时间，今天迎来了您的首次订购。衷心感谢您的信任{% if productName %}，希望您喜欢{{ productName }}{% endif %}。`;
const ZH_PERSONAL = `您关注{{ brandName }}已有一段时间，看到您的首次订购，{% if fromAdvisor %}我{% else %}我们{% endif %}由衷地高兴，感谢您选择我们。{% include 'advisor-intro/zh-CN' %}`;

export const FIRST_PURCHASE_THANKS: Record<'en' | 'zh-CN', LocaleSources> = {
  en: {
    subject: `{% if personal %}A personal thank-you for your first order{% else %}Thank you for your first order{% endif %}{% if firstName %}, {{ firstName }}{% endif %}`,
    preheader: `{% if fromAdvisor %}A note from {{ advisorName }}, your advisor at {{ brandName }}.{% elsif personal %}A note from the {{ brandName }} client care team.{% else %}You have followed {{ brandName }} for a while: thank you for your first order.{% endif %}`,
    html: `{% layout 'layout/en' %}{% block content %}
{% include 'greeting/en' %}
{% if personal %}<p style="${p}">${EN_PERSONAL}</p>
{% else %}<p style="${p}">${EN_THANKS}</p>
{% endif %}{% include 'products/en' %}
{% include 'offer/en' %}
{% include 'button', buttonLabel: 'Discover the collection' %}
{% include 'signature/en' %}
{% endblock %}`,
    text: `{% layout 'layout/en' %}{% block content %}{% include 'greeting/en' %}

{% if personal %}${EN_PERSONAL}
{% else %}${EN_THANKS}
{% endif %}
{% include 'products/en' %}{% include 'offer/en' %}
{% include 'button', buttonLabel: 'Discover the collection' %}

{% include 'signature/en' %}{% endblock %}`,
  },
  'zh-CN': {
    subject: `{% if firstName %}{{ firstName }}，{% endif %}{% if personal %}感谢您选择{{ brandName }}{% else %}感谢您的首次订购{% endif %}`,
    preheader: `{% if fromAdvisor %}来自您的专属顾问{{ advisorName }}的问候。{% elsif personal %}来自{{ brandName }}客户关怀团队的问候。{% else %}感谢您一直以来的关注，也感谢您的首次订购。{% endif %}`,
    html: `{% layout 'layout/zh-CN' %}{% block content %}
{% include 'greeting/zh-CN' %}
{% if personal %}<p style="${p}">${ZH_PERSONAL}</p>
{% else %}<p style="${p}">${ZH_THANKS}</p>
{% endif %}{% include 'products/zh-CN' %}
{% include 'offer/zh-CN' %}
{% include 'button', buttonLabel: '探索系列' %}
{% include 'signature/zh-CN' %}
{% endblock %}`,
    text: `{% layout 'layout/zh-CN' %}{% block content %}{% include 'greeting/zh-CN' %}

{% if personal %}${ZH_PERSONAL}
{% else %}${ZH_THANKS}
{% endif %}
{% include 'products/zh-CN' %}{% include 'offer/zh-CN' %}
{% include 'button', buttonLabel: '探索系列' %}

{% include 'signature/zh-CN' %}{% endblock %}`,
  },
};
