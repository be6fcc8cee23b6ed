/**
 * Keys a plain object already answers (Object.prototype's members and its "__proto__" accessor):
 * the names a dictionary keyed by text from an export, a roster or a config must take as
 * ordinary keys.
 */
export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const;
