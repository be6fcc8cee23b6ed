import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NIGHTLY_V8_FLAGS, nightlyNodeOptions } from '#shared/nightly/node-options.ts';

/** A Node process of this runtime with `options` in NODE_OPTIONS, running `code`: its exit status and stderr. */
function node(code: string, options = ''): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, NODE_OPTIONS: options }, encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

describe('the nightly process options', () => {
  it('size the heap from the memory, in options NODE_OPTIONS accepts', () => {
    expect(nightlyNodeOptions(2048)).toEqual(['--max-semi-space-size=16', '--max-old-space-size=1536']);
    expect(nightlyNodeOptions(4096)).toContain('--max-old-space-size=3072');
    expect(node('', nightlyNodeOptions().join(' '))).toEqual({ status: 0, stderr: '' });
  });

  it('set the other V8 flags at start, as V8 knows them: NODE_OPTIONS would refuse them', () => {
    for (const flag of NIGHTLY_V8_FLAGS) {
      expect(node('', flag).stderr).toContain('is not allowed in NODE_OPTIONS');
      // V8 prints "unrecognized flag" for a flag it does not know, and sets nothing.
      expect(node(`require('node:v8').setFlagsFromString(${JSON.stringify(flag)})`)).toEqual({ status: 0, stderr: '' });
    }
    expect(node(`require('node:v8').setFlagsFromString('--no-such-v8-flag')`).stderr).toContain('unrecognized flag');
  });
});
