import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { AwsClients } from '#shared/aws/clients.ts';

/**
 * An SES that refuses some emails as AWS would, and sends the others through the emulator's real
 * client: for scenarios of throttling, a spent quota or a rejected address, where nothing else is
 * mocked.
 */

/**
 * An error as the SDK throws it for an answer of AWS: its `name` is the error code, and
 * `$metadata.httpStatusCode` the answer's status, given only when the test needs it (the mailer's
 * classification reads it: a 400 "Daily message quota exceeded." is a spent quota).
 */
export function awsError(name: string, message: string, httpStatusCode?: number): Error {
  return Object.assign(new Error(message), { name }, httpStatusCode === undefined ? {} : { $metadata: { httpStatusCode } });
}

/** SES throttling a send ("Maximum sending rate exceeded."), without a status. */
export const maxSendRateExceeded = (): Error => awsError('TooManyRequestsException', 'Maximum sending rate exceeded.');

/**
 * What SES answers every request once the identity's default configuration set is deleted (SES
 * Developer Guide): the request refused, not the recipient.
 */
export const configurationSetMissing = (): Error =>
  Object.assign(awsError('BadRequestException', 'Configuration set <clientele-prod-events> does not exist.', 400), { $fault: 'client' });

/** Whether a SendEmail goes to `address` (exactly as written). */
export const addressedTo = (command: SendEmailCommand, address: string): boolean => command.input.Destination?.ToAddresses?.includes(address) ?? false;

/**
 * Decides each SendEmail: the error to refuse it with, or undefined to send it. `call` counts the
 * SendEmail calls from 1 (retries included).
 */
export type SesRefusal = (command: SendEmailCommand, call: number) => Error | undefined;

export type RefusingSes = AwsClients['ses'] & {
  /** The SendEmail calls it received so far, refused or sent. */
  readonly sendEmailCalls: number;
};

/** `real`, with each call rejected with the error `refusal` returns for it, or passed on to `real`. */
function refusingCalls(real: AwsClients['ses'], refusal: (command: unknown) => Error | undefined): AwsClients['ses'] {
  const send = real.send.bind(real) as (...args: unknown[]) => Promise<unknown>;
  const ses = Object.create(real) as AwsClients['ses'];
  // The client's send has one overload per command, which no wrapper can spell: it takes any call and
  // passes on every one it does not refuse as it came, so the real client's types still hold.
  ses.send = ((command: unknown, ...rest: unknown[]) => {
    const error = refusal(command);
    return error ? Promise.reject(error) : send(command, ...rest);
  }) as AwsClients['ses']['send'];
  return ses;
}

/**
 * `real`, with each SendEmail first put to `refuse`: it rejects with the error `refuse` returns, or
 * goes to `real`. Every other command (GetAccount...) goes to `real` untouched. Usable as the
 * clients' SES (it is `real` for everything else) or as a mailer's sender.
 */
export function sesRefusing(real: AwsClients['ses'], refuse: SesRefusal): RefusingSes {
  let calls = 0;
  const ses = refusingCalls(real, (command) => (command instanceof SendEmailCommand ? refuse(command, ++calls) : undefined));
  return Object.defineProperty(ses, 'sendEmailCalls', { get: () => calls, enumerable: true }) as RefusingSes;
}

/**
 * `real`, refusing every call with `error()`, GetAccount included: SES refusing the requests
 * themselves (the run then sends at the configured rate, the account unread).
 */
export function sesRefusingEveryCall(real: AwsClients['ses'], error: () => Error): AwsClients['ses'] {
  return refusingCalls(real, () => error());
}
