import type { Instance, OrderTerms, ProvisioningAttempt } from '#lib/instances/model.ts';
import { awaitsProvisioning, orderTermsUpdated, provisioned, provisioningFailed, type Decision } from '#lib/instances/stateMachine.ts';
import type { Log } from '#lib/log.ts';
import * as notices from '#lib/notifications/events.ts';
import type { Notify } from '#lib/notifications/notifier.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import { testExpiry } from '#lib/shared/testData.ts';
import type { InstanceStore } from '#lib/instances/ports.ts';
import type { PlannedWrite } from '#lib/shared/transaction.ts';
import type { OutboxStore } from '#lib/outbox/ports.ts';
import type { OrderBilling, OrderQuery, ProvisioningAdapter } from './ports.ts';
import { deadlineOf, type SupervisionDeadlines } from '#lib/supervision/deadlines.ts';

/**
 * The provisioning worker: one lifecycle event from the queue at a time.
 * - `instance.created`: query the order (spec §8.1), ask the seller's product for the buyer's appInfo through the
 *   configured adapter, and make the instance ACTIVE; a permanent failure makes it PROVISIONING_FAILED.
 * - `instance.upgraded` / `instance.renewed`: query the new order and store its terms, then tell the product.
 * - `instance.frozen` / `unfrozen` / `released`: tell the product; a release naming its unsubscription order first
 *   records the refund.
 * With settlement on (`billing`), the order lines' billing facts (and a supervised product's supervision flow) are
 * written in the same transaction as the terms they come from.
 * A step that may succeed later (rate limit, 5xx, timeout, a lost race) throws RetryLater: the message goes back
 * to the queue, and after 5 receives to the dead-letter queue. Every delivery of one transition carries the same
 * event id, so the product can drop repeats.
 *
 * Law 10 (a released instance leaves no live tenant): every call asking the product for a tenant is recorded before
 * it is made (`ProvisioningAttempt`, only while the instance is still at the version read, so none starts after a
 * release is committed) and again when it is answered. A release of an instance without appInfo reaches the product
 * whenever such a call was made, and only once that call was answered (or its worker died): so the release always
 * comes after the tenant that call may have created.
 */

export interface WorkerDeps {
  store: InstanceStore;
  outbox: OutboxStore;
  /** Absent when Query Order is switched off (ORDER_QUERY=false). */
  queryOrder?: OrderQuery | undefined;
  /** Records paid order lines, supervision flows and refunds for settlement (lib/settlement/billingFacts.ts). */
  billing?: OrderBilling | undefined;
  adapter: ProvisioningAdapter;
  testTtlDays: number;
  /** Tells the seller's people of new orders and failed provisioning (lib/notifications); nobody when absent. */
  notify?: Notify | undefined;
  /** The deadline a new supervision flow's notice names (SUPERVISION_PROOF_DAYS). */
  supervisionDeadlines?: SupervisionDeadlines | undefined;
  now: () => number;
  log: Log;
}

/** A step failed in a way that may pass later: the message is retried by the queue. */
export class RetryLater extends Error {
  override name = 'RetryLater';
}

export type WorkerResult = 'provisioned' | 'failed' | 'updated' | 'notified' | 'skipped';

/** How long a call to the product may still be in flight: twice the provision function's timeout (30 s). */
export const CALL_LIFETIME_MS = 60_000;

export async function handleLifecycleEvent(event: LifecycleEvent, deps: WorkerDeps): Promise<WorkerResult> {
  const result = await route(event, deps);
  await deps.outbox.complete(event);
  deps.log.info('lifecycle event handled', { eventId: event.eventId, type: event.type, result, test: event.test });
  return result;
}

async function route(event: LifecycleEvent, deps: WorkerDeps): Promise<WorkerResult> {
  const instance = await deps.store.getInstance(event.instanceId);
  // Gone (a test instance past its TTL): nothing left to do.
  if (!instance) return 'skipped';
  if (event.type === 'instance.created') return provision(instance, event, deps);

  if (awaitsProvisioning(instance) && event.type !== 'instance.released') {
    // The product must hear of the tenant before it hears of a freeze or an upgrade.
    throw new RetryLater('instance is not provisioned yet');
  }
  if (event.type === 'instance.released' && event.orderId) await recordRefund(instance, event.orderId, event.orderLineId, deps);
  if (!instance.appInfo) {
    // Released before its appInfo was stored: the product may still hold a tenant if it was ever asked for one.
    if (event.type === 'instance.released' && (await mayHoldTenant(instance, deps))) return tell(instance, event, deps);
    // Never asked (failed before the call, or released before it): the product has no tenant to tell about.
    return 'skipped';
  }
  let current = instance;
  if (carriesOrder(event)) {
    const updated = await recordOrder(instance, event, deps);
    if (updated === 'failed') return 'failed';
    current = updated;
  }
  return tell(current, event, deps);
}

