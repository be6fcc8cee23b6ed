import { z } from 'zod';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import { pseudonym, silentLog, type Log } from '#shared/log.ts';
import { normaliseEmail } from '#shared/email.ts';
import { ID_BOUND, longerThan, MAX_EMAIL_CHARS } from '#shared/exports/fields.ts';
import { INTRODUCTION_CAMPAIGN, taskEmailLedgerKey } from '#shared/advisors/tasks.ts';
import { deleteClientSuppression, deletePlainSuppression, erasedKey, keepFeedbackIdsOnErasure, plainSuppressionsOf, recordErasure, unlinkPlainSuppression, type PlainSuppressionLink } from '#shared/store/erasure-store.ts';
import { AddressBookDamagedError, addressKeyOf, forgetFormerAddresses, readAddressBook, type FormerAddress } from '#shared/store/address-book.ts';
import { deleteClientHistory } from '#shared/store/history-store.ts';
import { forgetOccasionCode, occasionRef, occasionsOfClients } from '#shared/store/coupon-store.ts';
import { deleteLedgerEntries, forgetIntroduced, ledgerEntriesOf } from '#shared/store/ledger-store.ts';
import { addressesOf, deleteProfiles, findProfilesByEmail, findProfilesHolding, getProfile, nightEmailOf, type ProfileItem } from '#shared/store/profile-store.ts';
import { customerSuppressionKey, getSuppression } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { forgetBookPairs, rosterAdvisorIds } from '#shared/store/roster-store.ts';
import { deleteTasks, tasksOfClient } from '#shared/store/task-store.ts';
import { issuesText } from '#shared/zod-issues.ts';

/**
 * The right to erasure (GDPR art. 17, China's PIPL art. 47): `clientele forget --customer ID |
 * --email ADDRESS`, or the same as the forget function's event. Records hashed erasure entries
 * (erasure-store.ts) for the client's ids and addresses, then deletes what the suite holds of them:
 * tier history, send-ledger entries (their own and their advisor's task emails about them), advisor
 * tasks, their place in the advisors' stored book pairs, plain suppression entries (their addresses', and the unsubscribe or complaint kept against
 * their id), the profiles, and last their entries of the address book (their former Shopify
 * addresses). Which clients an address leads to is one rule (leadOf), whatever ties it to them (a
 * profile's email, nightEmail or hourEmails, an unsubscribe, bounce or complaint naming them, the
 * address book): the profiles holding it now, when there are any (two customer ids holding one
 * address at once, one person), else every client that had it. So an address of hers that another
 * client holds now (Shopify gives a left address to the next customer) is neither erased with her
 * nor followed to him, and `--email` with it erases him, not her; a warning names both by pseudonym.
 * Her former addresses are erased with her (the book's entries keep each one's erasure key).
 *
 * The erasure entries come first and the profiles and book entries last: a request that stops
 * half-way leaves the person out of every later run, and running it again finds the rest (the
 * profile still names the address, the book entry her id). Wherever a later run meets an erased client anyway (a night that read the export before
 * the request and wrote after it, a rerun's before-image), it erases them again (eraseTraces), and
 * the sender never mails them.
 */

export const forgetRequestSchema = z
  .object({
    // The exports' bounds: no id or address past them is in the base, and DynamoDB would refuse such a key mid-erasure.
    customerId: z.string().trim().min(1).refine(ID_BOUND.within, ID_BOUND.reason).optional(),
    // The export's own rule: every address a client can have in the base can be forgotten.
    email: z.string().trim().max(MAX_EMAIL_CHARS, longerThan(MAX_EMAIL_CHARS)).toLowerCase().regex(z.regexes.html5Email, 'must be an email address').optional(),
  })
  .strict()
  .refine((request) => request.customerId !== undefined || request.email !== undefined, 'give a customerId or an email (or both)');

export type ForgetRequest = z.infer<typeof forgetRequestSchema>;

