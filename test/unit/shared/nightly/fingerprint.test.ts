import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, type ConfigInput } from '#shared/config.ts';
import type { FileReport } from '#shared/exports/reader.ts';
import { nightFingerprint } from '#shared/nightly/repeat.ts';

type ExportFile = Pick<FileReport, 'location' | 'sha256'>;

const sha = (seed: string) => seed.repeat(64).slice(0, 64);
const files: ExportFile[] = [
  { location: 'exports/2026-03-01/customers.csv', sha256: sha('a') },
  { location: 'exports/2026-03-01/orders.csv.gz', sha256: sha('b') },
  { location: 'exports/2026-03-01/products.csv', sha256: sha('c') },
];
const config = parseConfig({});
const fingerprint = nightFingerprint(files, config);
const withConfig = (input: ConfigInput) => nightFingerprint(files, parseConfig(input));

const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
const exportFiles = fc.uniqueArray(fc.record({ location: fc.stringMatching(/^exports\/[a-z0-9/._-]{1,30}$/), sha256: hex }), { selector: (f) => f.location, maxLength: 12 });

describe('nightFingerprint', () => {
  it('is a sha256 in hex, and the same for the same export and configuration', () => {
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(nightFingerprint(files.map((f) => ({ ...f })), parseConfig({}))).toBe(fingerprint);
  });

  it('does not depend on the order the files were listed in', () => {
    fc.assert(
      fc.property(
        exportFiles.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }))),
        ([list, shuffled]) => {
          expect(nightFingerprint(shuffled, config)).toBe(nightFingerprint(list, config));
        },
      ),
    );
  });

  it('changes when the bytes of any one file change', () => {
    fc.assert(
      fc.property(
        exportFiles.filter((list) => list.length > 0),
        fc.nat(),
        hex,
        (list, which, newSha) => {
          const index = which % list.length;
          fc.pre(list[index]?.sha256 !== newSha);
          const changed = list.map((f, i) => (i === index ? { ...f, sha256: newSha } : f));
          expect(nightFingerprint(changed, config)).not.toBe(nightFingerprint(list, config));
        },
      ),
    );
    expect(nightFingerprint([files[0] as ExportFile, { ...(files[1] as ExportFile), sha256: sha('d') }, files[2] as ExportFile], config)).not.toBe(fingerprint);
  });

  it('changes when a file is added or one is left out', () => {
    expect(nightFingerprint([...files, { location: 'exports/2026-03-01/orders-2.csv', sha256: sha('e') }], config)).not.toBe(fingerprint);
    expect(nightFingerprint(files.slice(0, 2), config)).not.toBe(fingerprint);
    expect(nightFingerprint([], config)).not.toBe(fingerprint);
  });

  it('changes when the same bytes come from another location', () => {
    expect(nightFingerprint(files.map((f, i) => (i === 0 ? { ...f, location: 'exports/2026-03-02/customers.csv' } : f)), config)).not.toBe(fingerprint);
  });

  it('changes when a rule of the configuration changes: a tier threshold, the time zone, a lifecycle window, a plausibility limit, a campaign setting', () => {
    const changed = [
      withConfig({ tiers: { vic: '60000', core: '5000', potential: '1000' } }),
      withConfig({ timeZone: 'Europe/Paris' }),
      withConfig({ currency: 'CNY', tiers: { vic: '50000', core: '5000', potential: '1000' } }),
      withConfig({ lifecycle: { newDays: 30, sleepingDays: 90, churnedDays: 180, defaultReorderGapDays: 45 } }),
      withConfig({ plausibility: { maxDropShare: 0.3 } }),
      withConfig({ maxRejectShare: 0.1 }),
      withConfig({ exchangeRates: { EUR: '7.8' } }),
      withConfig({ clv: { enabled: false } }),
      withConfig({ campaigns: { policy: { controlShare: 0 } } }),
    ];
    for (const other of changed) expect(other).not.toBe(fingerprint);
    expect(new Set(changed).size).toBe(changed.length);
  });

  it('stays the same when only where things are kept changes: table prefix, buckets, prefixes', () => {
    expect(withConfig({ storage: { tablePrefix: 'acme-prod-' } })).toBe(fingerprint);
    expect(withConfig({ storage: { exportsBucket: 'acme-exports', exportsPrefix: 'in', reportsBucket: 'acme-reports', reportsPrefix: 'out' } })).toBe(fingerprint);
  });

  it('stays the same when only the endpoints change: a restarted emulator, another region', () => {
    expect(withConfig({ endpoints: { region: 'eu-west-1' } })).toBe(fingerprint);
    expect(withConfig({ endpoints: { region: 'us-east-1', dynamodb: 'http://localhost:8001', s3: 'http://localhost:4569', ses: 'http://localhost:8005' } })).toBe(fingerprint);
  });
});

describe('nightFingerprint and the order of keys', () => {
  it('is the same for the same rules written in another key order (exchange rates, say)', () => {
    expect(withConfig({ exchangeRates: { EUR: '1.08', GBP: '1.27' } })).toBe(withConfig({ exchangeRates: { GBP: '1.27', EUR: '1.08' } }));
    expect(withConfig({ exchangeRates: { EUR: '1.08', GBP: '1.27' } })).not.toBe(withConfig({ exchangeRates: { EUR: '1.09', GBP: '1.27' } }));
  });
});
