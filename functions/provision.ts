import { config } from '#lib/config.ts';
import { sqsConsumer } from '#lib/aws/sqsConsumer.ts';
import { log } from '#lib/log.ts';
import { parseQueueMessage } from '#lib/outbox/queueMessage.ts';
import { workerDeps, type ProvisionDeps } from '#lib/provisioning/deps.ts';
import { handleKitEvent } from '#lib/provisioning/kitDelivery.ts';
import { handleLifecycleEvent } from '#lib/provisioning/worker.ts';
import { lazy } from '#lib/shared/lazy.ts';

/**
 * Consumes the provisioning queue: each lifecycle event is handled by the provisioning worker
 * (lib/provisioning/worker.ts), each Kit event delivered to the seller's product (lib/provisioning/kitDelivery.ts).
 * A failed record returns to the queue; after 5 receives it lands in the dead-letter queue.
 */
const deps = lazy(() => workerDeps(config(), log));

export function provisionHandler(flowDeps: () => ProvisionDeps) {
  return sqsConsumer({
    kind: 'provisioning message',
    parse: parseQueueMessage,
    handle: async (message) => {
      if (message.kind === 'kit') await handleKitEvent(message.event, flowDeps());
      else await handleLifecycleEvent(message.event, flowDeps());
    },
    describe: (message) => ({ eventId: message.event.eventId, type: message.event.type }),
    log,
  });
}

export const handler = provisionHandler(deps);
