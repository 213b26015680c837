import { bestEffort, type MessageWriter } from '#lib/audit/outbound.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { auditLog } from '#lib/store/auditLog.ts';
import { requireSetting, supervisionDeadlines, type Config } from '#lib/config.ts';
import { openApiClientFor } from '#lib/koogallery/openApi/fromConfig.ts';
import type { Log } from '#lib/log.ts';
import { notifyFor } from '#lib/notifications/deps.ts';
import { secretLoader } from '#lib/secrets.ts';
import { billingRecorderFor } from '#lib/settlement/billingDeps.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import { kitOutboxStore } from '#lib/store/kitOutboxStore.ts';
import { outboxStore } from '#lib/store/outboxStore.ts';
import { orderQueryVia, templateAdapter, webhookAdapter } from './adapters.ts';
import type { OrderQuery, ProvisioningAdapter } from './ports.ts';
import { webhookClient, type WebhookClient } from './webhook.ts';
import type { KitDeliveryDeps } from './kitDelivery.ts';
import type { WorkerDeps } from './worker.ts';

/** Query Order through the Open API, unless it is switched off (ORDER_QUERY=false). */
function orderQuery(cfg: Config, log: Log, record: MessageWriter): OrderQuery | undefined {
  return cfg.ORDER_QUERY ? orderQueryVia(openApiClientFor(cfg, log), log, record) : undefined;
}

/** How the seller's product learns about instances: URL templates, or its webhook signed with WEBHOOK_SECRET. */
function adapter(cfg: Config, record: MessageWriter): ProvisioningAdapter {
  if (cfg.PROVISIONING_MODE === 'template') {
    return templateAdapter({
      frontEndUrl: cfg.APP_FRONTEND_URL_TEMPLATE,
      adminUrl: cfg.APP_ADMIN_URL_TEMPLATE,
      userName: cfg.APP_USER_NAME_TEMPLATE,
      memo: cfg.APP_MEMO,
    });
  }
  // lib/config.ts requires the URL in webhook mode and checks its scheme and host.
  const webhookUrl = requireSetting(cfg, 'WEBHOOK_URL', 'webhook provisioning');
  const secret = secretLoader('WEBHOOK_SECRET', { parameter: cfg.WEBHOOK_SECRET_PARAMETER, value: cfg.WEBHOOK_SECRET });
  // One client per secret value (a rotated SSM secret gets a new one).
  let client: { secret: string; deliver: WebhookClient['deliver'] } | undefined;
  return webhookAdapter(async (event) => {
    const current = await secret();
    if (client?.secret !== current)
      client = {
        secret: current,
        ...webhookClient({
          url: webhookUrl,
          secret: current,
          timeoutMs: cfg.WEBHOOK_TIMEOUT_MS,
          allowPrivateHosts: cfg.WEBHOOK_ALLOW_PRIVATE_HOSTS,
        }),
      };
    return client.deliver(event);
  }, record);
}

/** What the provision function needs: the worker's collaborators and the Kit delivery's. */
export type ProvisionDeps = WorkerDeps & KitDeliveryDeps;

/** The provisioning worker's collaborators from the configuration. */
export function workerDeps(cfg: Config, log: Log): ProvisionDeps {
  const dynamo = dynamoClient();
  // The Open API calls and webhook deliveries go to the message log; a failed write is a warning, never a failure.
  const record = bestEffort(auditLog(dynamo, cfg.AUDIT_TABLE), log);
  return {
    store: instanceStore(dynamo, { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE }),
    outbox: outboxStore(dynamo, cfg.MAIN_TABLE),
    kitOutbox: kitOutboxStore(dynamo, cfg.MAIN_TABLE),
    queryOrder: orderQuery(cfg, log, record),
    billing: billingRecorderFor(cfg, dynamo),
    adapter: adapter(cfg, record),
    testTtlDays: cfg.TEST_INSTANCE_TTL_DAYS,
    notify: notifyFor(cfg, log),
    supervisionDeadlines: supervisionDeadlines(cfg),
    now: Date.now,
    log,
  };
}
