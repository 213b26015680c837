/**
 * The sweep function's collaborators (functions/sweep.ts), apart from the production interface's wiring
 * (lib/instances/deps.ts) so that the produce bundle carries neither the notifications' SNS client nor the
 * dead-letter watch.
 */
import { dynamoClient, sqsClient } from '#lib/aws/clients.ts';
import { supervisionDeadlines, type Config } from '#lib/config.ts';
import type { Log } from '#lib/log.ts';
import { notifyFor } from '#lib/notifications/deps.ts';
import { sqsPublisher } from '#lib/outbox/publisher.ts';
import { deadLetterDepth } from '#lib/outbox/redrive.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import type { KitEvent } from '#lib/kit/model.ts';
import type { KitOutbox } from '#lib/kit/ports.ts';
import type { EventPublisher } from '#lib/outbox/publisher.ts';
import { kitOutboxStore } from '#lib/store/kitOutboxStore.ts';
import { outboxStore } from '#lib/store/outboxStore.ts';
import { supervisionStore } from '#lib/store/supervisionStore.ts';
import type { SafetySweepDeps, SafetySweepOptions } from './safetySweep.ts';

/** The two sweeps' collaborators (functions/sweep.ts): the outbox relay and the safety sweep. */
export function sweepDeps(
  cfg: Config,
  log: Log,
): SafetySweepDeps & { safety: SafetySweepOptions; kitOutbox: KitOutbox; kitPublisher: EventPublisher<KitEvent> } {
  const dynamo = dynamoClient();
  return {
    store: instanceStore(dynamo, { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE }),
    outbox: outboxStore(dynamo, cfg.MAIN_TABLE),
    publisher: sqsPublisher(sqsClient(), cfg.PROVISIONING_QUEUE_URL),
    kitOutbox: kitOutboxStore(dynamo, cfg.MAIN_TABLE),
    kitPublisher: sqsPublisher<KitEvent>(sqsClient(), cfg.PROVISIONING_QUEUE_URL),
    notify: notifyFor(cfg, log),
    supervision: {
      store: supervisionStore(dynamo, { main: cfg.MAIN_TABLE }),
      deadlines: supervisionDeadlines(cfg),
    },
    deadLetters: cfg.PROVISIONING_DLQ_URL ? deadLetterDepth(sqsClient(), cfg.PROVISIONING_DLQ_URL) : undefined,
    safety: {
      stuckAfterMinutes: cfg.STUCK_PROVISIONING_MINUTES,
      maxRequeues: cfg.STUCK_PROVISIONING_REQUEUES,
      graceHours: cfg.EXPIRY_GRACE_HOURS,
      limit: 500,
    },
    now: Date.now,
    log,
  };
}
