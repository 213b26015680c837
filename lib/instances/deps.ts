import { dynamoClient, sqsClient, type DynamoDb, type Sqs } from '#lib/aws/clients.ts';
import { asyncProvisioning, meteringSettings, type Config } from '#lib/config.ts';
import type { AccessKey } from '#lib/koogallery/auth.ts';
import type { Log } from '#lib/log.ts';
import { sqsPublisher } from '#lib/outbox/publisher.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import { licenseStore } from '#lib/store/licenseStore.ts';
import { usageStore } from '#lib/store/usageStore.ts';
import { changePolicyFor } from './changePolicy.ts';
import type { ProduceDeps } from './produceCall.ts';

/** The AWS clients the production interface uses: the process's own unless a resilience run gives others. */
export interface ProduceClients {
  dynamo: DynamoDb;
  sqs: Sqs;
}

/** The production interface's collaborators from the configuration and its access keys (functions/produce.ts). */
export function produceDeps(
  cfg: Config,
  log: Log,
  accessKeys: () => Promise<AccessKey[]>,
  clients: ProduceClients = { dynamo: dynamoClient(), sqs: sqsClient() },
): ProduceDeps {
  const { dynamo } = clients;
  const ledger = usageStore(dynamo, cfg.MAIN_TABLE);
  return {
    accessKeys,
    store: instanceStore(dynamo, { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE }),
    licenses: licenseStore(dynamo, cfg.MAIN_TABLE),
    publisher: sqsPublisher(clients.sqs, cfg.PROVISIONING_QUEUE_URL),
    changePolicy: changePolicyFor(cfg.CHANGE_CHECK_POLICY),
    usage: { settings: meteringSettings(cfg), totals: (ids) => ledger.totals(ids) },
    settings: {
      maxBodyBytes: cfg.MAX_BODY_BYTES,
      signatureWindowSeconds: cfg.SIGNATURE_WINDOW_SECONDS,
      nonceTtlSeconds: cfg.NONCE_TTL_SECONDS,
      testTtlDays: cfg.TEST_INSTANCE_TTL_DAYS,
      releaseUnknownAnswer: cfg.RELEASE_UNKNOWN_ANSWER,
      provisioning: { async: asyncProvisioning(cfg), inProgressAnswer: cfg.QUERY_PROVISIONING_ANSWER },
      v1EncryptType: cfg.V1_ENCRYPT_TYPE,
      appInfo: {
        frontEndUrl: cfg.APP_FRONTEND_URL_TEMPLATE,
        adminUrl: cfg.APP_ADMIN_URL_TEMPLATE,
        userName: cfg.APP_USER_NAME_TEMPLATE,
        memo: cfg.APP_MEMO,
      },
    },
    now: Date.now,
    log,
  };
}
