import type { LocaleSources } from './types.ts';

/**
 * Welcome, sent within 24 hours of a first order or sign-up. A personal (VIC) welcome is a note
 * with no discount, from the advisor when the campaign is personal and they have an active one,
 * else from the client care team (never a promise of an advisor); otherwise a thank-you with the
 * offer, if any. The products of the first order show below, with their pictures, prices and links
 * when the products export gives them.
 */

const p = 'margin:0 0 16px 0;';

export const WELCOME: Record<'en' | 'zh-CN', LocaleSources> = {
  en: {
    subject: `{% if personal %}A personal welcome to {{ brandName }}{% else %}Welcome to {{ brandName }}{% endif %}{% if firstName %}, {{ firstName }}{% endif %}`,
    preheader: `{% if personal %}{% if fromAdvisor %}A note from {{ advisorName }}, your advisor at {{ brandName }}.{% else %}A note from the {{ brandName }} client care team.{% endif %}{% elsif productName %}Thank you for your first order with {{ brandName }}.{% else %}Thank you for joining {{ brandName }}.{% endif %}`,
    html: `{% layout 'layout/en' %}{% block content %}
{% include 'greeting/en' %}
{% if personal %}<p style="${p}">Thank you for choosing {{ brandName }}. {% include 'advisor-intro/en' %}</p>
{% if productName %}<p style="${p}">{% if fromAdvisor %}I hope you enjoy your {{ productName }}. I would love to hear what you think of it.{% else %}We hope you enjoy your {{ productName }}, and would love to hear what you think of it.{% endif %}</p>{% endif %}
{% else %}<p style="${p}">{% if productName %}Thank you for your first order with {{ brandName }}. We hope you enjoy your {{ productName }}.{% else %}Thank you for joining {{ brandName }}. We are delighted to welcome you.{% endif %}</p>
{% endif %}{% include 'products/en' %}
{% include 'offer/en' %}
{% include 'button', buttonLabel: 'Discover the collection' %}
{% include 'signature/en' %}
{% endblock %}`,
    text: `{% layout 'layout/en' %}{% block content %}{% include 'greeting/en' %}

{% if personal %}Thank you for choosing {{ brandName }}. {% include 'advisor-intro/en' %}
{% if productName %}
{% if fromAdvisor %}I hope you enjoy your {{ productName }}. I would love to hear what you think of it.{% else %}We hope you enjoy your {{ productName }}, and would love to hear what you think of it.{% endif %}
{% endif %}{% else %}{% if productName %}Thank you for your first order with {{ brandName }}. We hope you enjoy your {{ productName }}.{% else %}Thank you for joining {{ brandName }}. We are delighted to welcome you.{% endif %}
{% endif %}
{% include 'products/en' %}{% include 'offer/en' %}
{% include 'button', buttonLabel: 'Discover the collection' %}

{% include 'signature/en' %}{% endblock %}`,
  },
  'zh-CN': {
    subject: `{% if firstName %}{{ firstName }}，{% endif %}{% if personal %}诚挚欢迎您来到{{ brandName }}{% else %}欢迎来到{{ brandName }}{% endif %}`,
    preheader: `{% if personal %}{% if fromAdvisor %}来自您的专属顾问{{ advisorName }}的问候。{% else %}来自{{ brandName }}客户关怀团队的问候。{% endif %}{% elsif productName %}感谢您在{{ brandName }}的首次订购。{% else %}感谢您加入{{ brandName }}。{% endif %}`,
    html: `{% layout 'layout/zh-CN' %}{% block content %}
{% include 'greeting/zh-CN' %}
{% if personal %}<p style="${p}">感谢您选择{{ brandName }}。{% include 'advisor-intro/zh-CN' %}</p>
{% if productName %}<p style="${p}">希望您喜欢{{ productName }}，期待听到您的使用感受。</p>{% endif %}
{% else %}<p style="${p}">{% if productName %}感谢您在{{ brandName }}的首次订购，希望您喜欢{{ productName }}。{% else %}感谢您加入{{ brandName }}，我们很高兴与您相识。{% endif %}</p>
{% endif %}{% include 'products/zh-CN' %}
{% include 'offer/zh-CN' %}
{% include 'button', buttonLabel: '探索系列' %}
{% include 'signature/zh-CN' %}
{% endblock %}`,
    text: `{% layout 'layout/zh-CN' %}{% block content %}{% include 'greeting/zh-CN' %}

{% if personal %}感谢您选择{{ brandName }}。{% include 'advisor-intro/zh-CN' %}
{% if productName %}
希望您喜欢{{ productName }}，期待听到您的使用感受。
{% endif %}{% else %}{% if productName %}感谢您在{{ brandName }}的首次订购，希望您喜欢{{ productName }}。{% else %}感谢您加入{{ brandName }}，我们很高兴与您相识。{% endif %}
{% endif %}
{% include 'products/zh-CN' %}{% include 'offer/zh-CN' %}
{% include 'button', buttonLabel: '探索系列' %}

{% include 'signature/zh-CN' %}{% endblock %}`,
  },
};
