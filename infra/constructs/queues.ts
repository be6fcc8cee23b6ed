import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge } from '#infra/nag.ts';

/**
 * A dead-letter queue for a scheduler target or a Lambda's failed asynchronous invocations (its
 * dead-letter queue, or its on-failure destination): encrypted, TLS only, messages kept the SQS
 * maximum of 14 days. The alarms watch its depth.
 */
export function deadLetterQueue(scope: Construct, id: string, purpose: string, usedBy: 'scheduler' | 'lambda' | 'lambda-on-failure'): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  if (usedBy !== 'lambda') {
    // cdk-nag recognises a Lambda's DeadLetterConfig and SQS redrive DLQs, not EventBridge Scheduler's or a Lambda on-failure destination.
    acknowledge(queue, 'SQS3', `This queue is itself a dead-letter queue (${purpose}); a DLQ of a DLQ would only move the problem.`);
  }
  return queue;
}
