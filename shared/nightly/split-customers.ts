import { NightRefusedError } from './admission.ts';
import type { KeyMoved } from './base.ts';
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
 *
 * A customer whose address is on the erasure list (forgotten by email, never by id) is left out by
 * the shard of that address only: the shard of the id sees no address on the email-less row and
 * would write the person. So the shard of the address asks about the customers it left out as
 * forgotten by address too, and refuses the night without naming them.
 *
 * A customer listed with two emails that fall to two shards (an address changed between two
 * customer parts) is built and written by both shards too, and the "no" of one row is lost. A
 * reader cannot tell such rows from any other without a list of every customer, so the shards
 * tell instead, from the base each of them scans anyway (base.ts, KeyMoved): each lists the
 * clients it holds tonight whose stored key sends them to another shard, and those it owns by the
 * stored key but does not hold. A client held by two shards is in two `held` lists, or in one
 * while its owner does not list it as `left` (customersHeldTwice); combine refuses the night
 * before any write. The lists hold only the clients whose key moved, the absent and the erased.
 * Not covered: a customer new tonight (no profile yet) listed with two emails.
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
  /** Left out by `shard` as forgotten by address (the id's shard cannot see it): named by file and line only. */
  forgotten?: true;
}

/**
 * Of every reader's email-less rows, the customers `shard` holds (a customer row of theirs came
 * to its bucket, so by email), or left out as forgotten by address, while their id sends the
 * email-less row to another shard; each once, at its first such row by file and line. Pure.
 */
export function splitCustomersOf(
  lists: readonly EmaillessCustomers[],
  shard: ShardSpec,
  holds: (customerId: string) => boolean,
  forgottenByAddress: (customerId: string) => boolean = () => false,
): SplitCustomer[] {
  const found = new Map<string, SplitCustomer>();
  for (const { customerIds, files, lines } of lists) {
    customerIds.forEach((customerId, i) => {
      const idShard = shardOf(customerId, shard.count);
      if (idShard === shard.index) return;
      const held = holds(customerId);
      const forgotten = !held && forgottenByAddress(customerId);
      if (!held && !forgotten) return;
      const row: SplitCustomer = { customerId, file: files[i] as number, line: lines[i] as number, idShard, ...(forgotten ? { forgotten } : {}) };
      const earlier = found.get(customerId);
      if (earlier === undefined || row.file < earlier.file || (row.file === earlier.file && row.line < earlier.line)) found.set(customerId, row);
    });
  }
  return [...found.values()].sort((a, b) => a.file - b.file || a.line - b.line);
}

/**
 * The refusal of a sharded night that found split customers: the first named (id, file, line; a
 * forgotten one by file and line only), how many, what to do.
 */
export function splitCustomersRefusal(split: readonly SplitCustomer[], shard: ShardSpec, fileName: (file: number) => string): NightRefusedError {
  const first = split[0];
  if (first === undefined) throw new RangeError('no split customer to refuse the night for');
  const others = split.length - 1;
  const where = `${fileName(first.file)} line ${first.line}`;
  const who = first.forgotten
    ? `a customer who asked to be forgotten by email is listed with that email and without one (${where})`
    : `customer ${first.customerId} is listed with an email and without one (${where})`;
  const why = first.forgotten ? 'which cannot see the forgotten email and would store the person' : 'and a sharded night cannot merge them as one run does';
  return new NightRefusedError(
    who +
      (others > 0 ? `, and so are ${others} other customers` : '') +
      `: the rows with an email fall to shard ${shard.index}/${shard.count}, the row without one to shard ${first.idShard} (by its customer id), ` +
      `${why}. Nothing was written: run this night as one shard ` +
      '(clientele run nightly without --shards, or the nightly function invoked with the run date and no phase).',
  );
}

/**
 * The base's clients two shards hold tonight (each shard's KeyMoved, undefined from a shard that
 * lists none): in two shards' `held`, or in one's while the shard that owns them by the stored key
 * holds them too (it does not list them as `left`). Sorted. Pure; in proportion to the lists.
 */
export function customersHeldTwice(shards: readonly (KeyMoved | undefined)[]): string[] {
  const holders = new Map<string, number>();
  for (const shard of shards) for (const id of shard?.held ?? []) holders.set(id, (holders.get(id) ?? 0) + 1);
  if (holders.size === 0) return [];
  const leftByOwner = new Set<string>();
  for (const shard of shards) for (const id of shard?.left ?? []) if (holders.has(id)) leftByOwner.add(id);
  return [...holders]
    .filter(([id, held]) => held + (leftByOwner.has(id) ? 0 : 1) >= 2)
    .map(([id]) => id)
    .sort();
}

/** A customer row as a bucket holds it: the plan's file index, the line, and the shard it went to. */
export interface CustomerRow {
  customerId: string;
  file: number;
  line: number;
  shard: number;
}

/**
 * The refusal of a sharded night in which two shards hold the same customer by two emails: the
 * first such customer (by its first row) with its first row and its first row in another shard,
 * how many, what to do. `rows`: those customers' rows (any order); one whose rows were not found
 * is named by its id alone.
 */
export function heldTwiceRefusal(customerIds: readonly string[], rows: readonly CustomerRow[], shards: number, fileName: (file: number) => string): NightRefusedError {
  if (customerIds.length === 0) throw new RangeError('no customer held twice to refuse the night for');
  const sorted = [...rows].sort((a, b) => a.file - b.file || a.line - b.line);
  const firstRow = sorted.find((row) => customerIds.includes(row.customerId));
  const customerId = firstRow?.customerId ?? (customerIds[0] as string);
  const other = firstRow && sorted.find((row) => row.customerId === customerId && row.shard !== firstRow.shard);
  const where = (row: CustomerRow) => `${fileName(row.file)} line ${row.line} to shard ${row.shard}/${shards}`;
  const others = customerIds.length - 1;
  return new NightRefusedError(
    `customer ${customerId} is listed with two emails that fall to two shards` +
      (firstRow && other ? ` (${where(firstRow)}, ${where(other)})` : '') +
      (others > 0 ? `, and so are ${others} other customers` : '') +
      ': each shard would build and write the customer from its own rows, and a sharded night cannot merge them as one run does ' +
      '(the later row\'s email, a "no" to marketing from any row). Nothing was written: run this night as one shard ' +
      '(clientele run nightly without --shards, or the nightly function invoked with the run date and no phase).',
  );
}
