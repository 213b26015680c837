import type { Config } from '#lib/config.ts';
import { SECRET_CACHE_SECONDS as CACHE_SECONDS, type ParameterReader } from '#lib/parameterReader.ts';
import type { AccessKey } from './auth.ts';
import { keyId } from './signature.ts';

/** A missing parameter: the reader's own error, or (Powertools) the SDK's error as its `cause`. */
function isParameterNotFound(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  return (error instanceof Error && error.name === 'ParameterNotFound') || (cause instanceof Error && cause.name === 'ParameterNotFound');
}

/** Where a pair of keys comes from: SSM parameter names on AWS, the values locally; `setting` names them in errors. */
export interface KeySource {
  setting: string;
  parameter: string | undefined;
  previousParameter: string | undefined;
  value: string | undefined;
  previousValue: string | undefined;
}

/**
 * The access keys requests may be signed with (spec §7.1): the current one, then the previous one while a
 * rotation is under way. On AWS they are SSM SecureStrings, read with `read` (the produce function's through the
 * Parameters and Secrets extension, the others' through Powertools); locally they come from the environment.
 * A missing previous-key parameter means "no rotation"; that answer is cached too, so it costs no call per request.
 * The previous key is optional: a read of it that fails otherwise (denied, an answer the reader does not know) must
 * not fail every call signed with the current key, so it counts as absent for the same five minutes, and `warn`
 * says why. Only the current key is required.
 */
export function accessKeyLoader(
  config: Config,
  read: ParameterReader,
  now: () => number = Date.now,
  warn: (message: string, fields: Record<string, unknown>) => void = () => {},
): () => Promise<AccessKey[]> {
  const source: KeySource = {
    setting: 'access key',
    parameter: config.KOOGALLERY_ACCESS_KEY_PARAMETER,
    previousParameter: config.KOOGALLERY_PREVIOUS_ACCESS_KEY_PARAMETER,
    value: config.KOOGALLERY_ACCESS_KEY,
    previousValue: config.KOOGALLERY_PREVIOUS_ACCESS_KEY,
  };
  return keyLoader(source, read, now, warn);
}

/** A current key and, during a rotation, a previous one, from `source` (see accessKeyLoader). */
export function keyLoader(
  source: KeySource,
  read: ParameterReader,
  now: () => number = Date.now,
  warn: (message: string, fields: Record<string, unknown>) => void = () => {},
): () => Promise<AccessKey[]> {
  let previousMissingUntil = 0;

  async function previousFromSsm(name: string): Promise<string | undefined> {
    if (now() < previousMissingUntil) return undefined;
    try {
      return await read(name);
    } catch (error) {
      previousMissingUntil = now() + CACHE_SECONDS * 1000;
      if (!isParameterNotFound(error)) {
        warn(`the previous ${source.setting} could not be read; only the current key is accepted for now`, {
          parameter: name,
          error: error instanceof Error ? error.name : 'Error',
        });
      }
      return undefined;
    }
  }

  return async () => {
    const secrets = source.parameter
      ? [await read(source.parameter), source.previousParameter ? await previousFromSsm(source.previousParameter) : undefined]
      : [source.value, source.previousValue];
    const keys = secrets.filter((s): s is string => typeof s === 'string' && s.length > 0).map((secret) => ({ id: keyId(secret), secret }));
    if (keys.length === 0) throw new Error(`no ${source.setting} is configured`);
    return keys;
  };
}

/**
 * A loader that remembers the keys it returned last: an answer that must be given without reading them again
 * (an error, a timeout) is signed with the current key of the last read.
 */
export function rememberingKeys(load: () => Promise<AccessKey[]>): {
  load: () => Promise<AccessKey[]>;
  current: () => AccessKey | undefined;
} {
  let last: AccessKey[] = [];
  return {
    load: async () => (last = await load()),
    current: () => last[0],
  };
}
