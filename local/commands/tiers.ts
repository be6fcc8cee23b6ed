import { z } from 'zod';
import { loadConfig } from '#shared/config.ts';
import { filesExportSource } from '#shared/exports/source.ts';
import { readExport } from '#shared/exports/reader.ts';
import type { ProductRecord } from '#shared/model.ts';
import { formatMinor } from '#shared/money.ts';
import { catalogBySku } from '#shared/store/catalog-store.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { computeProfiles, runClock } from '#shared/tiering/profile.ts';

const optionsSchema = z.object({
  customers: z.array(z.string()).min(1),
  orders: z.array(z.string()).min(1),
  products: z.array(z.string()).optional(),
  asOf: z.string(),
  config: z.string().optional(),
});

/** `clientele tiers`: the tiering of local files, no AWS: one JSON line per client on stdout. */
export async function tiersCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const config = await loadConfig(options.config);
  const asOf = runClock(options.asOf, config.timeZone).now;
  const aggregator = new ClientAggregator({ now: asOf });
  const products: ProductRecord[] = [];
  const source = filesExportSource([...options.customers, ...options.orders, ...(options.products ?? [])]);
  const read = await readExport(
    source,
    {
      customer: (record) => aggregator.addCustomer(record),
      order: (line) => aggregator.addOrderLine(line),
      product: (record) => products.push(record),
    },
    // Orders after --as-of are real (the aggregator leaves them out); only the wall clock bounds what an export can hold.
    { config, now: Math.max(asOf, Date.now()) },
  );
  if (read.rejected > 0) {
    process.stderr.write(`clientele: ${read.rejected} of ${read.rows} rows rejected, e.g.:\n`);
    for (const reject of read.rejects.slice(0, 5)) process.stderr.write(`  ${reject.file}:${reject.line}  ${reject.reason}\n`);
  }
  for (const profile of computeProfiles(aggregator.clients(), { runDate: options.asOf, config, catalog: catalogBySku(products) })) {
    const line = JSON.stringify({ ...profile, spend12m: formatMinor(profile.spend12mMinor, profile.currency) });
    if (!process.stdout.write(`${line}\n`)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
}
