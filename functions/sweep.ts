import { config } from '../lib/config.ts';
import { log } from '../lib/log.ts';
import { sqsPublisher } from '../lib/outbox/publisher.ts';
import { sqsClient } from '../lib/outbox/sqsClient.ts';
import { sweepOutbox } from '../lib/outbox/relay.ts';
import { dynamoClient } from '../lib/store/client.ts';
import { outboxStore } from '../lib/store/outboxStore.ts';

/** Scheduled every 5 minutes: re-sends outbox events that were not handled within a minute. */
export async function handler(): Promise<{ found: number; resent: number; failed: number }> {
  const cfg = config();
  return sweepOutbox(
    {
      outbox: outboxStore(dynamoClient(), cfg.MAIN_TABLE),
      publisher: sqsPublisher(sqsClient(), cfg.PROVISIONING_QUEUE_URL),
      log,
      now: Date.now,
    },
    { graceSeconds: 60, limit: 500 },
  );
}
