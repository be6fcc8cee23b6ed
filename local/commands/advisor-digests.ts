import { z } from 'zod';
import { loadTarget, refuseUnknownSenderSettings, targetOptionsSchema, unsubscribeKeyOf } from '#local/target.ts';
import { destroyAwsClients } from '#shared/aws/clients.ts';
import { cliAwsClients } from '#local/aws-errors.ts';
import { jsonLog, newRunId } from '#shared/log.ts';
import { digestNightOf, sendAdvisorDigests } from '#shared/digests/advisor-digests.ts';
import { formatAdvisorDigestSummary } from '#local/format.ts';
import { UsageError } from '#local/errors.ts';
import { storedNightlySummary } from '#shared/nightly/report.ts';

const optionsSchema = targetOptionsSchema.extend({
  date: z.string(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']),
  json: z.boolean(),
  dryRun: z.boolean(),
});

/**
 * `clientele run advisor-digests --date D`: the advisors' weekly digests from the profiles the
 * nightly run of D stored, whatever the weekday (the nightly run sends them on its own on the
 * configured one). D counts in the digest week it belongs to, as the nightly run's nights after
 * the digest day do (digestNightOf): on a Tuesday with the default Sunday, the digests of the
 * Sunday before, keyed on that Sunday's week, so only those not sent yet go out and next Sunday's
 * scheduled digests are not taken. Sends at most once per advisor and digest week, like the nightly call, and signs
 * the introductions' task links with the same key (the stack's; UNSUBSCRIBE_SECRET with a config
 * file, without which introductions go without links, as in a local night).
 */
export async function advisorDigestsCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const target = await loadTarget('run advisor-digests', options);
  const { config } = target;
  if (!options.dryRun) refuseUnknownSenderSettings('run advisor-digests', target);
  // A dry run gives no task and signs no link.
  const secret = options.dryRun ? undefined : await unsubscribeKeyOf('run advisor-digests', target);
  const clients = cliAwsClients(config);
  try {
    // The digests are that night's: a date no night completed (a typo in the year, a night that
    // failed) would mail every advisor now, at that date's clock and keyed on another week.
    if (!options.dryRun && (await storedNightlySummary(clients, config, options.date)) === undefined) {
      throw new UsageError(
        `No completed nightly run is stored for ${options.date}: the digests are made from that night's profiles, and nothing was sent. ` +
          `Check the date, or run \`clientele run nightly --date ${options.date}\` first (\`clientele status\` lists the nights).`,
      );
    }
    const summary = await sendAdvisorDigests({
      runDate: options.date,
      digestDate: digestNightOf(options.date, config.reports.advisorDigestWeekday).digestDate,
      runId: newRunId('advisor-digests'),
      at: Date.now(),
      config,
      clients,
      dryRun: options.dryRun,
      ...(secret === undefined ? {} : { unsubscribeSecret: secret }),
      log: jsonLog({ level: options.logLevel }),
    });
    process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${formatAdvisorDigestSummary(summary, config.currency)}\n`);
  } finally {
    destroyAwsClients(clients);
  }
}
