import { z } from 'zod';

/**
 * Every setting the functions read, parsed once from the environment.
 * A missing or malformed setting stops the function at start-up with a message naming it.
 * `.env.example` lists them all with their defaults.
 */

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'on', 'off', 'yes', 'no', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : ['true', '1', 'on', 'yes'].includes(v)));

const positiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: 'custom', message: `must be a positive integer, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

const envSchema = z.object({
  STAGE: z.string().min(1).default('local'),
  MAIN_TABLE: z.string().min(1),
  AUDIT_TABLE: z.string().min(1),
  PROVISIONING_QUEUE_URL: z.string().url(),

  /** On AWS: names of SSM SecureString parameters. Locally: the keys themselves. */
  KOOGALLERY_ACCESS_KEY_PARAMETER: optionalText,
  KOOGALLERY_PREVIOUS_ACCESS_KEY_PARAMETER: optionalText,
  KOOGALLERY_ACCESS_KEY: optionalText,
  KOOGALLERY_PREVIOUS_ACCESS_KEY: optionalText,

  SIGNATURE_WINDOW_SECONDS: positiveInt(60),
  NONCE_TTL_SECONDS: positiveInt(300),
  MAX_BODY_BYTES: positiveInt(65_536),
  BODY_SIGN: flag(true),
  TEST_INSTANCE_TTL_DAYS: positiveInt(7),

  PROVISIONING_MODE: z.enum(['template']).default('template'),
  APP_FRONTEND_URL_TEMPLATE: z.string().min(1).default('https://app.example.com/t/{instanceId}'),
  APP_ADMIN_URL_TEMPLATE: optionalText,
  APP_USER_NAME_TEMPLATE: optionalText,
  APP_MEMO: optionalText,

  CHANGE_CHECK_POLICY: z.enum(['allow', 'deny']).default('allow'),
  /** What releaseInstance answers for an instance id we never issued: 000003 (documented) or success. */
  RELEASE_UNKNOWN_ANSWER: z.enum(['000003', 'success']).default('000003'),
});

export type Config = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses an environment; throws ConfigError naming every bad setting. Pure: pass any record. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // An empty value means "not set" (serverless.yml passes unset settings through as '').
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(given);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration. ${problems.join('; ')}`);
  }
  const config = result.data;
  if (!config.KOOGALLERY_ACCESS_KEY_PARAMETER && !config.KOOGALLERY_ACCESS_KEY) {
    throw new ConfigError(
      'Invalid configuration. KOOGALLERY_ACCESS_KEY_PARAMETER (an SSM SecureString name, on AWS) or KOOGALLERY_ACCESS_KEY (locally) must be set',
    );
  }
  return config;
}

let cached: Config | undefined;

/** The process's configuration, parsed on first use. */
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
