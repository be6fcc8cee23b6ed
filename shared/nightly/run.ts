import { writeJsonObject, writeObject } from '#shared/aws/s3-objects.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { clvFailureCounter, clvSummaryCollector, fitClvForRun, predictedClv12mMinor, profileClvFinisher, type ClvModelFit, type ClvPredictionFailed, type ClvRunReport } from '#shared/clv/profile-clv.ts';
import type { RfmSummary } from '#shared/clv/summary.ts';
import type { Config } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import { checkRejectShares, readExport, ExportError, MAX_KEPT_REJECTS, type FieldWarning, type FileReport, type ReadResult } from '#shared/exports/reader.ts';
import { s3ExportSource, type ExportSource } from '#shared/exports/source.ts';
import type { ExportHandlers, RowPosition } from '#shared/exports/types.ts';
import { silentLog, type Log } from '#shared/log.ts';
import type { ClientOrders, ClientProfile, ProductRecord, Reject } from '#shared/model.ts';
import { PROFILE_FORMAT } from '#shared/model.ts';
import { contactMoves } from '#shared/store/stored-contact.ts';
import { addMinor } from '#shared/money.ts';
import type { RosterOutcome, RosterRow } from '#shared/advisors/roster.ts';
import { rosterAdvisorIds, settleRoster } from '#shared/store/roster-store.ts';
import { advisorDigestsOfNight, DIGEST_WEEK_NIGHTS, type AdvisorDigestSummary, type DigestRun, type EarlierDigestNights } from '#shared/digests/advisor-digests.ts';
import { exportPrefix, reportPrefix, reportsBucket, SUMMARY_FILE } from '#shared/store/buckets.ts';
import { catalogBySku, keepCatalogOfNight, nightCatalog, readCatalog, readCycleHistoryOfNight, writeCategoryAffinity, writeCycleHistory } from '#shared/store/catalog-store.ts';
import { putRun, recentRuns, type RunKey } from '#shared/store/runs-store.ts';
import { erasedAmong, erasedSince, isErased, loadErasures, type Erasures } from '#shared/store/erasure-store.ts';
import { eraseAgain } from '#shared/forget/forget.ts';
import { getProfiles, hourEmailsOf, type ProfileItem, type UnkeptProfile } from '#shared/store/profile-store.ts';
import { missingBeforeImages, readBeforeImages } from '#shared/store/night-plans.ts';
import { tableNames } from '#shared/store/tables.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { compareStrings, SkuLabels, type SkuLabelEntry } from '#shared/tiering/client-columns.ts';
import { rfmMeasures, runClock, runClockAt, streamProfiles, type TieringContext } from '#shared/tiering/profile.ts';
import { historyAfterNight } from '#shared/tiering/cycle-history.ts';
import { replenishmentLeadDays, runOutReminderLeadDays } from '#shared/campaigns/schema.ts';
import { rfmReferenceOf, type RfmReference } from '#shared/tiering/rfm.ts';
import { isTierUpgrade, tierRank } from '#shared/tiering/tiers.ts';
import { acceptedOrderLines, acceptedRows, addShardFigures, admitNight, confirmWriter, emptyShardFigures, MONEY_FIGURES, NightRefusedError, productFigures, type ShardFigures } from './admission.ts';
import { futureNightRefusal } from './run-date.ts';
import { nightRules, unexplainedLapse, type LapseClock } from './guards.ts';
import { addDays, daysBetweenDates } from '#shared/time.ts';
import { absenceOwner, absentClientsOf, mergedSinceSnapshot, type ShardAbsentClients } from './absent.ts';
import { applyNight, nightDueIndexing, restoreUnseen } from './apply.ts';
import { beforeState, loadNightBase, type NightBase } from './base.ts';
import { diffProfiles, type ProfileDiff } from './diff.ts';
import { seenByNight } from './history.ts';
import { shardKeySchemeOf, SINGLE_SHARD, type ShardSpec } from './shards.ts';
import { FormerAddresses, type FormerLink } from './former-addresses.ts';
import { bookBefore, editAddressBook, readAddressBook, sameBook, withLinks } from '#shared/store/address-book.ts';
import { withWriteLease, type LeasedWork } from './write-lease.ts';
import { distributionCollector, mergeDistributions, type Distribution } from '#shared/tiering/distribution.ts';
import { categoryAffinityCollector, mergeCategoryAffinities, type CategoryAffinity } from '#shared/segments/category-affinity.ts';
import type { TaskFollowUps } from '#shared/advisors/follow-through.ts';
import { followShardTasks, followUpPeriodStart, nightFollowThrough } from './advisor-follow-through.ts';
import { readNightLedger, tallyShardCampaigns, writeCampaignResults } from './campaign-results.ts';
import { mergeCampaignTallies, type CampaignHeadline, type CampaignTallies } from '#shared/campaign-results/results.ts';
import { publishNightlyReport } from './publish-report.ts';
import { completedRunOf, nightFingerprint, recordRerun } from './repeat.ts';
import { runsItemOf } from './runs-item.ts';
import { addPerFile, noUnknownCustomers, OrphanOrderLines, withAmbiguousLines, withRejectsPerFile, type UnknownCustomerRejects } from './unknown-customers.ts';
import { NIGHTLY_JOB, type NightAdmission, type NightlyProgress, type NightlyRunSummary, type RowListsCut } from './summary.ts';

/**
 * The nightly job: read the dated export, compute every client's profile, write only what
 * changed, record movements, and leave a report. Nothing is written until the whole export has
 * been read and accepted and the night's figures are plausible (admission.ts), so a broken export
 * cannot half-update the base; and the writes are ordered so that a crash at any point, followed
 * by a rerun, ends exactly where one clean run would (apply.ts).
 *
 * The job is four phases, so that it can run as one process or as shards (shards.ts):
 *  1. readShard (or, sharded, collectShard over the shard's bucket: shares.ts) + loadShardBase +
 *     measureShard + followShard, per shard: the shard's clients as read, their state as of the
 *     last completed night (base.ts), what the whole base must agree on (RFM measures, CLV
 *     summaries, the guards' figures: numbers only), and the period's campaign decisions and
 *     advisor tasks of its clients followed over their orders (the send ledger read);
 *  2. combineMeasures + admitNight, once: RFM quintile cuts and the CLV fit over every shard's
 *     measures; the checks before any write, then the night marked as being written;
 *  3. writeShard, per shard: profiles scored with those models, compared with the base, written;
 *  4. finishNight, once: what earlier attempts left and tonight does not touch put back, the
 *     summary, rejects and catalogue objects, the report, the runs table (night completed).
 * Phases 3 and 4 first check that the night is still this run's (admission.ts, confirmWriter):
 * an execution redriven after the night was started again, or after a later night began, writes
 * nothing. And they run under a write lease no other run holds at the same time (write-lease.ts):
 * two attempts of a night never write at once.
 * runNightly does all four in this process with one shard, reading the export once; a sharded
 * run (worker threads locally, Step Functions Distributed Maps in AWS: distributed.ts) first
 * shares the export's files between readers that route each record to its shard's bucket, and
 * stores exactly the same results.
 */


