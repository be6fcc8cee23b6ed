import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { GetAccountCommand, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { LOCAL_SES_ACCOUNT, type LocalAws } from '#local/aws.ts';
import { classifySesError } from '#shared/delivery/outcome.ts';
import { tableNames } from '#shared/store/tables.ts';
import { startTestEmulators } from '#test/support/emulators.ts';

/** The embedded AWS as the fault-injection test uses it: emulators killed and started again on their ports. */

// Emulators of this file alone: it kills and restarts them, which the files sharing the run's emulators would feel.
let aws: LocalAws;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'clientele-restart-'));
  aws = await startTestEmulators({ services: ['dynamodb', 'ses'], stateDir });
});
afterAll(async () => {
  await aws?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

const mail = (to: string) =>
  new SendEmailCommand({
    FromEmailAddress: 'brand@example.com',
    Destination: { ToAddresses: [to] },
    Content: { Simple: { Subject: { Data: 'hello' }, Body: { Text: { Data: 'hi' } } } },
  });

async function storedTo(to: string): Promise<number> {
  const response = await fetch(`${aws.endpoints.ses}/store`);
  const { emails } = (await response.json()) as { emails: { destination: { to: string[] } }[] };
  return emails.filter((e) => e.destination.to.includes(to)).length;
}

describe('emulators killed and restarted', () => {
  it('answers GetAccount with a production account unless AWS_SES_ACCOUNT names another', async () => {
    const account = await aws.clients.ses.send(new GetAccountCommand({}));
    expect(account).toMatchObject({ SendingEnabled: true, ProductionAccessEnabled: true, SendQuota: LOCAL_SES_ACCOUNT.SendQuota });
  });

  it('SES: refused while down (certainly not sent), back on the same port with its store', async () => {
    await aws.clients.ses.send(mail('before@restart.example.com'));
    await aws.kill('ses');
    // The first call may go out on a kept-alive socket the emulator has just closed: 'socket hang
    // up' (ECONNRESET), which a client cannot tell from a server that read the request and died, so
    // it is a maybe-sent. A fresh connection is refused: certainly not sent.
    const kinds: string[] = [];
    for (const to of ['during@restart.example.com', 'during@restart.example.com']) {
      kinds.push(classifySesError(await aws.clients.ses.send(mail(to)).catch((error: unknown) => error)).kind);
    }
    expect(['unknown', 'unreachable']).toContain(kinds[0]);
    expect(kinds[1]).toBe('unreachable');
    await aws.restart('ses');
    await aws.clients.ses.send(mail('after@restart.example.com'));
    expect([await storedTo('before@restart.example.com'), await storedTo('during@restart.example.com'), await storedTo('after@restart.example.com')]).toEqual([1, 0, 1]);
  });

  it('DynamoDB Local: killed and restarted on the same port, keeping its tables and items in the state folder', async () => {
    const table = tableNames(aws.config).runs;
    await aws.clients.documents.send(new PutCommand({ TableName: table, Item: { job: 'probe', runDate: 'before' } }));
    await aws.kill('dynamodb');
    await aws.restart('dynamodb');
    const { Item } = await aws.clients.documents.send(new GetCommand({ TableName: table, Key: { job: 'probe', runDate: 'before' }, ConsistentRead: true }));
    expect(Item).toEqual({ job: 'probe', runDate: 'before' });
  });
});
