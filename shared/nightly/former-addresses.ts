import type { OrderLine } from '#shared/model.ts';
import { normaliseEmail } from '#shared/email.ts';
import { addressKeyOf, formerLinkOf, timingOf, type BookLink, type FormerAddress, type FormerTiming } from '#shared/store/address-book.ts';
import type { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { Column } from '#shared/tiering/chunked-column.ts';
import { packedEmail } from '#shared/tiering/customer-packing.ts';
import { fnv1a32 } from '#shared/text-hash.ts';
import { emailIdentityOfHash } from '#shared/tiering/identity.ts';
import type { ShardSpec } from './shards.ts';
import type { ExportHandlers, RowPosition } from '#shared/exports/types.ts';
import type { Reject } from '#shared/model.ts';

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
 *
 * An address another customer's row carries tonight (Shopify gives a left address to the next one
 * who signs up with it) is split by the order's time, never merged: an order placed before the
 * cut-off of the last night known to have it as hers (FormerTiming.hersBefore) is hers; one placed
 * after the cut-off of the night that first saw her with another address (seenOn) is his; one
 * between is either's and is rejected (AMBIGUOUS_ADDRESS_REASON), never given to one of them on a
 * guess. The shard whose bucket holds the address (his row and its lines) does the split: it reads
 * its lines again (they went to him by address) and rebuilds him without hers; her shard takes hers.
 */

/** The reason on an order rejected because it falls between her leaving an address and another customer's holding it. */
export const AMBIGUOUS_ADDRESS_REASON =
  'order under a former address of a client that another customer holds now, placed between the last night that stored it as hers and the night that saw her with another address: whose it is cannot be told';

/** Reads again the rows of this shard's own export or bucket (the export for one run). */
export type ReadAgain = (handlers: BucketHandlers) => Promise<void>;

/** The nights a takeover's split needs: tonight, the last completed night, and a night's cut-off (runClock's now). */
export interface FormerNights {
  runDate: string;
  lastNight: string | undefined;
  cutOff: (night: string) => number;
}

/** An address another customer holds tonight, and the clients of the base or the book who had it. */
interface Held {
  holder: string;
  email: string;
  candidates: Set<string>;
}

export type FormerLink = BookLink;