export interface NightlyRunOptions {
  runDate: string;
  runId: string;
  config: Config;
  clients: AwsClients;
  /** The wall clock (epoch ms), given by the handler or the CLI: when the run started and ended, the time on the mail it sends. */
  clock: () => number;
  /** Defaults to the dated prefix of the exports bucket. */
  source?: ExportSource;
  /** Write the night even if its figures fail the plausibility checks (an operator's explicit decision, recorded in the summary). */
  acceptDrop?: boolean;
  log?: Log;
  onProgress?: (progress: NightlyProgress) => void;
  /** The unsubscribe key: signs the introduction tasks' links in the advisors' digests (without it, a digest lists the introductions without links and gives no task). */
  unsubscribeSecret?: string;
  /** The last instant (epoch ms) an advisor digest's SES call may start (the Lambda's end minus a margin: send-deadline.ts); none: no limit. */
  deadline?: number;
}


export class NightlyRunError extends ClienteleError {
  override name = 'NightlyRunError';
  constructor(message: string, options?: ErrorOptions) {
    super('NIGHTLY_RUN_FAILED', message, options);
  }
}

/** The nightly run reads full snapshots only: an incremental export (its manifest says so) is refused. */
export function notFullSnapshot(source: string): NightlyRunError {
  return new NightlyRunError(`${source} is an incremental export (_manifest.json); the nightly run needs a full snapshot.`);
}

/** What every phase needs: the run's identity, configuration, AWS clients, log and progress. */
export interface NightContext {
  runDate: string;
  runId: string;
  config: Config;
  clients: AwsClients;
  /** The wall clock, epoch ms (see NightlyRunOptions.clock). */
  clock: () => number;
  acceptDrop: boolean;
  log: Log;
  onProgress: (progress: NightlyProgress) => void;
  unsubscribeSecret?: string;
  /** NightlyRunOptions.deadline. */
  deadline?: number;
}

/** The context of a night's every phase; refuses a night whose day has not begun (futureNightRefusal), before anything is read. */
export function nightContext(options: NightlyRunOptions): NightContext {
  const { config, clients, runDate, runId } = options;
  const refusal = futureNightRefusal(runDate, options.clock(), config);
  if (refusal !== undefined) throw new NightRefusedError(`${runDate} refused, nothing read or written: ${refusal}.`);
  return {
    runDate,
    runId,
    config,
    clients,
    clock: options.clock,
    acceptDrop: options.acceptDrop ?? false,
    log: (options.log ?? silentLog).child({ runId, runDate, job: 'nightly' }),
    onProgress: options.onProgress ?? (() => undefined),
    ...(options.unsubscribeSecret === undefined ? {} : { unsubscribeSecret: options.unsubscribeSecret }),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
  };
}

export function defaultExportSource(context: Pick<NightContext, 'config' | 'clients' | 'runDate'>): ExportSource {
  return s3ExportSource(context.clients.s3, context.config.storage.exportsBucket, exportPrefix(context.config, context.runDate));
}

/** A shard's clients as read from the export. */
export interface ShardRead {
  shard: ShardSpec;
  source: string;
  aggregator: ClientAggregator;
  read: ReadResult;
  products: ProductRecord[];
  /** The advisors roster's rows (advisors.csv|jsonl) with their file and line, when the export carries one. */
  advisors: RosterRow[];
  /** Clients of the export left out because they asked to be forgotten (erasure-store.ts). */
  erasedClients: number;
  /** Their orders as the export has them, and the address they were erased by: the guards take out of the last night's figures those erased since it (measureShard). */
  erasedInExport: { client: ClientOrders; email: string | undefined }[];
  /**
   * Their ids, and (added by loadShardBase) the erased clients of the shard's base the export
   * lacks: a profile of theirs that a race, a crashed attempt or a restore left behind is erased
   * again (purgeErased).
   */
  erasedIds: string[];
  /** The erasure list as the night read it. */
  erasures: Erasures;
  /** Order lines of the shard whose customer_id no customer row carried (unknown-customers.ts). */
  orphans: OrphanOrderLines;
  /** Of those, the lines of customers the base does not know either: set by loadShardBase. */
  unknownCustomers: UnknownCustomerRejects;
  /** The export's files and the configuration, hashed (repeat.ts). */
  fingerprint: string;
  /** A sharded night's other buckets, read whole: a client's lines under a former address, in another shard (former-addresses.ts). */
  otherBucket?: (bucket: number, handlers: NightHandlers) => Promise<void>;
  /** One run's export read again (its order lines under an address another customer holds now: former-addresses.ts). A sharded night reads its bucket again (otherBucket). */
  readAgain?: (handlers: NightHandlers) => Promise<void>;
  /** Tonight's links of a former address to this shard's clients (set by loadShardBase), for the address book. */
  formerLinks?: FormerLink[];
  readMs: number;
}

/** Phase 1: read the whole export (one shard: the single run). Throws before any write on a bad export. */
export async function readShard(context: NightContext, source: ExportSource): Promise<ShardRead> {
  const { config, log } = context;
  const shardRead = await collectShard(context, SINGLE_SHARD, source.describe(), (handlers, now) =>
    // Reject shares are checked once the unknown customers' lines are counted (admitShards).
    readExport(source, handlers, { config, now, checkRejectShares: false, onProgress: (bytes) => context.onProgress({ step: 'read', done: bytes }) }).catch(
      exportRejected(log),
    ),
  );
  // Only on a night with an address another customer took over (former-addresses.ts): the same rows again.
  const { now } = runClock(context.runDate, config.timeZone);
  shardRead.readAgain = async (handlers) => {
    await readExport(source, handlers, { config, now, checkRejectShares: false });
  };
  return shardRead;
}

/** For a promise's catch: an export refused (ExportError) is logged as such; the error goes on. */
export function exportRejected(log: Log): (error: unknown) => never {
  return (error) => {
    if (error instanceof ExportError) log.error('export rejected, nothing written', { file: error.file, error: error.message });
    throw error;
  };
}

/**
 * What a night's rows are handed to: an export's handlers, and, if it takes them so, customers as
 * a sharded night's readers packed them into its buckets (shares.ts, readBucket).
 */
export interface NightHandlers extends ExportHandlers {
  /** A customer record as packCustomer (customer-packing.ts) packed it; without this handler, customer() gets it unpacked. */
  packedCustomer?(customerId: string, packed: string, at: RowPosition): void;
}

/** What a night keeps of the rows it is handed: clients in the aggregator, products, advisors, and the order lines of customers no customer row named. */
export interface NightCollector {
  aggregator: ClientAggregator;
  products: ProductRecord[];
  advisors: RosterRow[];
  orphans: OrphanOrderLines;
  handlers: NightHandlers;
}

/**
 * The handlers a night reads the export (or a shard's bucket) with, and what they fill: one
 * place, so that the bench's tiering stage (local/bench/tiering-stage.ts) does per row exactly
 * what the nightly does.
 */
export function nightCollector(now: number): NightCollector {
  const aggregator = new ClientAggregator({ now });
  const products: ProductRecord[] = [];
  const advisors: RosterRow[] = [];
  const orphans = new OrphanOrderLines();
  const handlers: NightHandlers = {
    customer: (record) => aggregator.addCustomer(record),
    packedCustomer: (customerId, packed) => aggregator.addPackedCustomer(customerId, packed),
    order: (line, at) => {
      orphans.noteUnlessKnown(line, at, aggregator);
      aggregator.addOrderLine(line);
    },
    product: (record) => products.push(record),
    advisor: (record, at) => advisors.push({ record, file: at.file, line: at.line }),
  };
  return { aggregator, products, advisors, orphans, handlers };
}

