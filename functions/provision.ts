import { config } from '#lib/config.ts';
import { sqsConsumer } from '#lib/aws/sqsConsumer.ts';
import { log } from '#lib/log.ts';
import { parseLifecycleMessage } from '#lib/outbox/events.ts';
import { workerDeps } from '#lib/provisioning/deps.ts';
import { handleLifecycleEvent } from '#lib/provisioning/worker.ts';
import { lazy } from '#lib/shared/lazy.ts';

/**
 * Consumes the provisioning queue: each lifecycle event is handled by the provisioning worker
 * (lib/provisioning/worker.ts). A failed record returns to the queue; after 5 receives it lands in the dead-letter queue.
 */
const deps = lazy(() => workerDeps(config(), log));

export const handler = sqsConsumer({
  kind: 'lifecycle event',
  parse: parseLifecycleMessage,
  handle: async (event) => {
    await handleLifecycleEvent(event, deps());
  },
  describe: (event) => ({ eventId: event.eventId, type: event.type }),
  log,
});
