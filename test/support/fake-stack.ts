import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/**
 * CloudFormation and Secrets Manager have no emulator here: this small HTTP fake answers the two
 * calls `clientele --stack` makes, DescribeStacks (query protocol, XML) and GetSecretValue (JSON
 * 1.1), in the wire formats the SDK parses, so the CLI runs its real SDK clients against it
 * (AWS_ENDPOINT_URL_CLOUDFORMATION and AWS_ENDPOINT_URL_SECRETS_MANAGER). What it answers is set
 * per test: a stack's outputs and secrets, or an AWS error.
 */

/** An error as AWS answers it: its code (ExpiredToken, AccessDenied...), message and HTTP status. */
export interface FakeAwsError {
  code: string;
  message: string;
  status: number;
}

export interface FakeStackState {
  /** Outputs by stack name; a name not listed answers as CloudFormation does for a missing stack. */
  stacks: Record<string, Record<string, string>>;
  /** SecretString by secret ARN. */
  secrets: Record<string, string>;
  /** When set, every CloudFormation call fails with it. */
  cloudFormationError?: FakeAwsError;
  /** When set, every Secrets Manager call fails with it. */
  secretsError?: FakeAwsError;
}

export interface FakeStack {
  state: FakeStackState;
  /** The environment that points the CLI's SDK clients at the fake (with dummy credentials and a region). */
  env: () => Record<string, string>;
  /** The calls received, e.g. 'DescribeStacks Clientele-prod', 'GetSecretValue arn:...'. */
  calls: string[];
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function describeStacksXml(name: string, outputs: Record<string, string>): string {
  const members = Object.entries(outputs)
    .map(([key, value]) => `<member><OutputKey>${escapeXml(key)}</OutputKey><OutputValue>${escapeXml(value)}</OutputValue></member>`)
    .join('');
  return (
    '<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>' +
    `<StackName>${escapeXml(name)}</StackName><StackId>arn:aws:cloudformation:ap-southeast-1:123456789012:stack/${escapeXml(name)}/1</StackId>` +
    `<CreationTime>2026-11-01T00:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${members}</Outputs>` +
    '</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata></DescribeStacksResponse>'
  );
}

const errorXml = (error: FakeAwsError) =>
  `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>${error.code}</Code>` +
  `<Message>${escapeXml(error.message)}</Message></Error><RequestId>fake-1</RequestId></ErrorResponse>`;

const bodyOf = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => resolve(body));
  });

/** Starts the fake for the file (beforeAll) and stops it after (afterAll). */
export function fakeStack(initial: Partial<FakeStackState> = {}): FakeStack {
  const fake: FakeStack = { state: { stacks: {}, secrets: {}, ...initial }, env: () => ({}), calls: [] };
  let server: Server | undefined;
  let url = '';
  fake.env = () => ({
    AWS_ENDPOINT_URL_CLOUDFORMATION: url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
    AWS_ACCESS_KEY_ID: 'fake',
    AWS_SECRET_ACCESS_KEY: 'fake',
    AWS_REGION: 'ap-southeast-1',
  });
  beforeAll(async () => {
    server = createServer((request, response) => {
      void bodyOf(request).then((body) => {
        const target = request.headers['x-amz-target'];
        if (typeof target === 'string' && target.startsWith('secretsmanager.')) {
          response.setHeader('content-type', 'application/x-amz-json-1.1');
          const { SecretId } = JSON.parse(body) as { SecretId: string };
          fake.calls.push(`GetSecretValue ${SecretId}`);
          const secret = fake.state.secrets[SecretId];
          const error = fake.state.secretsError ?? (secret === undefined ? { code: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret.", status: 400 } : undefined);
          if (error !== undefined) {
            response.statusCode = error.status;
            response.end(JSON.stringify({ __type: error.code, message: error.message }));
            return;
          }
          response.end(JSON.stringify({ ARN: SecretId, Name: 'unsubscribe-key', SecretString: secret, VersionStages: ['AWSCURRENT'] }));
          return;
        }
        response.setHeader('content-type', 'text/xml');
        const form = new URLSearchParams(body);
        const name = form.get('StackName') ?? '';
        fake.calls.push(`${form.get('Action') ?? '?'} ${name}`);
        const outputs = fake.state.stacks[name];
        const error = fake.state.cloudFormationError ?? (outputs === undefined ? { code: 'ValidationError', message: `Stack with id ${name} does not exist`, status: 400 } : undefined);
        if (error !== undefined) {
          response.statusCode = error.status;
          response.end(errorXml(error));
          return;
        }
        response.end(describeStacksXml(name, outputs ?? {}));
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });
  return fake;
}
