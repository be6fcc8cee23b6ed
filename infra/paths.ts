import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: NodejsFunction bundles from here, with its package-lock.json. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** One folder per Lambda, each with its handler.ts; every construct names the entries it deploys. */
export const FUNCTIONS_DIR = join(PROJECT_ROOT, 'functions');
