import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import { ClienteleError, isUserFacing } from '#shared/errors.ts';
import { buildClientele } from './build.ts';
import { PROJECT_ROOT } from './paths.ts';

/**
 * `npm run synth`: synthesizes the app as `cdk synth` would (cdk.json context, cdk.context.json,
 * then `-c key=value` arguments), with no AWS credentials, no Docker and no CDK CLI. The cdk-nag
 * checks run as part of synthesis; any finding fails it. The CLI is only needed to deploy.
 *
 *   npm run synth -- [-c clientele:stage=prod ...] [-o cdk.out] [--quiet]
 */

type Context = Record<string, unknown>;

function readJson(path: string): Context {
  if (!existsSync(path)) return {};
  return JSON.parse(readFileSync(path, 'utf8')) as Context;
}

function parseArgs(argv: readonly string[]): { context: Context; outdir: string; quiet: boolean } {
  const context: Context = {};
  let outdir = join(PROJECT_ROOT, 'cdk.out');
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-c' || arg === '--context') {
      const pair = argv[++i] ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new ClienteleError('USAGE', `${arg} expects key=value, got "${pair}"`);
      // Like the CDK CLI: command-line context values are strings.
      context[pair.slice(0, eq)] = pair.slice(eq + 1);
    } else if (arg === '-o' || arg === '--output') {
      outdir = argv[++i] ?? outdir;
    } else if (arg === '-q' || arg === '--quiet') {
      quiet = true;
    } else {
      throw new ClienteleError('USAGE', `Unknown argument "${arg}" (expected -c key=value, -o dir, --quiet)`);
    }
  }
  return { context, outdir, quiet };
}

try {
  const args = parseArgs(process.argv.slice(2));
  const cdkJson = readJson(join(PROJECT_ROOT, 'cdk.json'));
  const context: Context = {
    ...((cdkJson.context as Context | undefined) ?? {}),
    ...readJson(join(PROJECT_ROOT, 'cdk.context.json')),
    ...args.context,
  };
  const app = new App({ outdir: args.outdir, context, autoSynth: false });
  const stack = buildClientele(app);
  // Runs the validation plugins (cdk-nag): a finding throws after printing its report.
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const resources = Object.keys((artifact.template as { Resources?: object }).Resources ?? {}).length;
  console.log(
    `Synthesized ${stack.stackName}: ${relative(process.cwd(), join(args.outdir, artifact.templateFile))} ` +
      `(${resources} resources, ${stack.functions.length} functions); cdk-nag AwsSolutions: no unacknowledged findings.`,
  );
  // Annotations the CLI would print: warnings always, info unless --quiet.
  for (const message of artifact.messages) {
    if (message.level === 'info' && args.quiet) continue;
    console.log(`  [${message.level}] ${message.id}: ${String(message.entry.data)}`);
  }
  if (!args.quiet) {
    for (const fn of stack.functions) console.log(`  function ${fn.name}`);
  }
} catch (error) {
  if (isUserFacing(error)) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
