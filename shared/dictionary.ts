/**
 * Dictionaries keyed by text from outside (a category, a store, an advisor or campaign id): a
 * plain `{}` inherits Object.prototype, so a key named "constructor" or "toString" reads a
 * built-in function and "__proto__" writes onto the prototype of every object. Pure.
 */

/** An empty dictionary without a prototype: every key is an ordinary entry, a missing one reads undefined. Serialises like `{}`. */
export function emptyDictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** `record[key]` when it is the record's own entry (e.g. one read back with JSON.parse), else undefined. */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A dictionary without a prototype holding `entries` (e.g. Object.entries of one read back with JSON.parse). */
export function dictionaryFrom<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const dictionary = emptyDictionary<T>();
  for (const [key, value] of entries) dictionary[key] = value;
  return dictionary;
}
