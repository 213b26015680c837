import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { config, type Config } from '../lib/config.ts';
import { openApiClient, OPEN_API_DEFAULT_TIMEOUT_MS } from '../lib/koogallery/openApi.ts';
import { log } from '../lib/log.ts';
import { parseLifecycleMessage } from '../lib/outbox/events.ts';
import { orderQueryVia, templateAdapter, webhookAdapter } from '../lib/provisioning/adapters.ts';
import { assertWebhookUrl, webhookClient, type WebhookClient } from '../lib/provisioning/webhook.ts';
import { handleLifecycleEvent, type OrderQuery, type ProvisioningAdapter, type WorkerDeps } from '../lib/provisioning/worker.ts';
import { openApiCredentials, secretLoader } from '../lib/secrets.ts';
import { dynamoClient } from '../lib/aws/clients.ts';
import { instanceStore } from '../lib/store/instanceStore.ts';
import { outboxStore } from '../lib/store/outboxStore.ts';
import { billingRecorderFor } from '../lib/settlement/deps.ts';

/**
 * Consumes the provisioning queue (Powertools batch, partial failures): each lifecycle event is handled by the
 * provisioning worker. A failed record returns to the queue; after 5 receives it lands in the dead-letter queue.
 */

function orderQuery(cfg: Config): OrderQuery | undefined {
  if (!cfg.ORDER_QUERY) return undefined;
  const client = openApiClient({
    baseUrl: cfg.OPENAPI_BASE_URL,
    ...(cfg.OPENAPI_FALLBACK_URL === 'none' ? {} : { fallbackUrl: cfg.OPENAPI_FALLBACK_URL }),
    credentials: openApiCredentials(cfg),
    timeoutMs: OPEN_API_DEFAULT_TIMEOUT_MS,
    log,
  });
  return orderQueryVia(client, log);
}

function adapter(cfg: Config): ProvisioningAdapter {
  if (cfg.PROVISIONING_MODE === 'template') {
    return templateAdapter({
      frontEndUrl: cfg.APP_FRONTEND_URL_TEMPLATE,
      adminUrl: cfg.APP_ADMIN_URL_TEMPLATE,
      userName: cfg.APP_USER_NAME_TEMPLATE,
      memo: cfg.APP_MEMO,
    });
  }
  // lib/config.ts requires the URL in webhook mode; its scheme and host are checked here, at start-up.
  const webhookUrl = assertWebhookUrl(cfg.WEBHOOK_URL ?? '').href;
  const secret = secretLoader('WEBHOOK_SECRET', { parameter: cfg.WEBHOOK_SECRET_PARAMETER, value: cfg.WEBHOOK_SECRET });
  // One client per secret value (a rotated SSM secret gets a new one); the URL was checked at start-up.
  let client: { secret: string; deliver: WebhookClient['deliver'] } | undefined;
  return webhookAdapter(async (event) => {
    const current = await secret();
    if (client?.secret !== current) client = { secret: current, ...webhookClient({ url: webhookUrl, secret: current, timeoutMs: cfg.WEBHOOK_TIMEOUT_MS }) };
    return client.deliver(event);
  });
}

let deps: WorkerDeps | undefined;

function workerDeps(): WorkerDeps {
  if (deps) return deps;
  const cfg = config();
  return (deps = {
    store: instanceStore(dynamoClient(), { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE }),
    outbox: outboxStore(dynamoClient(), cfg.MAIN_TABLE),
    queryOrder: orderQuery(cfg),
    billing: billingRecorderFor(cfg, dynamoClient()),
    adapter: adapter(cfg),
    testTtlDays: cfg.TEST_INSTANCE_TTL_DAYS,
    now: Date.now,
    log,
  });
}

const processor = new BatchProcessor(EventType.SQS);

async function record(message: SQSRecord): Promise<void> {
  const event = parseLifecycleMessage(message.body);
  if (!event.ok) {
    log.error('invalid lifecycle message', { messageId: message.messageId, issue: event.issue });
    throw new Error(`invalid lifecycle message: ${event.issue}`);
  }
  try {
    await handleLifecycleEvent(event.value, workerDeps());
  } catch (error) {
    log.warn('lifecycle event failed; the queue will retry it', {
      eventId: event.value.eventId,
      type: event.value.type,
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    });
    throw error;
  }
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, record, processor, { context, throwOnFullBatchFailure: false });
}
