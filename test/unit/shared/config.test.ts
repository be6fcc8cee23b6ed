import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '#shared/config.ts';

describe('config', () => {
  it('has the handbook defaults', () => {
    const config = parseConfig({});
    expect(config.tiers).toEqual({ vic: '50000', core: '5000', potential: '1000' });
    expect(config.lifecycle.sleepingDays).toBe(60);
    expect(config.lifecycle.churnedDays).toBe(180);
    expect(config.maxRejectShare).toBe(0.05);
    expect(config.currency).toBe('USD');
  });

  it('names the bad value in a clear error', () => {
    expect(() => parseConfig({ timeZone: 'Mars/Olympus' })).toThrow(/timeZone: must be an IANA time zone/);
    expect(() => parseConfig({ tiers: { vic: '1000', core: '5000', potential: '100' } })).toThrow(/vic > core > potential/);
    // The tiering reads thresholds in minor units of the currency: one it would round is refused.
    expect(() => parseConfig({ tiers: { vic: '50000', core: '5000', potential: '0.001' } })).toThrow(/tiers\.potential: "0\.001" is not an exact amount of USD \(at most 2 decimals\)/);
    expect(() => parseConfig({ currency: 'JPY', tiers: { vic: '500000', core: '50000', potential: '0.5' } })).toThrow(/tiers\.potential: "0\.5" is not an exact amount of JPY \(at most 0 decimals\)/);
    expect(() => parseConfig({ tiers: { vic: '50000', core: '49999.999', potential: '1000' } })).toThrow(/tiers\.core/);
    expect(parseConfig({ tiers: { vic: '50000', core: '49999.99', potential: '0.01' } }).tiers.potential).toBe('0.01');
    expect(parseConfig({ currency: 'JPY', tiers: { vic: '5000000', core: '500000', potential: '1' } }).currency).toBe('JPY');
    expect(() => parseConfig({ currency: 'usd' })).toThrow(/currency: must be an ISO 4217 code/);
    expect(() => parseConfig({ maxRejectShare: 2 })).toThrow(ConfigError);
    expect(() => parseConfig({ tresholds: {} })).toThrow(/Unrecognized key/);
  });

  it('refuses a currency other than USD without tiers: the default thresholds are USD amounts, read in yen or won they would mis-tier every client', () => {
    for (const currency of ['JPY', 'KRW', 'CNY']) {
      expect(() => parseConfig({ currency })).toThrow(new RegExp(`tiers: must be set when currency is ${currency}: the default thresholds are USD amounts; set tiers\\.vic, tiers\\.core and tiers\\.potential in ${currency}`));
    }
    // Set in that currency, even at the same figures, they load as given.
    expect(parseConfig({ currency: 'JPY', tiers: { vic: '50000', core: '5000', potential: '1000' } }).tiers.vic).toBe('50000');
    expect(parseConfig({ currency: 'USD' }).tiers).toEqual({ vic: '50000', core: '5000', potential: '1000' });
    // Some given, the others left to their USD figures: refused too, naming the first left out.
    expect(() => parseConfig({ currency: 'JPY', tiers: { vic: '5000000' } })).toThrow(/tiers\.core: must be set when currency is JPY/);
    expect(() => parseConfig({ currency: 'JPY', tiers: { vic: '5000000', core: '500000' } })).toThrow(/tiers\.potential: must be set when currency is JPY/);
    // In USD, one left out is its default.
    expect(parseConfig({ currency: 'USD', tiers: { vic: '80000' } }).tiers).toEqual({ vic: '80000', core: '5000', potential: '1000' });
  });

  it('refuses an exchange rate of 0, naming it: every order in that currency would count as worth nothing, without a reject', () => {
    for (const zero of ['0', '0.0', '00.000']) {
      expect(() => parseConfig({ currency: 'USD', exchangeRates: { CNY: zero } }), zero).toThrow(/exchangeRates\.CNY: must be greater than 0/);
    }
    expect(parseConfig({ currency: 'USD', exchangeRates: { CNY: '0.14', JPY: '0.0067' } }).exchangeRates).toEqual({ CNY: '0.14', JPY: '0.0067' });
  });

  it('refuses a maxLineTotal of 0, naming it: every order line would be a reject and the night would fail on the reject share', () => {
    for (const zero of ['0', '0.00']) {
      expect(() => parseConfig({ exports: { maxLineTotal: zero } }), zero).toThrow(/exports\.maxLineTotal: must be greater than 0/);
    }
    expect(parseConfig({ exports: { maxLineTotal: '0.01' } }).exports.maxLineTotal).toBe('0.01');
    expect(parseConfig({}).exports.maxLineTotal).toBe('10000000');
  });

  it('refuses a misspelled key in any section, naming it: it would otherwise be dropped without a word', () => {
    const misspelled: [object, string][] = [
      [{ sender: { postalAdress: ['1 Demo Plaza'] } }, 'sender'],
      [{ sender: { fromAdress: 'a@example.com' } }, 'sender'],
      [{ reports: { teamAdresses: ['team@example.com'] } }, 'reports'],
      [{ clv: { enable: false } }, 'clv'],
      [{ exports: { encodng: 'gbk' } }, 'exports'],
      [{ storage: { exportsBucket: 'b', exportsPrefix: 'e', reportsPrefix: 'r', tablePrefix: 't', tablePrefx: 'x' } }, 'storage'],
      [{ lifecycle: { newDays: 30, sleepingDays: 60, churnedDays: 180, defaultReorderGapDays: 45, sleepDays: 1 } }, 'lifecycle'],
      [{ advisors: { bookSise: {} } }, 'advisors'],
      [{ coupons: { lowBellow: 3 } }, 'coupons'],
      [{ plausibility: { maxDropShar: 0.3 } }, 'plausibility'],
      [{ endpoints: { dynamoDb: 'http://127.0.0.1:8000' } }, 'endpoints'],
    ];
    for (const [input, section] of misspelled) expect(() => parseConfig(input), section).toThrow(new RegExp(`${section}: Unrecognized key`));
  });

  it('refuses at load what would fail every email at send time', () => {
    expect(() => parseConfig({ campaigns: { campaigns: [{ id: 'nudge', trigger: { on: 'first-order' }, template: 'welcom' }] } })).toThrow(
      /campaign "nudge" at campaigns\.campaigns\.0\.template: must be one of the catalogue's templates \(welcome, replenishment/,
    );
    expect(() => parseConfig({ campaigns: { campaigns: [{ id: 'intro', trigger: { on: 'first-order' }, template: 'advisor-introduction' }] } })).toThrow(/template: must be one of/);
    expect(() => parseConfig({ campaigns: { campaigns: [{ id: 'nudge', trigger: { on: 'first-order' }, template: { en: 'welcome', 'zh-CN': 'welcom' } }] } })).toThrow(/campaigns\.0\.template: must be one of/);
    // A built-in's template too: a typo deferred every occasion of it and, at its priority, kept the lower campaigns from the client's hour.
    expect(() => parseConfig({ campaigns: { campaigns: [{ kind: 'welcome' }, { kind: 'winback', template: 'winbak' }] } })).toThrow(
      /campaign "winback" at campaigns\.campaigns\.1\.template: must be one of the catalogue's templates \(welcome, replenishment, winback, /,
    );
    expect(() => parseConfig({ campaigns: { campaigns: [{ kind: 'welcome', template: 'welcom' }] } })).toThrow(/campaigns\.0\.template: must be one of/);
    expect(parseConfig({ campaigns: { campaigns: [{ kind: 'replenishment', id: 'restock', template: 'recall' }] } }).campaigns.campaigns[0]?.template).toBe('recall');
    expect(() => parseConfig({ brandName: '   ' })).toThrow(/brandName: must not be blank/);
    expect(() => parseConfig({ brandName: 'x'.repeat(101) })).toThrow(/brandName: Too big/);
    expect(() => parseConfig({ sender: { unsubscribeBaseUrl: 'http://unsubscribe.example.com/' } })).toThrow(/unsubscribeBaseUrl: must be an https URL \(RFC 8058/);
    expect(() => parseConfig({ sender: { unsubscribeBaseUrl: 'ftp://example.com/' } })).toThrow(/unsubscribeBaseUrl: must be an https URL/);
    // The local emulators' loopback http stays allowed.
    expect(parseConfig({ sender: { unsubscribeBaseUrl: 'http://127.0.0.1:4567/' } }).sender.unsubscribeBaseUrl).toBe('http://127.0.0.1:4567/');
    expect(parseConfig({ brandName: ' Maison ' }).brandName).toBe('Maison');
  });

  it('refuses a ledger retention shorter than the night reads back: the TTL would delete entries the report still counts', () => {
    // Defaults: the follow-through's 90 days back from the end of the run date, and the night runs after it.
    expect(() => parseConfig({ sender: { ledgerRetentionDays: 90 } })).toThrow(
      /sender\.ledgerRetentionDays: must be at least 91: each night reads the send ledger and the advisors' tasks back 61 days for the campaign results \(the longest conversion window, 30, \+ 30 fully matured days \+ the run date\) and 90 days for the advisors' follow-through/,
    );
    expect(parseConfig({ sender: { ledgerRetentionDays: 91 } }).sender.ledgerRetentionDays).toBe(91);
    // A 120-day window: the results read from 150 days before the run date through it.
    const longWindows = (ledgerRetentionDays: number) => parseConfig({ sender: { ledgerRetentionDays }, reports: { conversionWindowsDays: [7, 120] } });
    expect(() => longWindows(151)).toThrow(/sender\.ledgerRetentionDays: must be at least 152: .* back 151 days for the campaign results \(the longest conversion window, 120,/);
    expect(longWindows(152).sender.ledgerRetentionDays).toBe(152);
    // The default retention covers the longest window the schema allows (365 days).
    expect(parseConfig({ reports: { conversionWindowsDays: [365] } }).sender.ledgerRetentionDays).toBe(400);
  });

  it("refuses a stale-claim age within the campaigns function's timeout: a claim that young may still be in flight", () => {
    // Reported stale, the README's release step would have an operator send it a second time.
    expect(() => parseConfig({ sender: { staleClaimMinutes: 15 } })).toThrow(
      /sender\.staleClaimMinutes: must be more than the campaigns function's 15-minute timeout: a younger claim may belong to a run still sending it/,
    );
    expect(parseConfig({ sender: { staleClaimMinutes: 16 } }).sender.staleClaimMinutes).toBe(16);
  });

  it('loads a file and reports its name on error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clientele-config-'));
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ currency: 'CNY', tiers: { vic: '350000', core: '35000', potential: '7000' } }));
    const config = await loadConfig(good);
    expect(config.currency).toBe('CNY');
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ lifecycle: { sleepingDays: -3 } }));
    await expect(loadConfig(bad)).rejects.toThrow(new RegExp(`config file ${bad}[\\s\\S]*lifecycle.sleepingDays`));
    await writeFile(bad, '{ not json');
    await expect(loadConfig(bad)).rejects.toThrow(/is not valid JSON/);
    await expect(loadConfig(join(dir, 'missing.json'))).rejects.toThrow(/Cannot read config file/);
  });
});
