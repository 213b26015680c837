import { requireSetting, supervisionDeadlines, type Config } from '#lib/config.ts';
import { notifyFor } from '#lib/notifications/deps.ts';
import { log as defaultLog, type Log } from '#lib/log.ts';
import { billingRecorderFor } from '#lib/settlement/billingDeps.ts';
import { dynamoClient, presigningS3Client, s3Client } from '#lib/aws/clients.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import { supervisionStore } from '#lib/store/supervisionStore.ts';
import type { SupervisionDeps } from './ports.ts';

/** The supervision flows' dependencies from the configuration. */

export interface SupervisionDepsOptions {
  /** With `endpoint`: its region (default AWS_REGION, else us-east-1). */
  region?: string;
  /** Another S3 endpoint than the SDK's own (AWS_ENDPOINT_URL_S3 locally). */
  endpoint?: string;
  now?: () => number;
  log?: Log;
}

/** Everything the supervision flows need, from the configuration; build once per container. */
export function supervisionDeps(cfg: Config, options: SupervisionDepsOptions = {}): SupervisionDeps {
  const bucket = requireSetting(cfg, 'FILES_BUCKET', 'service supervision (the bucket of delivery proofs)');
  const client = dynamoClient();
  const store = supervisionStore(client, { main: cfg.MAIN_TABLE });
  const instances = instanceStore(client, { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE });
  // One client reads, moves and signs: it sends no checksum where S3 does not require one, so presigned URLs carry
  // none (TOOLCHAIN.md).
  const s3 = options.endpoint
    ? presigningS3Client({
        region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
        endpoint: options.endpoint,
        forcePathStyle: cfg.S3_FORCE_PATH_STYLE,
      })
    : s3Client({ forcePathStyle: cfg.S3_FORCE_PATH_STYLE });
  return {
    store,
    s3,
    presigner: s3,
    bucket,
    settings: { maxBytes: cfg.PROOF_MAX_BYTES },
    recorder: billingRecorderFor(cfg, client),
    notify: notifyFor(cfg, options.log ?? defaultLog),
    deadlines: supervisionDeadlines(cfg),
    orderLineKnown: async (orderId, orderLineId) => (await instances.getOrderLineInstanceId(orderId, orderLineId)) !== undefined,
    now: options.now ?? Date.now,
    log: options.log ?? defaultLog,
  };
}
