/**
 * What the provisioning worker needs of the world outside: Query Order, the seller's product (template or webhook
 * adapter, lib/provisioning/adapters.ts) and settlement's record of billing facts (lib/settlement).
 */
import type { AppInfo, Instance, OrderTerms } from '#lib/instances/model.ts';
import type { KitEvent } from '#lib/kit/model.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import type { PlannedWrite } from '#lib/shared/transaction.ts';

/** The outcome of a step that talks to another system. */
export type StepOutcome<T> = { ok: true; value: T } | { ok: false; retry: boolean; reason: string };

/** Query Order, as the worker needs it; `about` names the instance it is made for (for the message log). */
export type OrderQuery = (
  orderId: string,
  orderLineId: string,
  about?: { instanceId: string; test: boolean },
) => Promise<StepOutcome<OrderTerms>>;

/** How the seller's product learns about an instance: `template` calls nothing, `webhook` posts the event. */
export interface ProvisioningAdapter {
  /** The buyer's appInfo for a new instance. */
  provision(instance: Instance, event: LifecycleEvent): Promise<StepOutcome<AppInfo>>;
  /** A later lifecycle event (renewed, frozen, unfrozen, released, upgraded). */
  notify(instance: Instance, event: LifecycleEvent): Promise<StepOutcome<void>>;
  /** A joint-operation Kit change (tenant, application, user, department). */
  deliverKit(event: KitEvent): Promise<StepOutcome<void>>;
}

/** Settlement's record of what an order line is billed: written in the same transaction as the terms it comes from. */
export interface OrderBilling {
  /** The writes that record a paid order line's billing facts (and start a supervised product's flow). */
  orderWrites(instance: Instance, order: OrderTerms, activity: string, scene: string | undefined, at: string): Promise<PlannedWrite[]>;
  /** The writes that record a refund of the instance's order line by its unsubscription order. */
  refundWrites(instance: Instance, refundOrderId: string, refundOrder: OrderTerms | undefined, at: string): Promise<PlannedWrite[]>;
}
