/**
 * The suite's one error type. Every error the project throws on purpose is a ClienteleError
 * (or one of the named subclasses beside the code that throws it: ConfigError, ExportError...),
 * and carries a code that says what went wrong without parsing the message.
 *
 * Each code says who can act on it: 'user' for a problem the person running the command or the
 * deploy fixes from the message alone (a usage, configuration, settings or export problem),
 * printed without a stack trace; 'internal' for a failure of the code or of the platform, where
 * the stack trace is what helps.
 */
const ERROR_CODES = {
  /** A command called wrongly: a missing folder, a bad combination of options, nothing stored yet. */
  USAGE: 'user',
  /** The suite's configuration (a --config file, CLIENTELE_CONFIG, a function's environment) is invalid. */
  CONFIG_INVALID: 'user',
  /** The deployment settings (cdk context "clientele") are invalid. */
  SETTINGS_INVALID: 'user',
  /** An export as a whole cannot be read or has too many rejected rows: nothing was written. */
  EXPORT_REJECTED: 'user',
  /** A nightly run cannot go on (an incremental export where a snapshot is needed, a missing phase). */
  NIGHTLY_RUN_FAILED: 'user',
  /** A night refused before writing: implausible figures against the last completed night, or nights out of order. */
  NIGHT_REFUSED: 'user',
  /** A function's event is malformed (a bad runDate or scheduledTime, an unknown phase). */
  EVENT_INVALID: 'user',
  /** A scheduled invocation reached its function later than the schedule allows (throttling, an outage): refused, the next scheduled run takes over. */
  EVENT_TOO_LATE: 'user',
  /** The local emulators a config names do not answer (the demo or `local up` that started them has stopped). */
  EMULATORS_DOWN: 'user',
  /** Another run held a lease on state this one must rewrite (the address book) past the wait: nothing of it was changed; run again. */
  STATE_BUSY: 'user',
  /** An object of the suite's own state in S3 is not what it wrote (cut, edited by hand, a bad restore): its message names it and says how to repair it. */
  STATE_DAMAGED: 'user',
  /** DynamoDB Local needs Java 17+, and none was found. */
  JAVA_MISSING: 'user',
  /**
   * A campaign run stopped sending: SES unreachable or failing (circuit breaker), or SES refused the
   * account. Its message (and the run's summary) says what to look at; the stack would not.
   */
  CAMPAIGN_RUN_HALTED: 'user',
  /** `clientele send-test`: SES did not take the test email (its message says why). */
  SEND_TEST_FAILED: 'user',
  /** A secret could not be read through the Parameters and Secrets extension. */
  SECRET_UNREADABLE: 'internal',
  /** An email the code built cannot be sent as is (no sendable From, an empty body, a bad header). */
  EMAIL_INVALID: 'internal',
  /** Template data or a template that cannot be rendered. */
  TEMPLATE_INVALID: 'internal',
  /** DynamoDB kept items unprocessed past every retry. */
  BATCH_WRITE_FAILED: 'internal',
  /** A sharded night's measures object is not what its own encoder writes. */
  MEASURES_CORRUPT: 'internal',
  /** A numerical series or optimisation did not reach its tolerance within its budget. */
  CONVERGENCE_FAILED: 'internal',
  /** A caller's row handler threw inside the export reader (carried out, then rethrown as it was). */
  EXPORT_HANDLER_FAILED: 'internal',
  /**
   * A sum of money (minor units) left the range where integers are exact: the amounts that fed
   * it are beyond belief (exports.maxLineTotal too high for the base), not a fault of the code.
   */
  AMOUNT_OVERFLOW: 'user',
} as const satisfies Record<string, 'user' | 'internal'>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `value` is one of the codes above (an error's code read back from elsewhere: a worker thread's message). */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

export class ClienteleError extends Error {
  override name = 'ClienteleError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Whether an error is the user's to fix from its message (printed without a stack trace). */
export function isUserFacing(error: unknown): error is ClienteleError {
  return error instanceof ClienteleError && ERROR_CODES[error.code] === 'user';
}