/**
 * A shard's clients from the rows `read` hands over (the whole export, or a shard's bucket of
 * it: shares.ts), with the read's figures; the clients who asked to be forgotten left out.
 */
export async function collectShard(
  context: NightContext,
  shard: ShardSpec,
  source: string,
  read: (handlers: NightHandlers, now: number) => Promise<ReadResult>,
): Promise<ShardRead> {
  const { config, runDate, log } = context;
  const started = performance.now();
  log.info('reading export', { source, shard: shard.index, shards: shard.count });
  const { now } = runClock(runDate, config.timeZone);
  const collected = nightCollector(now);
  const { aggregator, products, advisors, orphans } = collected;
  const result = await read(collected.handlers, now);
  if (result.mode !== 'full') throw notFullSnapshot(source);
  // People who asked to be forgotten stay out of the base whatever the export says.
  const erasures = await loadErasures(context.clients.documents, tableNames(config).suppression);
  const erasedIds: string[] = [];
  const erasedInExport: ShardRead['erasedInExport'] = [];
  const erasedClients = aggregator.dropClients((id, email) => {
    const erased = isErased(erasures, id, email);
    if (erased) {
      erasedIds.push(id);
      const client = aggregator.clientOrdersOf(id);
      if (client !== undefined) erasedInExport.push({ client, email });
    }
    return erased;
  });
  log.info('export read', { rows: result.rows, rejected: result.rejected, warned: result.warned, files: result.files.length, clients: aggregator.clientCount, erasedClients, shard: shard.index });
  return {
    shard,
    source,
    aggregator,
    read: result,
    products,
    advisors,
    erasedClients,
    erasedInExport,
    erasedIds,
    erasures,
    orphans,
    unknownCustomers: noUnknownCustomers(),
    fingerprint: nightFingerprint(result.files, config),
    readMs: Math.round(performance.now() - started),
  };
}

/** What a client of the base tells the former addresses of (FormerAddresses.stored): her addresses, and whether an increment merged since tonight's cut-off. */
type StoredAddresses = Pick<UnkeptProfile, 'customerId' | 'email' | 'nightEmail' | 'hourEmails' | 'lastIncrement'>;

/** Those fields alone: a profile kept aside until the before-images are read holds no more of her than that. */
function storedAddressesOf(profile: StoredAddresses): StoredAddresses {
  const { customerId, email, nightEmail, hourEmails, lastIncrement } = profile;
  return { customerId, ...(email === undefined ? {} : { email }), ...(nightEmail === undefined ? {} : { nightEmail }), ...(hourEmails === undefined ? {} : { hourEmails }), ...(lastIncrement === undefined ? {} : { lastIncrement }) };
}

/** What the whole base must agree on, from one shard: numbers in columns (cheap to send), and the SKUs' labels. */
export interface ShardMeasures {
  rfm: { daysSinceLast: Float64Array; orderCount: Float64Array; spend12mMinor: Float64Array };
  /** Empty when CLV is disabled. */
  clv: { frequency: Float64Array; recency: Float64Array; T: Float64Array; monetaryValue: Float64Array };
  /** Each SKU's product name and category on the shard's latest line of it: one per SKU, not per client. */
  skuLabels: SkuLabelEntry[];
}

/**
 * Phase 1, continued: the shard's clients as of the last completed night; then the orders of
 * customers neither tonight's customer rows nor that base know are rejected and their ids left
 * out (shardRead.unknownCustomers).
 */
export async function loadShardBase(context: Pick<NightContext, 'runDate' | 'config' | 'clients' | 'log'>, shardRead: ShardRead): Promise<NightBase> {
  const { aggregator, orphans } = shardRead;
  const ours = new Set(aggregator.customerIds());
  const owns = absenceOwner(shardRead.read.files, shardRead.shard);
  // Forgotten, not absent: tonight's erased rows by their id, the base's by its stored id or address.
  const erasedTonight = new Set(shardRead.erasedIds);
  const erased = (profile: Pick<UnkeptProfile, 'customerId' | 'email'>) => erasedTonight.has(profile.customerId) || isErased(shardRead.erasures, profile.customerId, profile.email);
  // A Shopify client's lines under a former address (former-addresses.ts), by the base and the address book. Only
  // orders that name their client by address (Shopify's) can be under a former one: a generic export's base is not looked through.
  const former =
    shardKeySchemeOf(shardRead.read.files) === 'email'
      ? new FormerAddresses(aggregator, bookBefore(await readAddressBook(context.clients.s3, context.config), context.runDate), (id) => erasedTonight.has(id) || isErased(shardRead.erasures, id))
      : undefined;
  const mergedSince = mergedSinceSnapshot(context.runDate, context.config.timeZone);
  // Increments changed it since the last night: the night's address (nightEmail), and those they gave her and replaced (hourEmails), are former ones of hers.
  const stored = (profile: StoredAddresses) => {
    if (mergedSince(profile)) {
      // An increment stamped after tonight's cut-off merged into her (a late night or a rerun): the snapshot may be older than
      // the addresses the hours gave her, so they are not hers before tonight, neither hers by the base nor former (two clients
      // swapping addresses would each take the other's history). Hers by the base is the one the last night stored.
      const night = profile.nightEmail ?? profile.email;
      if (night !== undefined) former?.stored(profile.customerId, night, profile.nightEmail === undefined);
      return;
    }
    // The profile's own: the address the night keeps as hers when her row has none tonight (not booked as a former one).
    if (profile.email !== undefined) former?.stored(profile.customerId, profile.email, true);
    for (const email of [profile.nightEmail, ...hourEmailsOf(profile)]) if (email !== undefined && email !== '') former?.stored(profile.customerId, email);
  };
  // Profiles stamped with tonight's date: most were written by an earlier attempt of this night (a rerun after a crash, or
  // on a corrected export), whose addresses are that attempt's, not knowledge from before tonight (a bad export's swap of
  // two clients' addresses would make each a claimant of the other's); their before-images' are. Kept aside until the
  // images are read; a profile without one (an increment created it today) is read as it is.
  const stampedTonight = new Map<string, StoredAddresses>();
  const seen = (profile: UnkeptProfile) => {
    if (profile.updatedRunDate !== context.runDate) stored(profile);
    else stampedTonight.set(profile.customerId, storedAddressesOf(profile));
  };
  const base = await loadNightBase(context, { ours: (id) => ours.has(id), owns, erased, ...(former === undefined ? {} : { seen }) });
  for (const id of base.erasedStored) if (!erasedTonight.has(id)) shardRead.erasedIds.push(id);
  if (former !== undefined) {
    // A rerun's base is the before-image's addresses (its nightEmail and hourEmails too, which the earlier attempt's write dropped), not the one that attempt wrote.
    const imaged = new Set<string>();
    const fromImages = (images: ReadonlyMap<string, ProfileItem | null>) => {
      for (const [customerId, image] of images) {
        imaged.add(customerId);
        // null: created by that attempt, no client of the base.
        if (image) stored({ ...image, customerId });
      }
    };
    fromImages(base.planned);
    // Other shards' clients' before-images: an address of theirs may be one this shard's lines are under, or its customers hold now.
    if (shardRead.otherBucket !== undefined) {
      fromImages(await readBeforeImages(context.clients.s3, context.config, context.runDate, { keep: (id) => !ours.has(id) }));
    } else if ([...stampedTonight.keys()].some((id) => !imaged.has(id))) {
      // One run: base.planned holds tonight's clients only; an earlier attempt may have written one this export lacks.
      fromImages(await readBeforeImages(context.clients.s3, context.config, context.runDate, { keep: (id) => stampedTonight.has(id) && !imaged.has(id) }));
    }
    for (const [customerId, profile] of stampedTonight) if (!imaged.has(customerId)) stored(profile);
    const { timeZone } = context.config;
    const nights = { runDate: context.runDate, lastNight: base.lastNight, cutOff: (night: string) => runClock(night, timeZone).now };
    shardRead.formerLinks = await former.link(shardRead.shard, ours, shardRead.otherBucket, nights, shardRead.readAgain);
    if (former.ambiguousRejects.length > 0) {
      context.log.warn('orders under an address another customer holds now rejected: whose they are cannot be told', { lines: former.ambiguousRejects.length, shard: shardRead.shard.index });
    }
  }
  const ambiguous = former?.ambiguousRejects ?? [];
  if (orphans.customers === 0 && ambiguous.length === 0) return base;
  // Erased clients were left out already: their lines are not "unknown".
  const unknown = orphans.customers === 0 ? noUnknownCustomers() : orphans.rejectsOf((id) => ours.has(id) && beforeState(base, id) === undefined);
  if (unknown.customerIds.length > 0) {
    const ids = new Set(unknown.customerIds);
    aggregator.dropClients((id) => ids.has(id));
    context.log.warn('orders for unknown customers rejected', { customers: ids.size, lines: unknown.rejected, shard: shardRead.shard.index });
  }
  shardRead.unknownCustomers = withAmbiguousLines(unknown, ambiguous);
  return base;
}

