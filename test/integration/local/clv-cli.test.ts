import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import { clientele } from '#test/support/cli.ts';
import { scratchDir } from '#test/support/export-files.ts';

const dir = scratchDir('clv-cli');
const cli = (...args: string[]) => clientele('clv', ...args);

beforeAll(async () => {
  await generateExport({ customers: 2000, seed: 7, asOf: '2026-11-23', timeZone: 'Asia/Shanghai' }, dir);
});

describe('clientele clv', () => {
  const files = () => ['--customers', join(dir, 'customers.csv'), '--orders', join(dir, 'orders.csv'), '--calibration-end', '2026-11-23'];

  it('fit --json prints the fitted parameters and log-likelihood', async () => {
    const { stdout } = await cli('fit', ...files(), '--unit', 'days', '--json');
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ fitted: true, converged: true, unit: 'days', calibrationEnd: '2026-11-23T16:00:00.000Z' });
    expect(report.bgnbd).toEqual({ r: expect.any(Number), alpha: expect.any(Number), a: expect.any(Number), b: expect.any(Number) });
    expect(report.gammaGamma).toEqual({ p: expect.any(Number), q: expect.any(Number), v: expect.any(Number) });
    expect(report.logLikelihood).toBeLessThan(0);
    // v is fitted on minor units (cents) and also given in dollars.
    const minor = report.gammaGamma as { p: number; q: number; v: number };
    expect(report.gammaGammaInCurrencyUnits).toEqual({ p: minor.p, q: minor.q, v: minor.v / 100, currency: 'USD' });
    expect(report.calibrationEndDate).toBe('2026-11-23');
  }, 60_000);

  it('fit prints v in currency units with the currency named, and T measured to the calibration end date', async () => {
    const { stdout } = await cli('fit', ...files(), '--unit', 'days');
    expect(stdout).toContain('calibration end 2026-11-23 (T measured to this date), unit days');
    expect(stdout).toMatch(/Gamma-Gamma {2}p=\S+ q=\S+ v=\S+ USD {2}log-likelihood/);
  }, 60_000);

  it('fit and predict say why the models were not fitted', async () => {
    const config = join(dir, 'strict.json');
    await writeFile(config, JSON.stringify({ timeZone: 'Asia/Shanghai', currency: 'USD', clv: { minRepeatBuyersToFit: 1_000_000 } }));
    const fit = await cli('fit', ...files(), '--config', config).then(
      () => expect.unreachable('clv fit should exit 1'),
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );
    expect(fit.code).toBe(1);
    expect(fit.stdout).toMatch(/not fitted: \d+ repeat buyers, fewer than minRepeatBuyersToFit \(1000000\)/);
    expect(fit.stderr).toContain('clv: models not fitted: ');
    const predict = await cli('predict', ...files(), '--config', config).then(
      () => expect.unreachable('clv predict should fail'),
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(predict.stderr).toMatch(/models not fitted: \d+ repeat buyers, fewer than minRepeatBuyersToFit/);
  }, 60_000);

  it('predict prints one JSON line per buyer', async () => {
    const { stdout } = await cli('predict', ...files());
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(1000);
    for (const line of lines.slice(0, 50)) {
      expect(line).toMatchObject({
        customerId: expect.any(String),
        frequency: expect.any(Number),
        recency: expect.any(Number),
        T: expect.any(Number),
        probabilityAlive: expect.any(Number),
        expectedPurchases90d: expect.any(Number),
        expectedPurchases365d: expect.any(Number),
        expectedAverageOrderValueMinor: expect.any(Number),
        clv12mMinor: expect.any(Number),
      });
      expect(line.probabilityAlive as number).toBeLessThanOrEqual(1);
    }
    expect(lines.some((line) => typeof line.predictedNextOrderAt === 'string')).toBe(true);
  }, 60_000);

  it('has help on each subcommand', async () => {
    expect((await cli('fit', '--help')).stdout).toContain('--calibration-end <date>');
    expect((await cli('predict', '--help')).stdout).toContain('--annual-discount-rate <rate>');
  }, 60_000);
});
