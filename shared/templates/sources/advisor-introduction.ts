import type { LocaleSources } from './types.ts';

/**
 * The introduction (issue 16, handover): a client handed over to a new advisor hears from them,
 * in their name (From "Advisor via Brand", Reply-To the advisor, their signature). Rendered as a
 * personal note (offer kind 'personal-note': no discount, no promotion); sent only with an
 * advisor, so `fromAdvisor` is always true. It says nothing of why the previous advisor left.
 */

const p = 'margin:0 0 16px 0;';

export const ADVISOR_INTRODUCTION: Record<'en' | 'zh-CN', LocaleSources> = {
  en: {
    subject: `{% if firstName %}{{ firstName }}, your{% else %}Your{% endif %} new advisor at {{ brandName }}`,
    preheader: `A note from {{ advisorName }}, who now looks after you at {{ brandName }}.`,
    html: `{% layout 'layout/en' %}{% block content %}
{% include 'greeting/en' %}
<p style="${p}">I am {{ advisorName }}, and from now on I will be your personal advisor at {{ brandName }}. I have read about the pieces you have chosen with us{% if recommendedCategory %}, and I can see how much you enjoy {{ recommendedCategory }}{% endif %}.</p>
<p style="${p}">Whenever you would like advice, to have something set aside, or a private appointment, simply reply to this email: it comes straight to me.</p>
<p style="${p}">I look forward to meeting you.</p>
{% include 'signature/en' %}
{% endblock %}`,
    text: `{% layout 'layout/en' %}{% block content %}{% include 'greeting/en' %}

I am {{ advisorName }}, and from now on I will be your personal advisor at {{ brandName }}. I have read about the pieces you have chosen with us{% if recommendedCategory %}, and I can see how much you enjoy {{ recommendedCategory }}{% endif %}.

Whenever you would like advice, to have something set aside, or a private appointment, simply reply to this email: it comes straight to me.

I look forward to meeting you.

{% include 'signature/en' %}{% endblock %}`,
  },
  'zh-CN': {
    subject: `{% if firstName %}{{ firstName }}，{% endif %}您在{{ brandName }}的新专属顾问`,
    preheader: `来自{{ advisorName }}的问候：今后由我为您在{{ brandName }}提供服务。`,
    html: `{% layout 'layout/zh-CN' %}{% block content %}
{% include 'greeting/zh-CN' %}
<p style="${p}">我是{{ advisorName }}，今后将由我担任您在{{ brandName }}的专属顾问。我已了解您在我们这里挑选过的作品{% if recommendedCategory %}，也知道您特别喜爱{{ recommendedCategory }}{% endif %}。</p>
<p style="${p}">无论您需要建议、希望为您预留商品，还是想安排一次私享预约，只需回复这封邮件，它会直接送到我这里。</p>
<p style="${p}">期待与您见面。</p>
{% include 'signature/zh-CN' %}
{% endblock %}`,
    text: `{% layout 'layout/zh-CN' %}{% block content %}{% include 'greeting/zh-CN' %}

我是{{ advisorName }}，今后将由我担任您在{{ brandName }}的专属顾问。我已了解您在我们这里挑选过的作品{% if recommendedCategory %}，也知道您特别喜爱{{ recommendedCategory }}{% endif %}。

无论您需要建议、希望为您预留商品，还是想安排一次私享预约，只需回复这封邮件，它会直接送到我这里。

期待与您见面。

{% include 'signature/zh-CN' %}{% endblock %}`,
  },
};
