import { advisorCountFor } from './clients.ts';

/**
 * The sample's advisors roster (advisors.csv, exports.md): one row per advisor id the clients
 * name (A01..), alternating English- and Chinese-speaking advisors in a Paris and a Shanghai
 * store. With three advisors or more the last one has left (active false), so the sample holds
 * clients waiting for a handover (`clientele advisors plan` proposes their new advisors).
 */

const PEOPLE = [
  { name: 'Sophie Martin', locale: 'en', store: 'Paris Rue Cambon', signature: 'Senior advisor, Rue Cambon' },
  { name: '王芳', locale: 'zh-CN', store: 'Shanghai Plaza 66', signature: '恒隆广场 资深顾问' },
  { name: 'James Whitfield', locale: 'en', store: 'Paris Rue Cambon', signature: 'Client advisor, Rue Cambon' },
  { name: '李娜', locale: 'zh-CN', store: 'Shanghai Plaza 66', signature: '恒隆广场 顾问' },
] as const;

export const ROSTER_HEADER = ['advisor_id', 'name', 'email', 'locale', 'active', 'signature', 'store'] as const;

/** The roster rows for a sample of `customers` clients. */
export function rosterRows(customers: number): string[][] {
  const count = advisorCountFor(customers);
  return Array.from({ length: count }, (_, i) => {
    const id = `A${String(i + 1).padStart(2, '0')}`;
    const person = PEOPLE[i % PEOPLE.length] ?? PEOPLE[0];
    const round = Math.floor(i / PEOPLE.length);
    const name = round === 0 ? person.name : `${person.name} ${round + 1}`;
    const active = count < 3 || i < count - 1;
    return [id, name, `advisor.${id.toLowerCase()}@example.com`, person.locale, active ? 'true' : 'false', person.signature, person.store];
  });
}
