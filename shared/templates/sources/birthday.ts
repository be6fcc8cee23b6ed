import type { LocaleSources } from './types.ts';

/**
 * Birthday month (the `birthday` play): a gift matched to the tier. A VIC's is a note from their
 * advisor (or the client care team), no discount: a gift waits at the boutique, and we would love
 * to celebrate with them. Core: a gift with their next order (offer gift-with-order, no code).
 * Potential: a sample kit with their next order (offer sample, no code; its own line, as the
 * offer partial's "a sample of something new" is the welcome's). Entry, Prospect: a voucher (the
 * offer's coupon, with its code when it has one).
 */

const p = 'margin:0 0 16px 0;';

const EN_PERSONAL = `Happy birthday! {% if fromAdvisor %}I{% else %}We{% endif %} would love to celebrate with you. A gift is waiting for you at the boutique: come by whenever it suits you this month, or simply reply to this email and {% if fromAdvisor %}I{% else %}we{% endif %} will find a time with you, or have it sent to you.`;
const EN_GREETING = `Happy birthday from all of us at {{ brandName }}!{% if showCoupon or giftWithOrder or sample %} To celebrate your month, we have set something aside for you:{% else %} We wish you a wonderful year ahead.{% endif %}`;

const EN_SAMPLE_KIT = `A kit of samples, our birthday gift to you, will come with your next order. There is no code to enter: we add it for you.`;

const ZH_PERSONAL = `祝您生日快乐！{% if fromAdvisor %}我{% else %}我们{% endif %}很想与您一起庆祝这个特别的日子。一份生日礼物已在精品店为您备好，本月您方便时随时欢迎光临；也可以直接回复这封邮件，{% if fromAdvisor %}我{% else %}我们{% endif %}来为您约定时间，或将礼物寄送给您。`;
const ZH_GREETING = `{{ brandName }}全体同仁祝您生日快乐！{% if showCoupon or giftWithOrder or sample %}为庆祝您的生日月，我们为您准备了一份心意：{% else %}愿您新的一岁一切美好。{% endif %}`;

const ZH_SAMPLE_KIT = `一套生日小样礼盒将随您的下一份订单送达，无需输入优惠码，我们会为您附上。`;

export const BIRTHDAY: Record<'en' | 'zh-CN', LocaleSources> = {
  en: {
    subject: `Happy birthday{% if firstName %}, {{ firstName }}{% endif %}{% if personal %}: a gift is waiting for you{% elsif giftWithOrder %}: a gift with your next order{% elsif offerKind == 'sample' %}: a sample kit with your next order{% elsif showCoupon %}: a birthday treat from {{ brandName }}{% endif %}`,
    preheader: `{% if fromAdvisor %}A note from {{ advisorName }}, your advisor at {{ brandName }}.{% elsif personal %}A note from the {{ brandName }} client care team.{% elsif giftWithOrder %}Your next order comes with a birthday gift from us.{% elsif offerKind == 'sample' %}Your next order comes with a birthday kit of samples from us.{% elsif showCoupon and discountPercent %}{{ discountPercent }}% off your next order, for your birthday.{% else %}All of us at {{ brandName }} wish you a wonderful year.{% endif %}`,
    html: `{% layout 'layout/en' %}{% block content %}
{% include 'greeting/en' %}
{% if personal %}<p style="${p}">${EN_PERSONAL}</p>
{% else %}<p style="${p}">${EN_GREETING}</p>
{% endif %}{% if offerKind == 'sample' %}<p style="${p}">${EN_SAMPLE_KIT}</p>
{% else %}{% include 'offer/en' %}{% endif %}
{% include 'products/en' %}
{% if personal %}{% include 'button', buttonLabel: 'Discover the collection' %}{% else %}{% include 'button', buttonLabel: 'Choose your birthday treat' %}{% endif %}
{% include 'signature/en' %}
{% endblock %}`,
    text: `{% layout 'layout/en' %}{% block content %}{% include 'greeting/en' %}

{% if personal %}${EN_PERSONAL}
{% else %}${EN_GREETING}
{% endif %}
{% if offerKind == 'sample' %}${EN_SAMPLE_KIT}
{% else %}{% include 'offer/en' %}{% endif %}
{% include 'products/en' %}{% if personal %}{% include 'button', buttonLabel: 'Discover the collection' %}{% else %}{% include 'button', buttonLabel: 'Choose your birthday treat' %}{% endif %}

{% include 'signature/en' %}{% endblock %}`,
  },
  'zh-CN': {
    subject: `{% if firstName %}{{ firstName }}，{% endif %}生日快乐！{% if personal %}一份生日礼物正在等您{% elsif giftWithOrder %}下次订购将随单附赠生日礼物{% elsif offerKind == 'sample' %}下次订购将随单附赠生日小样礼盒{% elsif showCoupon %}送您一份生日专属礼遇{% endif %}`,
    preheader: `{% if fromAdvisor %}来自您的专属顾问{{ advisorName }}的生日祝福。{% elsif personal %}来自{{ brandName }}客户关怀团队的生日祝福。{% elsif giftWithOrder %}您的下一份订单将随附一份生日礼物。{% elsif offerKind == 'sample' %}您的下一份订单将随附一套生日小样礼盒。{% elsif showCoupon and discountPercent %}生日心意：下次订单享 {{ discountPercent }}% 优惠。{% else %}{{ brandName }}全体同仁祝您生日快乐。{% endif %}`,
    html: `{% layout 'layout/zh-CN' %}{% block content %}
{% include 'greeting/zh-CN' %}
{% if personal %}<p style="${p}">${ZH_PERSONAL}</p>
{% else %}<p style="${p}">${ZH_GREETING}</p>
{% endif %}{% if offerKind == 'sample' %}<p style="${p}">${ZH_SAMPLE_KIT}</p>
{% else %}{% include 'offer/zh-CN' %}{% endif %}
{% include 'products/zh-CN' %}
{% if personal %}{% include 'button', buttonLabel: '探索系列' %}{% else %}{% include 'button', buttonLabel: '挑选生日礼物' %}{% endif %}
{% include 'signature/zh-CN' %}
{% endblock %}`,
    text: `{% layout 'layout/zh-CN' %}{% block content %}{% include 'greeting/zh-CN' %}

{% if personal %}${ZH_PERSONAL}
{% else %}${ZH_GREETING}
{% endif %}
{% if offerKind == 'sample' %}${ZH_SAMPLE_KIT}
{% else %}{% include 'offer/zh-CN' %}{% endif %}
{% include 'products/zh-CN' %}{% if personal %}{% include 'button', buttonLabel: '探索系列' %}{% else %}{% include 'button', buttonLabel: '挑选生日礼物' %}{% endif %}

{% include 'signature/zh-CN' %}{% endblock %}`,
  },
};
