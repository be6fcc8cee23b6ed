import type { OrderLine } from '#shared/model.ts';
import { normaliseEmail } from '#shared/email.ts';
import { addressKeyOf, type FormerAddress } from '#shared/store/address-book.ts';
import type { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { packedEmail } from '#shared/tiering/customer-packing.ts';
import { fnv1a32 } from '#shared/text-hash.ts';
import { emailIdentityOfHash } from '#shared/tiering/identity.ts';
import type { ShardSpec } from './shards.ts';
import type { ExportHandlers, RowPosition } from '#shared/exports/types.ts';

/**
 * A Shopify client's orders under a former address (Shopify keeps on each order the address
 * it was placed with): tonight her customer row has another address, so they would be read as an
 * unknown customer's. They are hers when the address is hers by the base (the address the last
 * completed night stored for her, or a rerun's before-image) or by the address book, no customer row
 * carries it tonight, and no other client claims it.
 *
 * In a sharded night (keyed by email) her row and the old address's lines fall to two shards: the
 * shard holding her reads the lines from the other bucket (otherBucket), and the shard of the
 * address hands them over (neither rejected nor kept) once it finds her row in another bucket.
 */

export type FormerLink = Omit<FormerAddress, 'seenOn'>;

/** What a bucket's rows are handed to (run.ts NightHandlers, without importing it: run.ts imports this file). */
interface BucketHandlers extends ExportHandlers {
  packedCustomer?(customerId: string, packed: string, at: RowPosition): void;
}

/** Reads another shard's bucket of a sharded night (shares.ts readBucket). */
export type OtherBucket = (bucket: number, handlers: BucketHandlers) => Promise<void>;

export class FormerAddresses {
  /** Held side: address sha256 → claiming customer ids (with the address's fnv). */
  private readonly claims = new Map<string, Map<string, number>>();
  /** Handing side: address sha256 → customers of the base this shard does not hold who had it. */
  private readonly owners = new Map<string, Set<string>>();
  /** This shard's clients known by an address only: sha256 → the address. */
  private readonly addressOnly = new Map<string, string>();
  private readonly addressOnlyFnv = new Set<number>();
  private readonly bookCustomers = new Map<string, Set<string>>();

  constructor(
    private readonly aggregator: ClientAggregator,
    private readonly book: readonly FormerAddress[],
    /** Clients who asked to be forgotten: their old addresses are nobody's (a shard may still find their row in another bucket). */
    private readonly erased: (customerId: string) => boolean,
  ) {
    for (const email of aggregator.addressOnlyClients()) {
      const key = addressKeyOf(email);
      this.addressOnly.set(key.sha256, email);
      this.addressOnlyFnv.add(key.fnv);
    }
    for (const entry of book) this.bookCustomers.set(entry.sha256, (this.bookCustomers.get(entry.sha256) ?? new Set()).add(entry.customerId));
  }

  get hasAddressOnlyClients(): boolean {
    return this.addressOnly.size > 0;
  }

  /** A client of the base with the address it stored for them (or a before-image's). */
  stored(customerId: string, email: string): void {
    const normalised = normaliseEmail(email);
    if (this.aggregator.hasCustomerRecord(customerId)) {
      const tonight = this.aggregator.customerEmail(customerId);
      // Without an address tonight, or with the same one: nothing moved.
      if (tonight !== undefined && normaliseEmail(tonight) !== normalised) this.claim(customerId, addressKeyOf(normalised));
    } else if (this.addressOnlyFnv.has(fnv1a32(normalised))) {
      this.own(customerId, addressKeyOf(normalised).sha256);
    }
  }

  private bookEntry(entry: FormerAddress): void {
    if (this.aggregator.hasCustomerRecord(entry.customerId)) {
      const tonight = this.aggregator.customerEmail(entry.customerId);
      if (tonight !== undefined && addressKeyOf(tonight).sha256 !== entry.sha256) this.claim(entry.customerId, entry);
    } else {
      this.own(entry.customerId, entry.sha256);
    }
  }

  private own(customerId: string, sha256: string): void {
    if (this.addressOnly.has(sha256) && !this.erased(customerId)) this.owners.set(sha256, (this.owners.get(sha256) ?? new Set()).add(customerId));
  }

  private claim(customerId: string, key: Pick<FormerAddress, 'sha256' | 'fnv'>): void {
    const claimants = this.claims.get(key.sha256) ?? new Map<string, number>();
    claimants.set(customerId, key.fnv);
    this.claims.set(key.sha256, claimants);
  }

  /**
   * Links what can be linked: tonight's links made by this shard (the held side), for the book.
   * `ours` loses the identities whose lines went to a customer or to another shard.
   */
  async link(shard: ShardSpec, ours: Set<string>, otherBucket: OtherBucket | undefined): Promise<FormerLink[]> {
    for (const entry of this.book) this.bookEntry(entry);
    const links: FormerLink[] = [];
    const away = new Map<number, Map<string, { customerId: string; fnv: number }>>();
    for (const [sha256, claimants] of this.claims) {
      // An address two clients claim (by the base or the book) is nobody's: its lines stay as they were.
      const others = this.bookCustomers.get(sha256);
      if (claimants.size !== 1 || (others !== undefined && [...others].some((id) => !claimants.has(id)))) continue;
      const [[customerId, fnv]] = [...claimants] as [[string, number]];
      const bucket = fnv % shard.count;
      if (otherBucket === undefined || bucket === shard.index) {
        if (this.aggregator.linkFormerAddress(emailIdentityOfHash(sha256), customerId)) {
          ours.delete(emailIdentityOfHash(sha256));
          links.push({ sha256, fnv, customerId });
        }
        continue;
      }
      const wanted = away.get(bucket) ?? new Map<string, { customerId: string; fnv: number }>();
      wanted.set(sha256, { customerId, fnv });
      away.set(bucket, wanted);
    }
    if (otherBucket === undefined) return links;
    for (const [bucket, wanted] of away) links.push(...(await this.pull(bucket, wanted, otherBucket)));
    await this.handOver(shard, ours, otherBucket);
    return links;
  }

  /** The lines under `wanted` addresses in another bucket, unless a customer row there carries the address. */
  private async pull(bucket: number, wanted: Map<string, { customerId: string; fnv: number }>, otherBucket: OtherBucket): Promise<FormerLink[]> {
    const fnvs = new Set([...wanted.values()].map((w) => w.fnv));
    const shaOf = (email: string | undefined): string | undefined => {
      if (email === undefined) return undefined;
      const normalised = normaliseEmail(email);
      if (!fnvs.has(fnv1a32(normalised))) return undefined;
      const { sha256 } = addressKeyOf(normalised);
      return wanted.has(sha256) ? sha256 : undefined;
    };
    const lines: { sha256: string; line: OrderLine }[] = [];
    const carried = new Set<string>();
    const carry = (email: string | undefined) => {
      const sha256 = shaOf(email);
      if (sha256 !== undefined) carried.add(sha256);
    };
    await otherBucket(bucket, {
      customer: (record) => carry(record.email),
      packedCustomer: (_id, packed) => carry(packedEmail(packed)),
      order: (line) => {
        const sha256 = shaOf(line.email);
        if (sha256 !== undefined) lines.push({ sha256, line });
      },
      product: () => undefined,
      advisor: () => undefined,
    });
    const linked = new Set<string>();
    for (const { sha256, line } of lines) {
      if (carried.has(sha256)) continue;
      this.aggregator.addOrderLine({ ...line, customerId: (wanted.get(sha256) as { customerId: string }).customerId });
      linked.add(sha256);
    }
    return [...linked].map((sha256) => ({ sha256, ...(wanted.get(sha256) as { customerId: string; fnv: number }) }));
  }

  /** This shard's lines under an address of a client whose row another bucket holds, with another address: that shard takes them. */
  private async handOver(shard: ShardSpec, ours: Set<string>, otherBucket: OtherBucket): Promise<void> {
    const candidates = new Map<string, string[]>();
    for (const [sha256, owners] of this.owners) {
      const others = this.bookCustomers.get(sha256);
      const all = new Set([...owners, ...(others ?? [])]);
      if (all.size !== 1) continue;
      const [customerId] = [...all] as [string];
      candidates.set(customerId, [...(candidates.get(customerId) ?? []), sha256]);
    }
    if (candidates.size === 0) return;
    const elsewhere = new Map<string, string | undefined>();
    for (let bucket = 0; bucket < shard.count; bucket++) {
      if (bucket === shard.index) continue;
      const note = (id: string, email: string | undefined) => {
        if (candidates.has(id)) elsewhere.set(id, email);
      };
      await otherBucket(bucket, {
        customer: (record) => note(record.customerId, record.email),
        packedCustomer: (id, packed) => note(id, packedEmail(packed)),
        order: () => undefined,
        product: () => undefined,
        advisor: () => undefined,
      });
    }
    const handed = new Set<string>();
    for (const [customerId, addresses] of candidates) {
      const email = elsewhere.get(customerId);
      if (email === undefined) continue;
      for (const sha256 of addresses) if (addressKeyOf(email).sha256 !== sha256) handed.add(emailIdentityOfHash(sha256));
    }
    if (handed.size === 0) return;
    this.aggregator.dropClients((id) => handed.has(id));
    for (const id of handed) ours.delete(id);
  }
}
