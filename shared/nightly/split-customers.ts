import { NightRefusedError } from './admission.ts';
import { shardOf, type ShardSpec } from './shards.ts';

/**
 * A customer an email-keyed (Shopify) export lists both with an email and without one (an empty
 * Email cell, or one dropped as invalid) can fall to two shards: the row with the email to its
 * email's shard, where its orders are, the other to its id's (shards.ts, isKeyedByIdInEmailExport).
 * One run merges the rows in file order (the later row's consent and names win: laterCustomerRecord);
 * two shards would each build and write the customer. A sharded night cannot merge them, so it
 * refuses before any write and says to run the night as one shard.
 *
 * Cost in proportion to those rows: each reader lists the email-less customer rows it read
 * (EmaillessCustomers, a work object beside its share, none when it read none); each shard asks
 * its clients about the rows whose id sends them elsewhere. A customer all of whose rows lack an
 * email (point-of-sale customers) stays whole in its id's shard and is not refused; nor is one
 * whose email and id fall to the same shard.
 */

/** One reader's email-less customer rows, as columns: the customer id, the plan's file index, the line. */
export interface EmaillessCustomers {
  customerIds: string[];
  files: number[];
  lines: number[];
}

export function noEmaillessCustomers(): EmaillessCustomers {
  return { customerIds: [], files: [], lines: [] };
}

/** A customer held by `shard` through a row with an email, whose email-less row went to `idShard`. */
export interface SplitCustomer {
  customerId: string;
  /** Where its (first) email-less row is: the plan's file index and the line. */
  file: number;
  line: number;
  idShard: number;
}

/**
 * Of every reader's email-less rows, the customers `shard` holds (a customer row of theirs came
 * to its bucket, so by email) while their id sends the email-less row to another shard; each
 * once, at its first such row by file and line. Pure.
 */
export function splitCustomersOf(lists: readonly EmaillessCustomers[], shard: ShardSpec, holds: (customerId: string) => boolean): SplitCustomer[] {
  const found = new Map<string, SplitCustomer>();
  for (const { customerIds, files, lines } of lists) {
    customerIds.forEach((customerId, i) => {
      const idShard = shardOf(customerId, shard.count);
      if (idShard === shard.index || !holds(customerId)) return;
      const row = { customerId, file: files[i] as number, line: lines[i] as number, idShard };
      const earlier = found.get(customerId);
      if (earlier === undefined || row.file < earlier.file || (row.file === earlier.file && row.line < earlier.line)) found.set(customerId, row);
    });
  }
  return [...found.values()].sort((a, b) => a.file - b.file || a.line - b.line);
}

/** The refusal of a sharded night that found split customers: the first named (id, file, line), how many, what to do. */
export function splitCustomersRefusal(split: readonly SplitCustomer[], shard: ShardSpec, fileName: (file: number) => string): NightRefusedError {
  const first = split[0];
  if (first === undefined) throw new RangeError('no split customer to refuse the night for');
  const others = split.length - 1;
  return new NightRefusedError(
    `customer ${first.customerId} is listed with an email and without one (${fileName(first.file)} line ${first.line})` +
      (others > 0 ? `, and so are ${others} other customers` : '') +
      `: the rows with an email fall to shard ${shard.index}/${shard.count}, the row without one to shard ${first.idShard} (by its customer id), ` +
      'and a sharded night cannot merge them as one run does. Nothing was written: run this night as one shard ' +
      '(clientele run nightly without --shards, or the nightly function invoked with the run date and no phase).',
  );
}
