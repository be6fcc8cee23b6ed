export {
  createTemplateRenderer,
  formatRunOutDate,
  renderEmail,
  templateView,
  TemplateError,
  type EmailContent,
  type OfferKind,
  type RenderEmail,
  type TemplateData,
  type TemplateView,
} from './render.ts';
export { TEMPLATE_LOCALES, templateLocale, isTemplateLocale, type TemplateLocale } from './locale.ts';
export { TEMPLATE_CATALOG, TEMPLATE_NAMES, type TemplateCatalog, type TemplateName, type LocaleSources } from './catalog.ts';
export { advisorDigestView, formatWeek, renderAdvisorDigest, type AdvisorDigestInput, type AdvisorDigestView } from './advisor-digest.ts';