export interface ForgetResult {
  /** Pseudonyms of the request, for the record (never the id or address itself). */
  request: { customer?: string; email?: string };
  profiles: number;
  historyRecords: number;
  ledgerEntries: number;
  /** Advisor tasks about the client (and their advisors' task emails). */
  tasks: number;
  /** Plain suppression entries (unsubscribes, bounces, complaints) of their addresses and ids, now only hashed. */
  suppressionEntries: number;
  /** Coupon codes drawn for their occasions: which occasion each went to is forgotten (the code stays taken). */
  couponCodes: number;
  /** Hashed erasure entries now on the list (customer ids and addresses, their former ones included). */
  erasureKeys: number;
  /** Their entries of the address book (former Shopify addresses) removed. */
  formerAddresses: number;
  /** Of them, the clients the advisors' stored book pairs named (catalog/advisor-pairs.json), now left out. */
  bookPairs: number;
  /**
   * 'damaged': the address book could not be read and was skipped (a warning names it): the request
   * did not look for a client through it nor record her former addresses. Nights refuse until it is
   * repaired, then drop the erased clients' entries; run the request again after the repair.
   */
  addressBook?: 'damaged';
}

export interface ForgetOptions {
  config: Config;
  /** With s3, their entries of the address book go at once; without, the next night that completes drops them (keepFormerAddresses). */
  clients: Pick<AwsClients, 'documents'> & Partial<Pick<AwsClients, 's3'>>;
  request: ForgetRequest;
  /** Epoch ms, the caller's clock: when the erasure was recorded. */
  at: number;
  log?: Log;
}

