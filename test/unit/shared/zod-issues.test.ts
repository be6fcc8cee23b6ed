import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { issuesText } from '#shared/zod-issues.ts';

const schema = z.strictObject({ email: z.email(), tiers: z.object({ vic: z.number() }).optional(), list: z.array(z.string()).optional() });

function errorOf(input: unknown): z.ZodError {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('expected a failure');
  return result.error;
}

describe('issuesText', () => {
  it('gives each issue as its path and message, never the value read', () => {
    const text = issuesText(errorOf({ email: 'not an address of jane.doe', tiers: { vic: '5000' }, list: ['a', 7] }));
    expect(text).toBe('email: Invalid email address; tiers.vic: Invalid input: expected number, received string; list.1: Invalid input: expected string, received number');
    expect(text).not.toContain('jane.doe');
    expect(text).not.toContain('5000');
  });

  it('names an issue of the whole input by the root given', () => {
    expect(issuesText(errorOf('x'), '(event)')).toBe('(event): Invalid input: expected object, received string');
    expect(issuesText(errorOf({ email: 'a@b.example', extra: 1 }), '(request)')).toBe('(request): Unrecognized key: "extra"');
  });

  it('keeps the first issues only when given a limit', () => {
    const error = errorOf({ email: 1, tiers: 2, list: 3 });
    expect(issuesText(error, '(root)', 2).split('; ')).toHaveLength(2);
    expect(issuesText(error).split('; ')).toHaveLength(3);
  });
});
