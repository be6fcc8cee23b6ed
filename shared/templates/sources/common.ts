/**
 * Liquid sources shared by every campaign: the HTML and text layouts (one per locale, built from one
 * skeleton so the mobile layout cannot drift between languages), the greeting, the offer block, the
 * advisor signature and the button. Kept as TypeScript strings so esbuild bundles them into the
 * Lambda; nothing is read from disk at run time.
 *
 * Variables every template can rely on (all defined, null when absent; see render.ts `TemplateView`):
 * locale, lang, fontFamily, brandName, firstName, lastName, tier, isVic, personal, fromAdvisor,
 * advisorName, advisorSignature,
 * products[{name, sku, runOutDate, url, imageUrl, price}], productName, runOutDate, otherProducts, offerKind, showCoupon,
 * couponCode, discountPercent, freeShipping, sample, giftWithOrder, unsubscribeUrl, shopUrl,
 * recommendedCategory, categories[{name, care}], hasCare, postalAddress, subject, preheader.
 */

/** The palette every email shares. */
export const EMAIL_COLORS = {
  page: '#f4f1ec',
  card: '#ffffff',
  ink: '#1a1a1a',
  body: '#333333',
  muted: '#6b6b6b',
  rule: '#e5e0d8',
  highlight: '#faf7f2',
};

interface LayoutCopy {
  /** Liquid snippet: why the client receives this email. */
  footerReason: string;
  unsubscribe: string;
  /** Between a label and a URL in the text email. */
  colon: string;
  /** Liquid snippet after a product's run-out date ({{ p.runOutDate }}). */
  runsOut: string;
  /** The link under a product. */
  viewProduct: string;
  /** Between a product's name and its price in the text email. */
  comma: string;
}

const LAYOUT_COPY: Record<'en' | 'zh-CN', LayoutCopy> = {
  en: {
    footerReason: 'You are receiving this email as a client of {{ brandName }}.',
    unsubscribe: 'Unsubscribe from these emails',
    colon: ': ',
    runsOut: 'Runs out around {{ p.runOutDate }}',
    viewProduct: 'View in the shop',
    comma: ', ',
  },
  'zh-CN': {
    footerReason: '您收到这封邮件，是因为您是{{ brandName }}的顾客。',
    unsubscribe: '退订此类邮件',
    colon: '：',
    runsOut: '预计{{ p.runOutDate }}左右用完',
    viewProduct: '前往官网查看',
    comma: '，',
  },
};

// One column, a 600px max-width card in a fluid table, inline styles only (many clients strip <style>),
// a hidden preheader, and a footer below the content. Every email is built on it, so the mobile
// layout cannot drift between languages or between the campaigns and the advisors' digest.
/** The HTML page of an email: `{% block content %}` in the card, `footer` (Liquid HTML) under it. */
export function htmlEmailLayout(footer: string): string {
  return `<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<meta name="format-detection" content="telephone=no, date=no, address=no, email=no">
<title>{{ subject }}</title>
</head>
<body style="margin:0;padding:0;width:100%;background-color:${EMAIL_COLORS.page};-webkit-text-size-adjust:100%;">
<div style="display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;font-size:1px;line-height:1px;color:${EMAIL_COLORS.page};mso-hide:all;">{{ preheader }}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;background-color:${EMAIL_COLORS.page};">
<tr>
<td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background-color:${EMAIL_COLORS.card};">
<tr>
<td align="center" style="padding:32px 24px 8px 24px;font-family:{{ fontFamily }};font-size:22px;line-height:1.3;letter-spacing:2px;color:${EMAIL_COLORS.ink};">{{ brandName }}</td>
</tr>
<tr>
<td style="padding:16px 24px 24px 24px;font-family:{{ fontFamily }};font-size:16px;line-height:1.7;color:${EMAIL_COLORS.body};">
{% block content %}{% endblock %}
</td>
</tr>
<tr>
<td align="center" style="padding:20px 24px 28px 24px;border-top:1px solid ${EMAIL_COLORS.rule};font-family:{{ fontFamily }};font-size:13px;line-height:1.6;color:${EMAIL_COLORS.muted};">
${footer}
</td>
</tr>
</table>
</td>
</tr>
</table>
</body>
</html>
`;
}

/** The text version of htmlEmailLayout: brand, content, then `footer` after a signature separator. */
export function textEmailLayout(footer: string): string {
  return `{{ brandName }}

{% block content %}{% endblock %}

--
${footer}
`;
}