export class ForgetRequestError extends ClienteleError {
  override name = 'ForgetRequestError';
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Parses an outside request (CLI options, a Lambda event) into a ForgetRequest. */
export function parseForgetRequest(input: unknown): ForgetRequest {
  const parsed = forgetRequestSchema.safeParse(input);
  if (!parsed.success) throw new ForgetRequestError(`Invalid erasure request: ${issuesText(parsed.error, '(request)')}`);
  return parsed.data;
}

export async function forgetClient(options: ForgetOptions): Promise<ForgetResult> {
  const { config, clients, request, at } = options;
  const log = options.log ?? silentLog;
  const tables = tableNames(config);
  const requestedIds = new Set(request.customerId === undefined ? [] : [request.customerId]);
  const s3 = clients.s3;
  let book = s3 === undefined ? [] : await unlessDamaged(log, () => readAddressBook(s3, config));
  // The roster's advisors (with s3): eraseTraces looks in the ledger partitions of former advisors too.
  const advisorIds = s3 === undefined ? [] : await rosterAdvisorIds(s3, config);
  const bookEntries = () => (book === 'damaged' ? [] : book);
  const found = new Map<string, ProfileItem[]>();
  const profilesHolding = async (address: string) => {
    const known = found.get(address) ?? (await findProfilesByEmail(clients.documents, tables.profiles, address));
    found.set(address, known);
    return known;
  };
  // One warning for every source: an address another client holds now leads only to its holder.
  const passOver = (address: string, holders: readonly string[], formerIds: readonly string[]) =>
    log.warn('address held now by another client than those it was theirs before: it leads only to its holder', {
      email: pseudonym(address),
      holders: [...new Set(holders)].map(pseudonym),
      formerClients: [...new Set(formerIds)].map(pseudonym),
    });
  const idsOf = (profiles: readonly Pick<ProfileItem, 'customerId'>[]) => profiles.map((profile) => profile.customerId);
  // The addresses erased, the request's first: it is erased whoever holds it.
  const requestedEmail = request.email === undefined ? undefined : normaliseEmail(request.email);
  const emails = new Set(requestedEmail === undefined ? [] : [requestedEmail]);
  if (requestedEmail !== undefined) {
    // An unsubscribe, bounce or complaint of it names the client it was sent to, and the address book
    // the client it was a former address of: it was theirs, perhaps an earlier one their profile no longer holds.
    const entry = await getSuppression(clients.documents, tables.suppression, requestedEmail);
    const { sha256 } = addressKeyOf(requestedEmail);
    const named = [...(entry?.customerId === undefined ? [] : [entry.customerId]), ...bookEntries().filter((e) => e.sha256 === sha256).map((e) => e.customerId)];
    const holding = await profilesHolding(requestedEmail);
    const lead = leadOf(requestedEmail, holding, named);
    for (const id of lead.ids) requestedIds.add(id);
    const passed = [...idsOf(holding), ...named].filter((id) => !lead.ids.includes(id));
    if (passed.length > 0) passOver(requestedEmail, idsOf(lead.holders), passed);
  }

  // The person: from the requested ids, each address of theirs (their profiles': now, the last night's,
  // the hours'; and those their unsubscribes and bounces name) that leads back to them leads to the
  // clients it leads to (leadOf), until none is left. One another client holds now is not theirs.
  const persons = new Set<string>();
  const profiles = new Map<string, ProfileItem>();
  const links: PlainSuppressionLink[] = [];
  // Every address the person's profiles and their suppression entries tie to them, normalised.
  const personsAddresses = () => new Set([...[...profiles.values()].flatMap((p) => addressesOf(p)), ...links.map((link) => link.email)].map(normaliseEmail));
  let joining = [...requestedIds];
  while (joining.length > 0) {
    for (const id of joining) persons.add(id);
    for (const id of joining) {
      const profile = await getProfile(clients.documents, tables.profiles, id);
      if (profile) profiles.set(profile.customerId, profile);
    }
    links.push(...(await plainSuppressionsOf(clients.documents, tables.suppression, joining)));
    const next = new Set<string>();
    for (const address of personsAddresses()) {
      if (emails.has(address)) continue;
      const holding = await profilesHolding(address);
      const lead = leadOf(address, holding, []);
      if (lead.holders.length > 0 && !lead.ids.some((id) => persons.has(id))) {
        // Another client holds it now, so it is not erased; but the ids that held it together at the
        // last night were one person then (a generic base's two ids of one email, moved apart since).
        const atNight = holding.filter((profile) => heldAtNight(profile, address));
        if (atNight.some((profile) => persons.has(profile.customerId))) for (const profile of atNight) if (!persons.has(profile.customerId)) next.add(profile.customerId);
        continue;
      }
      emails.add(address);
      for (const id of lead.ids) if (!persons.has(id)) next.add(id);
    }
    joining = [...next];
  }
  const customerIds = [...persons];
  // Their addresses another client holds now: not erased, and their entries there no longer name them (below).
  const theirs = (address: string) => [...idsOf((found.get(address) ?? []).filter((p) => persons.has(p.customerId))), ...links.filter((link) => normaliseEmail(link.email) === address).map((link) => link.customerId)];
  const passedOver = new Set([...personsAddresses()].filter((address) => !emails.has(address)));
  for (const address of passedOver) passOver(address, idsOf(leadOf(address, found.get(address) ?? [], []).holders), theirs(address));

  // Their former addresses (the book's entries keep each one's erasure key): the same address signing
  // up again stays out. Unless another client holds it now (the book knows it only by its hash).
  const ids = new Set(customerIds);
  const heldByOthers = new Set<string>();
  const weighed = new Set<string>();
  const weighBook = async (entries: readonly FormerAddress[]) => {
    const unweighed = new Set(entries.filter((e) => ids.has(e.customerId) && e.erasureKey !== undefined && !weighed.has(e.sha256)).map((e) => e.sha256));
    if (unweighed.size === 0) return;
    for (const sha256 of unweighed) weighed.add(sha256);
    const holders = await findProfilesHolding(clients.documents, tables.profiles, (email) => unweighed.has(addressKeyOf(email).sha256));
    for (const sha256 of unweighed) {
      const holding = holders.filter((holder) => addressKeyOf(holder.email ?? '').sha256 === sha256);
      if (holding.length === 0 || holding.some((holder) => ids.has(holder.customerId))) continue;
      heldByOthers.add(sha256);
      // Known by its hash only: pseudonymised as the holder's address, which it is.
      passOver(normaliseEmail(holding[0]?.email ?? ''), idsOf(holding), entries.filter((e) => e.sha256 === sha256 && ids.has(e.customerId)).map((e) => e.customerId));
    }
  };
  const formerKeys = (entries: readonly FormerAddress[]) => entries.flatMap((e) => (ids.has(e.customerId) && e.erasureKey !== undefined && !heldByOthers.has(e.sha256) ? [e.erasureKey] : []));
  await weighBook(bookEntries());
  const keys = await recordErasure(clients.documents, tables.suppression, { customerIds, emails: [...emails], keys: formerKeys(bookEntries()) }, at);
  // Before the profiles go (a rerun finds the entries by their ids): the entries of addresses another client holds now stay, without their id.
  for (const link of links) if (passedOver.has(normaliseEmail(link.email))) await unlinkPlainSuppression(clients.documents, tables.suppression, link.email, link.customerId);
  // The request's own id and address lead to the rest: they go last (eraseTraces), so a rerun still gets there.
  const requested = { customerIds: [...requestedIds], emails: request.email === undefined ? [] : [normaliseEmail(request.email)] };
  const erased = await eraseTraces({ config, clients, advisorIds }, { customerIds, emails: [...emails], requested });
  // Last, as the request's address's own entry: the book's entry of a former address leads a rerun by it to her.
  // Removed, none of their old orders is linked to anyone again. An entry a night added since the read above gets its key recorded first.
  let removed: FormerAddress[] = [];
  if (s3 !== undefined && book !== 'damaged') {
    const edited = await unlessDamaged(log, () =>
      forgetFormerAddresses({ s3, documents: clients.documents }, config, customerIds, [...emails], {
        beforeRemoving: async (entries) => {
          // An entry a night added since the read above is weighed too.
          await weighBook(entries);
          await recordErasure(clients.documents, tables.suppression, { customerIds: [], emails: [], keys: formerKeys(entries) }, at);
        },
      }),
    );
    if (edited === 'damaged') book = edited;
    else removed = edited;
  }
  const result: ForgetResult = {
    request: {
      ...(request.customerId ? { customer: pseudonym(request.customerId) } : {}),
      ...(request.email ? { email: pseudonym(normaliseEmail(request.email)) } : {}),
    },
    profiles: profiles.size,
    ...erased,
    erasureKeys: new Set([...keys, ...formerKeys(removed)]).size,
    formerAddresses: removed.length,
    ...(book === 'damaged' ? { addressBook: 'damaged' as const } : {}),
  };
  log.info('client erased', { ...result });
  return result;
}

/** Where an address leads: the profiles holding it now, and the clients it leads to. */
export interface AddressLead {
  holders: ProfileItem[];
  ids: string[];
}

const holdsNow = (profile: ProfileItem, address: string) => profile.email !== undefined && normaliseEmail(profile.email) === address;
/** The address a profile had at the last night (nightEmailOf); none for one an hour created since (lastNight null). */
function heldAtNight(profile: ProfileItem, address: string): boolean {
  const night = profile.lastNight === null ? undefined : nightEmailOf(profile);
  return night !== undefined && normaliseEmail(night) === address;
}

/**
 * Which clients an address leads to, one rule for every source that ties it to a client (`holding`:
 * the profiles holding it now, at the last night or in the hours since, findProfilesByEmail; `named`:
 * the client its unsubscribe, bounce or complaint names, those the address book ties it to). When
 * profiles hold it now (`email`), those alone, with any that had it at the last night beside one of
 * them: two ids holding one address at once are one person (a generic base's; Shopify gives an
 * address to one customer at a time, so there another who had it before is someone else). Else every
 * client that had it. Pure.
 */
export function leadOf(address: string, holding: readonly ProfileItem[], named: readonly string[]): AddressLead {
  const holders = holding.filter((profile) => holdsNow(profile, address));
  if (holders.length === 0) return { holders, ids: [...new Set([...holding.map((profile) => profile.customerId), ...named])] };
  const atNight = holders.some((holder) => heldAtNight(holder, address));
  return { holders, ids: holding.filter((profile) => holdsNow(profile, address) || (atNight && heldAtNight(profile, address))).map((profile) => profile.customerId) };
}

/**
 * A read or an edit of the address book, or 'damaged' when the book cannot be read: the erasure goes
 * on without it (a warning says so), since nights refuse until it is repaired and then drop the
 * erased clients' entries.
 */
async function unlessDamaged<T>(log: Log, use: () => Promise<T>): Promise<T | 'damaged'> {
  try {
    return await use();
  } catch (error) {
    if (!(error instanceof AddressBookDamagedError)) throw error;
    log.warn('address book skipped: damaged; run the request again once it is repaired, to erase her former addresses', { error: error.message });
    return 'damaged';
  }
}

/** What eraseTraces deleted, beside the profiles. */
export type ErasedTraces = Pick<ForgetResult, 'historyRecords' | 'ledgerEntries' | 'tasks' | 'suppressionEntries' | 'couponCodes' | 'bookPairs'>;

/**
 * What eraseTraces works with. `advisorIds`: the advisors of the stored roster (the config's are
 * read from `config`): a former advisor's ledger partition may hold a task email about the client
 * though no task of theirs was written (its email deferred, then the client handed over).
 */
export interface EraseContext {
  config: Config;
  /** Without s3 (a forget run without it), the advisors' book pairs are left as they are. */
  clients: Pick<AwsClients, 'documents'> & Partial<Pick<AwsClients, 's3'>>;
  advisorIds?: Iterable<string>;
}

/**
 * Erases again the clients of `erased` (on the erasure list) that a run met with a stored profile:
 * a forget that raced it, or stopped half-way. eraseTraces of their ids, with the addresses their
 * `profiles` hold (the others' are not theirs).
 */
export function eraseAgain(
  context: EraseContext,
  erased: ReadonlySet<string>,
  profiles: readonly Pick<ProfileItem, 'customerId' | 'email'>[],
): Promise<ErasedTraces> {
  const theirs = profiles.filter((profile) => erased.has(profile.customerId));
  return eraseTraces(context, { customerIds: [...erased], emails: theirs.flatMap((profile) => (profile.email ? [profile.email] : [])) });
}

/**
 * Deletes what the suite holds of clients already on the erasure list: tier history, send-ledger
 * entries, advisor tasks and their advisors' task emails' entries (their id taken out of a digest's
 * introductions), the coupon codes' occasion items, the plain suppression entries of their
 * ids and addresses, their place in the advisors' stored book pairs (with s3), and last their
 * profiles. Idempotent. forgetClient calls it after recording the erasure; the nightly run and the
 * sender call it for an erased client they meet with a profile (eraseAgain), so a rerun after a
 * failure ends where a clean forget does.
 *
 * `requested` is what a forget request named: the rest was reached through it (an address's bounce
 * names the client's id, whose profile names their current address, which other profiles share).
 * So the profiles reached through others go first, then the requested ids' own, and last the
 * suppression entry of the requested address: a request that stops at any step, run again, still
 * reaches everything left.
 */
export async function eraseTraces(
  context: EraseContext,
  who: { customerIds: readonly string[]; emails: readonly string[]; requested?: { customerIds: readonly string[]; emails: readonly string[] } },
): Promise<ErasedTraces> {
  const { documents } = context.clients;
  const tables = tableNames(context.config);
  // The campaigns whose occasions an advisor's task email can be about (a task email's key: its client's id, then the occasion key).
  const campaignIds = new Set([...context.config.campaigns.campaigns.map((campaign) => campaign.id), INTRODUCTION_CAMPAIGN]);
  const erased: ErasedTraces = { historyRecords: 0, ledgerEntries: 0, tasks: 0, suppressionEntries: 0, couponCodes: 0, bookPairs: 0 };
  const knownIds = new Set([...Object.keys(context.config.reports.advisors), ...(context.advisorIds ?? [])]);
  const coupons = { documents, table: tables.couponCodes };
  // Every occasion a code was drawn for carries a hash of the client's id: found without the
  // ledger, whose entry may be missing (an hour that died between the draw and its claim) or expired.
  for (const { campaignId, ref } of await occasionsOfClients(coupons, who.customerIds)) {
    if (await forgetOccasionCode(coupons, campaignId, ref)) erased.couponCodes += 1;
  }
  for (const customerId of who.customerIds) {
    erased.historyRecords += await deleteClientHistory(documents, tables.tierHistory, customerId);
    // Before the ledger entries go: they name the occasions of codes drawn before the items carried the client's hash.
    const entries = await ledgerEntriesOf(documents, tables.sendLedger, customerId);
    for (const entry of entries) {
      if (await forgetOccasionCode(coupons, entry.campaignId, occasionRef(customerId, entry.occasionKey))) erased.couponCodes += 1;
    }
    await deleteLedgerEntries(documents, tables.sendLedger, entries);
    erased.ledgerEntries += entries.length;
    const tasks = await tasksOfClient(documents, tables.advisorTasks, customerId);
    // The advisors' ledgers name the client too: task emails about them (keyed by their id; one
    // whose task was never written, an hour that died between or an email deferred before a
    // handover, included), and the digest that introduced them to a new advisor. Their tasks'
    // advisors, their profile's, and every advisor known (the roster's, the config's): one query
    // per advisor's partition, never a scan of the ledger.
    const advisorId = (await getProfile(documents, tables.profiles, customerId))?.advisorId;
    const advisors = new Set([...tasks.map((task) => task.advisorId), ...(advisorId === undefined ? [] : [advisorId]), ...knownIds]);
    for (const advisor of advisors) {
      // The advisor's partition, and the start of every task email's key about the client.
      const about = taskEmailLedgerKey(advisor, { customerId, occasionKey: '' });
      const advisorEntries = await ledgerEntriesOf(documents, tables.sendLedger, about.customerId);
      // A client id may hold '#' ('vip#2'): what follows this client's id must be one of their occasion keys, which
      // start with a campaign id; another client's id that merely starts with this one ('vip' + '#2') does not.
      const taskEmails = advisorEntries.filter((entry) => entry.occasionKey.startsWith(about.occasionKey) && campaignIds.has(entry.occasionKey.slice(about.occasionKey.length).split('#')[0] ?? ''));
      await deleteLedgerEntries(documents, tables.sendLedger, taskEmails);
      erased.ledgerEntries += taskEmails.length;
      for (const digest of advisorEntries.filter((entry) => entry.introduced?.includes(customerId) || entry.introducedWithoutEmail?.includes(customerId))) {
        await forgetIntroduced(documents, tables.sendLedger, digest, customerId);
      }
    }
    await deleteTasks(documents, tables.advisorTasks, tasks);
    erased.tasks += tasks.length;
    await keepFeedbackIdsOnErasure(documents, tables.suppression, customerSuppressionKey(customerId), erasedKey('customer', customerId));
    if (await deleteClientSuppression(documents, tables.suppression, customerId)) erased.suppressionEntries += 1;
  }
  const requestedIds = new Set(who.requested?.customerIds);
  const requestedEmails = new Set(who.requested?.emails.map(normaliseEmail));
  const isLinkEmail = (email: string) => requestedEmails.has(normaliseEmail(email));
  const deleteAddressEntry = async (email: string) => {
    await keepFeedbackIdsOnErasure(documents, tables.suppression, normaliseEmail(email), erasedKey('email', email));
    if (await deletePlainSuppression(documents, tables.suppression, email)) erased.suppressionEntries += 1;
  };
  for (const email of who.emails.filter((email) => !isLinkEmail(email))) await deleteAddressEntry(email);
  // The book pairs of the last digests name them beside their advisor (the next week's handover
  // baseline): one read, and one write if they name any of them, for every client of the call.
  // Before the profiles: a forget by address that stops here, run again, still finds them through their profile.
  const { s3 } = context.clients;
  if (s3 !== undefined && who.customerIds.length > 0) erased.bookPairs = await forgetBookPairs(s3, context.config, who.customerIds);
  // Until a profile goes, a rerun finds the addresses through it.
  await deleteProfiles(documents, tables.profiles, who.customerIds.filter((id) => !requestedIds.has(id)));
  await deleteProfiles(documents, tables.profiles, who.customerIds.filter((id) => requestedIds.has(id)));
  // Until it goes, a rerun of a request by this address finds the client's id through it.
  for (const email of who.emails.filter(isLinkEmail)) await deleteAddressEntry(email);
  return erased;
}
