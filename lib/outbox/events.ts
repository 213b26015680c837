import * as z from 'zod/mini';
import '#lib/shared/zodMessages.ts';
import { parseJsonMessage, type Parsed } from '#lib/shared/json.ts';
import { INSTANCE_STATES, LIFECYCLE_EVENT_TYPES, type HistoryEntry, type Instance, type LifecycleEventType } from '#lib/instances/model.ts';

/**
 * A lifecycle event as it travels on the provisioning queue. One event id per transition
 * (`instanceId:version`), so the consumer and the seller's product can drop redeliveries.
 */
export const lifecycleEventSchema = z.object({
  eventId: z.string().check(z.minLength(1), z.maxLength(200)),
  type: z.enum(LIFECYCLE_EVENT_TYPES),
  instanceId: z.string().check(z.minLength(1), z.maxLength(64)),
  version: z.number().check(z.int(), z.positive()),
  state: z.enum(INSTANCE_STATES),
  occurredAt: z.string().check(z.minLength(1)),
  test: z.boolean(),
  orderId: z.optional(z.string().check(z.maxLength(64))),
  orderLineId: z.optional(z.string().check(z.maxLength(64))),
  scene: z.optional(z.string().check(z.maxLength(64))),
});

export type LifecycleEvent = z.infer<typeof lifecycleEventSchema>;

/**
 * The queue event for a history entry: lifecycle transitions travel as themselves; a seller's retry of a failed
 * provisioning travels as a new `instance.created` (a new transition, so a new event id); the worker's own
 * outcomes (provisioned, failed) travel nowhere.
 */
export function queueEventFor(instance: Instance, entry: HistoryEntry): LifecycleEvent | undefined {
  if (entry.event === 'instance.provisioningRetried') return eventFor(instance, entry, 'instance.created');
  if (entry.event === 'instance.provisioned' || entry.event === 'instance.provisioningFailed') return undefined;
  return eventFor(instance, entry, entry.event);
}

export function eventFor(instance: Instance, entry: HistoryEntry, type: LifecycleEventType): LifecycleEvent {
  const event: LifecycleEvent = {
    eventId: `${instance.instanceId}:${entry.version}`,
    type,
    instanceId: instance.instanceId,
    version: entry.version,
    state: entry.to,
    occurredAt: entry.at,
    test: instance.test,
  };
  if (entry.orderId) event.orderId = entry.orderId;
  if (entry.orderLineId) event.orderLineId = entry.orderLineId;
  if (entry.scene) event.scene = entry.scene;
  return event;
}

/** A queue message's body as a lifecycle event, or what is wrong with it. */
export const parseLifecycleMessage = (body: string): Parsed<LifecycleEvent> => parseJsonMessage(body, lifecycleEventSchema);
