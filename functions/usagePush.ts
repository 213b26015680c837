import { config } from '../lib/config.ts';
import { accessKeyLoader } from '../lib/koogallery/accessKeys.ts';
import { openApiClient } from '../lib/koogallery/openApi/client.ts';
import { log } from '../lib/log.ts';
import { openApiCredentials } from '../lib/secrets.ts';
import { auditLog } from '../lib/store/auditLog.ts';
import { dynamoClient } from '../lib/aws/clients.ts';
import { usageStore } from '../lib/store/usageStore.ts';
import { pushUsage, type PushSummary } from '../lib/usage/push.ts';

/**
 * Minute 5 of every hour (serverless.yml): pushes the closed usage windows to the marketplace (spec §8.2).
 */
export async function handler(): Promise<PushSummary> {
  const cfg = config();
  const client = dynamoClient();
  const accessKeys = accessKeyLoader(cfg);
  const openApi = openApiClient({
    baseUrl: cfg.OPENAPI_BASE_URL,
    ...(cfg.OPENAPI_FALLBACK_URL !== 'none' ? { fallbackUrl: cfg.OPENAPI_FALLBACK_URL } : {}),
    credentials: openApiCredentials(cfg),
    accessKey: async () => (await accessKeys())[0]?.secret ?? '',
    duplicateCodes: cfg.USAGE_DUPLICATE_CODES,
    log,
  });
  return pushUsage(
    {
      ledger: usageStore(client, cfg.MAIN_TABLE),
      pushUsage: (records) => openApi.pushUsage(records),
      audit: auditLog(client, cfg.AUDIT_TABLE),
      now: Date.now,
      log,
    },
    { batchSize: cfg.USAGE_PUSH_BATCH_SIZE, maxWindows: cfg.USAGE_PUSH_MAX_WINDOWS },
  );
}
