import type { Sqs } from '#lib/aws/clients.ts';
import { sendBatch, sqsBatches } from '#lib/aws/sqsBatch.ts';
import type { LifecycleEvent } from './events.ts';

export interface EventPublisher {
  /** Sends events to the provisioning queue; resolves with the ids that could not be sent. */
  publish(events: readonly LifecycleEvent[]): Promise<string[]>;
}

export function sqsPublisher(client: Sqs, queueUrl: string): EventPublisher {
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
