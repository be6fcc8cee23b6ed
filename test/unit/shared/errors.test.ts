import { describe, expect, it } from 'vitest';
import { BatchWriteError } from '#shared/store/batch-writer.ts';
import { ConvergenceError } from '#shared/clv/special.ts';
import { ConfigError } from '#shared/config.ts';
import { InvalidEmailError } from '#shared/delivery/ses-email.ts';
import { SecretError } from '#shared/environment.ts';
import { ClienteleError, isUserFacing, type ErrorCode } from '#shared/errors.ts';
import { ExportError, HandlerFailure } from '#shared/exports/errors.ts';
import { MeasuresCodecError } from '#shared/nightly/measures-codec.ts';
import { NightlyRunError } from '#shared/nightly/run.ts';
import { BeforeImageError } from '#shared/store/night-plans.ts';
import { CampaignRunError } from '#shared/sender/run.ts';
import { TemplateError } from '#shared/templates/render.ts';
import { JavaMissingError } from '#local/aws.ts';
import { UsageError } from '#local/errors.ts';
import { SettingsError } from '#infra/settings.ts';

/** Every error class of the project, as its code throws it, with the code it carries and whether the CLI prints it as a message. */
const ERRORS: [error: ClienteleError, name: string, code: ErrorCode, userFacing: boolean][] = [
  [new UsageError('no such folder'), 'UsageError', 'USAGE', true],
  [new ConfigError('bad timeZone'), 'ConfigError', 'CONFIG_INVALID', true],
  [new SettingsError('bad stage'), 'SettingsError', 'SETTINGS_INVALID', true],
  [ExportError.at('orders.csv', 'not a CSV'), 'ExportError', 'EXPORT_REJECTED', true],
  [new NightlyRunError('an incremental export'), 'NightlyRunError', 'NIGHTLY_RUN_FAILED', true],
  [new BeforeImageError('s3://b/k: truncated or not ours'), 'BeforeImageError', 'NIGHTLY_RUN_FAILED', true],
  [new JavaMissingError('no java'), 'JavaMissingError', 'JAVA_MISSING', true],
  [new SecretError('403', 403), 'SecretError', 'SECRET_UNREADABLE', false],
  [new InvalidEmailError('subject is empty'), 'InvalidEmailError', 'EMAIL_INVALID', false],
  [new TemplateError('unknown template'), 'TemplateError', 'TEMPLATE_INVALID', false],
  [new BatchWriteError('unprocessed items'), 'BatchWriteError', 'BATCH_WRITE_FAILED', false],
  [new MeasuresCodecError('bad magic'), 'MeasuresCodecError', 'MEASURES_CORRUPT', false],
  [new ConvergenceError('2F1 did not converge'), 'ConvergenceError', 'CONVERGENCE_FAILED', false],
  [new HandlerFailure(new RangeError('caller bug')), 'HandlerFailure', 'EXPORT_HANDLER_FAILED', false],
  [new CampaignRunError('circuit breaker open'), 'CampaignRunError', 'CAMPAIGN_RUN_HALTED', true],
];

describe('ClienteleError', () => {
  it.each(ERRORS)('%s is a ClienteleError named %s with code %s (user-facing: %s)', (error, name, code, userFacing) => {
    expect(error).toBeInstanceOf(ClienteleError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(isUserFacing(error)).toBe(userFacing);
    expect(error.stack).toContain(name);
  });

  it('can be thrown as it is, with a code and a cause', () => {
    const cause = new Error('underneath');
    const error = new ClienteleError('EVENT_INVALID', 'Invalid nightly event: scheduledTime: ...', { cause });
    expect(error).toMatchObject({ name: 'ClienteleError', code: 'EVENT_INVALID', cause });
    expect(isUserFacing(error)).toBe(true);
  });

  it('keeps what the subclasses carried before: the export file and line, the secret status, the handler\'s own error', () => {
    const cause = new Error('gunzip failed');
    expect(ExportError.at('s3://b/orders.csv.gz', 'not gzip', { line: 3, cause })).toMatchObject({
      message: 's3://b/orders.csv.gz, line 3: not gzip',
      file: 's3://b/orders.csv.gz',
      line: 3,
      cause,
    });
    expect(new SecretError('not found', 404).status).toBe(404);
    const original = new RangeError('caller bug');
    expect(new HandlerFailure(original).original).toBe(original);
    expect(new TemplateError('render failed', { cause }).cause).toBe(cause);
  });

  it('leaves errors that are not the project\'s to the stack trace', () => {
    expect(isUserFacing(new Error('boom'))).toBe(false);
    expect(isUserFacing(new TypeError('x is undefined'))).toBe(false);
    expect(isUserFacing('a string')).toBe(false);
    expect(isUserFacing(undefined)).toBe(false);
  });
});
