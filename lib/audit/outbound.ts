/**
 * The message log's records of our outbound calls: the usage push, the other Open API calls (Query Order) and the
 * deliveries to the seller's webhook. Each keeps the request and the answer redacted (./redact.ts), the request's
 * hash and size, the verdict and the ids it is about. Writing them never fails the flow they record.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Log } from '#lib/log.ts';
import { errorName } from '#lib/shared/errors.ts';
import type { AuditRecord } from './records.ts';
import { keepBody, type KeptBody } from './redact.ts';

/** Appends one record to the message log (lib/store/auditLog.ts). */
export type MessageWriter = (record: AuditRecord) => Promise<void>;

/** `write`, except that a failed write is logged as a warning and never reaches the flow. */
export function bestEffort(write: MessageWriter, log: Pick<Log, 'warn'>): MessageWriter {
  return async (record) => {
    try {
      await write(record);
    } catch (error) {
      log.warn('message log write failed', {
        channel: record.channel,
        correlationId: record.correlationId,
        instanceId: record.instanceId,
        error: errorName(error),
      });
    }
  };
}

/** An answer received as text: its JSON redacted, or, when it is not JSON, the text as one (capped) string. */
export function keepAnswerText(text: string): KeptBody {
  let value: unknown = text;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    // Kept as text.
  }
  return keepBody(value);
}

/** What an outbound record says about one call, besides what every record has. */
export interface OutboundCall {
  channel: 'usagePush' | 'openApi' | 'webhook';
  /** When the call started. */
  startedMs: number;
  /** When it ended (its answer, or its failure). */
  endedMs: number;
  resultCode: string;
  /** The request's text as sent (hashed and measured; the record keeps `request`, redacted). */
  sent: string;
  request: unknown;
  answer?: KeptBody;
  httpStatus?: number;
  /** The ids and notes of the call (activity, instance, order, reason…). */
  about?: Pick<AuditRecord, 'activity' | 'orderId' | 'orderLineId' | 'instanceId' | 'tenantId' | 'test' | 'reason' | 'records'>;
}

/** The message-log record of one outbound call, under a fresh correlation id. */
export function outboundRecord(call: OutboundCall): AuditRecord {
  const about = Object.fromEntries(Object.entries(call.about ?? {}).filter(([, value]) => value !== undefined));
  return {
    at: new Date(call.endedMs).toISOString(),
    correlationId: randomUUID(),
    channel: call.channel,
    resultCode: call.resultCode,
    latencyMs: Math.max(0, call.endedMs - call.startedMs),
    bodySha256: createHash('sha256').update(call.sent).digest('hex'),
    bodyBytes: Buffer.byteLength(call.sent),
    ...about,
    ...(call.httpStatus !== undefined ? { httpStatus: call.httpStatus } : {}),
    request: keepBody(call.request),
    ...(call.answer ? { answer: call.answer } : {}),
  };
}
