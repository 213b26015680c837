/**
 * The provisioning worker's world outside (lib/provisioning/ports.ts): Query Order, the seller's product and
 * settlement's record of billing facts, each keeping what it was asked so a test can look.
 */
import type { AppInfo, Instance, OrderTerms } from '#lib/instances/model.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import type { OrderBilling, OrderQuery, ProvisioningAdapter, StepOutcome } from '#lib/provisioning/ports.ts';
import { put, type MemoryTable } from './memoryTable.ts';

/** A step's failure: `retry` says whether a later attempt may succeed. */
export type Refusal = { retry: boolean; reason: string };

/** Query Order over a set of known orders; an unknown order line is refused for good, as the marketplace does (MKT.9001). */
export function fakeOrderQuery(orders: OrderTerms[] = []) {
  const known = new Map(orders.map((o) => [`${o.orderId}\n${o.orderLineId}`, o]));
  const refusals: Refusal[] = [];
  const calls: { orderId: string; orderLineId: string }[] = [];
  const query: OrderQuery = async (orderId, orderLineId) => {
    calls.push({ orderId, orderLineId });
    const refusal = refusals.shift();
    if (refusal) return { ok: false, ...refusal };
    const order = known.get(`${orderId}\n${orderLineId}`);
    return order ? { ok: true, value: structuredClone(order) } : { ok: false, retry: false, reason: 'MKT.9001: order not found' };
  };
  return {
    query,
    calls,
    add(order: OrderTerms) {
      known.set(`${order.orderId}\n${order.orderLineId}`, order);
    },
    /** The next call(s) answer this refusal. */
    refuseNext(refusal: Refusal, times = 1) {
      for (let i = 0; i < times; i++) refusals.push(refusal);
    },
  };
}

/** The seller's product: hands out appInfo for new instances and hears of every later event. */
export function fakeProduct(
  appInfoFor: (instance: Instance) => AppInfo = (i) => ({ frontEndUrl: `https://tenant.example.com/${i.instanceId}` }),
) {
  const refusals: Refusal[] = [];
  const calls: { step: 'provision' | 'notify'; instance: Instance; event: LifecycleEvent }[] = [];
  const answer = <T>(value: T): StepOutcome<T> => {
    const refusal = refusals.shift();
    return refusal ? { ok: false, ...refusal } : { ok: true, value };
  };
  const adapter: ProvisioningAdapter = {
    async provision(instance, event) {
      calls.push({ step: 'provision', instance: structuredClone(instance), event });
      return answer(appInfoFor(instance));
    },
    async notify(instance, event) {
      calls.push({ step: 'notify', instance: structuredClone(instance), event });
      return answer(undefined);
    },
    deliverKit: async () => answer(undefined),
  };
  return {
    adapter,
    calls,
    /** The next call(s) answer this refusal. */
    refuseNext(refusal: Refusal, times = 1) {
      for (let i = 0; i < times; i++) refusals.push(refusal);
    },
  };
}

/** What the fake billing records for an order line: the order's terms as billed, or a refund. */
export type BillingRow =
  | {
      kind: 'order';
      instanceId: string;
      orderId: string;
      orderLineId: string;
      activity: string;
      scene?: string;
      amount?: string;
      at: string;
    }
  | { kind: 'refund'; instanceId: string; refundOrderId: string; amount?: string; at: string };

/** Settlement's record of billing facts, as writes in the memory table (label `billing`), so they share the worker's commit. */
export function fakeOrderBilling(table: MemoryTable) {
  const billing: OrderBilling = {
    async orderWrites(instance, order, activity, scene, at) {
      const row: BillingRow = {
        kind: 'order',
        instanceId: instance.instanceId,
        orderId: order.orderId,
        orderLineId: order.orderLineId,
        activity,
        at,
      };
      if (scene) row.scene = scene;
      if (order.amount) row.amount = order.amount;
      return [put('billing', ['billing', order.orderId, order.orderLineId], row)];
    },
    async refundWrites(instance, refundOrderId, refundOrder, at) {
      const row: BillingRow = {
        kind: 'refund',
        instanceId: instance.instanceId,
        refundOrderId,
        at,
        ...(refundOrder?.amount ? { amount: refundOrder.amount } : {}),
      };
      return [put('billing', ['billing', instance.orderId, instance.orderLineId, `REFUND#${refundOrderId}`], row)];
    },
  };
  return { billing, rows: () => table.list<BillingRow>('billing').map((row) => row.value) };
}
