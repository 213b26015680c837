import type { SellerActor } from '#lib/audit/records.ts';
import type { AppInfo, HistoryEntry, Instance, InstanceState, LifecycleEventType, OrderTerms, ProvisioningEventType } from './model.ts';

/**
 * The instance state machine, pure: given an instance and a marketplace command it says what changes.
 * It never moves backwards: RELEASED is terminal, and commands that would not change anything
 * (a FREEZE of a frozen instance, anything after a release) are answered with success and no write.
 */

export type Command =
  | {
      activity: 'refreshInstance';
      scene: string;
      orderId: string;
      orderLineId: string;
      expireTime: string;
      productId?: string | undefined;
    }
  | { activity: 'updateInstanceStatus'; status: 'FREEZE' | 'UNFREEZE' }
  | { activity: 'releaseInstance'; orderId?: string | undefined; orderLineId?: string | undefined }
  | { activity: 'upgradeInstance'; orderId: string; orderLineId: string };

export const KNOWN_SCENES = ['TRIAL_TO_FORMAL', 'RENEWAL', 'UNSUBSCRIBE_RENEWAL_PERIOD'] as const;

export type Decision = { outcome: 'unchanged'; reason: string } | { outcome: 'changed'; next: Instance; entry: HistoryEntry };

function change(
  instance: Instance,
  command: Command,
  at: string,
  event: LifecycleEventType,
  to: InstanceState,
  fields: Partial<Pick<Instance, 'expireTime' | 'productId'>> = {},
): Decision {
  const version = instance.version + 1;
  const next: Instance = { ...instance, ...fields, state: to, version, updatedAt: at };
  // A renewal or a freeze answers the sweep's "expired without a FREEZE" flag.
  if (event === 'instance.renewed' || event === 'instance.frozen') delete next.overdueSince;
  const entry: HistoryEntry = {
    instanceId: instance.instanceId,
    actor: 'marketplace',
    version,
    at,
    activity: command.activity,
    event,
    from: instance.state,
    to,
  };
  if ('orderId' in command && command.orderId) entry.orderId = command.orderId;
  if ('orderLineId' in command && command.orderLineId) entry.orderLineId = command.orderLineId;
  if (command.activity === 'refreshInstance') entry.scene = command.scene;
  if (Object.keys(fields).length > 0) entry.changes = fields;
  return { outcome: 'changed', next, entry };
}

export function decide(instance: Instance, command: Command, at: string): Decision {
  if (instance.state === 'RELEASED') {
    return { outcome: 'unchanged', reason: 'instance is released' };
  }
  switch (command.activity) {
    case 'refreshInstance': {
      const fields: Partial<Pick<Instance, 'expireTime' | 'productId'>> = { expireTime: command.expireTime };
      if (command.productId) fields.productId = command.productId;
      return change(instance, command, at, 'instance.renewed', instance.state, fields);
    }
    case 'updateInstanceStatus':
      if (command.status === 'FREEZE') {
        return instance.state === 'FROZEN'
          ? { outcome: 'unchanged', reason: 'instance is already frozen' }
          : change(instance, command, at, 'instance.frozen', 'FROZEN');
      }
      return instance.state !== 'FROZEN'
        ? { outcome: 'unchanged', reason: 'instance is not frozen' }
        : change(instance, command, at, 'instance.unfrozen', unfrozenState(instance));
    case 'releaseInstance':
      return change(instance, command, at, 'instance.released', 'RELEASED');
    case 'upgradeInstance':
      return change(instance, command, at, 'instance.upgraded', instance.state);
  }
}

/** Where an unfrozen instance returns to: ACTIVE once provisioned, else where its provisioning stands. */
function unfrozenState(instance: Instance): InstanceState {
  if (instance.appInfo) return 'ACTIVE';
  return instance.provisioning?.failure ? 'PROVISIONING_FAILED' : 'PROVISIONING';
}

/**
 * The key that makes an order-carrying command apply once (spec §3.3, §3.6): a renewal order per scene,
 * an upgrade order. Status changes and release are idempotent by state and need none.
 */
export function idempotencyKey(command: Command): string | undefined {
  switch (command.activity) {
    case 'refreshInstance':
      return `refreshInstance#${command.orderId}#${command.scene}`;
    case 'upgradeInstance':
      return `upgradeInstance#${command.orderId}`;
    default:
      return undefined;
  }
}

/** A new instance as newInstance creates it. */
export function createInstance(
  input: Pick<Instance, 'instanceId' | 'orderId' | 'orderLineId' | 'businessId' | 'test'> & {
    state: InstanceState;
    appInfo?: Instance['appInfo'];
  },
  at: string,
): { instance: Instance; entry: HistoryEntry } {
  const instance: Instance = { ...input, createdAt: at, updatedAt: at, version: 1 };
  if (!input.appInfo) delete instance.appInfo;
  const entry: HistoryEntry = {
    instanceId: input.instanceId,
    actor: 'marketplace',
    version: 1,
    at,
    activity: 'newInstance',
    event: 'instance.created',
    orderId: input.orderId,
    orderLineId: input.orderLineId,
    to: input.state,
  };
  return { instance, entry };
}

/** What the provisioning worker learned for one event: the buyer's appInfo (new instances) and the order's terms. */
export interface ProvisioningResult {
  appInfo?: AppInfo | undefined;
  order?: OrderTerms | undefined;
}

