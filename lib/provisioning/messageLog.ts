/**
 * The message log's records of the provisioning worker's outbound calls: Query Order on the marketplace's Open API
 * (`openApi`) and each delivery of a lifecycle event to the seller's product (`webhook`), with the request and
 * the answer redacted (lib/audit/redact.ts).
 */
import { keepAnswerText, outboundRecord } from '#lib/audit/outbound.ts';
import type { AuditRecord } from '#lib/audit/records.ts';
import { keepBody } from '#lib/audit/redact.ts';
import { RESULT_SUCCESS, type QueryOrderOutcome } from '#lib/koogallery/openApi/contract.ts';
import { exactNumbers } from '#lib/koogallery/openApi/exactNumbers.ts';
import type { AnyWebhookEvent, WebhookOutcome } from './webhook.ts';

/** The instance a Query Order is made for. */
export interface OrderQueryAbout {
  instanceId: string;
  test: boolean;
}

/** The record of one Query Order: the ids asked for, and the marketplace's answer (the buyer's contact redacted). */
export function orderQueryRecord(
  query: { orderId: string; orderLineId: string },
  about: OrderQueryAbout | undefined,
  outcome: QueryOrderOutcome,
  startedMs: number,
  endedMs: number,
): AuditRecord {
  const httpStatus = outcome.answered?.httpStatus ?? (outcome.ok ? undefined : outcome.httpStatus);
  return outboundRecord({
    channel: 'openApi',
    startedMs,
    endedMs,
    resultCode: outcome.ok ? RESULT_SUCCESS : outcome.code,
    sent: new URLSearchParams(query).toString(),
    request: { query },
    // Amounts and ids sent as numbers keep their digits (as strings).
    ...(outcome.answered?.text !== undefined ? { answer: keepAnswerText(exactNumbers(outcome.answered.text)) } : {}),
    ...(httpStatus !== undefined ? { httpStatus } : {}),
    about: {
      activity: 'queryOrder',
      orderId: query.orderId,
      orderLineId: query.orderLineId,
      instanceId: about?.instanceId,
      test: about?.test,
      reason: outcome.ok ? undefined : outcome.reason,
    },
  });
}

/**
 * The record of one webhook delivery (a lifecycle or a Kit event): the event sent, and the product's answer as read (a new instance's appInfo,
 * its password and user name redacted). The result is the HTTP status, or NETWORK_ERROR (no answer; retried) or
 * NOT_SENT (refused before sending: an event outside the contract, a host on a restricted address).
 */
export function deliveryRecord(event: AnyWebhookEvent, outcome: WebhookOutcome, startedMs: number, endedMs: number): AuditRecord {
  const resultCode = outcome.status !== undefined ? String(outcome.status) : !outcome.ok && outcome.retry ? 'NETWORK_ERROR' : 'NOT_SENT';
  return outboundRecord({
    channel: 'webhook',
    startedMs,
    endedMs,
    resultCode,
    sent: JSON.stringify(event),
    request: event,
    ...(outcome.ok && outcome.appInfo ? { answer: keepBody({ appInfo: outcome.appInfo }) } : {}),
    ...(outcome.status !== undefined ? { httpStatus: outcome.status } : {}),
    about: {
      activity: event.type,
      ...('instance' in event
        ? { instanceId: event.instance.instanceId, orderId: event.instance.orderId, orderLineId: event.instance.orderLineId }
        : { tenantId: event.tenantId }),
      test: event.test,
      reason: outcome.ok ? undefined : outcome.reason,
    },
  });
}
