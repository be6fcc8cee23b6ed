import { z } from 'zod';
import { ConfigError, parseConfig, type Config } from '../config.ts';

/**
 * The unsubscribe function's environment: one schema for the CDK construct that sets it
 * (`z.input`) and the handler that reads it (`z.infer`), so a renamed variable fails at compile time.
 */

export const unsubscribeEnvironmentSchema = z.object({
  /** The suite's configuration as JSON (parseConfig); '{}' means the defaults. */
  CLIENTELE_CONFIG: z.string().default('{}'),
  /** HMAC key for unsubscribe tokens; 32+ characters of randomness. */
  UNSUBSCRIBE_SECRET: z.string().min(32, 'UNSUBSCRIBE_SECRET must be at least 32 characters'),
  /** The previous key during a rotation, so links in emails already sent keep working. */
  UNSUBSCRIBE_PREVIOUS_SECRET: z.string().min(32).optional(),
});

export type UnsubscribeEnvironmentInput = z.input<typeof unsubscribeEnvironmentSchema>;
export type UnsubscribeEnvironment = z.infer<typeof unsubscribeEnvironmentSchema>;

export interface UnsubscribeSettings {
  config: Config;
  /** Current secret first. */
  secrets: string[];
}

/** Parses CLIENTELE_CONFIG as JSON into a Config, with a message that names the variable. */
export function configFromEnvironment(json: string): Config {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new ConfigError(`CLIENTELE_CONFIG is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(data, 'CLIENTELE_CONFIG');
}

export function unsubscribeSettings(env: Record<string, string | undefined>): UnsubscribeSettings {
  const parsed = unsubscribeEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid unsubscribe function environment: ${issues}`);
  }
  const { CLIENTELE_CONFIG, UNSUBSCRIBE_SECRET, UNSUBSCRIBE_PREVIOUS_SECRET } = parsed.data;
  return {
    config: configFromEnvironment(CLIENTELE_CONFIG),
    secrets: UNSUBSCRIBE_PREVIOUS_SECRET ? [UNSUBSCRIBE_SECRET, UNSUBSCRIBE_PREVIOUS_SECRET] : [UNSUBSCRIBE_SECRET],
  };
}
