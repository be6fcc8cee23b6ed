import { setFlagsFromString } from 'node:v8';

/** The nightly Lambda's memory, MB: the run streams the export, and more memory is also more CPU. */
export const NIGHTLY_MEMORY_MB = 2048;

/** The nightly Lambda's timeout, minutes (Lambda's most): no invocation of a phase lives longer (write-lease.ts relies on it). */
export const NIGHTLY_TIMEOUT_MINUTES = 15;

/**
 * Node options of a process that runs a night's tiering with `memoryMb` of memory: the nightly
 * Lambda's NODE_OPTIONS, and the bench's tiering stage, so that the bench measures what runs.
 *
 * - --max-semi-space-size=16: V8 in Node 24 lets each half of the young generation grow to 64 MB
 *   on a large heap, ~128 MB resident for objects that mostly die young.
 * - --max-old-space-size at 3/4 of the memory (the rest is the typed columns and customer bytes,
 *   off the heap): below 2 GB V8 also lets the heap grow less between full collections (a factor
 *   of ~1.8 instead of up to 4), which is what held a million clients' garbage in the profiles' pass.
 * Measured at 1M clients (2026-12-03, loaded machine): peak RSS 1,099 MB with the first alone,
 * 961 MB with both.
 */
export function nightlyNodeOptions(memoryMb: number = NIGHTLY_MEMORY_MB): string[] {
  return ['--max-semi-space-size=16', `--max-old-space-size=${Math.floor((memoryMb * 3) / 4)}`];
}

/**
 * V8 flags of the nightly's process that NODE_OPTIONS refuses (it takes only a few V8 flags, the
 * heap sizes among them): set by applyNightlyV8Flags when the process starts, before any reading.
 *
 * - --no-allocation-site-pretenuring: V8 otherwise may decide, from how many objects of one
 *   allocation site survived a scavenge, to allocate that site's objects straight in the old
 *   generation. In the profiles' pass at 1M clients it sometimes did, for objects that die with
 *   their client: ~200 MB of old-space garbage a second, a full collection every ~1.2 s. Measured
 *   on 2026-12-04 (bench export of 1M clients, the stage bundled): 8 of 18 runs without the flag
 *   spent 25.8-28.2 s in that pass (~75 full collections), the others 15.6-19.3 s (~43); with it,
 *   11 of 11 runs 15.0-18.6 s (38-47), the read, the peak RSS and a shard's phases unchanged.
 */
export const NIGHTLY_V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];

/** Sets NIGHTLY_V8_FLAGS in this process (and its worker threads: V8's flags are the process's). */
export function applyNightlyV8Flags(): void {
  for (const flag of NIGHTLY_V8_FLAGS) setFlagsFromString(flag);
}
