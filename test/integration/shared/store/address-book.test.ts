import { beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { writeObject } from '#shared/aws/s3-objects.ts';
import {
  ADDRESS_BOOK_LEASE,
  AddressBookBusyError,
  AddressBookDamagedError,
  addressKeyOf,
  editAddressBook,
  forgetFormerAddresses,
  readAddressBook,
  withLinks,
  type FormerAddress,
} from '#shared/store/address-book.ts';
import { addressBookKey, reportsBucket } from '#shared/store/buckets.ts';
import { acquireWriteLease } from '#shared/store/write-leases.ts';
import { tableNames } from '#shared/store/tables.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

const aws = sharedAws();
let config: Config;
let scenario = 0;

const link = (email: string, customerId: string) => ({ ...addressKeyOf(email), customerId });
const idsOf = (book: readonly FormerAddress[]) => book.map((entry) => entry.customerId).sort();

/** A promise and the function that settles it: a writer held at a chosen point of its edit. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const takeLease = (holder: string, durationMs: number) =>
  acquireWriteLease(aws.clients.documents, tableNames(config).runs, ADDRESS_BOOK_LEASE, { holder, now: Date.now(), durationMs });

beforeEach(async () => {
  // Each test its own tables and reports prefix: the book and its lease start empty.
  config = await scenarioConfig(aws, `address-book-${++scenario}`);
  await editAddressBook(aws.clients, config, () => withLinks([], [link('ana.old@example.com', 'ana'), link('ben.old@example.com', 'ben')], '2026-11-20'));
});

describe('address book writers', () => {
  it('a forget while a night\'s finish is between its read and its write waits for it: the night\'s new link stays, the forgotten client\'s entry goes', async () => {
    const held = gate();
    const readByNight = gate();
    const night = editAddressBook(aws.clients, config, async (book) => {
      readByNight.open();
      await held.opened;
      return withLinks(book, [link('cleo.old@example.com', 'cleo')], '2026-11-23');
    });
    await readByNight.opened;
    const forget = forgetFormerAddresses(aws.clients, config, ['ben'], []);
    // The forget is under way while the night holds the book; then the night writes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    held.open();
    await Promise.all([night, forget]);
    expect(idsOf(await readAddressBook(aws.clients.s3, config))).toEqual(['ana', 'cleo']);
  });

  it('a night\'s finish while a forget is between its read and its write waits for it: the erased client\'s entry is not put back', async () => {
    const held = gate();
    const readByForget = gate();
    const forget = editAddressBook(aws.clients, config, async (book) => {
      readByForget.open();
      await held.opened;
      return book.filter((entry) => entry.customerId !== 'ben');
    });
    await readByForget.opened;
    const night = editAddressBook(aws.clients, config, (book) => withLinks(book, [link('cleo.old@example.com', 'cleo')], '2026-11-23'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    held.open();
    await Promise.all([forget, night]);
    expect(idsOf(await readAddressBook(aws.clients.s3, config))).toEqual(['ana', 'cleo']);
  });

  it('a writer that died holding the lease delays the next one until its lease ends, and no longer', async () => {
    expect(await takeLease('died-mid-edit', 1_500)).toMatchObject({ acquired: { holder: 'died-mid-edit' } });
    const started = Date.now();
    await forgetFormerAddresses(aws.clients, config, ['ana'], [], { waitMs: 10_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(idsOf(await readAddressBook(aws.clients.s3, config))).toEqual(['ben']);
  });

  it('a writer kept waiting past its wait fails naming the holder and changes nothing; the lease is free after each edit, even one that throws', async () => {
    expect(await takeLease('a-slow-night', 60_000)).toMatchObject({ acquired: { holder: 'a-slow-night' } });
    const refused = forgetFormerAddresses(aws.clients, config, ['ana'], [], { waitMs: 400 });
    await expect(refused).rejects.toBeInstanceOf(AddressBookBusyError);
    await expect(refused).rejects.toMatchObject({ code: 'STATE_BUSY', message: expect.stringContaining('a-slow-night') });
    expect(idsOf(await readAddressBook(aws.clients.s3, config))).toEqual(['ana', 'ben']);

    // A fresh scenario's lease: an edit that throws frees it, and the next edit goes through at once.
    config = await scenarioConfig(aws, `address-book-${++scenario}`);
    await expect(editAddressBook(aws.clients, config, () => Promise.reject(new Error('edit failed')))).rejects.toThrow('edit failed');
    await editAddressBook(aws.clients, config, () => withLinks([], [link('dan.old@example.com', 'dan')], '2026-11-23'), { waitMs: 0 });
    expect(idsOf(await readAddressBook(aws.clients.s3, config))).toEqual(['dan']);
  });

  it('forget hands the entries it removes to its caller before the write: a caller that fails there leaves the book as it was', async () => {
    const failing = forgetFormerAddresses(aws.clients, config, ['ana'], [], { beforeRemoving: () => Promise.reject(new Error('erasure not recorded')) });
    await expect(failing).rejects.toThrow('erasure not recorded');
    expect(idsOf(await readAddressBook(aws.clients.s3, config))).toEqual(['ana', 'ben']);
    const seen: string[] = [];
    const removed = await forgetFormerAddresses(aws.clients, config, [], ['BEN.old@example.com'], { beforeRemoving: async (entries) => void seen.push(...entries.map((e) => e.customerId)) });
    expect({ seen, removed: removed.map((e) => e.customerId), left: idsOf(await readAddressBook(aws.clients.s3, config)) }).toEqual({ seen: ['ben'], removed: ['ben'], left: ['ana'] });
  });

  it('a damaged book is refused naming its object and what to do, whether not JSON or not its shape', async () => {
    const object = { bucket: reportsBucket(config), key: addressBookKey(config) };
    for (const body of ['{"version":1,"entries":[{"sha256":"ab', '{"version":1,"entries":[{"sha256":"ab","fnv":1,"customerId":"41","seenOn":"2026-11-23"}]}']) {
      await writeObject(aws.clients.s3, { ...object, body, contentType: 'application/json' });
      const read = readAddressBook(aws.clients.s3, config);
      await expect(read).rejects.toBeInstanceOf(AddressBookDamagedError);
      await expect(read).rejects.toMatchObject({ code: 'NIGHTLY_RUN_FAILED', message: expect.stringContaining(`s3://${object.bucket}/${object.key}`) });
      await expect(read).rejects.toThrow(/Put back a copy of it/);
    }
  });
});
