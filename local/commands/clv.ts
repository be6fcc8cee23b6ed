import { z } from 'zod';
import { clvSummaries, fitClvModels, nextOrderDate, type ClvRunReport } from '#shared/clv/profile-clv.ts';
import { createClvPredictor } from '#shared/clv/predict.ts';
import { loadConfig, type Config } from '#shared/config.ts';
import { readExport } from '#shared/exports/reader.ts';
import { filesExportSource } from '#shared/exports/source.ts';
import { currencyExponent } from '#shared/money.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { UsageError } from '#local/errors.ts';

const optionsSchema = z.object({
  orders: z.array(z.string()).min(1),
  customers: z.array(z.string()).min(1),
  calibrationEnd: z.string(),
  unit: z.enum(['days', 'weeks']).optional(),
  annualDiscountRate: z.number().optional(),
  config: z.string().optional(),
  json: z.boolean().optional(),
});
type ClvOptions = z.infer<typeof optionsSchema>;

interface Base {
  config: Config;
  calibrationEnd: number;
  customerIds: string[];
  summaries: ReturnType<typeof clvSummaries>['summaries'];
}

/** Reads the files and summarises every buyer as of the end of --calibration-end (brand time zone). */
async function readBase(options: ClvOptions): Promise<Base> {
  const loaded = await loadConfig(options.config);
  const config: Config = {
    ...loaded,
    clv: {
      ...loaded.clv,
      ...(options.unit ? { unit: options.unit } : {}),
      ...(options.annualDiscountRate === undefined ? {} : { annualDiscountRate: options.annualDiscountRate }),
    },
  };
  const { now } = runClock(options.calibrationEnd, config.timeZone);
  const aggregator = new ClientAggregator({ now });
  const read = await readExport(
    filesExportSource([...options.customers, ...options.orders]),
    { customer: (record) => aggregator.addCustomer(record), order: (line) => aggregator.addOrderLine(line), product: () => undefined },
    // Orders after the calibration end are real (a holdout); only the wall clock bounds what an export can hold.
    { config, now: Math.max(now, Date.now()) },
  );
  if (read.rejected > 0) {
    process.stderr.write(`clientele: ${read.rejected} of ${read.rows} rows rejected, e.g.:\n`);
    for (const reject of read.rejects.slice(0, 5)) process.stderr.write(`  ${reject.file}:${reject.line}  ${reject.reason}\n`);
  }
  // T runs to --calibration-end itself (the last day before `now`), as the nightly's runs to its run date.
  const { customerIds, summaries } = clvSummaries(aggregator.clientOrders(), now, config.clv, config.timeZone);
  return { config, calibrationEnd: now, customerIds, summaries };
}

function describeSkip(report: ClvRunReport): string {
  return `clv: models not fitted: ${report.skippedReason ?? 'unknown reason'}`;
}

/**
 * Gamma-Gamma's parameters with v in whole currency units: the fit runs on minor units, and v is
 * a money amount (the scale of the spend distribution; p·v/(q − 1) is the mean order value),
 * while p and q have no unit.
 */
export function gammaGammaInCurrencyUnits(params: { p: number; q: number; v: number }, currency: string): { p: number; q: number; v: number } {
  return { p: params.p, q: params.q, v: params.v / 10 ** currencyExponent(currency) };
}

async function writeLine(text: string): Promise<void> {
  if (!process.stdout.write(`${text}\n`)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

/** `clientele clv fit`: the fitted BG/NBD and Gamma-Gamma parameters and log-likelihoods. */
export async function clvFitCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const base = await readBase(options);
  const { report } = fitClvModels(base.summaries, base.calibrationEnd, base.config.clv);
  const { currency } = base.config;
  if (options.json) {
    // The report as the nightly stores it (Gamma-Gamma v in minor units), with v also in currency units.
    const inCurrency = report.gammaGamma ? { gammaGammaInCurrencyUnits: { ...gammaGammaInCurrencyUnits(report.gammaGamma, currency), currency } } : {};
    await writeLine(JSON.stringify({ ...report, calibrationEndDate: options.calibrationEnd, ...inCurrency }, null, 2));
  } else {
    const lines = [
      `calibration end ${options.calibrationEnd} (T measured to this date), unit ${report.unit}: ${report.clients} buyers, ${report.repeatBuyers} with a repeat purchase`,
    ];
    if (report.bgnbd) {
      const { r, alpha, a, b } = report.bgnbd;
      lines.push(`BG/NBD       r=${r.toPrecision(6)} alpha=${alpha.toPrecision(6)} a=${a.toPrecision(6)} b=${b.toPrecision(6)}  log-likelihood ${report.logLikelihood?.toFixed(3)} (${report.iterations} iterations)`);
    }
    if (report.gammaGamma) {
      const { p, q, v } = gammaGammaInCurrencyUnits(report.gammaGamma, currency);
      lines.push(`Gamma-Gamma  p=${p.toPrecision(6)} q=${q.toPrecision(6)} v=${v.toPrecision(6)} ${currency}  log-likelihood ${report.gammaGammaLogLikelihood?.toFixed(3)} (${report.gammaGammaIterations} iterations)`);
    }
    for (const warning of report.warnings) lines.push(`warning: ${warning}`);
    if (!report.fitted) lines.push(`not fitted: ${report.skippedReason ?? 'unknown reason'}`);
    await writeLine(lines.join('\n'));
  }
  if (!report.fitted) {
    process.stderr.write(`clientele: ${describeSkip(report)}\n`);
    process.exitCode = 1;
  }
}

/** `clientele clv predict`: one JSON line per buyer with the summary and the predictions (unrounded). */
export async function clvPredictCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const base = await readBase(options);
  const { config, calibrationEnd } = base;
  const fit = fitClvModels(base.summaries, calibrationEnd, config.clv);
  if (!fit.models) throw new UsageError(describeSkip(fit.report));
  const common = { unit: config.clv.unit, annualDiscountRate: config.clv.annualDiscountRate };
  const predict = createClvPredictor(fit.models, { ...common, calibrationEnd });
  const fromAnchor = createClvPredictor(fit.models, { ...common, calibrationEnd: 0, minProbabilityAlive: 0 });
  const calibrationDate = options.calibrationEnd; // the date T runs to
  process.stderr.write(`clientele: clv fitted on ${fit.report.clients} buyers (${fit.report.repeatBuyers} repeat), unit ${fit.report.unit}\n`);
  for (const warning of fit.report.warnings) process.stderr.write(`clientele: clv warning: ${warning}\n`);
  for (let i = 0; i < base.summaries.length; i++) {
    const summary = base.summaries[i] as (typeof base.summaries)[number];
    const prediction = predict(summary);
    const next = nextOrderDate(fromAnchor, summary, prediction, calibrationDate, config.clv.unit);
    await writeLine(
      JSON.stringify({
        customerId: base.customerIds[i],
        frequency: summary.frequency,
        recency: summary.recency,
        T: summary.T,
        probabilityAlive: prediction.probabilityAlive,
        expectedPurchases90d: prediction.expectedPurchases90d,
        expectedPurchases365d: prediction.expectedPurchases365d,
        expectedAverageOrderValueMinor: prediction.expectedAverageOrderValueMinor,
        clv12mMinor: prediction.clv12mMinor,
        ...(next === undefined ? {} : { predictedNextOrderAt: next }),
      }),
    );
  }
}
