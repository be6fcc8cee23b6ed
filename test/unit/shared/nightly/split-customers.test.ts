import { describe, expect, it } from 'vitest';
import { customerShardKey, isKeyedByIdInEmailExport, shardOf } from '#shared/nightly/shards.ts';
import { customersHeldTwice, heldTwiceRefusal, noEmaillessCustomers, splitCustomersOf, splitCustomersRefusal, type EmaillessCustomers } from '#shared/nightly/split-customers.ts';

const SHARDS = 3;

/** Customer ids whose id falls to shard `shard` of SHARDS. */
function idsIn(shard: number, count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) if (shardOf(`c${i}`, SHARDS) === shard) ids.push(`c${i}`);
  return ids;
}

function list(rows: [string, number, number][]): EmaillessCustomers {
  return { customerIds: rows.map((r) => r[0]), files: rows.map((r) => r[1]), lines: rows.map((r) => r[2]) };
}

describe('isKeyedByIdInEmailExport', () => {
  it('is a customer row without an email in an email-keyed export only', () => {
    expect(isKeyedByIdInEmailExport({}, 'email')).toBe(true);
    expect(isKeyedByIdInEmailExport({ email: 'a@example.com' }, 'email')).toBe(false);
    expect(isKeyedByIdInEmailExport({}, 'customer-id')).toBe(false);
    // The rows it names are exactly those the shard key takes the id of.
    expect(customerShardKey({ customerId: 'c1' }, 'email')).toBe('c1');
  });
});

describe('splitCustomersOf', () => {
  const shard = { index: 1, count: SHARDS };
  const [elsewhere, other] = idsIn(0, 2) as [string, string];
  const [own] = idsIn(1, 1) as [string];

  it('names the customers the shard holds whose email-less row its id sends to another shard, once each, at their first row', () => {
    const holds = (id: string) => id === elsewhere || id === own;
    const split = splitCustomersOf([list([[elsewhere, 3, 9], [other, 2, 4]]), list([[elsewhere, 2, 7], [own, 2, 5]])], shard, holds);
    expect(split).toEqual([{ customerId: elsewhere, file: 2, line: 7, idShard: 0 }]);
  });

  it('names no one when the shard holds none of them, or holds them by their id (all their rows in one shard)', () => {
    expect(splitCustomersOf([list([[elsewhere, 0, 2], [other, 0, 3]])], shard, () => false)).toEqual([]);
    expect(splitCustomersOf([list([[own, 0, 2]])], shard, () => true)).toEqual([]);
    expect(splitCustomersOf([noEmaillessCustomers()], shard, () => true)).toEqual([]);
    expect(splitCustomersOf([], shard, () => true)).toEqual([]);
  });

  it('is a refusal naming the first customer, its row, both shards, how many others and what to do', () => {
    const split = splitCustomersOf([list([[elsewhere, 1, 3], [other, 1, 8]])], shard, () => true);
    const refusal = splitCustomersRefusal(split, shard, (file) => ['customers_export_1.csv', 'customers_export_2.csv'][file] as string);
    expect(refusal.name).toBe('NightRefusedError');
    expect(refusal.message).toBe(
      `customer ${elsewhere} is listed with an email and without one (customers_export_2.csv line 3), and so are 1 other customers: ` +
        'the rows with an email fall to shard 1/3, the row without one to shard 0 (by its customer id), and a sharded night cannot merge them as one run does. ' +
        'Nothing was written: run this night as one shard (clientele run nightly without --shards, or the nightly function invoked with the run date and no phase).',
    );
  });

  it('names the customers the shard left out as forgotten by address too, and refuses without naming the first one', () => {
    const forgottenByAddress = (id: string) => id === elsewhere;
    const split = splitCustomersOf([list([[elsewhere, 1, 3], [own, 1, 5]])], shard, () => false, forgottenByAddress);
    expect(split).toEqual([{ customerId: elsewhere, file: 1, line: 3, idShard: 0, forgotten: true }]);
    const refusal = splitCustomersRefusal(split, shard, (file) => ['customers_export_1.csv', 'customers_export_2.csv'][file] as string);
    expect(refusal.name).toBe('NightRefusedError');
    expect(refusal.message).toBe(
      'a customer who asked to be forgotten by email is listed with that email and without one (customers_export_2.csv line 3): ' +
        'the rows with an email fall to shard 1/3, the row without one to shard 0 (by its customer id), which cannot see the forgotten email and would store the person. ' +
        'Nothing was written: run this night as one shard (clientele run nightly without --shards, or the nightly function invoked with the run date and no phase).',
    );
    expect(refusal.message).not.toContain(elsewhere);
  });
});

describe('customersHeldTwice', () => {
  it('is a client two shards hold by another key than the stored one, or one held so while the owner holds them too', () => {
    // a: held by shards 1 and 2, its owner (0) lists it left. b: held by 1, its owner does not list it left (holds it). c: moved, owner left.
    const shards = [{ held: [], left: ['a', 'c', 'absent'] }, { held: ['b', 'a', 'c'], left: [] }, { held: ['a'], left: [] }];
    expect(customersHeldTwice(shards)).toEqual(['a', 'b']);
  });

  it('is none when no shard holds a client by another key, whatever the owners list (absent, erased)', () => {
    expect(customersHeldTwice([undefined, { held: [], left: ['absent'] }])).toEqual([]);
    expect(customersHeldTwice([{ held: ['moved'], left: [] }, { held: [], left: ['moved'] }])).toEqual([]);
    expect(customersHeldTwice([])).toEqual([]);
  });
});

describe('heldTwiceRefusal', () => {
  const fileName = (file: number) => ['customers_export_1.csv', 'customers_export_2.csv'][file] as string;

  it('names the customer whose row comes first, that row and its first row in another shard, how many others and what to do', () => {
    const rows = [
      { customerId: '41', file: 1, line: 2, shard: 1 },
      { customerId: '52', file: 0, line: 9, shard: 1 },
      { customerId: '41', file: 0, line: 2, shard: 0 },
      { customerId: '41', file: 0, line: 5, shard: 0 },
    ];
    const refusal = heldTwiceRefusal(['41'], rows, 2, fileName);
    expect(refusal.name).toBe('NightRefusedError');
    expect(refusal.message).toBe(
      'customer 41 is listed with two emails that fall to two shards (customers_export_1.csv line 2 to shard 0/2, customers_export_2.csv line 2 to shard 1/2): ' +
        'each shard would build and write the customer from its own rows, and a sharded night cannot merge them as one run does ' +
        '(the later row\'s email, a "no" to marketing from any row). Nothing was written: run this night as one shard ' +
        '(clientele run nightly without --shards, or the nightly function invoked with the run date and no phase).',
    );
    expect(heldTwiceRefusal(['41', '52'], rows, 2, fileName).message).toMatch(/^customer 41 .*, and so are 1 other customers: /);
  });

  it('names the customer alone when its rows were not found', () => {
    expect(heldTwiceRefusal(['7'], [], 2, fileName).message).toMatch(/^customer 7 is listed with two emails that fall to two shards: each shard/);
  });
});
