/**
 * CLV benchmark (not part of `vitest run`): `npx vitest bench --run test/unit/shared/clv`.
 * Simulates a 1M-client base observed in whole days (ages 30–730 days), fits BG/NBD and
 * Gamma-Gamma, and predicts every client.
 */
import { bench, describe } from 'vitest';
import { fitBgNbd } from '#shared/clv/bgnbd.ts';
import { fitGammaGamma } from '#shared/clv/gammagamma.ts';
import { createClvPredictor } from '#shared/clv/predict.ts';
import { simulateBgNbd } from '#shared/clv/simulate.ts';

const N = 1_000_000;
const bgnbd = { r: 0.8, alpha: 60, a: 1.5, b: 6 };
const spend = { p: 6.25, q: 3.74, v: 30_000 };
const data = simulateBgNbd(bgnbd, N, Array.from({ length: 701 }, (_, i) => 30 + i), 1, { discrete: true, spend });
const once = { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 };
const logged = new Set<string>();
/** tinybench may call a task more than once; report its result the first time only. */
const logOnce = (key: string, ...values: unknown[]): void => {
  if (logged.has(key)) return;
  logged.add(key);
  console.log(...values);
};

describe(`CLV on ${N.toLocaleString('en')} clients`, () => {
  bench(
    'fitBgNbd',
    () => {
      const fit = fitBgNbd(data);
      logOnce('bgnbd', `fitBgNbd: ${fit.groups} groups, ${fit.iterations} iterations, converged ${fit.converged}`, fit.params);
    },
    once,
  );
  bench(
    'fitGammaGamma',
    () => {
      const fit = fitGammaGamma(data);
      logOnce('gg', `fitGammaGamma: ${fit.clients} repeat clients, ${fit.iterations} iterations, converged ${fit.converged}`, fit.params);
    },
    once,
  );
  bench(
    'predict every client',
    () => {
      const predict = createClvPredictor({ bgnbd, gammaGamma: spend }, { unit: 'days', calibrationEnd: Date.UTC(2025, 5, 1), annualDiscountRate: 0.1 });
      let total = 0;
      for (const s of data) total += predict(s).clv12mMinor;
      logOnce('predict', `total 12-month CLV ${total}`);
    },
    once,
  );
});
