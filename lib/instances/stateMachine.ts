import type { HistoryEntry, Instance, InstanceState, LifecycleEventType } from './model.ts';

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

export type Decision =
  | { outcome: 'unchanged'; reason: string }
  | { outcome: 'changed'; next: Instance; entry: HistoryEntry };

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
        : change(instance, command, at, 'instance.unfrozen', instance.appInfo ? 'ACTIVE' : 'PROVISIONING');
    case 'releaseInstance':
      return change(instance, command, at, 'instance.released', 'RELEASED');
    case 'upgradeInstance':
      return change(instance, command, at, 'instance.upgraded', instance.state);
  }
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
