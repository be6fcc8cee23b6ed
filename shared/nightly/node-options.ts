/**
 * Node options of a process that runs a night's tiering (the nightly Lambda's NODE_OPTIONS, the
 * bench's tiering stage, so that the bench measures what runs).
 *
 * --max-semi-space-size: V8 in Node 24 lets each half of the young generation grow to 64 MB on a
 * large heap, ~128 MB resident for objects that mostly die young; 16 MB halves keep ~32 MB. The
 * tiering stage's peak RSS at 100k clients went from 378 to 277 MB with it (8 MB: 243 MB).
 */
export const NIGHTLY_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=16'];
