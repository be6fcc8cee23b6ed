import type { LocaleSources } from './types.ts';

/**
 * Tier upgrade thank-you, the day after a client moves up (the `tier-upgrade-thanks` play):
 * recognition, not a discount (domain.md: 41% of lost core clients never felt thanked). A VIC's
 * is a note from their advisor (or the client care team) offering what VICs value: previews,
 * private appointments, pieces set aside. The tier is named as the email's locale names it. The
 * play shows no products and offers none; a brand that configures some sees them rendered.
 */

const p = 'margin:0 0 16px 0;';

const EN_PERSONAL = `{% if fromAdvisor %}I wanted to thank you personally. Your loyalty has made you one of our {{ tierName }} clients, and it would be my pleasure to look after you: a first look at new collections, a private appointment, a piece set aside for you. Simply reply to this email whenever you would like, and I will take care of it myself.{% else %}We wanted to thank you personally. Your loyalty has made you one of our {{ tierName }} clients, and it would be our pleasure to look after you: a first look at new collections, a private appointment, a piece set aside for you. Simply reply to this email whenever you would like, and we will take care of it.{% endif %}`;
const EN_THANKS = `Your recent purchases have made you one of our {{ tierName }} clients, and we wanted to take a moment to say thank you. The trust you show us means a great deal to everyone at {{ brandName }}.`;
const EN_HELP = `If there is ever anything we can do for you, whether advice, a question about an order or help finding the right piece, simply reply to this email.`;

const ZH_PERSONAL = `{% if fromAdvisor %}我想亲自向您表达感谢。感谢您一直以来的厚爱，您已成为我们的{{ tierName }}。我很荣幸能为您提供专属服务：新系列抢先预览、私享预约，或为您预留心仪的作品。如有任何需要，只需回复这封邮件，我会亲自为您安排。{% else %}我们想亲自向您表达感谢。感谢您一直以来的厚爱，您已成为我们的{{ tierName }}。我们很荣幸能为您提供专属服务：新系列抢先预览、私享预约，或为您预留心仪的作品。如有任何需要，只需回复这封邮件，我们会为您妥善安排。{% endif %}`;
const ZH_THANKS = `您近期的选购让您成为了{{ brandName }}的{{ tierName }}，我们想借此机会向您说一声谢谢。您的信任，对{{ brandName }}的每一位成员都意义非凡。`;
const ZH_HELP = `无论是选购建议、订单问题，还是想寻找合适的作品，只需回复这封邮件，我们随时为您效劳。`;

export const TIER_UPGRADE_THANKS: Record<'en' | 'zh-CN', LocaleSources> = {
  en: {
    subject: `{% if personal %}{% if firstName %}{{ firstName }}, a{% else %}A{% endif %} personal thank-you{% else %}Thank you{% if firstName %}, {{ firstName }}{% endif %}: you are now one of our {{ tierName }} clients{% endif %}`,
    preheader: `{% if fromAdvisor %}A note from {{ advisorName }}, your advisor at {{ brandName }}.{% elsif personal %}A note from the {{ brandName }} client care team.{% else %}With our thanks for your loyalty to {{ brandName }}.{% endif %}`,
    html: `{% layout 'layout/en' %}{% block content %}
{% include 'greeting/en' %}
{% if personal %}<p style="${p}">${EN_PERSONAL}</p>
{% else %}<p style="${p}">${EN_THANKS}</p>
<p style="${p}">${EN_HELP}</p>
{% endif %}{% include 'products/en' %}
{% include 'offer/en' %}
{% include 'button', buttonLabel: 'See what is new' %}
{% include 'signature/en' %}
{% endblock %}`,
    text: `{% layout 'layout/en' %}{% block content %}{% include 'greeting/en' %}

{% if personal %}${EN_PERSONAL}
{% else %}${EN_THANKS}

${EN_HELP}
{% endif %}
{% include 'products/en' %}{% include 'offer/en' %}
{% include 'button', buttonLabel: 'See what is new' %}

{% include 'signature/en' %}{% endblock %}`,
  },
  'zh-CN': {
    subject: `{% if firstName %}{{ firstName }}，{% endif %}{% if fromAdvisor %}来自{{ advisorName }}的一份感谢{% elsif personal %}一份来自我们的诚挚感谢{% else %}感谢您的支持，您已成为我们的{{ tierName }}{% endif %}`,
    preheader: `{% if fromAdvisor %}来自您的专属顾问{{ advisorName }}的问候。{% elsif personal %}来自{{ brandName }}客户关怀团队的问候。{% else %}感谢您对{{ brandName }}的厚爱。{% endif %}`,
    html: `{% layout 'layout/zh-CN' %}{% block content %}
{% include 'greeting/zh-CN' %}
{% if personal %}<p style="${p}">${ZH_PERSONAL}</p>
{% else %}<p style="${p}">${ZH_THANKS}</p>
<p style="${p}">${ZH_HELP}</p>
{% endif %}{% include 'products/zh-CN' %}
{% include 'offer/zh-CN' %}
{% include 'button', buttonLabel: '查看新品' %}
{% include 'signature/zh-CN' %}
{% endblock %}`,
    text: `{% layout 'layout/zh-CN' %}{% block content %}{% include 'greeting/zh-CN' %}

{% if personal %}${ZH_PERSONAL}
{% else %}${ZH_THANKS}

${ZH_HELP}
{% endif %}
{% include 'products/zh-CN' %}{% include 'offer/zh-CN' %}
{% include 'button', buttonLabel: '查看新品' %}

{% include 'signature/zh-CN' %}{% endblock %}`,
  },
};
