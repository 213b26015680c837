/**
 * Delivers one Kit event (a change of a tenant, an application, a user or a department) to the seller's product
 * through the provisioning adapter, then removes it from the Kit outbox. A delivery that may pass later (5xx,
 * timeout) is retried by the queue; one the product refuses for good (4xx, a body outside the contract) is retried
 * too and, after the queue's receive limit, waits in the dead-letter queue for a redrive once the product is fixed:
 * the product must not silently miss a user or a department. Redeliveries carry the same event id.
 */
import type { KitEvent } from '#lib/kit/model.ts';
import type { KitOutbox } from '#lib/kit/ports.ts';
import type { Log } from '#lib/log.ts';
import type { ProvisioningAdapter } from './ports.ts';

export interface KitDeliveryDeps {
  adapter: ProvisioningAdapter;
  kitOutbox: KitOutbox;
  log: Log;
}

/** The product did not take the event; the queue delivers it again. */
export class KitDeliveryFailed extends Error {
  override name = 'KitDeliveryFailed';
}

export async function handleKitEvent(event: KitEvent, deps: KitDeliveryDeps): Promise<'delivered'> {
  const told = await deps.adapter.deliverKit(event);
  const ids = { eventId: event.eventId, type: event.type, tenantId: event.tenantId, test: event.test };
  if (!told.ok) {
    if (!told.retry)
      deps.log.error('the product refused a Kit event; it is retried, then kept in the dead-letter queue', { ...ids, reason: told.reason });
    throw new KitDeliveryFailed(told.reason);
  }
  await deps.kitOutbox.complete(event);
  deps.log.info('kit event delivered', ids);
  return 'delivered';
}
