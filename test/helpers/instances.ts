import { expect } from 'vitest';
import type { Instance } from '#lib/instances/model.ts';
import { createInstance } from '#lib/instances/stateMachine.ts';
import { eventFor, type LifecycleEvent } from '#lib/outbox/events.ts';
import { store, uniqueId } from './produce.ts';

/**
 * An instance written straight through the store, its outbox event left out (no provisioning follows), for states,
 * products and order terms newInstance cannot give. ACTIVE and not a test instance unless `fields` say otherwise;
 * `idPrefix` starts its instanceId, `at` is when it was created.
 */
export async function storedInstance(idPrefix: string, fields: Partial<Instance> = {}, at = new Date().toISOString()): Promise<Instance> {
  const orderId = uniqueId('CS');
  const instanceId = uniqueId(idPrefix);
  const { instance, entry } = createInstance(
    {
      instanceId,
      orderId,
      orderLineId: `${orderId}-000001`,
      businessId: instanceId,
      test: fields.test ?? false,
      state: fields.state ?? 'ACTIVE',
    },
    at,
  );
  Object.assign(instance, fields);
  const writes = store().createInstance(
    instance,
    entry,
    eventFor(instance, entry, 'instance.created'),
    Math.floor(Date.now() / 1000),
    undefined,
  );
  expect((await store().commit(writes.filter((w) => w.label !== 'outbox'))).ok).toBe(true);
  return instance;
}

/** A lifecycle event of an instance that no longer exists (a purged test instance). */
export const goneInstanceEvent = (): LifecycleEvent => ({
  eventId: 'gone:2',
  type: 'instance.frozen',
  instanceId: uniqueId('gone'),
  version: 2,
  state: 'FROZEN',
  occurredAt: new Date().toISOString(),
  test: true,
});
