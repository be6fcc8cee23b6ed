import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTIONS_DIR } from '#infra/paths.ts';
import { addressBookKey, bookPairsKey, rosterKey } from '#shared/store/buckets.ts';
import { ClienteleFunction } from './function.ts';
import type { Storage } from './storage.ts';

/**
 * The erasure command as the stack's ForgetFunctionName output and the README give it (docs/deploy.md
 * takes the name from the outputs first). AWS CLI v2 reads --payload as base64 unless told it is raw:
 * without the flag the call fails and erases no one.
 */
/** How long a forget may run: a lookup by email scans the profiles table. */
const FORGET_TIMEOUT_MINUTES = 5;

/**
 * The operator's erasure command. The AWS CLI waits 60 s for an answer by default, then calls
 * again: a forget by email on a large base would be invoked again and reported failed while it
 * runs, so the command waits as long as the function may run.
 */
export const FORGET_COMMAND = `aws lambda invoke --function-name <ForgetFunctionName> --cli-binary-format raw-in-base64-out --cli-read-timeout ${FORGET_TIMEOUT_MINUTES * 60} --payload '{"customerId":"C000123"}' out.json`;

export interface ErasureProps {
  storage: Storage;
  /** CLIENTELE_CONFIG: the deployed configuration as JSON. */
  configJson: string;
  logRetention: RetentionDays;
}

/**
 * The right to erasure: functions/forget, invoked by hand or by the brand's privacy tooling with
 * { customerId } or { email }. It deletes the client's profile, tier history and send-ledger
 * entries and keeps a hashed entry on the suppression table's erasure list; nothing triggers it.
 */
export class Erasure extends Construct {
  readonly forget: ClienteleFunction<'forget'>;

  constructor(scope: Construct, id: string, props: ErasureProps) {
    super(scope, id);
    this.forget = new ClienteleFunction(this, 'ForgetFunction', {
      name: 'forget',
      entry: join(FUNCTIONS_DIR, 'forget', 'handler.ts'),
      description: 'Right to erasure: a client deleted, a hashed erasure entry kept',
      environment: { CLIENTELE_CONFIG: props.configJson },
      logRetention: props.logRetention,
      timeout: Duration.minutes(FORGET_TIMEOUT_MINUTES),
      memorySize: 512,
    });
    // The client's profiles, by id or by address; the suppression list's entries of theirs, and the erasure entries it records.
    props.storage.grantTables(this.forget, { profiles: 'read', suppression: 'readWrite' });
    // Then everything else of theirs: tier history, ledger entries, advisor tasks, plain suppressions, profiles.
    props.storage.grantEraseTraces(this.forget);
    // Their former addresses in the address book (address-book.ts).
    props.storage.grantObject(this.forget, addressBookKey(props.storage.config), 'read');
    props.storage.grantObject(this.forget, addressBookKey(props.storage.config), 'write');
    props.storage.grantAddressBookLease(this.forget);
    // The stored roster: the ledger partitions of every advisor, former ones included, may name the client (forget.ts eraseTraces).
    props.storage.grantObject(this.forget, rosterKey(props.storage.config), 'read');
    // The advisors' book pairs of the last digests name the client beside their advisor (forget.ts eraseTraces, roster-store.ts forgetBookPairs).
    props.storage.grantObject(this.forget, bookPairsKey(props.storage.config), 'read');
    props.storage.grantObject(this.forget, bookPairsKey(props.storage.config), 'write');
  }
}
