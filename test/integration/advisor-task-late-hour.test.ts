import { describe, expect, it } from 'vitest';
import type { AwsClients } from '#shared/aws/clients.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { advisorsConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { at, iso } from '#test/support/time.ts';

/**
 * An advisor's task email is claimed by the hour like a client's email (advisor-tasks.ts
 * sendTaskEmail): its claim records the run's real clock too (claimWrittenAt), so a late hour's
 * task email still in flight is not reported stale by the next hour (nor released and sent twice).
 */
const aws = sharedAws();
const ZONE = 'Asia/Shanghai';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('an advisor task email claimed by a late hour', () => {
  it('is not reported stale by the next hour while the late hour still sends it', { timeout: 180_000 }, async () => {
    const NOW = at('2026-11-23 10:00', ZONE);
    const config = await advisorsConfig(aws, 'task-email-late-hour');
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie-pti@advisors.example.com', locale: 'en', active: true }] });
    await seedProfiles(aws, config, [
      profileItem('pti-1', { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 }),
    ]);
    let release!: () => void;
    const latch = new Promise<void>((resolve) => (release = resolve));
    let inFlight!: () => void;
    const sending = new Promise<void>((resolve) => (inFlight = resolve));
    const sesSend = aws.clients.ses.send.bind(aws.clients.ses);
    const ses = Object.create(aws.clients.ses) as AwsClients['ses'];
    ses.send = (async (command: { input: unknown }, ...rest: unknown[]) => {
      if (JSON.stringify(command.input).includes('sophie-pti@')) {
        inFlight();
        await latch;
      }
      return (sesSend as (...a: unknown[]) => Promise<unknown>)(command, ...rest);
    }) as AwsClients['ses']['send'];
    // The 10:00 hour started 50 minutes late (a scheduler retry): its task email is claimed, its SES call slow.
    const late = runCampaignHour({ clients: { ...aws.clients, ses } }, config, NOW, 'pti-late', { realClock: () => NOW + 50 * MINUTE });
    await Promise.race([sending, late]);
    // The 11:00 hour, on time: the claim was written 15 real minutes ago, less than staleClaimMinutes.
    const next = await runCampaignHour(aws, config, NOW + HOUR, 'pti-next', { realClock: () => NOW + HOUR + 5 * MINUTE });
    release();
    await late;
    expect(next.staleClaims).toEqual([]);
  });
});
