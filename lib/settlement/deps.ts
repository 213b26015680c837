import type { DynamoDb } from '#lib/aws/clients.ts';
import { requireSetting, settlementSettings, type Config } from '#lib/config.ts';
import type { Log } from '#lib/log.ts';
import { notifyFor } from '#lib/notifications/deps.ts';
import { billingStore } from '#lib/store/billingStore.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import { s3Client, sqsClient } from '#lib/aws/clients.ts';
import { statementStore } from '#lib/store/statementStore.ts';
import { statementFiles } from './files.ts';
import type { SettlementDeps } from './ports.ts';
import { sqsSettlementQueue } from './queue.ts';

/** Settlement's collaborators from the configuration; fails at start-up if the queue or bucket is not configured. */
export function settlementDeps(cfg: Config, options: { dynamo: DynamoDb; log: Log; now?: () => number }): SettlementDeps {
  const queueUrl = requireSetting(cfg, 'SETTLEMENT_QUEUE_URL', 'settlement');
  const bucket = requireSetting(cfg, 'FILES_BUCKET', 'settlement');
  const tables = { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE };
  return {
    statements: statementStore(options.dynamo, tables),
    billing: billingStore(options.dynamo, tables),
    instances: instanceStore(options.dynamo, tables),
    files: statementFiles(s3Client({ forcePathStyle: cfg.S3_FORCE_PATH_STYLE }), bucket),
    queue: sqsSettlementQueue(sqsClient(), queueUrl),
    settings: settlementSettings(cfg),
    now: options.now ?? Date.now,
    log: options.log,
    notify: notifyFor(cfg, options.log),
  };
}
