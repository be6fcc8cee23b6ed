/** The template locales live in shared/locale.ts (the campaigns pick a template per locale too); re-exported for the templates. */
export { isTemplateLocale, templateLocale, TEMPLATE_LOCALES, type TemplateLocale } from '#shared/locale.ts';
