/**
 * What travels on the provisioning queue: lifecycle events of instances (lib/outbox/events.ts) and the Kit's events
 * of tenants, applications, users and departments (lib/kit/eventSchema.ts). The consumer reads either, chosen by
 * the event's type, so a Kit event is never refused (and never dead-lettered) as an unknown message.
 */
import { asKitEvent, kitEventSchema } from '#lib/kit/eventSchema.ts';
import type { KitEvent } from '#lib/kit/model.ts';
import { parseJsonMessage, type Parsed } from '#lib/shared/json.ts';
import { lifecycleEventSchema, type LifecycleEvent } from './events.ts';

export type QueueMessage = { kind: 'lifecycle'; event: LifecycleEvent } | { kind: 'kit'; event: KitEvent };

/** Whether a message body names an instance's lifecycle event (`instance.*`); anything else is read as a Kit event. */
function isLifecycle(body: string): boolean {
  try {
    const value = JSON.parse(body) as { type?: unknown } | null;
    return typeof value?.type !== 'string' || value.type.startsWith('instance.');
  } catch {
    return true;
  }
}

/** A queue message's body as a lifecycle or Kit event, or what is wrong with it. */
export function parseQueueMessage(body: string): Parsed<QueueMessage> {
  if (isLifecycle(body)) {
    const parsed = parseJsonMessage(body, lifecycleEventSchema);
    return parsed.ok ? { ok: true, value: { kind: 'lifecycle', event: parsed.value } } : parsed;
  }
  const parsed = parseJsonMessage(body, kitEventSchema);
  return parsed.ok ? { ok: true, value: { kind: 'kit', event: asKitEvent(parsed.value) } } : parsed;
}
