import { dynamoClient } from '#lib/aws/clients.ts';
import { notifyFor } from '#lib/notifications/deps.ts';
import type { Config } from '#lib/config.ts';
import { accessKeyLoader } from '#lib/koogallery/accessKeys.ts';
import { readSsm } from '#lib/secrets.ts';
import { openApiClientFor } from '#lib/koogallery/openApi/fromConfig.ts';
import type { Log } from '#lib/log.ts';
import { auditLog } from '#lib/store/auditLog.ts';
import { usageStore } from '#lib/store/usageStore.ts';
import { usagePushMetrics, type UsagePushMetrics } from './metrics.ts';
import type { PushDeps, PushSettings } from './push.ts';

/** The hourly usage push's collaborators and settings from the configuration. */
export function pushDeps(cfg: Config, log: Log): PushDeps & { settings: PushSettings; metrics: UsagePushMetrics } {
  const dynamo = dynamoClient();
  const accessKeys = accessKeyLoader(cfg, readSsm, Date.now, (message, fields) => log.warn(message, fields));
  const openApi = openApiClientFor(cfg, log, async () => (await accessKeys())[0]?.secret ?? '');
  return {
    ledger: usageStore(dynamo, cfg.MAIN_TABLE),
    pushUsage: (records) => openApi.pushUsage(records),
    audit: auditLog(dynamo, cfg.AUDIT_TABLE),
    settings: { batchSize: cfg.USAGE_PUSH_BATCH_SIZE, maxWindows: cfg.USAGE_PUSH_MAX_WINDOWS },
    now: Date.now,
    log,
    metrics: usagePushMetrics(cfg.STAGE),
    notify: notifyFor(cfg, log),
  };
}
