/** Shares (0..1) as the percentages reports, emails and refusals show. */

/** `share` as a percentage with `digits` decimals: 0.1234 → "12.3%" (rates, conversion, uplift's bases). */
export function percentText(share: number, digits = 1): string {
  return `${(share * 100).toFixed(digits)}%`;
}

/** `share` as a configured threshold reads, to two decimals without trailing zeros: 0.05 → "5%", 0.125 → "12.5%". */
export function thresholdText(share: number): string {
  return `${Number((share * 100).toFixed(2))}%`;
}
