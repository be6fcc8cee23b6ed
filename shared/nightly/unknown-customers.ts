import type { FileReport, RowPosition } from '#shared/exports/reader.ts';
import type { OrderLine, Reject } from '#shared/model.ts';
import type { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { compareStrings } from '#shared/tiering/client-columns.ts';
import { emailIdentity } from '#shared/tiering/identity.ts';

/**
 * Orders for customers nobody knows. A generic order names its client by customer_id, a Shopify
 * one by email (its client's id is then the email identity: tiering/identity.ts); when no
 * customer row of tonight's export carries that id (or email) and the base (the last completed
 * night) holds no profile for it either, the order cannot be anyone we may write to or about: its lines are
 * rejects ("unknown customer"), counted in their files, and the id makes no profile. A client
 * absent from tonight's customers file but known to the base keeps their orders (and their
 * stored contact data: merge.ts).
 *
 * Whether an id is known to the base is only known once the base is loaded, after the read; so
 * the reader's handler notes where each such order line was (OrphanOrderLines) and the decision
 * comes after (unknownCustomers). The hourly ingest of incremental exports applies the same rule,
 * with the stored profiles as the base (shared/sender/ingest.ts).
 */

/** The reason on every such reject: it names no value read from the file. */
export const UNKNOWN_CUSTOMER_REASON = 'unknown customer: no row of the customers file and no stored profile has this customer_id (a Shopify line: this email)';

/** At most this many rejects kept per shard (the counts go on beyond), like the reader's. */
const MAX_KEPT = 10_000;
/** Above any line number a file can have: positions are packed as rank * LINE_SPAN + line. */
const LINE_SPAN = 2 ** 32;

/** Positions of order lines whose customer_id no customer row carried, by that id. */
export class OrphanOrderLines {
  private readonly files: string[] = [];
  private readonly fileIndex = new Map<string, number>();
  /** customerId → [fileIndex, line, fileIndex, line, ...]. */
  private readonly lines = new Map<string, number[]>();

  /**
   * Notes the line when no customer row read so far carries its client: customers come first in
   * an export, so one that none has carried by now is in none. An email's client is its email
   * identity unless the base knows a customer by it (aggregate.ts), so that is the id the base is
   * asked about.
   */
  noteUnlessKnown(line: OrderLine, at: RowPosition, customers: Pick<ClientAggregator, 'hasCustomerRecord' | 'hasCustomerWithEmail'>): void {
    if (line.customerId !== undefined) {
      if (!customers.hasCustomerRecord(line.customerId)) this.note(line.customerId, at);
    } else if (line.email !== undefined && !customers.hasCustomerWithEmail(line.email)) {
      this.note(emailIdentity(line.email), at);
    }
  }

  /** `at` is the reader's per-file position object: read now, not kept. */
  note(customerId: string, at: RowPosition): void {
    let file = this.fileIndex.get(at.file);
    if (file === undefined) {
      file = this.files.length;
      this.files.push(at.file);
      this.fileIndex.set(at.file, file);
    }
    const positions = this.lines.get(customerId);
    if (positions) positions.push(file, at.line);
    else this.lines.set(customerId, [file, at.line]);
  }

  get customers(): number {
    return this.lines.size;
  }

  /** The lines of the ids `isUnknown` picks, as rejects (the first MAX_KEPT by file and line) and counts per file. */
  rejectsOf(isUnknown: (customerId: string) => boolean): UnknownCustomerRejects {
    const result: UnknownCustomerRejects = { customerIds: [], perFile: {}, rejected: 0, rejects: [] };
    // Files ranked by name, so that one number (rank * 2^32 + line) sorts the lines by file and line.
    const byName = this.files.map((_, i) => i).sort((a, b) => compareStrings(this.files[a] as string, this.files[b] as string));
    const rank = new Map(byName.map((fileIndex, r) => [fileIndex, r]));
    const positions: number[] = [];
    for (const [customerId, lines] of [...this.lines].sort(([a], [b]) => compareStrings(a, b))) {
      if (!isUnknown(customerId)) continue;
      result.customerIds.push(customerId);
      for (let i = 0; i < lines.length; i += 2) {
        const fileIndex = lines[i] as number;
        const file = this.files[fileIndex] as string;
        result.perFile[file] = (result.perFile[file] ?? 0) + 1;
        result.rejected += 1;
        positions.push((rank.get(fileIndex) as number) * LINE_SPAN + (lines[i + 1] as number));
      }
    }
    for (const position of Float64Array.from(positions).sort().subarray(0, MAX_KEPT)) {
      const file = this.files[byName[Math.floor(position / LINE_SPAN)] as number] as string;
      result.rejects.push({ file, line: position % LINE_SPAN, reason: UNKNOWN_CUSTOMER_REASON });
    }
    return result;
  }
}

export interface UnknownCustomerRejects {
  /** The ids left out, sorted. */
  customerIds: string[];
  /** Rejected order lines per file location. */
  perFile: Record<string, number>;
  rejected: number;
  /** The first 10,000, by file and line. */
  rejects: Reject[];
}

export function noUnknownCustomers(): UnknownCustomerRejects {
  return { customerIds: [], perFile: {}, rejected: 0, rejects: [] };
}

/**
 * The unknown customers' rejects with the orders of an address another customer holds now that
 * could be either's (former-addresses.ts): rejected after the read as they are, counted with them
 * in their files and in the summary's unknownCustomerLines, listed with their own reason.
 */
export function withAmbiguousLines(unknown: UnknownCustomerRejects, ambiguous: readonly Reject[]): UnknownCustomerRejects {
  if (ambiguous.length === 0) return unknown;
  const perFile = { ...unknown.perFile };
  for (const reject of ambiguous) perFile[reject.file] = (perFile[reject.file] ?? 0) + 1;
  const rejects = [...unknown.rejects, ...ambiguous].sort((a, b) => compareStrings(a.file, b.file) || a.line - b.line).slice(0, MAX_KEPT);
  return { customerIds: unknown.customerIds, perFile, rejected: unknown.rejected + ambiguous.length, rejects };
}

/** Adds up per-file counts of several shards (each rejects the lines of its own clients). */
export function addPerFile(parts: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const part of parts) for (const [file, n] of Object.entries(part)) total[file] = (total[file] ?? 0) + n;
  return total;
}

/** The reader's file reports with rejects found after reading (unknown customers, conflicting roster rows) counted in their files. */
export function withRejectsPerFile<F extends Pick<FileReport, 'location' | 'rejected'>>(files: readonly F[], perFile: Record<string, number>): F[] {
  return files.map((f) => (perFile[f.location] ? { ...f, rejected: f.rejected + (perFile[f.location] as number) } : f));
}