/** What a shard measured: the columns the models are fitted on, and the guards' figures. */
export interface ShardMeasured {
  measures: ShardMeasures;
  figures: ShardFigures;
}

/** Phase 1, continued: the shard's RFM measures, CLV summaries and the guards' figures against its base. */
export function measureShard(context: Pick<NightContext, 'runDate' | 'config'>, shardRead: ShardRead, base: NightBase): ShardMeasured {
  const { runDate, config } = context;
  // One pass over the clients for every measure: each pass builds every client's facts again.
  const { now } = runClock(runDate, config.timeZone);
  const clv = clvSummaryCollector(now, config.clv, config.timeZone);
  // The client being measured: the visit below sees its tier measure only, the guards on contact read its customer row.
  let current: ClientOrders | undefined;
  const clients = passingThrough(shardRead.aggregator.clientOrders(), (client) => {
    current = client;
    if (config.clv.enabled) clv.add(client);
  });
  const figures = {
    ...emptyShardFigures(),
    newlyAbsent: base.absent.newly,
    stillAbsent: base.absent.still,
    writtenWithoutImage: base.writtenWithoutImage,
    // What writeShard would store as the catalogue (one entry per SKU), and its SKUs with a replenishment cycle.
    ...productFigures(catalogBySku(shardRead.products)),
    seenBefore: 0,
  };
  const lapseClock: LapseClock = {
    runDate,
    now,
    lifecycle: config.lifecycle,
    ...(base.lastNight === undefined ? {} : { daysSinceLastNight: daysBetweenDates(base.lastNight, runDate) }),
  };
  // With the last night's date, each client's measure also says what orders left the 12-month window since it.
  const inputs = rfmMeasures(clients, { runDate, config, ...(base.lastNight === undefined ? {} : { lastNight: base.lastNight }) }, (client) => {
    figures.clients += 1;
    figures.revenue12mMinor = addMinor(figures.revenue12mMinor, client.spend12mMinor, MONEY_FIGURES.revenue12mMinor);
    if (client.spendLeftWindowMinor !== undefined) figures.revenueLeftWindowMinor = addMinor(figures.revenueLeftWindowMinor, client.spendLeftWindowMinor, MONEY_FIGURES.revenueLeftWindowMinor);
    if (client.tier !== 'Prospect') figures.buyers += 1;
    const before = seenByNight(beforeState(base, client.customerId));
    if (!before) return;
    figures.seenBefore += 1;
    // A fall the window's moving alone explains (orders of a year ago left it) is time's, not the export's: not counted.
    if (tierRank(client.tierInLastNightsWindow ?? client.tier) < tierRank(before.tier)) figures.downgrades += 1;
    // A first purchase (from Prospect) is no move between buyers' tiers: a sale day brings many.
    else if (isTierUpgrade(before.tier, client.tier)) figures.upgrades += 1;
    if (unexplainedLapse(before, client, lapseClock)) figures.unexplainedLapses += 1;
    const customer = current?.customerId === client.customerId ? current.customer : undefined;
    if (customer === undefined) return;
    const moves = contactMoves(before.contact, customer);
    if (moves.addressChanged) figures.addressesChanged += 1;
    if (moves.consentGivenBack) figures.consentGivenBack += 1;
  });
  // Erased since the last night began: in its figures, out of tonight's (guards.ts ErasedSinceLastNight).
  const since = base.lastNightStartedAt;
  const erasedSinceLastNight = since === undefined ? [] : shardRead.erasedInExport.filter(({ client, email }) => erasedSince(shardRead.erasures, since, client.customerId, email)).map(({ client }) => client);
  rfmMeasures(erasedSinceLastNight, { runDate, config }, (client) => {
    figures.erasedSinceLastNight += 1;
    figures.erasedSinceLastNightRevenue12mMinor = addMinor(figures.erasedSinceLastNightRevenue12mMinor, client.spend12mMinor, MONEY_FIGURES.erasedSinceLastNightRevenue12mMinor);
    if (client.tier !== 'Prospect') figures.erasedSinceLastNightBuyers += 1;
  });
  const { summaries } = clv.buyers;
  return { figures, measures: {
    rfm: inputs.columns(),
    clv: {
      frequency: Float64Array.from(summaries, (s) => s.frequency),
      recency: Float64Array.from(summaries, (s) => s.recency),
      T: Float64Array.from(summaries, (s) => s.T),
      monetaryValue: Float64Array.from(summaries, (s) => s.monetaryValue),
    },
    skuLabels: shardRead.aggregator.skuLabelEntries(),
  } };
}

/** What a shard followed of the period's campaign decisions and advisor tasks of its clients (added up by finishNight). */
export interface ShardFollowed {
  campaignTallies: CampaignTallies;
  taskFollowUps: TaskFollowUps;
}

/**
 * Phase 1, continued: the send ledger read (one that cannot be read fails the night before any
 * write), the period's campaign decisions and advisor tasks of the shard's clients followed over
 * their orders. With the measures, not at the write: combine adds every shard's campaign tallies
 * up with checked sums (admitShards), so an impossible sum refuses the night before any write.
 */
export async function followShard(context: Pick<NightContext, 'config' | 'clients' | 'runDate' | 'log'>, shardRead: Pick<ShardRead, 'aggregator'>): Promise<ShardFollowed> {
  const { config, clients, runDate, log } = context;
  const { aggregator } = shardRead;
  const ledger = await readNightLedger({ config, clients, runDate }, followUpPeriodStart(runDate, config));
  const campaignTallies = tallyShardCampaigns({ config, runDate, orders: aggregator, log, ledger });
  const taskFollowUps = await followShardTasks({ config, clients, runDate, orders: aggregator, log, ledger });
  return { campaignTallies, taskFollowUps };
}

