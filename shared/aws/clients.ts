import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Config } from '#shared/config.ts';

/**
 * AWS clients built from the config's endpoints: in Lambda the endpoints are unset and the SDK
 * finds the service; locally they point at the emulators. Same code path either way.
 */
export interface AwsClients {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  ses: SESv2Client;
}

/**
 * How long a call may wait, in ms: to connect, and from sending the request to the answer's
 * headers (not a streamed body: an export is read for minutes). The SDK sets neither by default,
 * so a service that accepts a connection and never answers held a run until Lambda killed it:
 * an hourly send stuck on one email lost the hour. With them a stuck call fails as a
 * 'TimeoutError' (shared/aws/errors.ts): an SES send is then maybe-sent, recorded and never
 * resent; a DynamoDB or S3 call is retried by the SDK, then fails the run, which a rerun resumes.
 * `answerMs` also bounds a silence in the body once the headers are in (no byte for that long):
 * S3 stalling in an object's body failed nothing and held the night or the hour the same way.
 *  - SES answers a SendEmail in well under a second; 30 s is an outage, not a slow answer.
 *  - DynamoDB answers a batch or a page in milliseconds; past 10 s the SDK retries.
 *  - S3's puts carry work objects of up to tens of MB (line hashes, measures): 2 minutes.
 */
export interface CallTimeouts {
  connectionMs: number;
  answerMs: number;
}

export const SES_TIMEOUTS: CallTimeouts = { connectionMs: 5_000, answerMs: 30_000 };
export const DYNAMODB_TIMEOUTS: CallTimeouts = { connectionMs: 5_000, answerMs: 10_000 };
export const S3_TIMEOUTS: CallTimeouts = { connectionMs: 5_000, answerMs: 120_000 };

function requestHandler(timeouts: CallTimeouts) {
  return {
    connectionTimeout: timeouts.connectionMs,
    // throwOnRequestTimeout: without it @smithy/node-http-handler only logs a warning and waits on.
    requestTimeout: timeouts.answerMs,
    throwOnRequestTimeout: true,
    // requestTimeout is cleared once the headers arrive; socketTimeout is the socket's idle timeout,
    // still armed while the body streams: it fails a body that stops (the stream errors with a
    // 'TimeoutError'), never one that flows, however long it takes.
    socketTimeout: timeouts.answerMs,
  };
}

/** Emulators need fixed credentials (s3rver insists on S3RVER); real AWS uses the default provider chain. */
function emulatorCredentials(endpoint: string | undefined) {
  return endpoint ? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } : undefined;
}

export function createS3Client(config: Config, timeouts: CallTimeouts = S3_TIMEOUTS): S3Client {
  const endpoint = config.endpoints.s3;
  return new S3Client({
    region: config.endpoints.region,
    requestHandler: requestHandler(timeouts),
    ...(endpoint
      ? {
          endpoint,
          forcePathStyle: true,
          credentials: emulatorCredentials(endpoint),
          // s3rver knows no flexible checksums; aws-chunked uploads would be stored with their framing.
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
}

export function createDynamoDbClient(config: Config, timeouts: CallTimeouts = DYNAMODB_TIMEOUTS): DynamoDBClient {
  const endpoint = config.endpoints.dynamodb;
  return new DynamoDBClient({
    region: config.endpoints.region,
    requestHandler: requestHandler(timeouts),
    maxAttempts: 8,
    ...(endpoint ? { endpoint, credentials: emulatorCredentials(endpoint) } : {}),
  });
}

export function createSesClient(config: Config, timeouts: CallTimeouts = SES_TIMEOUTS): SESv2Client {
  const endpoint = config.endpoints.ses;
  return new SESv2Client({
    region: config.endpoints.region,
    requestHandler: requestHandler(timeouts),
    // The mailer paces and retries throttling itself; an SDK retry could also resend an email
    // that SES took before a timeout, and SendEmail has no idempotency key.
    maxAttempts: 1,
    ...(endpoint ? { endpoint, credentials: emulatorCredentials(endpoint) } : {}),
  });
}

export function createAwsClients(config: Config): AwsClients {
  const dynamodb = createDynamoDbClient(config);
  return {
    s3: createS3Client(config),
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb, {
      // convertClassInstanceToMap: a map keyed by export text may hold a key "constructor" (a SKU, a
      // store), which the marshaller otherwise takes for a class instance and refuses.
      marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false, convertClassInstanceToMap: true },
    }),
    ses: createSesClient(config),
  };
}

export function destroyAwsClients(clients: AwsClients): void {
  clients.s3.destroy();
  clients.documents.destroy();
  clients.dynamodb.destroy();
  clients.ses.destroy();
}
