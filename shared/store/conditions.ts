import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** A conditional write that DynamoDB refused because its condition did not hold (by class, or by name from another SDK copy). */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === 'ConditionalCheckFailedException');
}
