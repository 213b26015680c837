import { appInfoFromTemplates, type AppInfoTemplates } from '#lib/instances/appInfo.ts';
import type { Instance } from '#lib/instances/model.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import type { AnyWebhookEvent, WebhookEvent, WebhookOutcome } from './webhook.ts';
import { kitWebhookEventFor } from './kitWebhook.ts';
import type { OpenApiClient } from '#lib/koogallery/openApi/contract.ts';
import type { Log } from '#lib/log.ts';
import type { MessageWriter } from '#lib/audit/outbound.ts';
import { deliveryRecord, orderQueryRecord } from './messageLog.ts';
import type { ProvisioningAdapter } from './ports.ts';
import type { OrderQuery } from './ports.ts';

/**
 * Query Order (spec §8.1) as the worker uses it; fields the client did not know are logged, never dropped silently.
 * Each call is written to the message log through `record`, when given.
 */
export function orderQueryVia(client: OpenApiClient, log: Log, record?: MessageWriter): OrderQuery {
  return async (orderId, orderLineId, about) => {
    const startedMs = Date.now();
    const outcome = await client.queryOrder(orderId, orderLineId);
    await record?.(orderQueryRecord({ orderId, orderLineId }, about, outcome, startedMs, Date.now()));
    if (!outcome.ok) return { ok: false, retry: outcome.retry, reason: outcome.reason };
    if (outcome.unknownFields.length > 0) log.info('order query returned unknown fields', { orderId, fields: outcome.unknownFields });
    return { ok: true, value: outcome.order };
  };
}

/**
 * `template` mode: appInfo from the configured URL templates; later events need no call, and neither do Kit events
 * (a product without a webhook reads tenants, users and departments through the seller API).
 */
export function templateAdapter(templates: AppInfoTemplates): ProvisioningAdapter {
  return {
    provision: async (instance) => ({
      ok: true,
      value: appInfoFromTemplates(templates, {
        instanceId: instance.instanceId,
        orderId: instance.orderId,
        orderLineId: instance.orderLineId,
      }),
    }),
    notify: async () => ({ ok: true, value: undefined }),
    deliverKit: async () => ({ ok: true, value: undefined }),
  };
}

/** The event the seller's webhook receives: the transition, and the instance as it stands now (docs/webhook.md). */
export function webhookEventFor(instance: Instance, event: LifecycleEvent): WebhookEvent {
  const terms = instance.order;
  const body: WebhookEvent = {
    id: event.eventId,
    type: event.type,
    occurredAt: event.occurredAt,
    test: instance.test,
    instance: {
      instanceId: instance.instanceId,
      state: instance.state,
      orderId: instance.orderId,
      orderLineId: instance.orderLineId,
      ...(instance.expireTime ? { expireTime: instance.expireTime } : {}),
      ...(instance.productId ? { productId: instance.productId } : {}),
      ...(terms?.skuCode ? { skuCode: terms.skuCode } : {}),
      ...(terms?.linearValue !== undefined ? { linearValue: terms.linearValue } : {}),
      ...(terms?.chargingMode ? { chargingMode: terms.chargingMode } : {}),
      ...(terms?.periodType ? { periodType: terms.periodType } : {}),
      ...(terms?.periodNumber !== undefined ? { periodNumber: terms.periodNumber } : {}),
    },
  };
  if (terms) body.order = terms;
  return body;
}

const refused = (outcome: { retry: boolean; reason: string }) => ({
  ok: false as const,
  retry: outcome.retry,
  reason: `webhook: ${outcome.reason}`,
});

/**
 * `webhook` mode: every event is posted to the seller's product; a new instance's answer is its appInfo. Each
 * delivery is written to the message log through `record`, when given.
 */
export function webhookAdapter(post: (event: AnyWebhookEvent) => Promise<WebhookOutcome>, record?: MessageWriter): ProvisioningAdapter {
  const deliver = async (event: AnyWebhookEvent): Promise<WebhookOutcome> => {
    const startedMs = Date.now();
    const outcome = await post(event);
    await record?.(deliveryRecord(event, outcome, startedMs, Date.now()));
    return outcome;
  };
  return {
    async provision(instance, event) {
      const outcome = await deliver(webhookEventFor(instance, event));
      if (!outcome.ok) return refused(outcome);
      if (!outcome.appInfo) return refused({ retry: false, reason: 'answered without appInfo' });
      return { ok: true, value: outcome.appInfo };
    },
    async notify(instance, event) {
      const outcome = await deliver(webhookEventFor(instance, event));
      return outcome.ok ? { ok: true, value: undefined } : refused(outcome);
    },
    async deliverKit(event) {
      const outcome = await deliver(kitWebhookEventFor(event));
      return outcome.ok ? { ok: true, value: undefined } : refused(outcome);
    },
  };
}
