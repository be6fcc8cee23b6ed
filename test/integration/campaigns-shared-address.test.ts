import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { sameAddressReason } from '#shared/sender/mailed-addresses.ts';
import { ledgerEntriesOf } from '#shared/store/ledger-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local } from '#test/support/time.ts';

/**
 * Two customer ids, one address (a guest checkout later registered, a household), the second
 * written with other case and spaces: the ledger and the frequency cap are per client, but one
 * inbox gets one email of a campaign per run. The first client in the run's order gets it; the
 * other's occasion is recorded 'already-mailed', not sent, and no later hour sends it.
 */
const aws = sharedAws();
const work = scratchDir('campaigns-shared-address');
const SH = 'Asia/Shanghai';

describe('two customer ids with one address', () => {
  it('get one welcome in one inbox; the other occasion is settled already-mailed', { timeout: 240_000 }, async () => {
    const config: Config = await campaignConfig(aws, 'shared-address', { campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome' }] } as never });
    const dir = join(work, 'n1');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'customers.csv'),
      [
        'customer_id,email,first_name,locale,time_zone,accepts_marketing,signed_up_at',
        `guest-77,ann@shared-address.example.com,Ann,en,${SH},true,2026-11-23T09:00:00+08:00`,
        `C0077," Ann@Shared-Address.example.com ",Ann,en,${SH},true,2026-11-23T09:05:00+08:00`,
        `other,other@shared-address.example.com,Bo,en,${SH},true,2026-11-23T09:00:00+08:00`,
      ].join('\n') + '\n',
    );
    await writeFile(join(dir, 'orders.csv'), ['order_id,customer_id,ordered_at,line_total', 'o1,guest-77,2026-11-23T09:00:00+08:00,120.00'].join('\n') + '\n');
    await runNightly({ clock: () => local('2026-11-24 02:00', SH), runDate: '2026-11-23', runId: 'n1', config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop: false });

    // A dry run plans what the hour does.
    const dry = await runCampaignHour(aws, config, local('2026-11-24 10:00', SH), 'h1-dry', { dryRun: true });
    expect(dry.plan?.map(({ customerId, outcome, reason }) => ({ customerId, outcome, reason })).sort((a, b) => a.customerId.localeCompare(b.customerId))).toEqual([
      // The run's order (compareDueClients): the same campaign, no CLV fitted for either (too few buyers), so the smaller id first.
      { customerId: 'C0077', outcome: 'send', reason: undefined },
      { customerId: 'guest-77', outcome: 'already-mailed', reason: sameAddressReason('C0077') },
      { customerId: 'other', outcome: 'send', reason: undefined },
    ]);

    const hour = await runCampaignHour(aws, config, local('2026-11-24 10:00', SH), 'h1');
    expect(countsOf(hour, 'welcome')).toMatchObject({ sent: 2, 'already-mailed': 1 });
    expect(await emailsTo(aws, 'ann@shared-address.example.com')).toHaveLength(1);
    const ledger = tableNames(config).sendLedger;
    expect((await ledgerEntriesOf(aws.clients.documents, ledger, 'C0077')).map((e) => e.status)).toEqual(['sent']);
    expect((await ledgerEntriesOf(aws.clients.documents, ledger, 'guest-77')).map(({ status, reason }) => ({ status, reason }))).toEqual([
      { status: 'already-mailed', reason: sameAddressReason('C0077') },
    ]);

    // A later hour, inside the welcome's window, sends guest-77 nothing.
    const later = await runCampaignHour(aws, config, local('2026-11-24 11:00', SH), 'h2');
    expect(countsOf(later, 'welcome')).toMatchObject({ sent: 0, due: 0 });
    expect(await emailsTo(aws, 'ann@shared-address.example.com')).toHaveLength(1);
  });
});
