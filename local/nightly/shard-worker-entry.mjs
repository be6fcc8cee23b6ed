// Worker threads do not inherit the parent's TypeScript loader in every host (vitest, tsx, plain
// node): register tsx here, then load the shard worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./shard-worker.ts');
