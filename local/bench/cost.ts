/**
 * What one nightly run costs in AWS, computed from the benchmark's measured figures and public
 * on-demand prices (us-east-1, x86 Lambda). Written down so the estimate can be checked line by
 * line and recomputed on every bench run; prices change, so they are named and dated here.
 */

export const PRICES = {
  source: 'AWS public on-demand prices, us-east-1, as of November 2026 (DynamoDB after the November 2024 cut)',
  lambdaPerGbSecond: 0.0000166667,
  lambdaPerMillionRequests: 0.2,
  dynamoDbPerMillionWriteUnits: 0.625,
  dynamoDbPerMillionReadUnits: 0.125,
  s3PerThousandGets: 0.0004,
  s3PerThousandLists: 0.005,
  sesPerThousandEmails: 0.1,
  stepFunctionsPerThousandTransitions: 0.025,
} as const;

/** The inputs of the estimate for one base size: everything measured but the assumptions named. */
export interface CostInputs {
  clients: number;
  /** Nightly Lambda memory (infra/constructs/nightly-pipeline.ts). */
  lambdaMemoryGb: number;
  /**
   * Wall time of a typical night (the benchmark's 1% run, which reads, tiers, compares and writes
   * against DynamoDB Local; a 2 GB Lambda has about one vCPU, like one core here).
   */
  runSeconds: number;
  /** Measured: items a typical night writes (profiles + tier history). */
  itemsWrittenPerNight: number;
  /** Measured: mean profile item size in bytes (a write costs one unit per started KB, and the byTier index copies it). */
  meanProfileItemBytes: number;
  /** Export objects read (customers, products, order parts). */
  exportObjects: number;
  /** Assumed: lifecycle emails a day, as a share of the base. */
  emailsPerClientPerDay: number;
}

export interface CostLine {
  item: string;
  quantity: string;
  usd: number;
}

export interface CostEstimate {
  clients: number;
  lines: CostLine[];
  totalUsd: number;
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;

export function nightlyCost(inputs: CostInputs): CostEstimate {
  const gbSeconds = inputs.lambdaMemoryGb * inputs.runSeconds;
  // Half the items are profiles (~1.9 write units each at ~1.4 KB, written again by the byTier
  // index, which projects every attribute), half tier-history records (1 unit, and 1 for byRunDate).
  const profileUnits = Math.ceil(inputs.meanProfileItemBytes / 1024) * 2;
  const writeUnits = (inputs.itemsWrittenPerNight / 2) * (profileUnits + 2);
  // The comparison scans every profile once, eventually consistent: half a unit per started 4 KB.
  const readUnits = (inputs.clients * inputs.meanProfileItemBytes) / 4096 / 2;
  const emails = inputs.clients * inputs.emailsPerClientPerDay;
  const lines: CostLine[] = [
    { item: 'Lambda (nightly)', quantity: `${Math.round(gbSeconds).toLocaleString('en-US')} GB-s`, usd: gbSeconds * PRICES.lambdaPerGbSecond },
    {
      item: 'DynamoDB writes',
      quantity: `${Math.round(writeUnits).toLocaleString('en-US')} WRU (${inputs.itemsWrittenPerNight.toLocaleString('en-US')} items)`,
      usd: (writeUnits / 1e6) * PRICES.dynamoDbPerMillionWriteUnits,
    },
    { item: 'DynamoDB reads (stored state scan)', quantity: `${Math.round(readUnits).toLocaleString('en-US')} RRU`, usd: (readUnits / 1e6) * PRICES.dynamoDbPerMillionReadUnits },
    {
      item: 'S3 reads',
      quantity: `${inputs.exportObjects} GETs + 1 LIST (in-region transfer is free)`,
      usd: (inputs.exportObjects / 1000) * PRICES.s3PerThousandGets + PRICES.s3PerThousandLists / 1000,
    },
    { item: 'SES sends (a day)', quantity: `${Math.round(emails).toLocaleString('en-US')} emails`, usd: (emails / 1000) * PRICES.sesPerThousandEmails },
  ];
  for (const line of lines) line.usd = round(line.usd);
  return { clients: inputs.clients, lines, totalUsd: round(lines.reduce((n, l) => n + l.usd, 0)) };
}

/** The bench results file's fields the estimate reads (see bench.ts). */
interface BenchResults {
  sizes: {
    clients: number;
    tiering: { meanProfileItemBytes?: number };
    dynamodb?: { onePercent?: { wallMs: number; itemsWritten: number } } | { skipped: string };
  }[];
}

export interface CostOptions {
  lambdaMemoryGb?: number;
  exportObjects?: number;
  emailsPerClientPerDay?: number;
}

/**
 * An estimate per measured size. A size without DynamoDB figures (1M: too slow on DynamoDB
 * Local) takes the largest measured size's run time and items, scaled linearly by clients, as
 * the benchmark shows both growing linearly.
 */
export function costsOfBench(results: BenchResults, options: CostOptions = {}): (CostEstimate & { scaledFrom?: number })[] {
  const measured = results.sizes.filter((s) => s.dynamodb && 'onePercent' in s.dynamodb && s.dynamodb.onePercent);
  const reference = measured[measured.length - 1];
  const itemBytes = Math.max(0, ...results.sizes.map((s) => s.tiering.meanProfileItemBytes ?? 0)) || 1400;
  return results.sizes.flatMap((size) => {
    const own = size.dynamodb && 'onePercent' in size.dynamodb ? size.dynamodb.onePercent : undefined;
    const base = own ? size : reference;
    const run = own ?? (reference?.dynamodb && 'onePercent' in reference.dynamodb ? reference.dynamodb.onePercent : undefined);
    if (!base || !run) return [];
    const scale = size.clients / base.clients;
    const estimate = nightlyCost({
      clients: size.clients,
      lambdaMemoryGb: options.lambdaMemoryGb ?? 2,
      runSeconds: (run.wallMs / 1000) * scale,
      itemsWrittenPerNight: Math.round(run.itemsWritten * scale),
      meanProfileItemBytes: itemBytes,
      exportObjects: options.exportObjects ?? 6,
      emailsPerClientPerDay: options.emailsPerClientPerDay ?? 0.02,
    });
    return [{ ...estimate, ...(own ? {} : { scaledFrom: base.clients }) }];
  });
}

export function formatCosts(costs: ReturnType<typeof costsOfBench>): string {
  const lines: string[] = [`Cost of one nightly run in AWS (${PRICES.source}):`];
  for (const cost of costs) {
    lines.push(`  ${cost.clients.toLocaleString('en-US')} clients${cost.scaledFrom ? ` (run time and items scaled from ${cost.scaledFrom.toLocaleString('en-US')})` : ''}: USD ${cost.totalUsd.toFixed(4)}`);
    for (const line of cost.lines) lines.push(`    ${line.item.padEnd(36)}${line.quantity.padEnd(50)}USD ${line.usd.toFixed(4)}`);
  }
  return lines.join('\n');
}

// `tsx local/bench/cost.ts bench-results/<file>.json`: the estimate of an earlier bench run.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFile } = await import('node:fs/promises');
  const file = process.argv[2];
  if (!file) throw new Error('usage: tsx local/bench/cost.ts <bench results JSON>');
  console.log(formatCosts(costsOfBench(JSON.parse(await readFile(file, 'utf8')) as BenchResults)));
}
