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
  return value;
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
