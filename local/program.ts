import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { connectionFailureOf, systemErrorCode } from '#shared/aws/errors.ts';
import { isUserFacing } from '#shared/errors.ts';
import { MAX_SHARDS } from '#shared/nightly/shards.ts';
import { parseDate, parseEmailAddress, parseIntBetween, parseNonEmpty, parseNonNegativeInt, parsePositiveInt, parseRate, STATUS_MAX_HOURS, STATUS_MAX_NIGHTS } from './options.ts';
import { awsRefusalMessage } from './aws-errors.ts';
import { targetOption } from './target.ts';

/**
 * `clientele`: the command line over the same code the Lambda functions run.
 * Each command lives in local/commands/; this file only declares options.
 */

/** The version of package.json (`clientele --version`). */
export function packageVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  return z.object({ version: z.string() }).parse(JSON.parse(text)).version;
}

/** Exit codes: 0 success (and --help, --version), 1 a failure, 2 a command called wrongly. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const configOption = () => new Option('--config <file>', 'JSON configuration file (validated; defaults from the handbook)').argParser(parseNonEmpty);
const logLevelOption = (fallback: string) =>
  new Option('--log-level <level>', 'JSON log lines on stderr from this level').choices(['debug', 'info', 'warn', 'error']).default(fallback);

export function buildProgram(): Command {
  const program = new Command('clientele')
    .description('Client tiering, RFM, lifecycle stages and timed lifecycle emails for direct-to-consumer brands.')
    .version(packageVersion(), '--version', 'print the version of clientele')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    // Commander's own errors (unknown option, missing or invalid value) are thrown, not exited on,
    // so that main() gives them the usage exit code; subcommands inherit this.
    .exitOverride();

  program
    .command('generate')
    .description('Write a realistic, deterministic sample export (generic or Shopify format) to a folder or S3.')
    .requiredOption('--customers <n>', 'number of clients', parsePositiveInt)
    .option('--seed <n>', 'random seed: same seed, same files', parseNonNegativeInt, 1)
    .requiredOption('--as-of <date>', 'export date YYYY-MM-DD (orders up to the end of that day)', parseDate)
    .requiredOption('--out <dir|s3://bucket/prefix>', 'output folder, or S3 prefix (uses the config endpoints)', parseNonEmpty)
    .addOption(new Option('--format <format>', 'export format').choices(['generic', 'shopify']).default('generic'))
    .option('--gzip', 'gzip the files', false)
    .option('--parts <n>', 'split the orders file into N parts', parsePositiveInt, 1)
    .addOption(targetOption('config')).addOption(targetOption('stack')).addOption(targetOption('profile')).addOption(targetOption('region'))
    .action(async (options) => (await import('./commands/generate.ts')).generateCommand(options));

  const run = program.command('run').description('Run a job of the suite against the endpoints in the config (local or AWS).');
  run
    .command('nightly')
    .description('Read the dated export from S3, compute tiers, RFM and stages, write what changed to DynamoDB.')
    .requiredOption('--date <date>', 'run date YYYY-MM-DD in the brand time zone (reads <prefix>/<date>/)', parseDate)
    .addOption(targetOption('config')).addOption(targetOption('stack')).addOption(targetOption('profile')).addOption(targetOption('region'))
    .addOption(logLevelOption('info'))
    .option('--json', 'print the run summary as one JSON object on stdout', false)
    .option('--shards <n>', `split the clients into N shards (1 to ${MAX_SHARDS}) run in worker threads (same results as one; AWS runs them as a Distributed Map)`, parseIntBetween(1, MAX_SHARDS), 1)
    .option('--accept-drop', 'write the night even if its figures fail the plausibility checks against the last completed night (recorded in the summary)', false)
    .action(async (options) => (await import('./commands/nightly.ts')).nightlyCommand(options));

  run
    .command('campaigns')
    .description('One hour of the campaign sender: ingest incremental exports, select who is due, decide, claim, send through SES.')
    .requiredOption('--at <iso-time>', 'the run\'s clock, e.g. 2026-11-24T10:00:00+08:00 (the hourly schedule passes its own time)')
    .option('--dry-run', 'show who would get what, without claiming or sending', false)
    .option('--json', 'print the run summary as one JSON object on stdout', false)
    .addOption(targetOption('config')).addOption(targetOption('stack')).addOption(targetOption('profile')).addOption(targetOption('region'))
    .addOption(logLevelOption('info'))
    .action(async (options) => (await import('./commands/campaigns.ts')).campaignsCommand(options));

  run
    .command('advisor-digests')
    .description('Send each active advisor the weekly digest of their book clients (VIC, Core, rising Potential) to contact (whatever the weekday; once per digest week).')
    .requiredOption('--date <date>', 'the nightly run date whose profiles to read, YYYY-MM-DD; the digest covers the 7 days after it and counts as the digest of the digest week the date is in (from the last digest weekday on or before it)', parseDate)
    .option('--dry-run', 'print the books (client ids, reasons, figures; no names or addresses) without claiming or sending', false)
    .option('--json', 'print the summary as one JSON object on stdout', false)
    .addOption(targetOption('config')).addOption(targetOption('stack')).addOption(targetOption('profile')).addOption(targetOption('region'))
    .addOption(logLevelOption('info'))
    .action(async (options) => (await import('./commands/advisor-digests.ts')).advisorDigestsCommand(options));

  program
    .command('advisors')
    .description("Advisors' client books.")
    .command('plan')
    .description('Propose an advisor for every VIC, Core and rising Potential client without an active one (language, store, balanced books); write the pairs as CSV for the brand\'s platform. Changes nothing stored.')
    .requiredOption('--out <file>', 'the CSV to write: customer_id,advisor_id,reason', parseNonEmpty)
    .option('--json', 'print the summary as one JSON object on stdout', false)
    .addOption(targetOption('config')).addOption(targetOption('stack')).addOption(targetOption('profile')).addOption(targetOption('region'))
    .action(async (options) => (await import('./commands/advisors.ts')).advisorsPlanCommand(options));

  program
    .command('forget')
    .description('Erase a client (GDPR, PIPL): profile, tier history and send-ledger entries deleted; only a hashed entry kept so no later export brings them back.')
    .option('--customer <id>', 'the customer id to erase')
    .option('--email <address>', 'the email address to erase (every profile holding it)')
    .option('--json', 'print the result as one JSON object on stdout', false)
    .addOption(targetOption('config')).addOption(targetOption('stack')).addOption(targetOption('profile')).addOption(targetOption('region'))
    .action(async (options) => (await import('./commands/forget.ts')).forgetCommand(options));

  program
    .command('unsubscribe')
    .description("Record a client's no to the campaigns, as their unsubscribe link does: for a no that came another way, or a link that failed (its log line names the customer id).")
    .requiredOption('--customer <id>', 'the customer id to unsubscribe', parseNonEmpty)
    .option('--json', 'print the result as one JSON object on stdout', false)
    .addOption(targetOption('config')).addOption(targetOption('stack')).addOption(targetOption('profile')).addOption(targetOption('region'))
    .action(async (options) => (await import('./commands/unsubscribe.ts')).unsubscribeCommand(options));

  const emailChoice = (command: Command) =>
    command
      .requiredOption('--campaign <id>', 'campaign id, e.g. welcome, replenishment, winback')
      .option('--customer <id>', 'a stored client (default: a made-up client who bought from the stored catalogue)')
      .addOption(new Option('--locale <locale>', 'the email\'s language (default: the client\'s; en for a made-up client)').choices(['en', 'zh-CN']))
      .addOption(new Option('--tier <tier>', 'the made-up client\'s tier (VIC gets the personal note)').choices(['VIC', 'Core', 'Potential', 'Entry', 'Prospect']).default('Core'))
      .option('--at <iso-time>', 'the clock to evaluate the campaign at (default: now)')
      .addOption(targetOption('config')).addOption(targetOption('stack')).addOption(targetOption('profile')).addOption(targetOption('region'));

  emailChoice(program.command('preview').description('Print the email a client (stored or made up) would get from a campaign.'))
    .addOption(new Option('--format <format>', 'body to print').choices(['text', 'html']).default('text'))
    .action(async (options) => (await import('./commands/preview.ts')).previewCommand(options));

  emailChoice(
    program
      .command('send-test')
      .description('Send a campaign\'s email, marked [TEST], to one of the brand\'s own addresses through SES (the local inbox when local): no ledger, no cap.'),
  )
    .requiredOption('--to <address>', 'where the test goes: an address at sender.internalDomains (default: the sender address\'s domain)', parseEmailAddress)
    .option('--allow-external', 'send to an address outside the internal domains', false)
    .option('--json', 'print the result as one JSON object on stdout', false)
    .action(async (options) => (await import('./commands/send-test.ts')).sendTestCommand(options));

  program
    .command('report')
    .description('Render the nightly report of a stored night (charts of tiers, migrations, stages, trend, campaign results) to a local HTML file.')
    .requiredOption('--date <date>', 'the night YYYY-MM-DD (its run summary is read from the runs table)', parseDate)
    .option('--out <file>', 'where to write the HTML (default: ./clientele-report-<date>.html)', parseNonEmpty)
    .option('--open', 'open the file in the default browser afterwards', false)
    .addOption(targetOption('config')).addOption(targetOption('stack')).addOption(targetOption('profile')).addOption(targetOption('region'))
    .action(async (options) => (await import('./commands/report.ts')).reportCommand(options));

  program
    .command('coupons')
    .description('Coupon codes the campaign sender gave.')
    .command('issued')
    .description("List the codes given for a campaign (a pool's drawn codes, a scheme's generated ones) as CSV, for the shop to import: a scheme's codes exist nowhere else.")
    .requiredOption('--campaign <id>', 'the campaign id', parseNonEmpty)
    .option('--since <date>', 'only codes given from this day on, YYYY-MM-DD in the brand time zone (default: all)', parseDate)
    .option('--out <file>', 'write the CSV there instead of stdout', parseNonEmpty)
    .addOption(targetOption('config')).addOption(targetOption('stack')).addOption(targetOption('profile')).addOption(targetOption('region'))
    .action(async (options) => (await import('./commands/coupons.ts')).couponsIssuedCommand(options));

  program
    .command('status')
    .description('The last nights (date, duration, clients, written, rejects, failures, report) and the campaign sender\'s last hours, in the brand time zone.')
    .option('--nights <n>', `how many nights, newest first (1 to ${STATUS_MAX_NIGHTS})`, parseIntBetween(1, STATUS_MAX_NIGHTS), 7)
    .option('--hours <n>', `how many hours of the sender, up to now (1 to ${STATUS_MAX_HOURS})`, parseIntBetween(1, STATUS_MAX_HOURS), 24)
    .option('--json', 'print the status as one JSON object on stdout', false)
    .addOption(targetOption('config')).addOption(targetOption('stack')).addOption(targetOption('profile')).addOption(targetOption('region'))
    .action(async (options) => (await import('./commands/status.ts')).statusCommand(options));

  program
    .command('tiers')
    .description('Compute tiers from local export files (either format) with no AWS at all; one JSON line per client.')
    .requiredOption('--customers <files...>', 'customers file(s): customers*.csv|jsonl[.gz] or Shopify customers_export*.csv')
    .requiredOption('--orders <files...>', 'orders file(s): orders*.csv|jsonl[.gz] or Shopify orders_export*.csv')
    .option('--products <files...>', 'products file(s), optional')
    .requiredOption('--as-of <date>', 'compute as of the end of this date YYYY-MM-DD (brand time zone)', parseDate)
    .option('--json', 'JSON lines on stdout (the default and only output format; kept for scripts)', true)
    .addOption(configOption())
    .action(async (options) => (await import('./commands/tiers.ts')).tiersCommand(options));

  const clv = program.command('clv').description('Predicted lifetime value (BG/NBD + Gamma-Gamma) from local export files, no AWS.');
  const clvOptions = (command: Command) =>
    command
      .requiredOption('--customers <files...>', 'customers file(s): customers*.csv|jsonl[.gz] or Shopify customers_export*.csv')
      .requiredOption('--orders <files...>', 'orders file(s): orders*.csv|jsonl[.gz] or Shopify orders_export*.csv')
      .requiredOption('--calibration-end <date>', 'fit on orders up to the end of this date YYYY-MM-DD (brand time zone)', parseDate)
      .addOption(new Option('--unit <unit>', 'model time unit (default: clv.unit of the config, weeks)').choices(['days', 'weeks']))
      .addOption(configOption());
  clvOptions(clv.command('fit').description('Fit the models on every buyer; print the parameters and log-likelihoods.'))
    .option('--json', 'print the fit report as JSON', false)
    .action(async (options) => (await import('./commands/clv.ts')).clvFitCommand(options));
  clvOptions(clv.command('predict').description('Fit, then print one JSON line per buyer: summary, P(alive), expected purchases, AOV, 12-month CLV, next order.'))
    .option('--annual-discount-rate <rate>', 'discount rate of the 12-month CLV (default: clv.annualDiscountRate, 0.1)', parseRate)
    .option('--json', 'JSON lines on stdout (the default and only output format; kept for scripts)', true)
    .action(async (options) => (await import('./commands/clv.ts')).clvPredictCommand(options));

  program
    .command('demo')
    .description('Start the embedded local AWS, generate a sample export, run two nights and print what they show.')
    .option('--date <date>', 'the night to show (default: yesterday in the brand time zone)', parseDate)
    .option('--export <dir>', 'use this export folder (generic or Shopify) instead of generating one')
    .option('--customers <n>', 'clients in the generated export', parsePositiveInt, 2000)
    .option('--seed <n>', 'random seed of the generated export', parseNonNegativeInt, 42)
    .option('--until <iso-time>', 'run the hourly campaign sender from the night\'s run up to this time (default: 12:00 brand time the next day)')
    .option('--dry-run', 'send nothing at all: the campaign sender only shows who would get what; no team email, no advisor digest', false)
    .option('--keep-running', 'keep the emulators up afterwards to browse the local SES inbox and use the other commands (Ctrl-C to stop)', false)
    .option('--state <dir>', 'folder for the emulators\' data, emptied at each start (`local up --state <dir>` reopens it)', parseNonEmpty, '.clientele/demo')
    .option('--write-config <file>', 'where to write the config naming the emulators (the other commands read it by default)', parseNonEmpty, '.clientele/local-config.json')
    .option('--json', 'print the summary as one JSON object on stdout', false)
    .addOption(configOption())
    .addOption(logLevelOption('warn'))
    .action(async (options) => (await import('./commands/demo.ts')).demoCommand(options));

  const local = program.command('local').description('The embedded local AWS (DynamoDB Local, s3rver, SES emulator).');
  local
    .command('up')
    .description('Start the emulators with state kept in a folder, write a config file naming their endpoints, wait for Ctrl-C.')
    .option('--state <dir>', 'folder for DynamoDB and S3 data', parseNonEmpty, '.clientele/local')
    .option('--write-config <file>', 'where to write the config with the endpoints', parseNonEmpty, '.clientele/local-config.json')
    .addOption(configOption())
    .action(async (options) => (await import('./commands/local-up.ts')).localUpCommand(options));

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeOf(error);
    // Commander has already printed its message (or the help, or the version); an
    // InvalidArgumentError that reaches here was thrown by an action, not printed yet.
    if (error instanceof CommanderError && !(error instanceof InvalidArgumentError)) return;
    // What the user can act on (a usage, config or export problem, AWS refusing the credentials or
    // a resource) is printed as a message; a bug with its stack.
    if (isUserFacing(error) || error instanceof InvalidArgumentError) {
      process.stderr.write(`clientele: ${error.message}\n`);
    } else if (connectionFailureOf(error) !== undefined) {
      process.stderr.write(`clientele: ${unreachableMessage(error)}\n`);
    } else if (awsRefusalMessage(error) !== undefined) {
      process.stderr.write(`clientele: ${awsRefusalMessage(error)}\n`);
    } else {
      process.stderr.write(`clientele: unexpected error\n${(error as Error)?.stack ?? String(error)}\n`);
    }
  }
}

/**
 * An AWS endpoint that went away (refused, reset, timed out) is an outage, not a bug: one line
 * saying what failed and that a rerun is safe, no stack. The socket error's text names the
 * address and the call, never a client.
 */
export function unreachableMessage(error: unknown): string {
  const what = connectionFailureOf(error) === 'not-connected' ? 'could not reach an AWS endpoint' : 'lost an AWS endpoint mid-call';
  const detail = error instanceof Error ? error.message : String(error);
  return `${what} (${systemErrorCode(error) ?? 'no answer'}: ${detail}). Runs are idempotent: run the same command again once the endpoint answers; it resumes where this one stopped.`;
}

/** 2 for a command called wrongly (commander's errors, UsageError), 0 for --help and --version, 1 otherwise. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
  if (error instanceof InvalidArgumentError) return EXIT_USAGE;
  if (isUserFacing(error) && error.code === 'USAGE') return EXIT_USAGE;
  return EXIT_FAILURE;
}
