import { dynamoClient, s3Client, sqsClient, sqsReceivingClient } from '#lib/aws/clients.ts';
import { notificationStore } from '#lib/store/notificationStore.ts';
import { meteringSettings, type Config } from '#lib/config.ts';
import type { Log } from '#lib/log.ts';
import { deadLetterDepth, deadLetterQueueOf, redrive } from '#lib/outbox/redrive.ts';
import { sqsPublisher } from '#lib/outbox/publisher.ts';
import { retryFailedProvisioning } from '#lib/provisioning/retry.ts';
import { settlementDeps } from '#lib/settlement/deps.ts';
import { reconciliationDeps } from '#lib/settlement/reconciliation.ts';
import { apiKeyStore } from '#lib/store/apiKeyStore.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import { kitViews } from '#lib/store/kitViews.ts';
import { sellerActionLog } from '#lib/store/sellerActionLog.ts';
import { reconciliationStore } from '#lib/store/reconciliationStore.ts';
import { sellerViews } from '#lib/store/sellerViews.ts';
import { usageStore } from '#lib/store/usageStore.ts';
import { supervisionDeps } from '#lib/supervision/deps.ts';
import { sellerRoutes, type SellerDeps } from './allRoutes.ts';
import type { RouterContext } from './router.ts';

/** The seller API's routes and every flow behind them, from the configuration. */
export function sellerContext(cfg: Config, log: Log): RouterContext<SellerDeps> {
  const dynamo = dynamoClient();
  const tables = { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE };
  const instances = instanceStore(dynamo, tables);
  const keys = apiKeyStore(dynamo, cfg.MAIN_TABLE);
  const settlement = settlementDeps(cfg, { dynamo, log });
  // Reads, writes and signs download links and upload forms (no checksum parameters in URLs).
  const s3 = s3Client({ forcePathStyle: cfg.S3_FORCE_PATH_STYLE });
  const actions = sellerActionLog(dynamo, cfg.AUDIT_TABLE);
  const publisher = sqsPublisher(sqsClient(), cfg.PROVISIONING_QUEUE_URL);
  return {
    routes: sellerRoutes,
    authenticate: (secret, now) => keys.authenticate(secret, now),
    deps: {
      views: sellerViews(dynamo, tables),
      notifications: notificationStore(dynamo, cfg.MAIN_TABLE),
      usage: {
        instances: (ids) => instances.getInstances(ids),
        ledger: usageStore(dynamo, cfg.MAIN_TABLE),
        settings: meteringSettings(cfg),
        now: Date.now,
        log,
      },
      supervision: supervisionDeps(cfg, { log }),
      replay: {
        retryProvisioning: (instanceId, by) =>
          retryFailedProvisioning(
            instanceId,
            { store: instances, publisher, now: Date.now, log, testTtlDays: cfg.TEST_INSTANCE_TTL_DAYS },
            by,
          ),
        redriveProvisioning: (options) => redrive(sqsReceivingClient(), cfg.PROVISIONING_QUEUE_URL, options),
      },
      statements: {
        settlement,
        reconciliation: reconciliationDeps(settlement, {
          records: reconciliationStore(dynamo, cfg.MAIN_TABLE),
          s3,
          presigner: s3,
          columns: cfg.BILL_COLUMNS,
        }),
        presigner: s3,
      },
      actions,
      keys,
      tenants: kitViews(dynamo, tables),
      deadLetters: {
        async depth() {
          const sqs = sqsClient();
          const url = cfg.PROVISIONING_DLQ_URL ?? (await deadLetterQueueOf(sqs, cfg.PROVISIONING_QUEUE_URL));
          const dlq = deadLetterDepth(sqs, url);
          return { queue: dlq.queue, depth: await dlq.depth() };
        },
      },
    },
    now: Date.now,
    maxBodyBytes: cfg.SELLER_MAX_BODY_BYTES,
    actions,
    log,
  };
}