async function tell(instance: Instance, event: LifecycleEvent, deps: WorkerDeps): Promise<WorkerResult> {
  const told = await deps.adapter.notify(instance, event);
  if (!told.ok) return failStep(instance, event, told, deps);
  return 'notified';
}

/**
 * Whether the product was asked for a tenant of this instance. A call still in flight makes the release wait for its
 * answer (RetryLater), so that the release reaches the product after the tenant the call may create.
 */
async function mayHoldTenant(instance: Instance, deps: WorkerDeps): Promise<boolean> {
  const attempt = await deps.store.getProvisioningAttempt(instance.instanceId);
  if (!attempt) return false;
  if (attempt.status === 'calling' && deps.now() - Date.parse(attempt.startedAt) < CALL_LIFETIME_MS) {
    throw new RetryLater('the product is still being asked for this tenant; the release follows its answer');
  }
  return true;
}

/** The instance a Query Order is made for, as the message log names it. */
const about = (instance: Instance) => ({ instanceId: instance.instanceId, test: instance.test });

/** Upgrades and renewals bring a new order line whose terms the worker stores (settlement needs them). */
function carriesOrder(event: LifecycleEvent): event is LifecycleEvent & { orderId: string; orderLineId: string } {
  return (event.type === 'instance.upgraded' || event.type === 'instance.renewed') && Boolean(event.orderId && event.orderLineId);
}

async function provision(instance: Instance, event: LifecycleEvent, deps: WorkerDeps): Promise<WorkerResult> {
  if (!awaitsProvisioning(instance)) return 'skipped';
  let order: OrderTerms | undefined;
  if (deps.queryOrder) {
    const found = await deps.queryOrder(instance.orderId, instance.orderLineId, about(instance));
    if (found.ok) order = found.value;
    else if (found.retry) throw new RetryLater(`order query: ${found.reason}`);
    // Debug orders need not exist in the order system: a test instance goes on without its terms.
    else if (instance.test)
      deps.log.warn('order query failed for a test instance; provisioning without it', {
        instanceId: instance.instanceId,
        reason: found.reason,
      });
    else return failStep(instance, event, found, deps);
  }
  const attempt = await startAttempt(instance, event, deps);
  const given = await deps.adapter.provision(order ? { ...instance, order } : instance, event);
  const at = new Date(deps.now()).toISOString();
  const { lastError: _previous, ...rest } = attempt;
  const answered: ProvisioningAttempt = { ...rest, status: 'answered', answeredAt: at, ...(given.ok ? {} : { lastError: given.reason }) };
  const answer = deps.store.provisioningAttempt(answered, testExpiry(instance, deps.testTtlDays));
  try {
    if (!given.ok) return await failStep(instance, event, given, deps, [answer]);
    const billing = order && deps.billing ? await deps.billing.orderWrites(instance, order, 'newInstance', undefined, at) : [];
    await commitDecision(instance, provisioned(instance, { appInfo: given.value, order }, at), deps, order, [...billing, answer]);
    if (!instance.test) {
      await deps.notify?.(
        notices.orderPaid({
          instanceId: instance.instanceId,
          orderId: instance.orderId,
          orderLineId: instance.orderLineId,
          productId: instance.productId,
          at,
        }),
      );
      if (billing.some((write) => write.label === 'supervision')) await tellAwaitingProofs(instance, at, deps);
    }
    return 'provisioned';
  } catch (error) {
    // The instance moved on meanwhile (released, frozen) or the answer asks for a retry: the answer is recorded anyway.
    if (error instanceof RetryLater) await deps.store.commit([answer]);
    throw error;
  }
}

/** A supervised order line's flow just began: the seller must deliver and upload its proofs. */
async function tellAwaitingProofs(instance: Instance, at: string, deps: WorkerDeps): Promise<void> {
  if (!deps.notify || !deps.supervisionDeadlines) return;
  const { orderId, orderLineId, instanceId } = instance;
  const dueAt = deadlineOf('proofs', at, deps.supervisionDeadlines);
  await deps.notify(notices.supervisionAwaitingProofs({ orderId, orderLineId, instanceId, since: at, dueAt, at }));
}

