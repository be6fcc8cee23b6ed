import type { AwsClients } from '#shared/aws/clients.ts';

/**
 * Loses the answer of the first DynamoDB call that `matches`, once, after DynamoDB applied it: a
 * connection reset on the way back. Added inside the SDK's retry loop (the deserialize step), so the
 * client retries the call as it would in AWS, and the retry meets what its own first attempt wrote.
 * Returns whether an answer was lost so far.
 */
export function loseOneDynamoDbAnswer(clients: AwsClients, matches: (commandName: string, input: Record<string, unknown>) => boolean): () => boolean {
  let lost = false;
  clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const output = await next(args);
      const input: Record<string, unknown> = { ...args.input };
      if (!lost && matches(context.commandName ?? '', input)) {
        lost = true;
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }
      return output;
    },
    { step: 'deserialize', name: 'loseOneDynamoDbAnswer' },
  );
  return () => lost;
}