function provisioningChange(
  instance: Instance,
  at: string,
  actor: HistoryEntry['actor'],
  activity: string,
  event: ProvisioningEventType,
  to: InstanceState,
  next: Omit<Instance, 'state' | 'version' | 'updatedAt'>,
  extra: Pick<HistoryEntry, 'changes' | 'reason' | 'by'> = {},
): Decision {
  const version = instance.version + 1;
  const entry: HistoryEntry = { instanceId: instance.instanceId, actor, version, at, activity, event, from: instance.state, to, ...extra };
  if (!entry.changes || Object.keys(entry.changes).length === 0) delete entry.changes;
  if (!entry.reason) delete entry.reason;
  return { outcome: 'changed', next: { ...next, state: to, version, updatedAt: at }, entry };
}

/**
 * Only instances still waiting for their first provisioning take one (a redelivery finds it done): PROVISIONING,
 * or frozen before provisioning finished (and did not fail).
 */
export function awaitsProvisioning(instance: Instance): boolean {
  if (instance.appInfo) return false;
  return instance.state === 'PROVISIONING' || (instance.state === 'FROZEN' && !instance.provisioning?.failure);
}

/**
 * A new instance's provisioning succeeded: it becomes ACTIVE with its appInfo and order terms
 * (a FROZEN one stays frozen, now with its appInfo).
 */
export function provisioned(instance: Instance, result: ProvisioningResult & { appInfo: AppInfo }, at: string): Decision {
  if (!awaitsProvisioning(instance)) return { outcome: 'unchanged', reason: `instance is ${instance.state}, not awaiting provisioning` };
  const { provisioning: _done, ...rest } = instance;
  const next = { ...rest, appInfo: result.appInfo, ...(result.order ? { order: result.order } : {}) };
  if (!next.expireTime && result.order?.expireTime) next.expireTime = result.order.expireTime;
  if (!next.productId && result.order?.productId) next.productId = result.order.productId;
  const to = instance.state === 'FROZEN' ? 'FROZEN' : 'ACTIVE';
  return provisioningChange(instance, at, 'provisioner', 'newInstance', 'instance.provisioned', to, next);
}

/**
 * A provisioning step failed for good. A new instance becomes PROVISIONING_FAILED (a frozen one stays frozen);
 * an instance already provisioned keeps its state (a failed upgrade order query). Either way the reason is
 * recorded for the seller, and a retry is possible once the cause is fixed.
 */
export function provisioningFailed(instance: Instance, reason: string, eventId: string, activity: string, at: string): Decision {
  if (instance.state === 'RELEASED') return { outcome: 'unchanged', reason: 'instance is released' };
  if (instance.provisioning?.failure?.eventId === eventId) return { outcome: 'unchanged', reason: 'failure already recorded' };
  const next = { ...instance, provisioning: { ...instance.provisioning, failure: { reason, at, eventId } } };
  const to = awaitsProvisioning(instance) && instance.state === 'PROVISIONING' ? 'PROVISIONING_FAILED' : instance.state;
  return provisioningChange(instance, at, 'provisioner', activity, 'instance.provisioningFailed', to, next, { reason });
}

/**
 * The seller fixed what made provisioning fail and asks for another attempt: of a failed provisioning, or of one the
 * safety sweep reported stuck (still PROVISIONING after its re-queues). The failure or the stuck mark is cleared.
 */
export function retryProvisioning(instance: Instance, at: string, by?: SellerActor): Decision {
  const stuck = instance.state === 'PROVISIONING' && !instance.appInfo && instance.provisioning?.stuckSince !== undefined;
  if (instance.state !== 'PROVISIONING_FAILED' && !stuck) {
    return { outcome: 'unchanged', reason: `instance is ${instance.state}, not PROVISIONING_FAILED nor reported stuck` };
  }
  const { provisioning: _failed, ...next } = instance;
  return provisioningChange(
    instance,
    at,
    'seller',
    'retryProvisioning',
    'instance.provisioningRetried',
    'PROVISIONING',
    next,
    by ? { by } : {},
  );
}

/** Field by field: a stored map does not keep its key order. */
function sameTerms(a: OrderTerms | undefined, b: OrderTerms): boolean {
  if (!a) return false;
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof OrderTerms>;
  return [...fields].every((f) => a[f] === b[f]);
}

/**
 * An upgrade (or renewal) order's terms arrived: the instance takes the new product, SKU and linear value.
 * Nothing changes when the terms are the ones already stored (a redelivery).
 */
export function orderTermsUpdated(instance: Instance, order: OrderTerms, activity: string, at: string): Decision {
  if (instance.state === 'RELEASED') return { outcome: 'unchanged', reason: 'instance is released' };
  if (sameTerms(instance.order, order)) return { outcome: 'unchanged', reason: 'order terms already stored' };
  const changes: NonNullable<HistoryEntry['changes']> = {};
  if (order.productId && order.productId !== instance.order?.productId) changes.productId = order.productId;
  if (order.skuCode && order.skuCode !== instance.order?.skuCode) changes.skuCode = order.skuCode;
  if (order.linearValue !== undefined && order.linearValue !== instance.order?.linearValue) changes.linearValue = order.linearValue;
  const next = { ...instance, order, ...(changes.productId ? { productId: changes.productId } : {}) };
  const { provisioning: _p, ...withoutFailure } = next;
  const cleared = instance.provisioning?.failure ? withoutFailure : next;
  return provisioningChange(instance, at, 'provisioner', activity, 'instance.provisioned', instance.state, cleared, { changes });
}
