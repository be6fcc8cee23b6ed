import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, vi } from 'vitest';
import type { SecretAccess } from './deployed-role.ts';

/**
 * A stand-in for the AWS Parameters and Secrets Lambda Extension, the local HTTP cache a handler
 * reads its secrets through (readSecret). No emulator ships one, so a few lines answer like it:
 * the secret's current and (optionally) previous versions, to callers with the session token.
 */

export interface SecretVersions {
  arn: string;
  current: string;
  previous?: string;
}

/** The function whose extension this is (deployed-role.ts): whether it has one, and may read the secret. */
export interface SecretReader {
  secretAccess(arn: string): SecretAccess;
}

export interface SecretsExtension {
  /** How many reads the handler made. */
  reads: () => number;
}

const SESSION_TOKEN = 'session';

/**
 * Serves `secret` on a free port while this test file runs and points the environment at it
 * (PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, AWS_SESSION_TOKEN). Call it while the file loads,
 * before the beforeAll that imports the handler. With `readBy`, it serves as that deployed
 * function's extension would: a function without the layer has none to answer (the connection is
 * dropped), one whose role may not read the secret gets Secrets Manager's refusal.
 */
export function fakeSecretsExtension(secret: SecretVersions, options: { readBy?: SecretReader } = {}): SecretsExtension {
  let reads = 0;
  const server = createServer((request, response) => {
    reads++;
    const url = new URL(request.url ?? '/', 'http://localhost');
    const access = options.readBy?.secretAccess(url.searchParams.get('secretId') ?? '') ?? 'allowed';
    if (access === 'no-extension') {
      request.socket.destroy();
      return;
    }
    if (access === 'denied') {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'AccessDeniedException: not authorized to perform: secretsmanager:GetSecretValue' }));
      return;
    }
    const stage = url.searchParams.get('versionStage') ?? 'AWSCURRENT';
    const value = stage === 'AWSPREVIOUS' ? secret.previous : secret.current;
    const ok =
      url.pathname === '/secretsmanager/get' &&
      url.searchParams.get('secretId') === secret.arn &&
      request.headers['x-aws-parameters-secrets-token'] === SESSION_TOKEN &&
      value !== undefined;
    response.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
    response.end(JSON.stringify(ok ? { SecretString: value } : { message: 'ResourceNotFoundException: secret or version not found' }));
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    vi.stubEnv('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', String((server.address() as AddressInfo).port));
    vi.stubEnv('AWS_SESSION_TOKEN', SESSION_TOKEN);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { reads: () => reads };
}
