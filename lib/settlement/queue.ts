import type { Sqs } from '#lib/aws/clients.ts';
import { sendBatch, sqsBatches } from '#lib/aws/sqsBatch.ts';
import type { SettlementQueue } from './ports.ts';

/** Sends settlement messages in batches of 10; throws if any could not be sent (after one more try). */
export function sqsSettlementQueue(client: Sqs, queueUrl: string): SettlementQueue {
  return {
    async send(messages) {
      for (const batch of sqsBatches(messages)) {
        let pending = batch.map((m) => ({ body: JSON.stringify(m) }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          const out = await sendBatch(client, queueUrl, pending);
          pending = out.failed.map((n) => pending[n]!);
          if (pending.length > 0 && attempt >= 1)
            throw new Error(`could not queue ${pending.length} settlement message(s): ${out.message ?? 'unknown'}`);
        }
      }
    },
  };
}
