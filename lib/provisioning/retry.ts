import type { SellerActor } from '#lib/audit/records.ts';
import type { Log } from '#lib/log.ts';
import { queueEventFor } from '#lib/outbox/events.ts';
import type { EventPublisher } from '#lib/outbox/publisher.ts';
import { testExpiry } from '#lib/shared/testData.ts';
import type { InstanceStore } from '#lib/instances/ports.ts';
import { retryProvisioning } from '#lib/instances/stateMachine.ts';

/** Retried (the new event's id), or not: the instance is unknown (`not_found`) or not in a state to retry (`conflict`). */
export type RetryResult = { ok: true; eventId: string; version: number } | { ok: false; code: 'not_found' | 'conflict'; reason: string };

/**
 * The seller fixed what made provisioning fail (an order the marketplace did not know yet, a webhook that refused)
 * and asks again: PROVISIONING_FAILED (or PROVISIONING reported stuck by the safety sweep) → PROVISIONING with a
 * history entry (actor `seller`, `by` the key or operator that asked) and a new `instance.created` event (a new transition, so a new event id), written
 * together and then sent to the queue. A refused retry writes nothing.
 */
export async function retryFailedProvisioning(
  instanceId: string,
  deps: { store: InstanceStore; publisher: EventPublisher; now: () => number; log: Log; testTtlDays: number },
  by?: SellerActor,
): Promise<RetryResult> {
  const instance = await deps.store.getInstance(instanceId);
  if (!instance) return { ok: false, code: 'not_found', reason: `no instance ${instanceId}` };
  const decision = retryProvisioning(instance, new Date(deps.now()).toISOString(), by);
  if (decision.outcome === 'unchanged') return { ok: false, code: 'conflict', reason: decision.reason };
  const event = queueEventFor(decision.next, decision.entry);
  if (!event) throw new Error('a provisioning retry must produce an event');
  const expiresAt = testExpiry(instance, deps.testTtlDays);
  const result = await deps.store.commit(
    deps.store.applyChange(instance.version, decision.next, decision.entry, undefined, event, Math.floor(deps.now() / 1000), expiresAt),
  );
  if (!result.ok) return { ok: false, code: 'conflict', reason: 'the instance changed meanwhile; try again' };
  const unsent = await deps.publisher.publish([event]);
  if (unsent.length > 0) deps.log.warn('retry event left to the outbox sweep', { eventId: event.eventId });
  deps.log.info('provisioning retried by the seller', { instanceId, eventId: event.eventId });
  return { ok: true, eventId: event.eventId, version: decision.next.version };
}
