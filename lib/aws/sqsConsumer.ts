import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Log } from '#lib/log.ts';
import { errorFields } from '#lib/shared/errors.ts';
import type { Parsed } from '#lib/shared/json.ts';

export interface QueueConsumer<T> {
  /** What a message is, for log lines: "lifecycle event", "settlement message". */
  kind: string;
  parse: (body: string) => Parsed<T>;
  handle: (message: T, record: SQSRecord) => Promise<void>;
  /** The fields that identify a message in log lines (ids, never payloads). */
  describe: (message: T) => Record<string, unknown>;
  /** Called before a failed message goes back to the queue, with how often it was received. */
  failed?: (message: T, error: unknown, receives: number) => Promise<void>;
  log: Log;
}

/**
 * An SQS-triggered Lambda handler with partial batch failures (Powertools batch): each record is parsed, then
 * handled. A record that cannot be parsed fails at once and changes nothing; a failed record returns to the queue
 * and, after the queue's receive limit, goes to its dead-letter queue.
 */
export function sqsConsumer<T>(consumer: QueueConsumer<T>): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const { kind, log } = consumer;

  async function record(message: SQSRecord): Promise<void> {
    const parsed = consumer.parse(message.body);
    if (!parsed.ok) {
      log.error(`invalid ${kind}`, { messageId: message.messageId, issue: parsed.issue });
      throw new Error(`invalid ${kind}: ${parsed.issue}`);
    }
    try {
      await consumer.handle(parsed.value, message);
    } catch (error) {
      const receives = Number(message.attributes?.ApproximateReceiveCount ?? '1');
      log.warn(`${kind} failed; the queue will retry it`, {
        messageId: message.messageId,
        ...consumer.describe(parsed.value),
        receives,
        error: errorFields(error),
      });
      await consumer.failed?.(parsed.value, error, receives);
      throw error;
    }
  }

  return (event, context) => processPartialResponse(event, record, processor, { context, throwOnFullBatchFailure: false });
}