/** Records that the product is about to be asked for a tenant, only if the instance is still as read. */
async function startAttempt(instance: Instance, event: LifecycleEvent, deps: WorkerDeps): Promise<ProvisioningAttempt> {
  const previous = await deps.store.getProvisioningAttempt(instance.instanceId);
  const attempt: ProvisioningAttempt = {
    instanceId: instance.instanceId,
    eventId: event.eventId,
    attempts: (previous?.attempts ?? 0) + 1,
    status: 'calling',
    startedAt: new Date(deps.now()).toISOString(),
    ...(previous?.lastError ? { lastError: previous.lastError } : {}),
  };
  const result = await deps.store.commit([
    deps.store.instanceAt(instance.instanceId, instance.version),
    deps.store.provisioningAttempt(attempt, testExpiry(instance, deps.testTtlDays)),
  ]);
  if (!result.ok) throw new RetryLater('instance changed before the product was asked for its tenant');
  return attempt;
}

/** An unsubscription: the refund goes into the order line's billing facts (its amount from Query Order when on). */
async function recordRefund(instance: Instance, orderId: string, orderLineId: string | undefined, deps: WorkerDeps): Promise<void> {
  if (!deps.billing || instance.test) return;
  let refundOrder: OrderTerms | undefined;
  if (deps.queryOrder) {
    const found = await deps.queryOrder(orderId, orderLineId ?? `${orderId}-000001`, about(instance));
    if (found.ok) refundOrder = found.value;
    else if (found.retry) throw new RetryLater(`order query: ${found.reason}`);
  }
  const writes = await deps.billing.refundWrites(instance, orderId, refundOrder, new Date(deps.now()).toISOString());
  if (writes.length === 0) return;
  const result = await deps.store.commit(writes);
  if (!result.ok) throw new RetryLater('billing facts changed while the refund was recorded');
}

/** Queries the event's order and stores its terms on the instance; a renewal's cancellation only records the order. */
async function recordOrder(
  instance: Instance,
  event: LifecycleEvent & { orderId: string; orderLineId: string },
  deps: WorkerDeps,
): Promise<Instance | 'failed'> {
  if (!deps.queryOrder) return instance;
  const found = await deps.queryOrder(event.orderId, event.orderLineId, about(instance));
  if (!found.ok) {
    if (found.retry) throw new RetryLater(`order query: ${found.reason}`);
    return failStep(instance, event, found, deps);
  }
  const at = new Date(deps.now()).toISOString();
  const activity = event.type === 'instance.upgraded' ? 'upgradeInstance' : 'refreshInstance';
  const decision: Decision =
    event.scene === 'UNSUBSCRIBE_RENEWAL_PERIOD'
      ? { outcome: 'unchanged', reason: 'a cancelled renewal keeps the current terms' }
      : orderTermsUpdated(instance, found.value, activity, at);
  const billing = deps.billing ? await deps.billing.orderWrites(instance, found.value, activity, event.scene, at) : [];
  return commitDecision(instance, decision, deps, found.value, billing);
}

async function failStep(
  instance: Instance,
  event: LifecycleEvent,
  outcome: { retry: boolean; reason: string },
  deps: WorkerDeps,
  alsoWrite: PlannedWrite[] = [],
): Promise<'failed'> {
  if (outcome.retry) throw new RetryLater(outcome.reason);
  const at = new Date(deps.now()).toISOString();
  const activity = event.type === 'instance.created' ? 'newInstance' : event.type;
  await commitDecision(instance, provisioningFailed(instance, outcome.reason, event.eventId, activity, at), deps, undefined, alsoWrite);
  deps.log.error('provisioning failed; the seller must fix the cause and retry', {
    instanceId: instance.instanceId,
    eventId: event.eventId,
    type: event.type,
    reason: outcome.reason,
  });
  await deps.notify?.(
    notices.provisioningFailed({
      instanceId: instance.instanceId,
      orderId: instance.orderId,
      eventId: event.eventId,
      reason: outcome.reason,
      test: instance.test,
      at,
    }),
  );
  return 'failed';
}

/**
 * Writes a decision (and the order record, billing facts and attempt record, if any) in one transaction, conditioned
 * on the version read.
 * A lost race retries the whole event from a fresh read.
 */
async function commitDecision(
  instance: Instance,
  decision: Decision,
  deps: WorkerDeps,
  order?: OrderTerms,
  alsoWrite: PlannedWrite[] = [],
): Promise<Instance> {
  const nowSeconds = Math.floor(deps.now() / 1000);
  const expiresAt = testExpiry(instance, deps.testTtlDays);
  const writes = [...alsoWrite];
  if (order) writes.push(deps.store.orderRecord(order, instance.instanceId, new Date(deps.now()).toISOString(), expiresAt));
  if (decision.outcome === 'changed') {
    writes.push(...deps.store.applyChange(instance.version, decision.next, decision.entry, undefined, undefined, nowSeconds, expiresAt));
  }
  if (writes.length === 0) return instance;
  const result = await deps.store.commit(writes);
  if (!result.ok) throw new RetryLater('instance changed while it was being provisioned');
  return decision.outcome === 'changed' ? decision.next : instance;
}
