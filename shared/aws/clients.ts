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

/** Emulators need fixed credentials (s3rver insists on S3RVER); real AWS uses the default provider chain. */
function emulatorCredentials(endpoint: string | undefined) {
  return endpoint ? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } : undefined;
}

export function createS3Client(config: Config): S3Client {
  const endpoint = config.endpoints.s3;
  return new S3Client({
    region: config.endpoints.region,
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

export function createDynamoDbClient(config: Config): DynamoDBClient {
  const endpoint = config.endpoints.dynamodb;
  return new DynamoDBClient({
    region: config.endpoints.region,
    maxAttempts: 8,
    ...(endpoint ? { endpoint, credentials: emulatorCredentials(endpoint) } : {}),
  });
}

export function createSesClient(config: Config): SESv2Client {
  const endpoint = config.endpoints.ses;
  return new SESv2Client({
    region: config.endpoints.region,
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
      marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
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