/** An address this shard claims whose lines are in another bucket (pull), and whether another client of the base had it too. */
interface Wanted {
  customerId: string;
  fnv: number;
  contested: boolean;
}

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
  /** Address sha256 → the customer whose row carries it tonight and the others who had it. */
  private readonly held = new Map<string, Held>();
  /** Addresses split tonight by this shard (the holder's side), with the client they were hers. */
  private readonly takenOver = new Map<string, { customerId: string; timing: FormerTiming }>();
  /** Lines this shard rejected as AMBIGUOUS_ADDRESS_REASON. */
  private readonly ambiguous: Reject[] = [];
  private nights: FormerNights | undefined;
  /**
   * The addresses of the base's other clients (no customer row here: another shard's, or missing
   * tonight), not forgotten: an address one of them had is claimed twice, so linked to neither, as
   * one run would (README, Shopify). A shard sees the whole base but holds a part of it, so these
   * are kept compact: a 53-bit key each (rivalKey), and the sha256 of those a book entry may name.
   */
  private readonly rivalKeys = new Column('f64');
  private readonly rivalShas = new Set<string>();
  private readonly bookFnvs = new Set<number>();
  /** The key (rivalKey) of each address claimed here by the base, whose address is known in clear. */
  private readonly claimedKeys = new Map<string, number>();
  /** Addresses claimed by a client whose row has none tonight and that the night keeps as her email: linked, never booked. */
  private readonly unbooked = new Set<string>();

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
    for (const entry of book) {
      this.bookCustomers.set(entry.sha256, (this.bookCustomers.get(entry.sha256) ?? new Set()).add(entry.customerId));
      this.bookFnvs.add(entry.fnv);
    }
  }

  /**
   * A client of the base with the address it stored for them (or a before-image's). `kept`: the
   * address the night keeps as her email when her row has none (the profile's, not its nightEmail).
   */
  stored(customerId: string, email: string, kept = false): void {
    const normalised = normaliseEmail(email);
    const holder = this.aggregator.customerWithEmail(normalised);
    if (holder !== undefined && holder !== customerId) this.heldBy(holder, normalised, customerId);
    if (this.aggregator.hasCustomerRecord(customerId)) {
      const tonight = this.aggregator.customerEmail(customerId);
      if (tonight === undefined) this.claimWithoutAddress(customerId, normalised, kept);
      // With the same address tonight: nothing moved.
      else if (normaliseEmail(tonight) !== normalised) this.claimStored(customerId, normalised);
      return;
    }
    // Every profile of the base this shard does not hold comes here: its FNV-1a once.
    const fnv = fnv1a32(normalised);
    this.rival(customerId, normalised, fnv);
    if (this.addressOnlyFnv.has(fnv)) this.own(customerId, addressKeyOf(normalised).sha256);
  }

  /** A client of the base this shard holds no row of, with an address of theirs: see rivalKeys. */
  private rival(customerId: string, normalised: string, fnv: number): void {
    if (this.erased(customerId)) return;
    this.rivalKeys.push(rivalKey(normalised, fnv));
    if (this.bookFnvs.has(fnv)) this.rivalShas.add(addressKeyOf(normalised).sha256);
  }

  private claimStored(customerId: string, normalised: string): void {
    const key = addressKeyOf(normalised);
    this.claim(customerId, key);
    this.claimedKeys.set(key.sha256, rivalKey(normalised, key.fnv));
  }

  /** The addresses claimed here that a client of the base this shard holds no row of had too (rivalKeys). */
  private contested(): Set<string> {
    const contested = new Set<string>();
    for (const sha256 of this.claims.keys()) if (this.rivalShas.has(sha256)) contested.add(sha256);
    if (this.claimedKeys.size === 0) return contested;
    const byKey = new Map<number, string>();
    for (const [sha256, key] of this.claimedKeys) byKey.set(key, sha256);
    for (let i = 0; i < this.rivalKeys.length; i++) {
      const sha256 = byKey.get(this.rivalKeys.get(i));
      if (sha256 !== undefined) contested.add(sha256);
    }
    return contested;
  }

  /**
   * Her row has no usable address tonight (empty, or dropped as invalid): the night keeps the
   * stored one (exports.md: an empty field keeps what we know), so her lines under it are hers.
   * A claim links nothing when a customer row carries the address. The address she keeps is not a
   * former one: no book entry for it (unbooked).
   */
  private claimWithoutAddress(customerId: string, normalised: string, kept: boolean): void {
    this.claimStored(customerId, normalised);
    if (kept) this.unbooked.add(addressKeyOf(normalised).sha256);
  }

  private bookEntry(entry: FormerAddress): void {
    if (this.aggregator.hasCustomerRecord(entry.customerId)) {
      const tonight = this.aggregator.customerEmail(entry.customerId);
      // A row without an address tonight: her former address is still a former one of hers.
      if (tonight === undefined || addressKeyOf(tonight).sha256 !== entry.sha256) this.claim(entry.customerId, entry);
    } else {
      this.own(entry.customerId, entry.sha256);
    }
  }

  private heldBy(holder: string, email: string, candidate: string): void {
    const { sha256 } = addressKeyOf(email);
    const held = this.held.get(sha256) ?? { holder, email, candidates: new Set<string>() };
    held.candidates.add(candidate);
    this.held.set(sha256, held);
  }

  /** The book's entries whose address a customer row of this shard carries tonight, for someone else. */
  private bookHeld(): void {
    if (this.book.length === 0) return;
    for (const { customerId } of this.aggregator.customerKeys()) {
      const email = this.aggregator.customerEmail(customerId);
      if (email === undefined) continue;
      const normalised = normaliseEmail(email);
      if (!this.bookFnvs.has(fnv1a32(normalised))) continue;
      const others = this.bookCustomers.get(addressKeyOf(normalised).sha256);
      for (const id of others ?? []) if (id !== customerId) this.heldBy(customerId, normalised, id);
    }
  }

  /**
   * The nights that bound her orders under an address: the book's (the first night that linked it),
   * else, linked tonight by the base while another customer holds it, the last completed night
   * (which stored it as hers) and tonight. Undefined without a completed night.
   */
  private timingFor(sha256: string, customerId: string): FormerTiming | undefined {
    const entry = this.book.find((e) => e.sha256 === sha256 && e.customerId === customerId);
    if (entry !== undefined) return timingOf(entry);
    const nights = this.nights as FormerNights;
    return nights.lastNight === undefined ? undefined : { hersBefore: nights.lastNight, seenOn: nights.runDate };
  }

  /** A link for the book: hersBefore only when it is not seenOn (a book written before the field reads the same). */
  private linkOf(sha256: string, fnv: number, customerId: string, timing: FormerTiming): FormerLink {
    const nights = this.nights as FormerNights;
    const seenOn = this.bookCustomers.get(sha256)?.has(customerId) === true ? timing.seenOn : nights.runDate;
    // No erasure key: the address is another customer's now, and forgetting her must not erase him (withLinks drops a key stored before).
    return { sha256, fnv, customerId, heldByAnother: true, ...(timing.hersBefore === seenOn ? {} : { hersBefore: timing.hersBefore }) };
  }

  /** Whose an order under a taken address is, by its time: hers, his, or either's (rejected). */
  private sideOf(orderedAt: number, timing: FormerTiming): 'hers' | 'his' | 'either' {
    const nights = this.nights as FormerNights;
    if (orderedAt < nights.cutOff(timing.hersBefore)) return 'hers';
    if (orderedAt < nights.cutOff(timing.seenOn) && orderedAt < nights.cutOff(nights.runDate)) return 'either';
    return 'his';
  }

  /**
   * The holder's side: each address a customer row of this shard carries that exactly one other
   * client had (by the base or the book, her row tonight with another address, not forgotten, and
   * no other client in the book) is split by time (sideOf); his lines are read again and he is
   * rebuilt without hers, which go to her when she is this shard's (else her shard pulls them).
   */
  private async splitTaken(otherBucket: OtherBucket | undefined, shard: ShardSpec, readAgain: ReadAgain | undefined): Promise<void> {
    this.bookHeld();
    if (this.held.size === 0) return;
    // Her row tonight: this shard's, or (sharded) another bucket's.
    const rowEmail = new Map<string, string | undefined>();
    const elsewhere = new Set<string>();
    for (const held of this.held.values()) {
      for (const id of held.candidates) {
        if (this.erased(id)) continue;
        if (this.aggregator.hasCustomerRecord(id)) rowEmail.set(id, this.aggregator.customerEmail(id));
        else if (otherBucket !== undefined) elsewhere.add(id);
      }
    }
    if (elsewhere.size > 0 && otherBucket !== undefined) {
      // The last row that gives an address wins, as for a customer listed twice.
      await customerRowsElsewhere(shard, otherBucket, (id, email) => {
        if (elsewhere.has(id) && email !== undefined) rowEmail.set(id, email);
      });
    }
    const splits = new Map<string, { holder: string; customerId: string; timing: FormerTiming }>();
    for (const [sha256, held] of this.held) {
      const moved = [...held.candidates].filter((id) => {
        const email = rowEmail.get(id);
        return !this.erased(id) && email !== undefined && addressKeyOf(email).sha256 !== sha256;
      });
      // As the claiming side decides (link): one client, and no other in the book.
      if (moved.length !== 1) continue;
      const [customerId] = moved as [string];
      if ([...(this.bookCustomers.get(sha256) ?? [])].some((id) => id !== customerId)) continue;
      const timing = this.timingFor(sha256, customerId);
      if (timing === undefined) continue;
      splits.set(sha256, { holder: held.holder, customerId, timing });
    }
    if (splits.size === 0 || readAgain === undefined) return;
    const holders = new Map<string, OrderLine[]>([...splits.values()].map((s) => [s.holder, []]));
    const fnvs = new Set([...splits.keys()].map((sha256) => (this.held.get(sha256) as Held).email).map((email) => fnv1a32(email)));
    const hers: { customerId: string; line: OrderLine }[] = [];
    await readAgain({
      customer: () => undefined,
      order: (line, at) => {
        if (line.customerId !== undefined) {
          holders.get(line.customerId)?.push(line);
          return;
        }
        if (line.email === undefined) return;
        const normalised = normaliseEmail(line.email);
        if (!fnvs.has(fnv1a32(normalised))) return;
        const split = splits.get(addressKeyOf(normalised).sha256);
        if (split === undefined) return;
        const side = this.sideOf(line.orderedAt, split.timing);
        if (side === 'his') holders.get(split.holder)?.push(line);
        else if (side === 'either') this.ambiguous.push({ file: at.file, line: at.line, reason: AMBIGUOUS_ADDRESS_REASON });
        // Hers: to her here, or left to her shard, which pulls them (pull).
        else if (this.aggregator.hasCustomerRecord(split.customerId)) hers.push({ customerId: split.customerId, line });
      },
      product: () => undefined,
      advisor: () => undefined,
    });
    for (const [holder, lines] of holders) this.aggregator.rebuildClient(holder, lines);
    for (const { customerId, line } of hers) this.aggregator.addOrderLine({ ...line, customerId });
    for (const [sha256, { customerId, timing }] of splits) this.takenOver.set(sha256, { customerId, timing });
  }

  /** Orders this shard rejected as either's (AMBIGUOUS_ADDRESS_REASON), by file and line. */
  get ambiguousRejects(): readonly Reject[] {
    return this.ambiguous;
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
  async link(shard: ShardSpec, ours: Set<string>, otherBucket: OtherBucket | undefined, nights: FormerNights, readAgain?: ReadAgain): Promise<FormerLink[]> {
    this.nights = nights;
    for (const entry of this.book) this.bookEntry(entry);
    await this.splitTaken(otherBucket, shard, otherBucket === undefined ? readAgain : (handlers) => otherBucket(shard.index, handlers));
    const links: FormerLink[] = [];
    const away = new Map<number, Map<string, Wanted>>();
    const contested = this.contested();
    for (const [sha256, claimants] of this.claims) {
      // An address two clients claim (by the base or the book) is nobody's: its lines stay as they were.
      const others = this.bookCustomers.get(sha256);
      if (claimants.size !== 1 || (others !== undefined && [...others].some((id) => !claimants.has(id)))) continue;
      const [[customerId, fnv]] = [...claimants] as [[string, number]];
      const bucket = fnv % shard.count;
      if (otherBucket === undefined || bucket === shard.index) {
        // Another client of the base had it (contested): here, where any row carrying it tonight is held, that client claims it too.
        if (contested.has(sha256)) continue;
        if (this.aggregator.linkFormerAddress(emailIdentityOfHash(sha256), customerId)) {
          ours.delete(emailIdentityOfHash(sha256));
          // The address in clear here (its lines' client): the link keeps its erasure key for forget.
          const address = this.addressOnly.get(sha256);
          links.push(address === undefined ? { sha256, fnv, customerId } : formerLinkOf(address, customerId));
        } else {
          // Another customer holds it: split above (splitTaken), and kept in the book with its nights.
          const taken = this.takenOver.get(sha256);
          if (taken?.customerId === customerId) links.push(this.linkOf(sha256, fnv, customerId, taken.timing));
        }
        continue;
      }
      const wanted = away.get(bucket) ?? new Map<string, Wanted>();
      wanted.set(sha256, { customerId, fnv, contested: contested.has(sha256) });
      away.set(bucket, wanted);
    }
    if (otherBucket !== undefined) {
      for (const [bucket, wanted] of away) links.push(...(await this.pull(bucket, wanted, otherBucket)));
      await this.handOver(shard, ours, otherBucket);
    }
    return links.filter((link) => !this.unbooked.has(link.sha256));
  }

  /**
   * The lines under `wanted` addresses in another bucket, unless a customer row there carries the
   * address (then hers by time only: splitTaken). A contested address (another client of the base
   * had it) is taken only when a row there carries it: that client is most likely the one whose row
   * holds it tonight, who claims nothing in one run; else that client claims it too, and it is nobody's.
   */
  private async pull(bucket: number, wanted: Map<string, Wanted>, otherBucket: OtherBucket): Promise<FormerLink[]> {
    const fnvs = new Set([...wanted.values()].map((w) => w.fnv));
    const shaOf = (email: string | undefined): string | undefined => {
      if (email === undefined) return undefined;
      const normalised = normaliseEmail(email);
      if (!fnvs.has(fnv1a32(normalised))) return undefined;
      const { sha256 } = addressKeyOf(normalised);
      return wanted.has(sha256) ? sha256 : undefined;
    };
    const lines: { sha256: string; line: OrderLine; email: string }[] = [];
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
        if (sha256 !== undefined && line.email !== undefined) lines.push({ sha256, line, email: line.email });
      },
      product: () => undefined,
      advisor: () => undefined,
    });
    // Each linked address in clear (one of its lines'): the link keeps its erasure key for forget.
    const linked = new Map<string, string>();
    // Carried by a customer row there: another customer holds it; the holder's shard splits it (splitTaken), hers are taken here.
    const timings = new Map<string, FormerTiming>();
    for (const sha256 of carried) {
      const timing = this.timingFor(sha256, (wanted.get(sha256) as { customerId: string }).customerId);
      if (timing !== undefined) timings.set(sha256, timing);
    }
    for (const { sha256, line, email } of lines) {
      if (carried.has(sha256)) {
        const timing = timings.get(sha256);
        if (timing === undefined || this.sideOf(line.orderedAt, timing) !== 'hers') continue;
        this.aggregator.addOrderLine({ ...line, customerId: (wanted.get(sha256) as { customerId: string }).customerId });
        continue;
      }
      if ((wanted.get(sha256) as Wanted).contested) continue;
      this.aggregator.addOrderLine({ ...line, customerId: (wanted.get(sha256) as { customerId: string }).customerId });
      linked.set(sha256, email);
    }
    return [
      ...[...linked].map(([sha256, email]) => formerLinkOf(email, (wanted.get(sha256) as { customerId: string }).customerId)),
      ...[...timings].map(([sha256, timing]) => {
        const { customerId, fnv } = wanted.get(sha256) as { customerId: string; fnv: number };
        return this.linkOf(sha256, fnv, customerId, timing);
      }),
    ];
  }

  /** This shard's lines under an address of a client whose row another bucket holds, with another address: that shard takes them. */
  private async handOver(shard: ShardSpec, ours: Set<string>, otherBucket: OtherBucket): Promise<void> {
    const candidates = new Map<string, string[]>();
    for (const [sha256, owners] of this.owners) {
      // A client this shard holds claims it too: two claimants, linked to neither (link).
      if (this.claims.has(sha256)) continue;
      const others = this.bookCustomers.get(sha256);
      const all = new Set([...owners, ...(others ?? [])]);
      if (all.size !== 1) continue;
      const [customerId] = [...all] as [string];
      candidates.set(customerId, [...(candidates.get(customerId) ?? []), sha256]);
    }
    if (candidates.size === 0) return;
    const elsewhere = new Map<string, string | undefined>();
    await customerRowsElsewhere(shard, otherBucket, (id, email) => {
      if (candidates.has(id)) elsewhere.set(id, email);
    });
    const handed = new Set<string>();
    for (const [customerId, addresses] of candidates) {
      // Her row is in no other bucket: she is missing tonight, and her old lines nobody's.
      if (!elsewhere.has(customerId)) continue;
      // Her row there has no address (the shard holding her claims hers) or another one.
      const email = elsewhere.get(customerId);
      for (const sha256 of addresses) if (email === undefined || addressKeyOf(email).sha256 !== sha256) handed.add(emailIdentityOfHash(sha256));
    }
    if (handed.size === 0) return;
    this.aggregator.dropClients((id) => handed.has(id));
    for (const id of handed) ours.delete(id);
  }
}

/**
 * 53 bits of a normalised address: its FNV-1a (`fnv`, computed by the caller) and 21 bits of FNV-1a from another start. A
 * claimed address shares its key with one of a million others by chance about once in 9e9 claims.
 */
function rivalKey(normalised: string, fnv: number): number {
  return fnv * 2 ** 21 + (fnv1a32(`\u0000${normalised}`) >>> 11);
}

/** Each customer row of the other buckets of a sharded night (its id and address), in bucket order. */
async function customerRowsElsewhere(shard: ShardSpec, otherBucket: OtherBucket, row: (customerId: string, email: string | undefined) => void): Promise<void> {
  for (let bucket = 0; bucket < shard.count; bucket++) {
    if (bucket === shard.index) continue;
    await otherBucket(bucket, {
      customer: (record) => row(record.customerId, record.email),
      packedCustomer: (id, packed) => row(id, packedEmail(packed)),
      order: () => undefined,
      product: () => undefined,
      advisor: () => undefined,
    });
  }
}
