import { describe, expect, it } from 'vitest';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { exportFolder, LENIENT_GUARDS, scratchDir, SHOPIFY_CUSTOMERS_HEADER, SHOPIFY_ORDERS_HEADER, shopifyNovemberOrderRow } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { storedState } from '#test/support/nightly-comparison.ts';
import { at } from '#test/support/time.ts';

/**
 * A Shopify client whose Tags name two advisors tonight (`advisor:A2, VIP, advisor:A1`: a tag added
 * without removing the old one). Which advisor holds her cannot be told, so the tag is dropped with
 * a warning, as other ambiguous values are, and her stored advisor stays (an empty advisor keeps
 * the stored one, merge.ts KEPT_FIELDS); the first tag is never taken silently. The row's other
 * fields are tonight's.
 */

const aws = sharedAws();
const work = scratchDir('shopify-two-advisor-tags');
const HEADER = [...SHOPIFY_CUSTOMERS_HEADER, 'Tags'];
const ORDERS = [SHOPIFY_ORDERS_HEADER, shopifyNovemberOrderRow('#1001', 'mei@two-tags.example.com', '10', '900.00', 'BAG-1')];

describe('nightly, a Shopify client whose Tags name two advisors', () => {
  it('keeps her stored advisor, with a warning on Tags, and takes the rest of her row', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'shopify-two-advisor-tags', LENIENT_GUARDS);
    const night1 = await exportFolder(work, 'n1', { 'customers_export.csv': [HEADER, ['41', 'Mei', 'Lin', 'mei@two-tags.example.com', 'no', 'VIP, advisor:A1']], 'orders_export.csv': ORDERS });
    const night2 = await exportFolder(work, 'n2', { 'customers_export.csv': [HEADER, ['41', 'Mei', 'Chen', 'mei@two-tags.example.com', 'yes', 'advisor:A2, VIP, advisor:A1']], 'orders_export.csv': ORDERS });
    await runNightly({ clock: () => at('2026-11-23 02:00'), runDate: '2026-11-22', runId: 'two-tags-1', config, clients: aws.clients, source: directoryExportSource(night1) });
    const mei = async () => (await storedState(aws, config)).profiles.find((p) => p.customerId === '41');
    expect(await mei()).toMatchObject({ advisorId: 'A1', lastName: 'Lin', acceptsMarketing: false });

    const summary = await runNightly({ clock: () => at('2026-11-24 02:00'), runDate: '2026-11-23', runId: 'two-tags-2', config, clients: aws.clients, source: directoryExportSource(night2) });
    expect(summary.status).toBe('completed');
    expect(summary.input.rejected).toBe(0);
    expect(summary.input.warned).toBe(1);
    expect(await mei()).toMatchObject({ advisorId: 'A1', lastName: 'Chen', acceptsMarketing: true });
  });
});
