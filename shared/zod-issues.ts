import type { z } from 'zod';

/**
 * Zod's issues as one line, `path: message; path: message`: the paths and messages only, never
 * the values, which may be addresses or names. `root` names an issue of the whole input; `limit`
 * keeps the first issues of an input that may have many (a manifest listing hundreds of files).
 */
export function issuesText(error: z.ZodError, root = '(root)', limit = Number.POSITIVE_INFINITY): string {
  return error.issues
    .slice(0, limit)
    .map((issue) => `${issue.path.map(String).join('.') || root}: ${issue.message}`)
    .join('; ');
}
