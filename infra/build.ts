import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readSettings } from './settings.ts';
import { ClienteleStack } from './stack.ts';

/**
 * Reads and validates the settings from the app's context, adds the stack `<name>-<stage>` and
 * registers cdk-nag's AWS Solutions pack, which runs on every synth: an unacknowledged finding
 * stops it. Used by infra/app.ts and by the tests, so both build exactly the same thing.
 */
export function buildClientele(app: App): ClienteleStack {
  const settings = readSettings(app.node.getAllContext() as Record<string, unknown>);
  // Environment-agnostic: synth needs no credentials; `cdk deploy` targets the CLI's account and region.
  const stack = new ClienteleStack(app, `${settings.name}-${settings.stage}`, { settings });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
