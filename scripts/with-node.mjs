#!/usr/bin/env node
// `node scripts/with-node.mjs <command> [args...]`: runs the command under Node.js 24 (node-runtime.mjs).
// The npm scripts (demo, test, clientele, ...) go through it, so `npm ci && npm run demo` and
// `npm test` run on the Lambda runtime's version on any machine with node 20 or later.
import { runWithNode } from './node-runtime.mjs';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: node scripts/with-node.mjs <command> [args...]\n');
  process.exit(2);
}
runWithNode(command, args);
