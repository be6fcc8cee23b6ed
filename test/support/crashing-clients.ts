import type { AwsClients } from '#shared/aws/clients.ts';

/** The DynamoDB commands that write. */
const WRITES = new Set(['BatchWriteCommand', 'PutCommand', 'UpdateCommand', 'DeleteCommand']);

export interface CrashingClients extends AwsClients {
  /**
   * Resolves once every call sent before the crash has landed: a run's writes go several at a
   * time, and those in flight when it "died" may still land after its promise failed.
   */
  settled(): Promise<void>;
}

/**
 * The clients, with the process "dying" at the (k+1)-th DynamoDB write: that write and every later
 * call fail. `counter` counts the writes that went through.
 */
export function crashingAfter(clients: AwsClients, writes: number, onCrash?: () => void, counter = { writes: 0 }): CrashingClients {
  let left = writes;
  let dead = false;
  const inFlight = new Set<Promise<unknown>>();
  const send = clients.documents.send.bind(clients.documents);
  const documents = Object.create(clients.documents) as AwsClients['documents'];
  documents.send = ((command: { constructor: { name: string } }, ...rest: unknown[]) => {
    if (!dead && WRITES.has(command.constructor.name)) {
      if (left-- <= 0) {
        dead = true;
        onCrash?.();
      } else counter.writes += 1;
    }
    if (dead) return Promise.reject(new Error('crash: the process died here'));
    // The document client's overloads cannot be spelled for a wrapper; it passes the call on as it came.
    const sent = (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
    inFlight.add(sent);
    const forget = () => inFlight.delete(sent);
    sent.then(forget, forget);
    return sent;
  }) as AwsClients['documents']['send'];
  return {
    ...clients,
    documents,
    settled: async () => {
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** The clients, with every S3 PUT of a key containing `keyPart` failing (an upload the process died in). */
export function failingPuts(clients: AwsClients, keyPart: string): AwsClients {
  const send = clients.s3.send.bind(clients.s3);
  const s3 = Object.create(clients.s3) as AwsClients['s3'];
  s3.send = ((command: { constructor: { name: string }; input: { Key?: string } }, ...rest: unknown[]) => {
    if (command.constructor.name === 'PutObjectCommand' && command.input.Key?.includes(keyPart)) return Promise.reject(new Error(`crash: the process died uploading ${keyPart}`));
    return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as AwsClients['s3']['send'];
  return { ...clients, s3 };
}

/**
 * The clients, each DynamoDB document call passed to `around` with the command's name and input and
 * `go`, which sends it: a test holds a call back, or lets it through, as a scenario needs.
 */
export function aroundDocuments(clients: AwsClients, around: (name: string, input: { TableName?: string }, go: () => Promise<unknown>) => Promise<unknown>): AwsClients {
  const send = clients.documents.send.bind(clients.documents);
  const documents = Object.create(clients.documents) as AwsClients['documents'];
  documents.send = ((command: { constructor: { name: string }; input: { TableName?: string } }, ...rest: unknown[]) =>
    around(command.constructor.name, command.input, () => (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest))) as AwsClients['documents']['send'];
  return { ...clients, documents };
}
