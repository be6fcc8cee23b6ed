/** The Liquid sources of one campaign in one locale. */
export interface LocaleSources {
  /** Plain text, one line (whitespace is collapsed after rendering). */
  subject: string;
  /** Plain text shown by inboxes after the subject; hidden in the HTML body. */
  preheader: string;
  /** HTML body, rendered with output escaping; extends `layout/<locale>`. */
  html: string;
  /** Plain-text body, rendered without escaping; extends `layout/<locale>`. */
  text: string;
}
