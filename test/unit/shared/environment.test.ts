import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '#shared/config.ts';
import {
  configFromEnvironment,
  lambdaEnvironment,
  parseFunctionEnvironment,
  readSecret,
  readUnsubscribeSecrets,
  SecretError,
} from '#shared/environment.ts';

describe('function environments', () => {
  it('reads what the stack sets, with defaults for the Powertools variables', () => {
    const env = parseFunctionEnvironment('ses-events', { CLIENTELE_CONFIG: '{}', PATH: '/usr/bin' });
    expect(env).toEqual({
      CLIENTELE_CONFIG: '{}',
      POWERTOOLS_SERVICE_NAME: 'clientele',
      POWERTOOLS_METRICS_NAMESPACE: 'Clientele',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
  });

  it('names every missing or bad variable, never its value', () => {
    const bad = { CLIENTELE_CONFIG: '{}', UNSUBSCRIBE_SECRET_ARN: '', POWERTOOLS_LOG_LEVEL: 'secret-ish' };
    expect(() => parseFunctionEnvironment('campaigns', bad)).toThrow(ConfigError);
    try {
      parseFunctionEnvironment('campaigns', bad);
    } catch (error) {
      const text = (error as Error).message;
      expect(text).toMatch(/^Invalid campaigns function environment: /);
      for (const name of ['UNSUBSCRIBE_SECRET_ARN', 'POWERTOOLS_LOG_LEVEL']) expect(text).toContain(name);
      expect(text).not.toContain('secret-ish');
    }
  });

  it('requires CLIENTELE_CONFIG: a function without it would use tables that do not exist', () => {
    expect(() => parseFunctionEnvironment('ses-events', {})).toThrow(/CLIENTELE_CONFIG/);
  });

  it('gives the functions that sign or verify unsubscribe links the key\'s ARN', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:key-AbCdEf';
    expect(parseFunctionEnvironment('campaigns', { CLIENTELE_CONFIG: '{}', UNSUBSCRIBE_SECRET_ARN: arn }).UNSUBSCRIBE_SECRET_ARN).toBe(arn);
    expect(parseFunctionEnvironment('unsubscribe', { CLIENTELE_CONFIG: '{}', UNSUBSCRIBE_SECRET_ARN: arn }).UNSUBSCRIBE_SECRET_ARN).toBe(arn);
    expect(() => parseFunctionEnvironment('unsubscribe', { CLIENTELE_CONFIG: '{}' })).toThrow(/UNSUBSCRIBE_SECRET_ARN/);
  });

  it('parses CLIENTELE_CONFIG with the config schema', () => {
    expect(configFromEnvironment('{"timeZone":"Europe/Paris"}').timeZone).toBe('Europe/Paris');
    expect(() => configFromEnvironment('{')).toThrow(/CLIENTELE_CONFIG is not valid JSON/);
    expect(() => configFromEnvironment('{"timeZone":"Mars/Phobos"}')).toThrow(/timeZone/);
  });

  it('drops unset variables for Lambda', () => {
    expect(lambdaEnvironment({ A: 'a', B: undefined })).toEqual({ A: 'a' });
  });
});

describe('secrets through the Parameters and Secrets extension', () => {
  let server: Server;
  let port: number;
  let notReadyFor = 0;
  const requests: { url: string; token: string | undefined }[] = [];
  const versions: Record<string, string> = { AWSCURRENT: 'c'.repeat(64) };

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ url: req.url ?? '', token: req.headers['x-aws-parameters-secrets-token'] as string | undefined });
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (notReadyFor > 0) {
        notReadyFor--;
        res.writeHead(400).end('not ready to serve traffic, please wait');
        return;
      }
      const value = versions[url.searchParams.get('versionStage') ?? 'AWSCURRENT'];
      if (url.pathname !== '/secretsmanager/get' || value === undefined) {
        res.writeHead(400).end('ResourceNotFoundException: version not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ARN: url.searchParams.get('secretId'), SecretString: value }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads the current version with the session token, waiting while the extension starts', async () => {
    notReadyFor = 2;
    requests.length = 0;
    const value = await readSecret('arn:secret', { port, sessionToken: 'session' });
    expect(value).toBe('c'.repeat(64));
    expect(requests).toHaveLength(3);
    expect(requests[2]).toEqual({ url: '/secretsmanager/get?secretId=arn%3Asecret&versionStage=AWSCURRENT', token: 'session' });
  });

  it('returns the current key alone until a rotation leaves a previous one', async () => {
    expect(await readUnsubscribeSecrets('arn:secret', { port, sessionToken: 's' })).toEqual(['c'.repeat(64)]);
    versions.AWSPREVIOUS = 'p'.repeat(64);
    expect(await readUnsubscribeSecrets('arn:secret', { port, sessionToken: 's' })).toEqual(['c'.repeat(64), 'p'.repeat(64)]);
  });

  it('fails with the status when the secret cannot be read', async () => {
    await expect(readSecret('arn:secret', { port, versionStage: 'AWSPREVIOUS', attempts: 1, sessionToken: 's', fetch: async () => new Response('denied', { status: 403 }) })).rejects.toThrow(
      SecretError,
    );
  });
});
