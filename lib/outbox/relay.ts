import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { Log } from '../log.ts';
import type { OutboxStore } from '../store/outboxStore.ts';
import { lifecycleEventSchema, type LifecycleEvent } from './events.ts';
import type { EventPublisher } from './publisher.ts';

/** What the seller's product does with a lifecycle event; `template` mode has nothing to call. */
export type LifecycleHandler = (event: LifecycleEvent) => Promise<void>;

export const templateModeHandler: LifecycleHandler = async () => {};

/**
 * Consumes a batch from the provisioning queue. A message that is not a valid event, or whose handling
 * fails, is reported as a batch item failure: SQS redelivers it and moves it to the DLQ after 5 receives.
 */
export async function consumeLifecycleBatch(
  records: readonly SQSRecord[],
  deps: { outbox: OutboxStore; handle: LifecycleHandler; log: Log },
): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of records) {
    let json: unknown;
    try {
      json = JSON.parse(record.body);
    } catch {
      json = undefined;
    }
    const parsed = lifecycleEventSchema.safeParse(json);
    if (!parsed.success) {
      deps.log.error('invalid lifecycle message', { messageId: record.messageId, issue: parsed.error.issues[0]?.message });
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    const event = parsed.data;
    try {
      await deps.handle(event);
      await deps.outbox.complete(event);
      deps.log.info('lifecycle event handled', { eventId: event.eventId, type: event.type, test: event.test });
    } catch (error) {
      deps.log.warn('lifecycle event failed; will be retried', {
        eventId: event.eventId,
        error: error instanceof Error ? error.name : String(error),
      });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

/**
 * The outbox sweep: events still in the outbox `graceSeconds` after they were written were not handled
 * (the send after commit failed, or the function died in between). Each is re-sent once; after that,
 * SQS's own retries and the DLQ take over.
 */
export async function sweepOutbox(
  deps: { outbox: OutboxStore; publisher: EventPublisher; log: Log; now: () => number },
  options: { graceSeconds: number; limit: number },
): Promise<{ found: number; resent: number; failed: number }> {
  const before = new Date(deps.now() - options.graceSeconds * 1000).toISOString();
  const pending = (await deps.outbox.pending(before, options.limit)).filter((p) => !p.resent);
  let resent = 0;
  let failed = 0;
  for (const { event } of pending) {
    const unsent = await deps.publisher.publish([event]);
    if (unsent.length > 0) {
      failed++;
      continue;
    }
    if (await deps.outbox.markResent(event, new Date(deps.now()).toISOString())) resent++;
  }
  const summary = { found: pending.length, resent, failed };
  deps.log.info('outbox sweep', summary);
  return summary;
}
