import type { LocaleSources } from './types.ts';

/**
 * Cross-category suggestion (the built-in play `cross-category`), for Potential and Entry clients
 * some weeks after an order: a category they have not bought, the one clients with their top
 * category buy most (recommendedCategory, with a few of its products), and a coupon to try it.
 * The play sends nothing without a category to show; a Chinese email whose category has no
 * Chinese name says "new pieces" instead of the key. A personal version (a VIC, a personal-note
 * offer) suggests without a discount.
 */

const p = 'margin:0 0 16px 0;';

export const CROSS_CATEGORY: Record<'en' | 'zh-CN', LocaleSources> = {
  en: {
    subject: `{% if recommendedCategory %}Something new for you in {{ recommendedCategory }}{% else %}Something new to discover{% endif %}{% if firstName %}, {{ firstName }}{% endif %}`,
    preheader: `{% if personal %}{% if fromAdvisor %}A note from {{ advisorName }}, your advisor at {{ brandName }}.{% else %}A note from the {{ brandName }} client care team.{% endif %}{% elsif showCoupon %}{% if freeShipping %}Free shipping{% if discountPercent %} and {{ discountPercent }}% off{% endif %}{% elsif discountPercent %}{{ discountPercent }}% off{% else %}A gift{% endif %} to try it.{% else %}Chosen from what clients like you love.{% endif %}`,
    html: `{% layout 'layout/en' %}{% block content %}
{% include 'greeting/en' %}
<p style="${p}">{% if favouriteCategory and recommendedCategory %}Clients who love {{ favouriteCategory }} as you do often choose {{ recommendedCategory }} too.{% elsif recommendedCategory %}Clients like you often choose {{ recommendedCategory }}.{% else %}Clients like you often choose these pieces.{% endif %} {% if personal %}{% if fromAdvisor %}I{% else %}We{% endif %} thought you might enjoy a first look; simply reply to this email if you would like to know more.{% elsif showCoupon %}To make the first step easy, we have set aside a gift:{% endif %}</p>
{% include 'offer/en' %}
{% if products.size > 0 %}<p style="${p}">{% if recommendedCategory %}To begin with, from {{ recommendedCategory }}:{% else %}To begin with:{% endif %}</p>
{% include 'products/en' %}{% endif %}
{% include 'button', buttonLabel: 'Explore the collection' %}
{% include 'signature/en' %}
{% endblock %}`,
    text: `{% layout 'layout/en' %}{% block content %}{% include 'greeting/en' %}

{% if favouriteCategory and recommendedCategory %}Clients who love {{ favouriteCategory }} as you do often choose {{ recommendedCategory }} too.{% elsif recommendedCategory %}Clients like you often choose {{ recommendedCategory }}.{% else %}Clients like you often choose these pieces.{% endif %} {% if personal %}{% if fromAdvisor %}I{% else %}We{% endif %} thought you might enjoy a first look; simply reply to this email if you would like to know more.{% elsif showCoupon %}To make the first step easy, we have set aside a gift:{% endif %}

{% include 'offer/en' %}
{% if products.size > 0 %}{% if recommendedCategory %}To begin with, from {{ recommendedCategory }}:{% else %}To begin with:{% endif %}
{% include 'products/en' %}{% endif %}
{% include 'button', buttonLabel: 'Explore the collection' %}

{% include 'signature/en' %}{% endblock %}`,
  },
  'zh-CN': {
    subject: `{% if firstName %}{{ firstName }}，{% endif %}{% if recommendedCategory %}为您推荐{{ recommendedCategory }}{% else %}为您推荐新的选择{% endif %}`,
    preheader: `{% if personal %}{% if fromAdvisor %}来自您的专属顾问{{ advisorName }}的问候。{% else %}来自{{ brandName }}客户关怀团队的问候。{% endif %}{% elsif showCoupon %}{% if freeShipping %}免运费{% if discountPercent %}并享 {{ discountPercent }}% 优惠{% endif %}{% elsif discountPercent %}享 {{ discountPercent }}% 优惠{% else %}一份礼物{% endif %}，邀您尝鲜。{% else %}与您品味相近的顾客都爱的选择。{% endif %}`,
    html: `{% layout 'layout/zh-CN' %}{% block content %}
{% include 'greeting/zh-CN' %}
<p style="${p}">{% if favouriteCategory and recommendedCategory %}和您一样喜爱{{ favouriteCategory }}的顾客，往往也会选择{{ recommendedCategory }}。{% elsif recommendedCategory %}与您品味相近的顾客，往往也会选择{{ recommendedCategory }}。{% else %}与您品味相近的顾客，往往也会选择这几件作品。{% endif %}{% if personal %}想邀您先睹为快；如想了解更多，只需回复这封邮件即可。{% elsif showCoupon %}为了让您轻松尝试，我们特别准备了一份礼遇：{% endif %}</p>
{% include 'offer/zh-CN' %}
{% if products.size > 0 %}<p style="${p}">{% if recommendedCategory %}{{ recommendedCategory }}精选，不妨从这里开始：{% else %}不妨从这里开始：{% endif %}</p>
{% include 'products/zh-CN' %}{% endif %}
{% include 'button', buttonLabel: '探索系列' %}
{% include 'signature/zh-CN' %}
{% endblock %}`,
    text: `{% layout 'layout/zh-CN' %}{% block content %}{% include 'greeting/zh-CN' %}

{% if favouriteCategory and recommendedCategory %}和您一样喜爱{{ favouriteCategory }}的顾客，往往也会选择{{ recommendedCategory }}。{% elsif recommendedCategory %}与您品味相近的顾客，往往也会选择{{ recommendedCategory }}。{% else %}与您品味相近的顾客，往往也会选择这几件作品。{% endif %}{% if personal %}想邀您先睹为快；如想了解更多，只需回复这封邮件即可。{% elsif showCoupon %}为了让您轻松尝试，我们特别准备了一份礼遇：{% endif %}

{% include 'offer/zh-CN' %}
{% if products.size > 0 %}{% if recommendedCategory %}{{ recommendedCategory }}精选，不妨从这里开始：{% else %}不妨从这里开始：{% endif %}
{% include 'products/zh-CN' %}{% endif %}
{% include 'button', buttonLabel: '探索系列' %}

{% include 'signature/zh-CN' %}{% endblock %}`,
  },
};
