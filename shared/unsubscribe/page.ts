import type { TemplateLocale } from '#shared/templates/locale.ts';

/**
 * The small HTML pages of the unsubscribe endpoint: the confirmation (a button that POSTs, so a
 * link scanner fetching the URL unsubscribes nobody), the result, and the errors. Self-contained,
 * inline styles, readable on a phone.
 */

export type PageKind = 'confirm' | 'done' | 'missing-token' | 'invalid-token' | 'unknown-client' | 'method' | 'bad-request' | 'error';

interface PageCopy {
  title: string;
  message: string;
  button?: string;
}

type Copy = Record<PageKind, (brand: string) => PageCopy>;

const COPY: Record<TemplateLocale, Copy> = {
  en: {
    confirm: (brand) => ({
      title: `Unsubscribe from ${brand} emails?`,
      message: 'Press the button below and we will stop sending you marketing emails.',
      button: 'Unsubscribe',
    }),
    done: (brand) => ({
      title: 'You are unsubscribed',
      message: `You will no longer receive marketing emails from ${brand}. An email already on its way may still arrive.`,
    }),
    'missing-token': () => ({
      title: 'This unsubscribe link is incomplete',
      message: 'Please open the full link from the email, or reply to the email and we will unsubscribe you.',
    }),
    'invalid-token': () => ({
      title: 'This unsubscribe link is not valid',
      message: 'The link may have been altered. Please use the link exactly as it appears in the email, or reply to the email.',
    }),
    'unknown-client': () => ({
      title: 'We could not find your subscription',
      message: 'This link does not match any client. If you still receive our emails, please reply to one and tell us.',
    }),
    method: () => ({ title: 'Method not allowed', message: 'This address only accepts GET and POST requests.' }),
    'bad-request': () => ({ title: 'Bad request', message: 'The request could not be understood.' }),
    error: () => ({ title: 'Something went wrong', message: 'Please try again in a few minutes.' }),
  },
  'zh-CN': {
    confirm: (brand) => ({
      title: `确认退订${brand}的邮件？`,
      message: '点击下方按钮，我们将不再向您发送营销邮件。',
      button: '确认退订',
    }),
    done: (brand) => ({
      title: '您已成功退订',
      message: `您将不再收到${brand}的营销邮件。已在途中的邮件仍可能送达。`,
    }),
    'missing-token': () => ({
      title: '退订链接不完整',
      message: '请打开邮件中的完整链接，或直接回复邮件，我们会为您办理退订。',
    }),
    'invalid-token': () => ({
      title: '退订链接无效',
      message: '链接可能已被修改。请使用邮件中的原始链接，或直接回复邮件。',
    }),
    'unknown-client': () => ({
      title: '未找到您的订阅信息',
      message: '该链接没有对应的顾客。如您仍收到我们的邮件，请直接回复告知我们。',
    }),
    method: () => ({ title: '不支持的请求方式', message: '此地址仅接受 GET 和 POST 请求。' }),
    'bad-request': () => ({ title: '请求无效', message: '无法识别此请求。' }),
    error: () => ({ title: '出错了', message: '请稍后再试。' }),
  },
};

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export interface PageOptions {
  locale: TemplateLocale;
  brandName: string;
  /** The token, for the confirmation form (posted back to this same URL). */
  token?: string;
}

export function pageTitle(kind: PageKind, locale: TemplateLocale, brandName: string): string {
  return COPY[locale][kind](brandName).title;
}

/** A form that POSTs `fields` back to this URL with the token: one large button (the link endpoints' confirmation pages). */
export function postForm(token: string, fields: Record<string, string>, button: string): string {
  const hidden = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  return `<form method="post" action="?t=${encodeURIComponent(token)}">
${hidden}
<button type="submit" style="display:block;width:100%;min-height:48px;padding:14px 24px;border:0;border-radius:4px;background:#1a1a1a;color:#ffffff;font:inherit;font-size:17px;cursor:pointer;">${escapeHtml(button)}</button>
</form>`;
}

export function renderPage(kind: PageKind, options: PageOptions): string {
  const copy = COPY[options.locale][kind](options.brandName);
  const form = kind === 'confirm' && options.token && copy.button ? postForm(options.token, { 'List-Unsubscribe': 'One-Click', via: 'page' }, copy.button) : '';
  return pageDocument({ locale: options.locale, brandName: options.brandName, title: copy.title, message: copy.message, form });
}

/** The page every link endpoint answers with: brand, title, message and an optional form (trusted HTML). */
export function pageDocument(page: { locale: TemplateLocale; brandName: string; title: string; message: string; form?: string }): string {
  const font = page.locale === 'zh-CN' ? 'PingFang SC,Hiragino Sans GB,Microsoft YaHei,sans-serif' : 'Helvetica,Arial,sans-serif';
  const options = { locale: page.locale, brandName: page.brandName };
  const copy = { title: page.title, message: page.message };
  const form = page.form ?? '';
  return `<!DOCTYPE html>
<html lang="${options.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(copy.title)}</title>
</head>
<body style="margin:0;padding:24px 16px;background:#f4f1ec;font-family:${font};color:#333333;">
<main style="max-width:480px;margin:0 auto;padding:32px 24px;background:#ffffff;">
<p style="margin:0 0 24px 0;text-align:center;letter-spacing:2px;font-size:18px;color:#1a1a1a;">${escapeHtml(options.brandName)}</p>
<h1 style="margin:0 0 16px 0;font-size:22px;line-height:1.3;color:#1a1a1a;">${escapeHtml(copy.title)}</h1>
<p style="margin:0 0 24px 0;font-size:16px;line-height:1.6;">${escapeHtml(copy.message)}</p>
${form}
</main>
</body>
</html>
`;
}
