import { z } from 'zod';
import { ConfigError, type Config } from '../config.ts';
import { configFromEnvironment } from '../unsubscribe/environment.ts';

/** The SES feedback function's environment, shared by its CDK construct (`z.input`) and its handler. */
export const sesEventsEnvironmentSchema = z.object({
  /** The suite's configuration as JSON (parseConfig); '{}' means the defaults. */
  CLIENTELE_CONFIG: z.string().default('{}'),
});

export type SesEventsEnvironmentInput = z.input<typeof sesEventsEnvironmentSchema>;
export type SesEventsEnvironment = z.infer<typeof sesEventsEnvironmentSchema>;

export function sesEventsConfig(env: Record<string, string | undefined>): Config {
  const parsed = sesEventsEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Invalid SES events function environment: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  return configFromEnvironment(parsed.data.CLIENTELE_CONFIG);
}
