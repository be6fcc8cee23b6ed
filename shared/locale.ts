/** The locales the templates are written in; every other locale falls back to English. */
export const TEMPLATE_LOCALES = ['zh-CN', 'en'] as const;
export type TemplateLocale = (typeof TEMPLATE_LOCALES)[number];

/** A client's BCP 47 locale to a template locale: any Chinese (zh, zh-CN, zh-Hans-SG, zh_TW) → zh-CN, else en. */
export function templateLocale(locale: string | undefined): TemplateLocale {
  return locale !== undefined && /^zh(?:$|[-_])/i.test(locale.trim()) ? 'zh-CN' : 'en';
}

export function isTemplateLocale(value: string): value is TemplateLocale {
  return (TEMPLATE_LOCALES as readonly string[]).includes(value);
}