// The brand's postal address closes every marketing email (CAN-SPAM), after the way out.
function htmlLayout(copy: LayoutCopy): string {
  return htmlEmailLayout(`<p style="margin:0 0 4px 0;">${copy.footerReason}</p>
<a href="{{ unsubscribeUrl }}" style="display:inline-block;padding:12px 8px;color:${EMAIL_COLORS.muted};text-decoration:underline;">${copy.unsubscribe}</a>
{% if postalAddress.size > 0 %}<p style="margin:8px 0 0 0;font-size:12px;">{{ brandName }}<br>{% for line in postalAddress %}{{ line }}{% unless forloop.last %}<br>{% endunless %}{% endfor %}</p>{% endif %}`);
}

function textLayout(copy: LayoutCopy): string {
  return textEmailLayout(`${copy.footerReason}
${copy.unsubscribe}${copy.colon}{{ unsubscribeUrl }}
{% if postalAddress.size > 0 %}
{{ brandName }}
{% for line in postalAddress %}{{ line }}
{% endfor %}{% endif %}`);
}

/**
 * The products of an email, one block each: the picture and the name link to the product's page
 * when the products export gives them, the price under the name; without them, the name alone.
 */
function htmlProducts(copy: LayoutCopy): string {
  const cell = `border-bottom:1px solid ${EMAIL_COLORS.rule};background-color:${EMAIL_COLORS.highlight};`;
  return `{% if products.size > 0 %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;margin:0 0 16px 0;">
{% for p in products %}<tr>
<td style="padding:0;${cell}">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;">
<tr>
{% if p.imageUrl %}<td width="96" valign="top" style="width:96px;padding:12px 0 12px 12px;">{% if p.url %}<a href="{{ p.url }}">{% endif %}<img src="{{ p.imageUrl }}" width="84" alt="{{ p.name }}" style="display:block;width:84px;max-width:84px;height:auto;border:0;">{% if p.url %}</a>{% endif %}</td>
{% endif %}<td valign="top" style="padding:12px 16px;">
<strong style="color:${EMAIL_COLORS.ink};">{% if p.url %}<a href="{{ p.url }}" style="color:${EMAIL_COLORS.ink};text-decoration:none;">{{ p.name }}</a>{% else %}{{ p.name }}{% endif %}</strong>
{% if p.price %}<br><span style="font-size:15px;color:${EMAIL_COLORS.ink};">{{ p.price }}</span>{% endif %}
{% if p.runOutDate %}<br><span style="font-size:14px;color:${EMAIL_COLORS.muted};">${copy.runsOut}</span>{% endif %}
{% if p.url %}<br><a href="{{ p.url }}" style="display:inline-block;padding:8px 0 0 0;font-size:14px;color:${EMAIL_COLORS.ink};text-decoration:underline;">${copy.viewProduct}</a>{% endif %}
</td>
</tr>
</table>
</td>
</tr>
{% endfor %}</table>{% endif %}`;
}

function textProducts(copy: LayoutCopy, runsOutAround: [string, string]): string {
  // The blank line after the list keeps what follows (the offer) from reading as one more item.
  return `{% for p in products %}- {{ p.name }}{% if p.price %}${copy.comma}{{ p.price }}{% endif %}{% if p.runOutDate %}${runsOutAround[0]}{{ p.runOutDate }}${runsOutAround[1]}{% endif %}
{% if p.url %}  ${copy.viewProduct}${copy.colon}{{ p.url }}
{% endif %}{% endfor %}{% if products.size > 0 %}
{% endif %}`;
}

const paragraph = `margin:0 0 16px 0;`;

/** A personal note's offer of service: the advisor introducing themselves, or the client care team (the welcome, the first purchase thank-you). */
const ADVISOR_INTRO: Record<'en' | 'zh-CN', string> = {
  en: `{% if fromAdvisor %}I am {{ advisorName }}, and I will be your personal advisor. Whenever you would like advice, a private appointment or a first look at new arrivals, simply reply to this email and I will take care of it myself.{% else %}Our client care team is here for you: whenever you would like advice, a private appointment or a first look at new arrivals, simply reply to this email and we will take care of it.{% endif %}`,
  'zh-CN': `{% if fromAdvisor %}我是{{ advisorName }}，您的专属顾问。无论您需要搭配建议、预约私享服务，还是想抢先了解新品，只需回复这封邮件，我会亲自为您安排。{% else %}我们的客户关怀团队随时为您服务：无论您需要搭配建议、预约私享服务，还是想抢先了解新品，只需回复这封邮件，我们会为您妥善安排。{% endif %}`,
};

