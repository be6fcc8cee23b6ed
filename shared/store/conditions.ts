import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** A conditional write that DynamoDB refused because its condition did not hold (by class, or by name from another SDK copy). */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === 'ConditionalCheckFailedException');
}

/** The per-item reasons of a cancelled transaction (TransactWriteItems), in its items' order; undefined for any other error. */
export function cancellationReasons(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as Error & { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return (reasons ?? []).map((r) => r.Code);
}
