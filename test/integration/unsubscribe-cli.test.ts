import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { getClientSuppression, getSuppression } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { OPERATOR_SOURCE } from '#local/commands/unsubscribe.ts';
import { runCampaignHour, total } from '#test/support/campaign-runs.ts';
import { clienteleExit } from '#test/support/cli.ts';
import { scanTable, seedProfiles } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { HOUR, at, iso } from '#test/support/time.ts';

/**
 * `clientele unsubscribe --customer ID`: a client's no that reached the brand another way than
 * their link (or through a link that failed: its log line names the id) is recorded as the link's
 * one-click POST records it, and the next hour mails them nothing.
 */

const aws = sharedAws();
const work = scratchDir('unsubscribe-cli');
const AT = at('2026-11-23 10:00', 'Asia/Shanghai');
const welcomeDue = (id: string, email: string) => profileItem(id, { email, stage: 'new', firstOrderAt: iso(AT - 2 * HOUR), lastOrderAt: iso(AT - 2 * HOUR) });

async function configFile(name: string): Promise<{ config: Config; file: string }> {
  const config = await scenarioConfig(aws, name, { campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
  const file = join(work, `${name}.json`);
  await writeFile(file, JSON.stringify(config));
  return { config, file };
}

describe('clientele unsubscribe', () => {
  it("records the client's own no and their address's, as the link does, and the next hour mails them nothing; a second time changes nothing", async () => {
    const { config, file } = await configFile('unsubscribe-cli');
    const tables = tableNames(config);
    await seedProfiles(aws, config, [welcomeDue('U-1', 'U1@Example.com'), welcomeDue('U-2', 'u2@example.com')]);

    const first = await clienteleExit(['unsubscribe', '--customer', 'U-1', '--config', file]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe("Unsubscribed: the client's own no and their address's entry recorded; no campaign mails them from the next hour.\n");
    const client = await getClientSuppression(aws.clients.documents, tables.suppression, 'U-1');
    expect(client).toMatchObject({ reason: 'unsubscribe', source: OPERATOR_SOURCE });
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'u1@example.com')).toMatchObject({
      reason: 'unsubscribe',
      customerId: 'U-1',
      source: OPERATOR_SOURCE,
      suppressedAt: client?.suppressedAt,
    });

    const hour = await runCampaignHour({ clients: aws.clients }, config, AT, 'after-operator-unsubscribe');
    expect(total(hour, 'sent')).toBe(1);

    const again = await clienteleExit(['unsubscribe', '--customer', 'U-1', '--json', '--config', file]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ customerId: 'U-1', outcome: 'already', storedProfile: true, address: true });
    expect((await getClientSuppression(aws.clients.documents, tables.suppression, 'U-1'))?.suppressedAt).toBe(client?.suppressedAt);
  });

  it('keeps the no of an id no profile has against the id, and says so (a typo shows)', async () => {
    const { config, file } = await configFile('unsubscribe-cli-unknown');
    const result = await clienteleExit(['unsubscribe', '--customer', 'NEW-9', '--config', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Unsubscribed: the client's own no \(no address on file\) recorded; .* No stored profile has that customer id: the no is kept against the id all the same/);
    expect(await getClientSuppression(aws.clients.documents, tableNames(config).suppression, 'NEW-9')).toMatchObject({ reason: 'unsubscribe' });
  });

  it('stores nothing in clear for an erased client, whose profile is gone', async () => {
    const { config, file } = await configFile('unsubscribe-cli-erased');
    await seedProfiles(aws, config, [welcomeDue('E-1', 'e1@example.com')]);
    await forgetClient({ config, clients: aws.clients, request: { customerId: 'E-1' }, at: Date.now() });
    const before = await scanTable<{ email: string }>(aws, tableNames(config).suppression);

    const result = await clienteleExit(['unsubscribe', '--customer', 'E-1', '--config', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^That client was erased: nothing stored/);
    const after = await scanTable<{ email: string }>(aws, tableNames(config).suppression);
    expect(after).toEqual(before);
    expect(after.every((entry) => entry.email.startsWith('erased:'))).toBe(true);
  });

  it('refuses an empty customer id', async () => {
    const { file } = await configFile('unsubscribe-cli-usage');
    const result = await clienteleExit(['unsubscribe', '--customer', '', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--customer/);
  });
});
