import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import type { Config } from '../config.ts';
import type { AccessKey } from './auth.ts';
import { keyId } from './signature.ts';

/** SSM values are cached this long, so a rotated key reaches warm functions within five minutes. */
const CACHE_SECONDS = 300;

async function fromParameter(name: string, required: boolean): Promise<string | undefined> {
  try {
    return await getParameter(name, { decrypt: true, maxAge: CACHE_SECONDS });
  } catch (error) {
    if (!required && error instanceof Error && /ParameterNotFound/.test(`${error.name} ${error.message} ${String(error.cause)}`)) {
      return undefined;
    }
    throw error;
  }
}

/**
 * The access keys requests may be signed with (spec §7.1): the current one, then the previous one while a
 * rotation is under way. On AWS they are SSM SecureStrings; locally they come from the environment.
 */
export function accessKeyLoader(config: Config): () => Promise<AccessKey[]> {
  return async () => {
    const secrets = config.KOOGALLERY_ACCESS_KEY_PARAMETER
      ? [
          await fromParameter(config.KOOGALLERY_ACCESS_KEY_PARAMETER, true),
          config.KOOGALLERY_PREVIOUS_ACCESS_KEY_PARAMETER
            ? await fromParameter(config.KOOGALLERY_PREVIOUS_ACCESS_KEY_PARAMETER, false)
            : undefined,
        ]
      : [config.KOOGALLERY_ACCESS_KEY, config.KOOGALLERY_PREVIOUS_ACCESS_KEY];
    const keys = secrets.filter((s): s is string => typeof s === 'string' && s.length > 0).map((secret) => ({ id: keyId(secret), secret }));
    if (keys.length === 0) throw new Error('no access key is configured');
    return keys;
  };
}
