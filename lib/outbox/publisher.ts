import type { Sqs } from '#lib/aws/clients.ts';
import { sendBatch, sqsBatches } from '#lib/aws/sqsBatch.ts';
import type { LifecycleEvent } from './events.ts';

/** Lifecycle events by default; the Kit's events travel on the same queue (lib/outbox/queueMessage.ts). */
export interface EventPublisher<E extends { eventId: string } = LifecycleEvent> {
  /** Sends events to the provisioning queue; resolves with the ids that could not be sent. */
  publish(events: readonly E[]): Promise<string[]>;
}

export function sqsPublisher<E extends { eventId: string } = LifecycleEvent>(client: Sqs, queueUrl: string): EventPublisher<E> {
  return {
    async publish(events) {
      const failed: string[] = [];
      for (const batch of sqsBatches(events)) {
        try {
          const out = await sendBatch(
            client,
            queueUrl,
            batch.map((event) => ({ body: JSON.stringify(event) })),
          );
          for (const n of out.failed) failed.push(batch[n]?.eventId ?? '?');
        } catch {
          failed.push(...batch.map((e) => e.eventId));
        }
      }
      return failed;
    },
  };
}
