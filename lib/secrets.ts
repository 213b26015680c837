import type { Config } from '#lib/config.ts';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { ssmClient } from '#lib/aws/clients.ts';
import { lazy } from '#lib/shared/lazy.ts';
import { SECRET_CACHE_SECONDS, type ParameterReader } from './parameterReader.ts';

export { SECRET_CACHE_SECONDS, type ParameterReader };

/** Powertools' SSM provider over the client of lib/aws/clients.ts (its timeouts), one per container. */
const ssmProvider = lazy(() => new SSMProvider({ awsSdkV3Client: ssmClient() }));

/** Reads one SecureString through Powertools, which caches values for SECRET_CACHE_SECONDS. */
export const readSsm: ParameterReader = (name) => ssmProvider().get(name, { decrypt: true, maxAge: SECRET_CACHE_SECONDS });

/**
 * One secret from configuration (law 7): an SSM SecureString on AWS (`parameter`), the plain value locally.
 * The message of a missing secret names the setting, never a value.
 */
export function secretLoader(
  setting: string,
  source: { parameter?: string | undefined; value?: string | undefined },
  read: ParameterReader = readSsm,
): () => Promise<string> {
  return async () => {
    const value = source.parameter ? await read(source.parameter) : source.value;
    if (!value) throw new Error(`${setting} is not configured`);
    return value;
  };
}

/** The Huawei Cloud AK/SK that sign Open API calls (spec §7.8): SSM SecureStrings on AWS, the environment locally. */
export function openApiCredentials(config: Config): () => Promise<{ ak: string; sk: string }> {
  const ak = secretLoader('KOOGALLERY_AK', { parameter: config.KOOGALLERY_AK_PARAMETER, value: config.KOOGALLERY_AK });
  const sk = secretLoader('KOOGALLERY_SK', { parameter: config.KOOGALLERY_SK_PARAMETER, value: config.KOOGALLERY_SK });
  return async () => ({ ak: await ak(), sk: await sk() });
}
