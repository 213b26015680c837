import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LifecycleEvent } from './events.ts';

export interface EventPublisher {
  /** Sends events to the provisioning queue; resolves with the ids that could not be sent. */
  publish(events: readonly LifecycleEvent[]): Promise<string[]>;
}

const SQS_BATCH_LIMIT = 10;

export function sqsPublisher(client: SQSClient, queueUrl: string): EventPublisher {
  return {
    async publish(events) {
      const failed: string[] = [];
      for (let i = 0; i < events.length; i += SQS_BATCH_LIMIT) {
        const batch = events.slice(i, i + SQS_BATCH_LIMIT);
        try {
          const out = await client.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: batch.map((event, n) => ({ Id: String(n), MessageBody: JSON.stringify(event) })),
            }),
          );
          for (const f of out.Failed ?? []) failed.push(batch[Number(f.Id)]?.eventId ?? '?');
        } catch {
          failed.push(...batch.map((e) => e.eventId));
        }
      }
      return failed;
    },
  };
}
