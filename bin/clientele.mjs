#!/usr/bin/env node
// Entry point of `npx clientele`: loads the TypeScript CLI through tsx, so there is no build step.
// On a node older than the Lambda runtime's (24), it runs itself again on Node 24 (scripts/node-runtime.mjs).
import { fileURLToPath } from 'node:url';
import { needsNewerNode, runWithNode } from '../scripts/node-runtime.mjs';

if (needsNewerNode()) runWithNode('node', [fileURLToPath(import.meta.url), ...process.argv.slice(2)]);

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
await import('#local/cli.ts');
