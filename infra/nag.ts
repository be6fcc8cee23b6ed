import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
// The same flattening cdk-nag applies to a policy's resources when it names an IAM5 finding.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';

/**
 * cdk-nag 3 acknowledgments (CDK's Validations API). Each call site says why the finding is
 * acceptable; these helpers only compute the exact finding id so that nothing broader is silenced.
 */

export function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
}

/** Acknowledges one wildcard resource (AwsSolutions-IAM5[Resource::...]) of a policy under `scope`. */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flat = flattenCfnReference(Stack.of(scope).resolve(resource));
  acknowledge(scope, `IAM5[Resource::${flat}]`, reason);
}
