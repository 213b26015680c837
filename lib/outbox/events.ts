import { z } from 'zod';
import type { HistoryEntry, Instance } from '../instances/model.ts';

/**
 * A lifecycle event as it travels on the provisioning queue. One event id per transition
 * (`instanceId:version`), so the consumer and the seller's product can drop redeliveries.
 */
export const lifecycleEventSchema = z.object({
  eventId: z.string().min(1).max(200),
  type: z.enum([
    'instance.created',
    'instance.renewed',
    'instance.frozen',
    'instance.unfrozen',
    'instance.released',
    'instance.upgraded',
  ]),
  instanceId: z.string().min(1).max(64),
  version: z.number().int().positive(),
  state: z.enum(['PROVISIONING', 'ACTIVE', 'FROZEN', 'RELEASED']),
  occurredAt: z.string().min(1),
  test: z.boolean(),
  orderId: z.string().max(64).optional(),
  orderLineId: z.string().max(64).optional(),
  scene: z.string().max(64).optional(),
});

export type LifecycleEvent = z.infer<typeof lifecycleEventSchema>;

export function eventFor(instance: Instance, entry: HistoryEntry): LifecycleEvent {
  const event: LifecycleEvent = {
    eventId: `${instance.instanceId}:${entry.version}`,
    type: entry.event,
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
