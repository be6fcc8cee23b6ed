// Node.js 24, the version the Lambda functions run on (nodejs24.x), for the CLI, the demo and the
// tests, whatever node the machine has. On an older node the official build is fetched once from
// the npm registry (the node-<platform>-<arch> packages hold it): `npm pack` only downloads the
// tarball, no install script runs, no sudo. It is kept in ~/.cache/clientele/.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const NODE_MAJOR = 24;
export const NODE_VERSION = '24.22.3';

const currentMajor = () => Number(process.versions.node.split('.')[0]);

/** The folder of a node binary of NODE_MAJOR or later: this process's own, or the cached one (fetched if missing). */
export function nodeBinDir() {
  if (currentMajor() >= NODE_MAJOR) return dirname(process.execPath);
  const name = `node-${process.platform}-${process.arch}`;
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'clientele');
  const dir = join(cache, `${name}-${NODE_VERSION}`);
  if (existsSync(join(dir, 'bin', 'node'))) return join(dir, 'bin');
  process.stderr.write(`node ${process.version} is older than ${NODE_MAJOR}: fetching ${name}@${NODE_VERSION} from the npm registry (once)\n`);
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'clientele-node-'));
  try {
    const tarball = execFileSync('npm', ['pack', '--silent', `${name}@${NODE_VERSION}`], { cwd: work, encoding: 'utf8' }).trim().split('\n').pop();
    const unpacked = join(work, 'node');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', unpacked, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
    // Two runs fetching at once: the first rename wins, the other finds it in place.
    try {
      renameSync(unpacked, dir);
    } catch (error) {
      if (!existsSync(join(dir, 'bin', 'node'))) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return join(dir, 'bin');
}

/** Whether this process must hand over to a newer node. */
export const needsNewerNode = () => currentMajor() < NODE_MAJOR;

/** Runs `command args` with NODE_MAJOR's node first on PATH (and node_modules/.bin), exiting with its status. */
export function runWithNode(command, args, { cwd = process.cwd() } = {}) {
  const env = { ...process.env, PATH: [nodeBinDir(), join(cwd, 'node_modules', '.bin'), process.env.PATH].join(':') };
  const result = spawnSync(command, args, { stdio: 'inherit', env, cwd });
  if (result.error) throw result.error;
  if (result.signal) process.kill(process.pid, result.signal);
  process.exit(result.status ?? 1);
}
