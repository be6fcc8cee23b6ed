import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { isIsoDate } from '#shared/time.ts';

/**
 * Parsers of option values, run by commander as it reads the command line: a value out of its
 * bounds stops there with commander's one-line message naming the option, and the usage exit
 * code (2), before any command code runs.
 */

/** `clientele status`: at most 100 nights (one query of the runs table) and two weeks of the sender's hours. */
export const STATUS_MAX_NIGHTS = 100;
export const STATUS_MAX_HOURS = 24 * 14;

export function parseDate(value: string): string {
  if (!isIsoDate(value)) throw new InvalidArgumentError('expected a calendar date YYYY-MM-DD');
  return value;
}

export function parsePositiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return parsed;
}

export function parseNonNegativeInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return parsed;
}

/** A whole number from `min` to `max` (both included). */
export function parseIntBetween(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return parsed;
  };
}

export function parseRate(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw new InvalidArgumentError('expected a rate between 0 and 1, e.g. 0.1');
  return parsed;
}

/** A name or path that must not be empty (`--stack ""` would otherwise fall back to another target). */
export function parseNonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a value, not an empty string');
  return value;
}

/** An email address (`send-test --to`), checked as the command's own schema checks it. */
export function parseEmailAddress(value: string): string {
  if (!z.email().safeParse(value).success) throw new InvalidArgumentError('expected an email address, e.g. crm@your-brand.com');
  return value;
}
