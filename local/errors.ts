import { ClienteleError } from '#shared/errors.ts';

/** A mistake in how a command was called (a missing folder, a bad combination of options). */
export class UsageError extends ClienteleError {
  override name = 'UsageError';
  constructor(message: string, options?: ErrorOptions) {
    super('USAGE', message, options);
  }
}
