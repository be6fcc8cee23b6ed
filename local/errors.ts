/** A mistake in how a command was called (a missing folder, a bad combination of options). */
export class UsageError extends Error {
  override name = 'UsageError';
}