/** The offer's framed box, for an offer without a code (a gift with the next order). */
function giftBox(copy: string): string {
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;margin:8px 0 16px 0;">
<tr>
<td align="center" style="padding:20px 16px;border:1px dashed ${EMAIL_COLORS.ink};background-color:${EMAIL_COLORS.highlight};">
<p style="margin:0;font-size:16px;color:${EMAIL_COLORS.ink};">${copy}</p>
</td>
</tr>
</table>`;
}

/** Partials for the HTML engine, by name. */
export const HTML_PARTIALS: Record<string, string> = {
  'layout/en': htmlLayout(LAYOUT_COPY.en),
  'advisor-intro/en': ADVISOR_INTRO.en,
  'advisor-intro/zh-CN': ADVISOR_INTRO['zh-CN'],
  'layout/zh-CN': htmlLayout(LAYOUT_COPY['zh-CN']),

  'greeting/en': `<p style="${paragraph}">{% if firstName %}Dear {{ firstName }},{% else %}Dear client,{% endif %}</p>`,
  'greeting/zh-CN': `<p style="${paragraph}">{% if firstName %}亲爱的{{ firstName }}：{% else %}尊敬的顾客：{% endif %}</p>`,

  // Large tap target: 14px + 20px line + 14px = 48px tall, full-width on narrow screens.
  button: `{% if shopUrl %}<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:24px auto;">
<tr>
<td align="center" bgcolor="${EMAIL_COLORS.ink}" style="border-radius:4px;background-color:${EMAIL_COLORS.ink};">
<a href="{{ shopUrl }}" style="display:inline-block;padding:14px 32px;font-family:{{ fontFamily }};font-size:16px;line-height:20px;color:#ffffff;text-decoration:none;border-radius:4px;">{{ buttonLabel }}</a>
</td>
</tr>
</table>{% endif %}`,

  'products/en': htmlProducts(LAYOUT_COPY.en),
  'products/zh-CN': htmlProducts(LAYOUT_COPY['zh-CN']),

  // The offer block: never shown to a personal (VIC / advisor) email, which carries no discount.
  'offer/en': `{% if showCoupon %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;margin:8px 0 16px 0;">
<tr>
<td align="center" style="padding:20px 16px;border:1px dashed ${EMAIL_COLORS.ink};background-color:${EMAIL_COLORS.highlight};">
<p style="margin:0 0 8px 0;font-size:16px;color:${EMAIL_COLORS.ink};">{% if freeShipping and discountPercent %}Free shipping and {{ discountPercent }}% off your next order{% elsif freeShipping %}Free shipping on your next order{% elsif discountPercent %}{{ discountPercent }}% off your next order{% else %}A gift on your next order{% endif %}</p>
{% if couponCode %}<p style="margin:0;font-size:20px;letter-spacing:2px;color:${EMAIL_COLORS.ink};">Code: <strong>{{ couponCode }}</strong></p>{% endif %}
</td>
</tr>
</table>{% endif %}{% if giftWithOrder %}${giftBox('A gift from us will come with your next order. There is no code to enter: we add it for you.')}{% endif %}{% if sample %}<p style="${paragraph}">A sample of something new will be waiting in your next order, with our compliments.</p>{% endif %}`,
  'offer/zh-CN': `{% if showCoupon %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;margin:8px 0 16px 0;">
<tr>
<td align="center" style="padding:20px 16px;border:1px dashed ${EMAIL_COLORS.ink};background-color:${EMAIL_COLORS.highlight};">
<p style="margin:0 0 8px 0;font-size:16px;color:${EMAIL_COLORS.ink};">{% if freeShipping and discountPercent %}下次订单免运费，并享 {{ discountPercent }}% 优惠{% elsif freeShipping %}下次订单免运费{% elsif discountPercent %}下次订单享 {{ discountPercent }}% 优惠{% else %}下次订单将附赠一份礼物{% endif %}</p>
{% if couponCode %}<p style="margin:0;font-size:20px;letter-spacing:2px;color:${EMAIL_COLORS.ink};">优惠码：<strong>{{ couponCode }}</strong></p>{% endif %}
</td>
</tr>
</table>{% endif %}{% if giftWithOrder %}${giftBox('下次订购时，我们将随单为您附上一份礼物，无需输入优惠码。')}{% endif %}{% if sample %}<p style="${paragraph}">您的下一份订单中将附赠一份新品小样，敬请品鉴。</p>{% endif %}`,

  // A note signed by a person comes from a real, named advisor; without one, from the client care team.
  'signature/en': `<p style="margin:24px 0 0 0;">{% if fromAdvisor %}Warm regards,<br>{{ advisorName }}<br>{% if advisorSignature %}{{ advisorSignature }}<br>{% endif %}{{ brandName }}{% elsif personal %}Warm regards,<br>The {{ brandName }} client care team{% else %}With our thanks,<br>The {{ brandName }} team{% endif %}</p>`,
  'signature/zh-CN': `<p style="margin:24px 0 0 0;">{% if fromAdvisor %}此致<br>{{ advisorName }}<br>{% if advisorSignature %}{{ advisorSignature }}<br>{{ brandName }}{% else %}{{ brandName }}专属顾问{% endif %}{% elsif personal %}此致<br>{{ brandName }}客户关怀团队{% else %}感谢您的支持<br>{{ brandName }}团队{% endif %}</p>`,
};

/** Partials for the text engine, by name (same names as the HTML ones). */
export const TEXT_PARTIALS: Record<string, string> = {
  'layout/en': textLayout(LAYOUT_COPY.en),
  'advisor-intro/en': ADVISOR_INTRO.en,
  'advisor-intro/zh-CN': ADVISOR_INTRO['zh-CN'],
  'layout/zh-CN': textLayout(LAYOUT_COPY['zh-CN']),

  'greeting/en': `{% if firstName %}Dear {{ firstName }},{% else %}Dear client,{% endif %}`,
  'greeting/zh-CN': `{% if firstName %}亲爱的{{ firstName }}：{% else %}尊敬的顾客：{% endif %}`,

  button: `{% if shopUrl %}{{ buttonLabel }}{% if locale == 'zh-CN' %}：{% else %}: {% endif %}{{ shopUrl }}{% endif %}`,

  'products/en': textProducts(LAYOUT_COPY.en, [' (runs out around ', ')']),
  'products/zh-CN': textProducts(LAYOUT_COPY['zh-CN'], ['（预计', '左右用完）']),

  'offer/en': `{% if showCoupon %}{% if freeShipping and discountPercent %}Free shipping and {{ discountPercent }}% off your next order{% elsif freeShipping %}Free shipping on your next order{% elsif discountPercent %}{{ discountPercent }}% off your next order{% else %}A gift on your next order{% endif %}{% if couponCode %} with the code {{ couponCode }}{% endif %}.
{% endif %}{% if giftWithOrder %}A gift from us will come with your next order. There is no code to enter: we add it for you.
{% endif %}{% if sample %}A sample of something new will be waiting in your next order, with our compliments.
{% endif %}`,
  'offer/zh-CN': `{% if showCoupon %}{% if freeShipping and discountPercent %}下次订单免运费，并享 {{ discountPercent }}% 优惠{% elsif freeShipping %}下次订单免运费{% elsif discountPercent %}下次订单享 {{ discountPercent }}% 优惠{% else %}下次订单将附赠一份礼物{% endif %}{% if couponCode %}，优惠码：{{ couponCode }}{% endif %}。
{% endif %}{% if giftWithOrder %}下次订购时，我们将随单为您附上一份礼物，无需输入优惠码。
{% endif %}{% if sample %}您的下一份订单中将附赠一份新品小样，敬请品鉴。
{% endif %}`,

  'signature/en': `{% if fromAdvisor %}Warm regards,
{{ advisorName }}
{% if advisorSignature %}{{ advisorSignature }}
{% endif %}{{ brandName }}{% elsif personal %}Warm regards,
The {{ brandName }} client care team{% else %}With our thanks,
The {{ brandName }} team{% endif %}`,
  'signature/zh-CN': `{% if fromAdvisor %}此致
{{ advisorName }}
{% if advisorSignature %}{{ advisorSignature }}
{{ brandName }}{% else %}{{ brandName }}专属顾问{% endif %}{% elsif personal %}此致
{{ brandName }}客户关怀团队{% else %}感谢您的支持
{{ brandName }}团队{% endif %}`,
};
