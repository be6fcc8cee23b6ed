import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import type { Config } from '#shared/config.ts';
import { NightRefusedError } from '#shared/nightly/admission.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, uploadExport } from '#test/support/emulator-data.ts';
import { exportDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at } from '#test/support/time.ts';

/**
 * The guards on what tonight's customers rows would do to the clients' contact details, in one run
 * and in four shards. A customers export whose consent column says yes for everyone (a platform
 * default, a column mapped from another field) would give consent back to every client who had
 * said no on the platform (only the suppression list protects anyone); one whose email column is
 * off by one row, or carries one address for everyone, would send each client's personalised
 * emails to another's inbox. Every figure the other checks compare is unchanged, so both are
 * measured per client against the last completed night and refused above their share, until an
 * operator accepts the night.
 */
const aws = sharedAws();
const IDS = Array.from({ length: 40 }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
const ORDERS = 'order_id,customer_id,ordered_at,sku,line_total\n' + IDS.map((id) => `o-${id},${id},2026-03-01T10:00:00+08:00,CREAM,100.00\n`).join('');
const own = (i: number) => `${IDS[i]}@contact.example.com`;
const customers = (row: { email?: (i: number) => string; consent?: (i: number) => string }) =>
  'customer_id,email,first_name,accepts_marketing\n' + IDS.map((id, i) => `${id},${(row.email ?? own)(i)},Ann,${(row.consent ?? (() => 'true'))(i)}\n`).join('');
/** Half the base said no on the platform. */
const halfOptedOut = (i: number) => (i % 2 === 0 ? 'false' : 'true');

const [FIRST, SECOND] = ['2026-03-21', '2026-03-22'] as const;
const CLOCK = { [FIRST]: at('2026-03-22 02:00'), [SECOND]: at('2026-03-23 02:00') };

type Mode = 'one run' | 'four shards';

async function night(config: Config, mode: Mode, date: typeof FIRST | typeof SECOND, customersCsv: string, acceptDrop = false): Promise<NightlyRunSummary> {
  await uploadExport(aws, config, await exportDir({ 'customers.csv': customersCsv, 'orders.csv': ORDERS }), date);
  const options = { clock: () => CLOCK[date], runDate: date, runId: `n-${date}${acceptDrop ? '-accepted' : ''}`, config, clients: aws.clients, acceptDrop };
  return mode === 'one run' ? runNightly(options) : runNightlySharded({ ...options, shards: 4 });
}

async function profiles(config: Config) {
  return Promise.all(IDS.map((id) => getProfile(aws.clients.documents, tableNames(config).profiles, id)));
}

const MODES: Mode[] = ['one run', 'four shards'];

describe('consent given back to many clients overnight', () => {
  for (const mode of MODES) {
    it(`${mode}: refused before writing, consent left as stored; accepted, the night records the count`, async () => {
      const config = await campaignConfig(aws, `consent-back-${mode === 'one run' ? 'one' : 'four'}`);
      await night(config, mode, FIRST, customers({ consent: halfOptedOut }));
      const refused = night(config, mode, SECOND, customers({}));
      await expect(refused).rejects.toThrow(NightRefusedError);
      await expect(refused).rejects.toThrow(
        /2026-03-22 refused, nothing written: 20 clients would be given marketing consent by tonight's customers rows though their profile holds none .*, 50% of the 40 clients of 2026-03-21, more than the 2% allowed/,
      );
      expect((await profiles(config)).map((p) => p?.acceptsMarketing)).toEqual(IDS.map((_, i) => i % 2 !== 0));

      const accepted = await night(config, mode, SECOND, customers({}), true);
      expect(accepted.admission?.accepted?.map((v) => v.check)).toEqual(['consentGivenBack']);
      expect(accepted.admission?.tonight).toMatchObject({ consentGivenBack: 20, addressesChanged: 0 });
      expect((await profiles(config)).every((p) => p?.acceptsMarketing === true)).toBe(true);
    }, 300_000);
  }

  it('counts a client whose profile never held a yes, and not one who said no tonight or whose row says nothing', async () => {
    const config = await campaignConfig(aws, 'consent-back-kinds');
    // First night: c01-c10 no consent column value (never said), the rest yes.
    await night(config, 'one run', FIRST, customers({ consent: (i) => (i < 10 ? '' : 'true') }));
    // Tonight: the ten say yes; the rest say no (a withdrawal is never refused) or nothing (kept).
    const summary = await night(config, 'one run', SECOND, customers({ consent: (i) => (i < 10 ? 'true' : i < 20 ? 'false' : '') }), true);
    expect(summary.admission?.tonight).toMatchObject({ consentGivenBack: 10 });
    expect(summary.admission?.accepted?.map((v) => v.check)).toEqual(['consentGivenBack']);
  }, 300_000);
});

describe('an ordinary day of consent and address changes', () => {
  it('a few clients opting in and changing address are not refused (fewer than ten: guards.ts MIN_CLIENTS_MOVED), and are counted', async () => {
    const config = await campaignConfig(aws, 'contact-ordinary');
    await night(config, 'one run', FIRST, customers({ consent: halfOptedOut }));
    // Two who had said no say yes (5% of 40, over the 2% allowed), three change address (7.5%, over the 5%).
    const summary = await night(config, 'one run', SECOND, customers({ consent: (i) => (i < 4 ? 'true' : halfOptedOut(i)), email: (i) => (i < 3 ? `moved-${own(i)}` : own(i)) }));
    expect(summary.admission?.tonight).toMatchObject({ consentGivenBack: 2, addressesChanged: 3 });
    expect(summary.admission?.accepted).toBeUndefined();
  }, 300_000);
});

const ADDRESS_CASES = [
  { name: "each row carries the next client's address", email: (i: number) => own((i + 1) % IDS.length) },
  { name: 'every row carries the same address', email: () => 'hello@shop.example.com' },
];

describe('the addresses of the whole base replaced overnight', () => {
  for (const mode of MODES) {
    for (const [n, c] of ADDRESS_CASES.entries()) {
      const accepts = mode === 'one run' && n === 0;
      it(`${mode}, ${c.name}: refused before writing, no address replaced${accepts ? '; accepted, the night records the count' : ''}`, async () => {
        const config = await campaignConfig(aws, `addresses-${n}-${mode === 'one run' ? 'one' : 'four'}`);
        await night(config, mode, FIRST, customers({}));
        const refused = night(config, mode, SECOND, customers({ email: c.email }));
        await expect(refused).rejects.toThrow(NightRefusedError);
        await expect(refused).rejects.toThrow(
          /2026-03-22 refused, nothing written: 40 clients would have their stored email address replaced by another by tonight's customers rows .*, 100% of the 40 clients of 2026-03-21, more than the 5% allowed/,
        );
        expect((await profiles(config)).map((p) => p?.email)).toEqual(IDS.map((_, i) => own(i)));
        if (!accepts) return;
        const accepted = await night(config, mode, SECOND, customers({ email: c.email }), true);
        expect(accepted.admission?.accepted?.map((v) => v.check)).toEqual(['addressesChanged']);
        expect(accepted.admission?.tonight).toMatchObject({ addressesChanged: 40, consentGivenBack: 0 });
      }, 300_000);
    }
  }

  it('does not count an address written in other case or with spaces, nor a first address', async () => {
    const config = await campaignConfig(aws, 'addresses-same');
    // First night: c01-c10 without an address.
    await night(config, 'one run', FIRST, customers({ email: (i) => (i < 10 ? '' : own(i)) }));
    const summary = await night(config, 'one run', SECOND, customers({ email: (i) => (i < 10 ? own(i) : ` ${own(i).toUpperCase()}`) }));
    expect(summary.admission?.tonight).toMatchObject({ addressesChanged: 0, consentGivenBack: 0 });
    expect(summary.admission?.accepted).toBeUndefined();
  }, 300_000);
});

describe('contact details an hourly increment changed since the night', () => {
  for (const [n, tonight] of ['the hour’s', 'the night’s'].entries()) {
    it(`are no change of tonight's export when it carries ${tonight} (addresses and consent of the whole base changed by the hour)`, async () => {
      const config = await campaignConfig(aws, `contact-hour-${n}`);
      await night(config, 'one run', FIRST, customers({ consent: halfOptedOut }));
      // The platform's increment: every client a new address, and those who had said no say yes.
      const moved = (i: number) => `moved-${own(i)}`;
      await dropIncrement(aws, config, '2026-03-22T1000', { 'customers.csv': customers({ email: moved }) });
      await runCampaignHour(aws, config, at('2026-03-22 11:00'), 'h-1100');
      expect((await profiles(config)).map((p) => [p?.email, p?.acceptsMarketing])).toEqual(IDS.map((_, i) => [moved(i), true]));
      // Tonight's snapshot has what the hour merged, or (dumped before it) what the night stored.
      const summary = await night(config, 'one run', SECOND, n === 0 ? customers({ email: moved }) : customers({ consent: halfOptedOut }));
      expect(summary.admission?.tonight).toMatchObject({ addressesChanged: 0, consentGivenBack: 0 });
      expect(summary.admission?.accepted).toBeUndefined();
    }, 300_000);
  }
});
