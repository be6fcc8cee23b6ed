/** Campaign decisions: pure functions of a profile, the config and a clock (no AWS, no I/O). */
export * from './schema.ts';
export * from './due.ts';
export * from './policy.ts';