/** The models of the night, shared by every shard. */
export interface NightModels {
  rfm: RfmReference;
  clv: ClvModelFit;
  /** Each SKU's product name and category on the latest line of the whole export, whichever shard read it. */
  skuLabels: SkuLabelEntry[];
}

function concatColumns(columns: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(columns.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const column of columns) {
    out.set(column, offset);
    offset += column.length;
  }
  return out;
}

/** Phase 2: RFM cuts, the CLV fit and the SKUs' labels over every shard's measures. */
export function combineMeasures(context: Pick<NightContext, 'runDate' | 'config'>, measures: readonly ShardMeasures[]): NightModels {
  const column = <K extends string>(pick: (m: ShardMeasures) => Record<K, Float64Array>, key: K) => concatColumns(measures.map((m) => pick(m)[key]));
  const rfm = rfmReferenceOf({
    daysSinceLast: column((m) => m.rfm, 'daysSinceLast'),
    orderCount: column((m) => m.rfm, 'orderCount'),
    spend12mMinor: column((m) => m.rfm, 'spend12mMinor'),
  });
  const [frequency, recency, T, monetaryValue] = (['frequency', 'recency', 'T', 'monetaryValue'] as const).map((key) => column((m) => m.clv, key)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const summaries: RfmSummary[] = Array.from(frequency, (f, i) => ({
    frequency: f,
    recency: recency[i] as number,
    T: T[i] as number,
    monetaryValue: monetaryValue[i] as number,
  }));
  const skuLabels = new SkuLabels();
  for (const m of measures) skuLabels.adopt(m.skuLabels);
  return { rfm, clv: fitClvForRun(summaries, context), skuLabels: skuLabels.entries() };
}

/** What a shard wrote, and the figures the summary adds up. */
export interface ShardOutcome {
  shard: ShardSpec;
  distribution: Distribution;
  changes: Omit<ProfileDiff, 'changed' | 'tierChanges' | 'unchanged'> & { changed: number; unchanged: number };
  written: NightlyRunSummary['written'];
  timingsMs: NightlyRunSummary['timingsMs'];
  /** The export as the reader saw it (every shard gets every reader's figures: the same in each). */
  input: NightlyRunSummary['input'];
  /** Order lines of the shard's unknown customers, per file (each shard rejects its own clients'). */
  unknownCustomerLines: Record<string, number>;
  /** For the rejects object: shard 0 the reader's (the same in every shard), every shard its unknown customers'. */
  rejects: Reject[];
  /** For the warnings object: the reader's, from shard 0 only. */
  warnings: FieldWarning[];
  /** The period's campaign decisions of the shard's clients, followed over each window. */
  campaignTallies: CampaignTallies;
  /** What the shard's buyers of each top category bought besides it (added up by finishNight). */
  categoryAffinity: CategoryAffinity;
  /** The period's advisor tasks and control decisions of the shard's clients, followed 30 days (absent in outcomes of earlier versions). */
  taskFollowUps?: TaskFollowUps;
  /** Clients of earlier attempts' plans the shard handled (the rest are put back by finishNight). */
  plannedHandled: string[];
  /** Shard 0: what the night did with the advisors roster. */
  roster?: RosterOutcome;
  /** The shard's buyers whose CLV prediction threw with the night's models (they keep no clv); absent when none. */
  clvPredictionFailures?: number;
  /** The clients the shard counted absent, and counted back (AbsentTonight); absent in outcomes of earlier versions. */
  absentClients?: ShardAbsentClients;
  /** Tonight's links of a former address to the shard's clients (former-addresses.ts), for the address book; absent when none. */
  formerLinks?: FormerLink[];
  /** The format of the profiles the shard wrote (PROFILE_FORMAT); absent in outcomes of earlier versions. */
  profileFormat?: number;
}

/** What the night's stock-ups are judged by: tonight's catalogue and the cycles of the nights before. */
type NightCycles = Required<Pick<TieringContext, 'catalog' | 'cycleHistory'>>;

/**
 * The shard's profiles scored with the night's models, one at a time in customerId order, each
 * with its CLV prediction: a night holds its clients' facts (the aggregator) and what changed,
 * never every profile at once (a million profiles are ~1.4 GB of objects).
 */
function shardProfiles(context: NightContext, shardRead: ShardRead, models: NightModels, cycles: NightCycles, onClvFailure: ClvPredictionFailed): Iterable<ClientProfile> {
  const { config, runDate } = context;
  const finish = profileClvFinisher(models.clv, context, onClvFailure);
  // A SKU's name and category are the whole export's, not those of the shard's own lines.
  shardRead.aggregator.adoptSkuLabels(models.skuLabels);
  return streamProfiles(() => shardRead.aggregator.clients(), { runDate, config, ...cycles }, { rfmReference: models.rfm, ...(finish ? { finish } : {}) });
}

/** The items of `source`, each shown to `see` on its way through. */
function* passingThrough<T>(source: Iterable<T>, see: (item: T) => void): Generator<T> {
  for (const item of source) {
    see(item);
    yield item;
  }
}

/** Phase 3: the shard's profiles with the night's models, compared with its base, changes written under the write lease `writer`. */
export async function writeShard(context: NightContext, shardRead: ShardRead, models: NightModels, base: NightBase, followed: ShardFollowed, writer: LeasedWork): Promise<ShardOutcome> {
  const { config, clients, runDate, log, onProgress } = context;
  const { aggregator, read, shard } = shardRead;
  const { campaignTallies, taskFollowUps } = followed;
  const computeStarted = performance.now();
  // The admission still stands (no later night begun, the night not rewritten by another run):
  // an old execution redriven writes nothing.
  await confirmWriter(context, 'write');
  // As at the admission (admitShards), for a write redriven after its attempt's images expired.
  if (base.writtenWithoutImage > 0) throw missingBeforeImages(config, runDate, base.writtenWithoutImage);

  onProgress({ step: 'compute', done: 0, total: aggregator.clientCount });
  if (!models.clv.report.fitted) log.warn('clv models not fitted, profiles keep no clv tonight', { reason: models.clv.report.skippedReason });
  else if (models.clv.report.warnings.length > 0 && shard.index === 0) log.warn('clv fit warnings', { warnings: models.clv.report.warnings });
  // Profiles are built, counted and compared in one pass: only the changed ones are kept.
  const tonight = distributionCollector({ clv12mMinorOf: predictedClv12mMinor });
  const affinity = categoryAffinityCollector();
  const clvFailures = clvFailureCounter();
  // The catalogue's cycles are in force before a client's own (the stock-ups), as the sender reads them after tonight;
  // a past stock-up is judged by the cycles of its own day (the history).
  const catalog = await nightCatalog(clients.s3, config, shardRead.products, runDate);
  const cycleHistory = await readCycleHistoryOfNight(clients.s3, config, runDate);
  const profiles = passingThrough(shardProfiles(context, shardRead, models, { catalog, cycleHistory }, clvFailures.onFailure), (profile) => {
    tonight.add(profile);
    affinity.add(profile);
  });
  const diff = diffProfiles(profiles, (id) => beforeState(base, id), runDate);
  const clvPredictionFailures = clvFailures.failures();
  if (clvPredictionFailures.count > 0) {
    log.warn('clv prediction failed for some clients, they keep no clv tonight', { shard: shard.index, clients: clvPredictionFailures.count, firstError: clvPredictionFailures.first });
  }
  const shardDistribution = tonight.result();
  onProgress({ step: 'compute', done: shardDistribution.clients, total: shardDistribution.clients });
  log.info('profiles compared', { shard: shard.index, stored: base.stored.size, planned: base.planned.size, changed: diff.changed.length, movements: diff.tierChanges.length });
  const computeDone = performance.now();

  const total = diff.changed.length;
  onProgress({ step: 'write', done: 0, total });
  const indexing = await nightDueIndexing(context, writer, catalog);
  const applied = await applyNight({ ...context, onWritten: (written) => onProgress({ step: 'write', done: written, total }) }, shard.index, base, diff, indexing);
  await purgeErased(context, shardRead.erasedIds);
  const writeDone = performance.now();

  // The campaign sender reads the replenishment cycles from the catalogue: the same in every shard.
  if (shard.index === 0) await keepCatalogOfNight(clients.s3, config, shardRead.products, runDate);
  const settled = shard.index === 0 ? await settleRoster(clients.s3, config, { runDate, files: read.files, advisors: shardRead.advisors }) : undefined;
  const roster = settled?.outcome;
  if (roster !== undefined && roster.status !== 'updated') {
    // A brand that exports no roster at all is told once a night, quietly; a roster that failed is a warning.
    const rosterFailed = read.files.some((file) => file.kind === 'advisors');
    log[rosterFailed ? 'warn' : 'info']('advisors roster not updated tonight', { status: roster.status, reason: roster.reason, since: roster.since });
  }
  if (roster?.conflicting) log.warn('advisors roster lists advisors in rows that disagree: those rows are rejected, the advisors keep their stored entry', { advisors: roster.conflicting });
  // The roster's rows rejected for disagreeing count in their file, as the unknown customers' lines do.
  const rosterRejects = settled?.rejects ?? [];
  const files = withRejectsPerFile(read.files, addPerFile(rosterRejects.map((reject) => ({ [reject.file]: 1 }))));
  const rejected = read.rejected + rosterRejects.length;
  const { unknownCustomers } = shardRead;
  return {
    shard,
    distribution: shardDistribution,
    changes: {
      newClients: diff.newClients,
      changed: diff.changed.length,
      unchanged: diff.unchanged,
      upgrades: diff.upgrades,
      downgrades: diff.downgrades,
      tierMovements: diff.tierMovements,
      stageMovements: diff.stageMovements,
      rfmSegmentMovements: diff.rfmSegmentMovements,
    },
    // What the night changed, the same on a rerun that finds it written; this attempt's own writes are in the log.
    written: { profiles: diff.changed.length, tierHistory: diff.tierChanges.length, retries: applied.retries },
    timingsMs: { read: shardRead.readMs, compute: Math.round(computeDone - computeStarted), load: 0, write: Math.round(writeDone - computeDone) },
    input: {
      files,
      rows: read.rows,
      rejected,
      rejectShare: read.rows === 0 ? 0 : rejected / read.rows,
      orderLines: acceptedOrderLines(files),
      erasedClients: shardRead.erasedClients,
      warned: read.warned,
      fingerprint: shardRead.fingerprint,
      sampleRejects: read.rejects.slice(0, 10),
    },
    unknownCustomerLines: unknownCustomers.perFile,
    rejects: shard.index === 0 ? [...read.rejects, ...rosterRejects, ...unknownCustomers.rejects] : unknownCustomers.rejects,
    warnings: shard.index === 0 ? read.warnings : [],
    campaignTallies,
    categoryAffinity: affinity.result(),
    taskFollowUps,
    plannedHandled: applied.plannedHandled,
    ...(shardRead.formerLinks !== undefined && shardRead.formerLinks.length > 0 ? { formerLinks: shardRead.formerLinks } : {}),
    ...(roster === undefined ? {} : { roster }),
    ...(clvPredictionFailures.count > 0 ? { clvPredictionFailures: clvPredictionFailures.count } : {}),
    absentClients: { counted: base.absent.customerIds, countedBack: base.absent.countedBack },
    profileFormat: PROFILE_FORMAT,
  };
}

/**
 * Erased clients this night met with a profile (one a night wrote while their erasure was being
 * recorded, or put back from a crashed attempt's before-image) are erased again (eraseAgain):
 * the erasure list wins wherever it is seen.
 */
async function purgeErased(context: Pick<NightContext, 'config' | 'clients' | 'log'>, customerIds: readonly string[]): Promise<void> {
  if (customerIds.length === 0) return;
  const { config, clients, log } = context;
  const found = await getProfiles(clients.documents, tableNames(config).profiles, customerIds);
  if (found.length === 0) return;
  await eraseAgain({ config, clients, advisorIds: await rosterAdvisorIds(clients.s3, config) }, new Set(found.map((p) => p.customerId)), found);
  log.warn('profiles of erased clients found and erased again', { count: found.length });
}

/**
 * What the export's rows could not give, beside the summary: rejects and dropped fields (JSON
 * lines), the first MAX_KEPT_REJECTS (MAX_KEPT_WARNINGS) of `rejected` (`warned`), with how many
 * each lists and how many it does not (RowListsCut).
 */
async function writeRowObjects(
  context: NightContext,
  rows: { rejects: readonly Reject[]; rejected: number; warnings: readonly FieldWarning[]; warned: number },
): Promise<{ rejectsObject?: string; warningsObject?: string } & RowListsCut> {
  const { config, clients, runDate } = context;
  const bucket = reportsBucket(config);
  const prefix = reportPrefix(config, 'nightly', runDate);
  const write = (name: string, items: readonly object[]) =>
    writeObject(clients.s3, {
      bucket,
      key: `${prefix}/${name}`,
      contentType: 'application/x-ndjson',
      // The bucket's lifecycle expires objects with this tag after 30 days (they point at personal data).
      tagging: 'retention=rejects',
      body: items.map((item) => JSON.stringify(item)).join('\n') + '\n',
    });
  const rejectsNotListed = Math.max(0, rows.rejected - rows.rejects.length);
  const warningsNotListed = Math.max(0, rows.warned - rows.warnings.length);
  if (rejectsNotListed > 0 || warningsNotListed > 0) {
    context.log.warn('more rejects or warnings than their objects list: the first are listed, the rest counted', {
      rejectsListed: rows.rejects.length,
      rejectsNotListed,
      warningsListed: rows.warnings.length,
      warningsNotListed,
    });
  }
  return {
    ...(rows.rejects.length > 0 ? { rejectsObject: await write('rejects.jsonl', rows.rejects), rejectsListed: rows.rejects.length, rejectsNotListed } : {}),
    ...(rows.warnings.length > 0 ? { warningsObject: await write('warnings.jsonl', rows.warnings), warningsListed: rows.warnings.length, warningsNotListed } : {}),
  };
}

/** The reader's input figures with every shard's unknown customers' lines counted as rejects. */
function combinedInput(outcomes: readonly ShardOutcome[], first: ShardOutcome, rejects: readonly Reject[]): NightlyRunSummary['input'] {
  const unknownPerFile = addPerFile(outcomes.map((o) => o.unknownCustomerLines));
  const unknownCustomerLines = Object.values(unknownPerFile).reduce((n, k) => n + k, 0);
  const files = withRejectsPerFile(first.input.files, unknownPerFile);
  const rejected = first.input.rejected + unknownCustomerLines;
  return {
    ...first.input,
    files,
    rejected,
    rejectShare: first.input.rows === 0 ? 0 : rejected / first.input.rows,
    orderLines: acceptedOrderLines(files),
    // Each shard left out its own erased clients.
    erasedClients: outcomes.reduce((n, o) => n + (o.input.erasedClients ?? 0), 0),
    unknownCustomerLines,
    sampleRejects: rejects.slice(0, 10),
  };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
  return into;
}

/** The night's CLV report with the buyers whose prediction failed in any shard, when there are some. */
function withClvPredictionFailures(report: ClvRunReport, failures: number): ClvRunReport {
  return failures > 0 ? { ...report, predictionFailures: failures } : report;
}

/** The digests of the nights completed from `digestDate` to the night before this one, newest first, as their summaries keep them. */
async function digestRunsSince(context: NightContext, digestDate: string): Promise<EarlierDigestNights> {
  const { documents } = context.clients;
  const table = tableNames(context.config).runs;
  const nights = await recentRuns<{ job: string; runDate: string; status?: string; advisorDigests?: DigestRun }>(documents, table, NIGHTLY_JOB, addDays(context.runDate, -1), {
    limit: DIGEST_WEEK_NIGHTS,
    attributes: ['status', 'advisorDigests.mode', 'advisorDigests.error'],
  });
  // Any night on or before the digest day, whatever became of it: read only when none of the week ran the digests whole.
  const digestDayDue = async () => (await recentRuns<RunKey>(documents, table, NIGHTLY_JOB, digestDate, { limit: 1, attributes: [] })).length > 0;
  const completed = nights.filter((n) => n.runDate >= digestDate && n.status === 'completed').map((n) => n.advisorDigests);
  return { nights: completed, digestDayDue: completed.some((n) => n?.mode === 'all') || (await digestDayDue()) };
}

/**
 * The address book with tonight's links (former-addresses.ts): written by a night that completes
 * only, before it is recorded complete (a rerun after a crash writes the same links again), and
 * without the clients who asked to be forgotten. Tonight's links replace those an earlier attempt
 * of the night wrote (withLinks), which the shards did not read either (bookBefore): a rerun on a
 * corrected export leaves none of the bad one's.
 */
async function keepFormerAddresses(context: Pick<NightContext, 'config' | 'clients' | 'runDate'>, links: readonly FormerLink[]): Promise<void> {
  const { config, clients, runDate } = context;
  // No links tonight and no book (a generic export's night): nothing to write, no lease to take.
  if (links.length === 0 && (await readAddressBook(clients.s3, config)).length === 0) return;
  // Under the book's lease: a forget at this instant edits it before or after, never between the read and the write.
  await editAddressBook(clients, config, async (book) => {
    const erasures = await loadErasures(clients.documents, tableNames(config).suppression);
    const next = withLinks(book, links, runDate).filter((entry) => !isErased(erasures, entry.customerId));
    // An entry given its erasure key tonight, or one of an earlier attempt's replaced (withLinks), is a change too.
    return sameBook(next, book) ? undefined : next;
  });
}

/** Phase 4: the run summary from every shard's outcome, stored in S3 and the runs table, written under the write lease `run.writer`. */
export async function finishNight(
  context: NightContext,
  run: { source: string; startedAt: number; models: NightModels; admission: NightAdmission; outcomes: readonly ShardOutcome[]; writer: LeasedWork },
): Promise<NightlyRunSummary> {
  const { config, clients, runDate, runId, log } = context;
  const outcomes = [...run.outcomes].sort((a, b) => a.shard.index - b.shard.index);
  const first = outcomes[0];
  if (!first || outcomes.length !== first.shard.count || outcomes.some((o, i) => o.shard.index !== i)) {
    throw new NightlyRunError(`finishNight needs one outcome per shard, got shards ${outcomes.map((o) => `${o.shard.index}/${o.shard.count}`).join(', ')}`);
  }
  // As at each shard's write: a finish run again after it completed returns the stored summary.
  const completedByThisRun = await confirmWriter(context, 'finish');
  if (completedByThisRun) {
    log.info('night already completed by this run: nothing left to finish');
    return completedByThisRun;
  }
  const sum = (pick: (o: ShardOutcome) => number) => outcomes.reduce((n, o) => n + pick(o), 0);
  const max = (pick: (o: ShardOutcome) => number) => Math.max(...outcomes.map(pick));
  // Clients an earlier attempt of the night wrote that no shard saw tonight: put back as they were,
  // unless they asked to be forgotten since (their before-image is the whole profile). Those
  // attempts are over: the finish runs under a write lease that no other run's holds (write-lease.ts).
  const planned = await readBeforeImages(clients.s3, config, runDate, { exceptRunId: runId });
  const erasedPlanned = await erasedAmong(
    clients.documents,
    tableNames(config).suppression,
    [...planned].map(([customerId, item]) => ({ customerId, email: item?.email })),
  );
  await restoreUnseen(context, run.writer, planned, new Set([...outcomes.flatMap((o) => o.plannedHandled), ...erasedPlanned]));
  await purgeErased(context, [...erasedPlanned]);
  const bucket = reportsBucket(config);
  const summaryKey = `${reportPrefix(config, 'nightly', runDate)}/${SUMMARY_FILE}`;
  const campaignResults = await writeCampaignResults({ config, clients, runDate, tallies: outcomes.map((o) => o.campaignTallies), log });
  await writeCategoryAffinity(clients.s3, config, mergeCategoryAffinities(outcomes.map((o) => o.categoryAffinity)));
  // What timed tonight's reminders, for the nights after (cycle-history.ts): written once every shard has read the
  // history as it stood. The stored catalogue is tonight's products (shard 0 wrote them), else the one still in force.
  const cycleHistory = historyAfterNight(await readCycleHistoryOfNight(clients.s3, config, runDate), runDate, await readCatalog(clients.s3, config), {
    answerDays: runOutReminderLeadDays(config.campaigns),
    stockUpDays: replenishmentLeadDays(config.campaigns),
  });
  await writeCycleHistory(clients.s3, config, cycleHistory);
  await keepFormerAddresses(context, outcomes.flatMap((o) => o.formerLinks ?? []));
  // By file and line, whichever shard found them.
  const rejects = outcomes
    .flatMap((o) => o.rejects)
    .sort((a, b) => compareStrings(a.file, b.file) || a.line - b.line)
    .slice(0, MAX_KEPT_REJECTS);
  const input = combinedInput(outcomes, first, rejects);
  const rowObjects = await writeRowObjects(context, { rejects, rejected: input.rejected, warnings: first.warnings, warned: input.warned ?? 0 });
  const summary: NightlyRunSummary = {
    job: 'nightly',
    status: 'completed',
    runId,
    runDate,
    source: run.source,
    currency: config.currency,
    rules: nightRules(config),
    startedAt: new Date(run.startedAt).toISOString(),
    clockAt: runClockAt(runDate, config.timeZone),
    // Admissions of an earlier version's combine (a night upgraded between its phases) hold none: startedAt stands.
    ...(run.admission.snapshotBy === undefined ? {} : { snapshotBy: run.admission.snapshotBy }),
    durationMs: 0,
    // Shards run side by side: each phase took as long as its slowest shard.
    timingsMs: { read: max((o) => o.timingsMs.read), compute: max((o) => o.timingsMs.compute), load: max((o) => o.timingsMs.load), write: max((o) => o.timingsMs.write) },
    input,
    distribution: mergeDistributions(outcomes.map((o) => o.distribution)),
    clv: withClvPredictionFailures(run.models.clv.report, sum((o) => o.clvPredictionFailures ?? 0)),
    changes: {
      newClients: sum((o) => o.changes.newClients),
      changedProfiles: sum((o) => o.changes.changed),
      unchangedProfiles: sum((o) => o.changes.unchanged),
      upgrades: sum((o) => o.changes.upgrades),
      downgrades: sum((o) => o.changes.downgrades),
      tierMovements: outcomes.reduce((acc, o) => addCounts(acc, o.changes.tierMovements), {}),
      stageMovements: outcomes.reduce((acc, o) => addCounts(acc, o.changes.stageMovements), {}),
      rfmSegmentMovements: outcomes.reduce((acc, o) => addCounts(acc, o.changes.rfmSegmentMovements ?? {}), {}),
    },
    written: { profiles: sum((o) => o.written.profiles), tierHistory: sum((o) => o.written.tierHistory), retries: sum((o) => o.written.retries) },
    admission: withoutSnapshotBy(run.admission),
    shards: first.shard.count,
    // A shard an earlier version wrote (a night upgraded between its phases) left profiles of its format: none is claimed for the night.
    ...(outcomes.every((o) => o.profileFormat === PROFILE_FORMAT) ? { profileFormat: PROFILE_FORMAT } : {}),
    ...(first.roster === undefined ? {} : { roster: first.roster }),
    campaignResults: campaignResults.headlines,
    report: {
      summaryObject: `s3://${bucket}/${summaryKey}`,
      ...rowObjects,
      campaignResultsObject: campaignResults.object,
    },
  };
  // The advisors' weekly digests, on their weekday: never throws either; a failure is kept in the summary.
  // The advisors' follow-through: never fails the night either (its figures are a report's, not the data's).
  try {
    const followThrough = await nightFollowThrough({ config, clients, runDate, parts: outcomes.map((o) => o.taskFollowUps) });
    if (followThrough !== undefined) summary.advisorFollowThrough = followThrough;
  } catch (error) {
    summary.advisorFollowThroughError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    log.error('advisor follow-through not computed; the night\'s data is written', { error: summary.advisorFollowThroughError });
  }
  const { unsubscribeSecret, deadline } = context;
  Object.assign(
    summary,
    await advisorDigestsOfNight({
      runDate,
      runId,
      config,
      clients,
      log,
      at: context.clock(),
      ...(unsubscribeSecret === undefined ? {} : { unsubscribeSecret }),
      ...(deadline === undefined ? {} : { deadline }),
      ...(summary.advisorFollowThrough === undefined ? {} : { followThrough: summary.advisorFollowThrough }),
      earlierDigestRuns: (digestDate) => digestRunsSince(context, digestDate),
    }),
  );
  // The marketers' report (report.html, team email): never throws; a failure is kept in the summary.
  const absentClients = absentClientsOf(outcomes.map((o) => o.absentClients));
  Object.assign(summary.report, await publishNightlyReport({ config, clients, summary, log, at: context.clock(), ...(absentClients ? { absentClients } : {}) }));
  summary.durationMs = context.clock() - run.startedAt;
  await writeJsonObject(clients.s3, { bucket, key: summaryKey }, summary, true);
  const item = runsItemOf(summary);
  if (item.listsCut?.reduced) {
    log.warn('night summary too large for its runs item even with samples: stored without them (the whole summary is in summary.json)', {
      summaryObject: summary.report.summaryObject,
      lengths: item.listsCut.lengths,
    });
  }
  await putRun(clients.documents, tableNames(config).runs, { ...item, job: NIGHTLY_JOB, runDate });
  log.info('nightly run finished', {
    durationMs: summary.durationMs,
    shards: summary.shards,
    written: summary.written,
    upgrades: summary.changes.upgrades,
    downgrades: summary.changes.downgrades,
  });
  return summary;
}

/** The admission as the summary keeps it: its snapshotBy is the summary's own. */
function withoutSnapshotBy(admission: NightAdmission): NightAdmission {
  const { snapshotBy: _kept, ...rest } = admission;
  return rest;
}

/**
 * Phase 2, continued: the checks before any write (admission.ts), from every shard's figures and
 * the export's files; marks the night as being written.
 */
export async function admitShards(
  context: NightContext,
  run: {
    startedAt: number;
    figures: readonly ShardFigures[];
    files: NightlyRunSummary['input']['files'];
    unknownCustomerLines: readonly Record<string, number>[];
    campaignTallies: readonly CampaignTallies[];
  },
): Promise<NightAdmission> {
  const { writtenWithoutImage, ...figures } = addShardFigures(run.figures);
  // Added up as finishNight adds them, for the checked sums: an impossible campaign revenue refuses the night here.
  mergeCampaignTallies(run.campaignTallies);
  // Per file (one bad part is not diluted by good ones), the unknown customers' lines included.
  const files = withRejectsPerFile(run.files, addPerFile(run.unknownCustomerLines));
  checkRejectShares(files, context.config.maxRejectShare);
  if (writtenWithoutImage > 0) {
    context.log.error('night refused: profiles an earlier attempt wrote have no before-image left, nothing written', { writtenWithoutImage });
    throw missingBeforeImages(context.config, context.runDate, writtenWithoutImage);
  }
  return admitNight({
    config: context.config,
    clients: context.clients,
    runDate: context.runDate,
    runId: context.runId,
    startedAt: run.startedAt,
    fingerprint: nightFingerprint(run.files, context.config),
    acceptDrop: context.acceptDrop,
    // Figures of an earlier version's shards hold no SKU count: their accepted products rows stand in (at least as many).
    tonight: { ...figures, orderLines: acceptedOrderLines(files), productSkus: figures.productSkus ?? acceptedRows(files, 'products') },
    storedCatalogue: async () => {
      const { productSkus, productCycleSkus } = productFigures(await readCatalog(context.clients.s3, context.config));
      return { skus: productSkus, cycleSkus: productCycleSkus };
    },
    log: context.log,
  });
}

/**
 * The whole night in this process, as one shard, holding the night's write lease from before it
 * reads anything through its finish (write-lease.ts): another attempt of the night meanwhile
 * writes nothing and fails saying so.
 */
export async function runNightly(options: NightlyRunOptions): Promise<NightlyRunSummary> {
  const context = nightContext(options);
  const startedAt = context.clock();
  const source = options.source ?? defaultExportSource(context);
  context.log.info('nightly run started', { source: source.describe() });
  const writer: LeasedWork = { kind: 'night' };
  return withWriteLease(context, writer, async (lease) => {
    const shardRead = await readShard(context, source);
    const completed = await completedRunOf(context, shardRead.fingerprint);
    if (completed) return recordRerun(context, completed, startedAt);
    const base = await loadShardBase(context, shardRead);
    const { measures, figures } = measureShard(context, shardRead, base);
    const followed = await followShard(context, shardRead);
    const models = combineMeasures(context, [measures]);
    const admission = await admitShards(context, {
      startedAt,
      figures: [figures],
      files: shardRead.read.files,
      unknownCustomerLines: [shardRead.unknownCustomers.perFile],
      campaignTallies: [followed.campaignTallies],
    });
    await lease.confirm('write');
    const outcome = await writeShard(context, shardRead, models, base, followed, writer);
    await lease.confirm('finish');
    return finishNight(context, { source: source.describe(), startedAt, models, admission, outcomes: [outcome], writer });
  });
}
