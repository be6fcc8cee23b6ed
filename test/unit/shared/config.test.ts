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
    expect(() => parseConfig({ currency: 'usd' })).toThrow(/currency: must be an ISO 4217 code/);
    expect(() => parseConfig({ maxRejectShare: 2 })).toThrow(ConfigError);
    expect(() => parseConfig({ tresholds: {} })).toThrow(/Unrecognized key/);
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
