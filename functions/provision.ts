import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { config } from '../lib/config.ts';
import { log } from '../lib/log.ts';
import { consumeLifecycleBatch, templateModeHandler } from '../lib/outbox/relay.ts';
import { dynamoClient } from '../lib/store/client.ts';
import { outboxStore } from '../lib/store/outboxStore.ts';

/** Consumes the provisioning queue: lifecycle events for the seller's product, with partial batch failures. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const cfg = config();
  return consumeLifecycleBatch(event.Records, {
    outbox: outboxStore(dynamoClient(), cfg.MAIN_TABLE),
    handle: templateModeHandler,
    log,
  });
}
