import type { Config } from '#lib/config.ts';
import type { Log } from '#lib/log.ts';
import { openApiCredentials } from '#lib/secrets.ts';
import { openApiClient } from './client.ts';
import type { OpenApiClient } from './contract.ts';

/**
 * The KooGallery Open API client from the configuration: the endpoint and its fallback, the AK/SK that sign calls
 * (spec §7.8) and, for the usage push, the access key of its business signature and the duplicate codes.
 */
export function openApiClientFor(cfg: Config, log: Log, accessKey?: () => Promise<string>): OpenApiClient {
  return openApiClient({
    baseUrl: cfg.OPENAPI_BASE_URL,
    ...(cfg.OPENAPI_FALLBACK_URL === 'none' ? {} : { fallbackUrl: cfg.OPENAPI_FALLBACK_URL }),
    credentials: openApiCredentials(cfg),
    ...(accessKey ? { accessKey } : {}),
    duplicateCodes: cfg.USAGE_DUPLICATE_CODES,
    log,
  });
}
