import { createHash, randomUUID } from 'node:crypto';

/**
 * Structured JSON logging. Every line carries the run id so a night can be followed across
 * functions; personal data never goes in a log line whole (see maskEmail / pseudonym).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Log {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Log;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLogOptions {
  level?: LogLevel;
  /** Where lines go; stderr by default so stdout stays free for command output. */
  write?: (line: string) => void;
  fields?: LogFields;
  now?: () => Date;
}

export function jsonLog(options: JsonLogOptions = {}): Log {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = options.fields ?? {};
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return;
    write(JSON.stringify({ level, time: now().toISOString(), message, ...base, ...fields }, errorReplacer));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => jsonLog({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (library callers that do not want logs). */
export const silentLog: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLog,
};

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === 'string') return maskEmailsIn(value);
  return value;
}

/**
 * Anything shaped like an email address, wherever it sits in a line (a customer id that is an
 * address, an error's message): the rule is never a whole address in a log, and a caller cannot
 * know every value that may hold one. Masked as maskEmail does (idempotent: a masked one stays).
 */
const EMAIL_SHAPED = /[^\s@"<>(),;:[\]]+@[^\s@"<>(),;:[\]]+\.[^\s@"<>(),;:[\]]+/g;

export function maskEmailsIn(text: string): string {
  return text.includes('@') ? text.replace(EMAIL_SHAPED, (address) => maskEmail(address) as string) : text;
}

/** `fields` with every email-shaped text in them masked (maskEmailsIn), for a logger that formats lines itself. */
export function maskEmailsInFields(fields: LogFields): LogFields {
  return maskDeep(fields, 0) as LogFields;
}

function maskDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return maskEmailsIn(value);
  // Deeper than a log line's fields go: left as they are rather than walked without end.
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const message = maskEmailsIn(value.message);
    const stack = value.stack === undefined ? undefined : maskEmailsIn(value.stack);
    if (message === value.message && stack === value.stack) return value;
    const masked = new Error(message);
    masked.name = value.name;
    if (stack !== undefined) masked.stack = stack;
    return masked;
  }
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskDeep(item, depth + 1)]));
}

export function newRunId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** "jane.doe@example.com" → "j***@example.com": enough to recognise, not enough to use. */
export function maskEmail(email: string | undefined): string | undefined {
  if (!email) return email;
  const at = email.indexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

/** A stable pseudonym for a personal value, for logs that must correlate without revealing it. */
export function pseudonym(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 12);
}
