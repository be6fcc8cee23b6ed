/** The nightly Lambda's memory, MB: the run streams the export, and more memory is also more CPU. */
export const NIGHTLY_MEMORY_MB = 2048;

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
