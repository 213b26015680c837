/**
 * How secrets are read from SSM Parameter Store, whatever reads them: Powertools' SSM provider (lib/secrets.ts) or
 * the Parameters and Secrets Lambda Extension (lib/aws/parametersExtension.ts). This module imports no SDK, so a
 * function that reads its secrets through the extension bundles neither the SSM client nor Powertools' provider.
 */

/** Secrets are cached this long, so a rotated secret reaches warm functions within five minutes. */
export const SECRET_CACHE_SECONDS = 300;

/** Reads one SecureString, decrypted. A parameter that does not exist rejects with an error named `ParameterNotFound`. */
export type ParameterReader = (name: string) => Promise<string | undefined>;
