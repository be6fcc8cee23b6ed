import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

/**
 * A night on a CRLF orders file in which 11 consecutive lines end with LF alone (a producer
 * appending to the file, an editor). The lines used to merge into one rejected record: the night
 * completed with 48 order lines and 1 reject for 60 lines, and c07 (lines 21 to 23) lost its
 * orders. Now the night is refused before any write, naming the file and line.
 */
const aws = sharedAws();
const work = scratchDir('night-mixed-line-endings');
const DAY = '2026-11-22';

describe('a night on a CRLF orders file with a block of LF line endings', () => {
  it('is refused before any write, naming the file and the first line that ends otherwise', async () => {
    const config = await scenarioConfig(aws, 'mixedeol');
    const ids = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const customers = ['customer_id,email,accepts_marketing', ...ids.map((id) => `${id},${id}@example.com,true`)].join('\r\n') + '\r\n';
    const lines = ['order_id,customer_id,ordered_at,sku,line_total', ...ids.flatMap((id) => [1, 2, 3].map((k) => `${id}-o${k},${id},${DAY}T1${k}:00:00+08:00,SKU-${k},100.00`))];
    const orders = lines.map((l, i) => l + (i >= 20 && i <= 30 ? '\n' : '\r\n')).join('');
    const dir = join(work, 'night');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'customers.csv'), customers);
    await writeFile(join(dir, 'orders.csv'), orders);
    const night = runNightly({ clock: Date.now, runDate: DAY, runId: 'r1', config, clients: aws.clients, source: directoryExportSource(dir) });
    await expect(night).rejects.toThrow(/orders\.csv, line 21: is not valid CSV: mixed line endings: this line ends with LF alone, the file's first line with CRLF/);
    // Nothing written: no client has a profile.
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'c07')).toBeUndefined();
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'c00')).toBeUndefined();
  }, 180_000);
});
