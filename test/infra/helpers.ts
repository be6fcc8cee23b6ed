import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { buildClientele } from '#infra/build.ts';
import { PROJECT_ROOT } from '#infra/paths.ts';
import type { SettingsInput } from '#infra/settings.ts';
import type { ClienteleStack } from '#infra/stack.ts';

/** The context `cdk synth` would see: cdk.json's, feature flags included. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

export interface Synthesized {
  app: App;
  stack: ClienteleStack;
  template: Template;
  /** The template as JSON, for walking policies. */
  json: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
  cleanup: () => void;
}

/**
 * Builds the app in-process exactly as infra/app.ts does (same settings reader, same cdk-nag
 * plugin), synthesizes it once (bundling included, validation included) and returns the template.
 */
export function synthesize(settings: Partial<SettingsInput>, extraContext: Record<string, unknown> = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'clientele-cdk-'));
  const base = cdkJsonContext();
  const app = new App({
    outdir,
    autoSynth: false,
    context: { ...base, clientele: { ...(base.clientele as object), ...settings }, ...extraContext },
  });
  const stack = buildClientele(app);
  const assembly = app.synth();
  const json = assembly.getStackByName(stack.stackName).template as Synthesized['json'];
  return { app, stack, template: Template.fromJSON(json), json, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

export function logicalId(construct: IConstruct): string {
  const stack = Stack.of(construct);
  const resolved: unknown = stack.resolve((construct.node.defaultChild as CfnElement).logicalId);
  return String(resolved);
}

/**
 * A policy attached to roles: the role's inline policy, or the managed policy CDK moves its later
 * statements into once the inline one would pass IAM's size limit (its "OverflowPolicy").
 */
const isRolePolicy = (type: unknown) => type === 'AWS::IAM::Policy' || type === 'AWS::IAM::ManagedPolicy';

/**
 * Every (action, resource) pair a role's policies allow, with logical ids replaced by labels,
 * e.g. "s3:GetObject <bucket>/exports/*" or "dynamodb:Query <table:profiles>/index/byTier".
 */
export function allowedPairs(json: Synthesized['json'], roleLogicalId: string, labels: ReadonlyMap<string, string>): string[] {
  const pairs = new Set<string>();
  for (const resource of Object.values(json.Resources)) {
    if (!isRolePolicy(resource.Type)) continue;
    const roles = (resource.Properties?.Roles as unknown[] | undefined) ?? [];
    if (!roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) continue;
    const document = resource.Properties?.PolicyDocument as { Statement: { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown }[] };
    for (const statement of document.Statement) {
      if (statement.Effect !== 'Allow') continue;
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const action of actions) {
        for (const res of resources) {
          let flat = flattenCfnReference(res);
          flat = flat.replace(/<([A-Za-z0-9]+)(?:\.[A-Za-z]+)?>/g, (whole, id: string) => {
            const label = labels.get(id);
            return label ? `<${label}>` : whole;
          });
          pairs.add(`${action} ${flat}`);
        }
      }
    }
  }
  return [...pairs].sort();
}

/** The statements (with conditions) of a role's policies that allow an action. */
export function statementsFor(json: Synthesized['json'], roleLogicalId: string, action: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  for (const resource of Object.values(json.Resources)) {
    if (!isRolePolicy(resource.Type)) continue;
    const roles = (resource.Properties?.Roles as unknown[] | undefined) ?? [];
    if (!roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) continue;
    const document = resource.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const statement of document.Statement) {
      const actions = statement.Action;
      if (actions === action || (Array.isArray(actions) && actions.includes(action))) found.push(statement);
    }
  }
  return found;
}
