/**
 * lib/instances/ports.ts's InstanceStore in the memory table, with the semantics of lib/store/instanceStore.ts:
 * the same writes under the same conditions (an order line, instance, history entry, applied marker, audit record
 * or nonce is created once; a changed instance is written only if still at the version read), the outbox entry
 * in the same transaction, and the `due` index for the safety sweep.
 */
import type { AuditRecord } from '#lib/audit/records.ts';
import type { HistoryEntry, Instance, OrderTerms, ProvisioningAttempt } from '#lib/instances/model.ts';
import type { DueInstance, InstanceStore } from '#lib/instances/ports.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import type { Expiry } from '#lib/shared/testData.ts';
import { dueAttributes } from '#lib/store/instanceStore.ts';
import { auditWrite } from './auditLog.ts';
import { ifVersion, mustBeNew, padded, put, update, type MemoryTable, type MemoryWrite, type RowKey } from './memoryTable.ts';
import { outboxWrite } from './outboxStore.ts';

const rows = {
  instance: (instanceId: string): RowKey => ['instance', instanceId],
  history: (instanceId: string, version: number): RowKey => ['history', instanceId, padded(version)],
  applied: (instanceId: string, idempotencyKey: string): RowKey => ['applied', instanceId, idempotencyKey],
  orderLine: (orderId: string, orderLineId: string): RowKey => ['orderLine', orderId, orderLineId],
  order: (orderId: string, orderLineId: string): RowKey => ['order', orderId, orderLineId],
  nonce: (keyId: string, nonce: string): RowKey => ['nonce', keyId, nonce],
  attempt: (instanceId: string): RowKey => ['provisioningAttempt', instanceId],
};

/** Query Order's terms for an order line as the worker stored them. */
export type OrderRecord = OrderTerms & { instanceId: string; fetchedAt: string };

export interface FakeInstanceStore extends InstanceStore {
  /** Every stored instance. */
  instances(): Instance[];
  /** The order terms stored for an order line, if any. */
  orderRecordOf(orderId: string, orderLineId: string): OrderRecord | undefined;
  /** When DynamoDB's TTL would remove the instance (test instances only). */
  expiryOf(instanceId: string): number | undefined;
}

export function fakeInstanceStore(table: MemoryTable): FakeInstanceStore {
  const history = (entry: HistoryEntry, expiresAt: Expiry) =>
    put('history', rows.history(entry.instanceId, entry.version), entry, mustBeNew, expiresAt);

  return {
    getInstance: async (instanceId) => table.get<Instance>(rows.instance(instanceId)),

    async getInstanceAndApplied(instanceId, idempotencyKey) {
      return {
        instance: table.get<Instance>(rows.instance(instanceId)),
        alreadyApplied: idempotencyKey !== undefined && table.get(rows.applied(instanceId, idempotencyKey)) !== undefined,
      };
    },

    getInstances: async (instanceIds) => table.getMany<Instance>(instanceIds, rows.instance),

    getOrderLineInstanceId: async (orderId, orderLineId) =>
      table.get<{ instanceId: string }>(rows.orderLine(orderId, orderLineId))?.instanceId,

    getHistory: async (instanceId) => table.list<HistoryEntry>('history', instanceId).map((row) => row.value),

    claimNonce: (keyId, nonce, expiresAt) => put('nonce', rows.nonce(keyId, nonce), {}, mustBeNew, expiresAt),

    createInstance(instance: Instance, entry: HistoryEntry, event: LifecycleEvent, nowSeconds: number, expiresAt: Expiry): MemoryWrite[] {
      return [
        put('orderLine', rows.orderLine(instance.orderId, instance.orderLineId), { instanceId: instance.instanceId }, mustBeNew, expiresAt),
        put('instance', rows.instance(instance.instanceId), instance, mustBeNew, expiresAt),
        history(entry, expiresAt),
        outboxWrite(event, nowSeconds, expiresAt),
      ];
    },

    applyChange(previousVersion, next, entry, idempotencyKey, event, nowSeconds, expiresAt): MemoryWrite[] {
      const writes = [
        put('instance', rows.instance(next.instanceId), next, ifVersion(previousVersion), expiresAt),
        history(entry, expiresAt),
      ];
      if (idempotencyKey) {
        writes.push(
          put('applied', rows.applied(next.instanceId, idempotencyKey), { version: entry.version, at: entry.at }, mustBeNew, expiresAt),
        );
      }
      if (event) writes.push(outboxWrite(event, nowSeconds, expiresAt));
      return writes;
    },

    orderRecord: (order, instanceId, fetchedAt, expiresAt) =>
      put('order', rows.order(order.orderId, order.orderLineId), { ...order, instanceId, fetchedAt }, undefined, expiresAt),

    /** Annotations without a transition (no new version, no history entry), conditioned on the version read. */
    async annotate(instanceId, version, fields) {
      const annotated = (current: unknown) => ({ ...(current as Instance), ...fields });
      return (await table.commit([update('instance', rows.instance(instanceId), annotated, ifVersion(version))])).ok;
    },

    /** Real ACTIVE instances whose expiry is before `before`, oldest first: the rows lib/store lists in its `due` index. */
    async dueForExpiry(before: string, limit: number): Promise<DueInstance[]> {
      return table
        .list<Instance>('instance')
        .flatMap(({ value }) => {
          const { dueAt } = dueAttributes(value);
          return dueAt !== undefined && dueAt < before ? [{ instanceId: value.instanceId, version: value.version, dueAt }] : [];
        })
        .sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0))
        .slice(0, limit);
    },

    getProvisioningAttempt: async (instanceId) => table.get<ProvisioningAttempt>(rows.attempt(instanceId)),

    provisioningAttempt: (attempt, expiresAt) =>
      put('provisioningAttempt', rows.attempt(attempt.instanceId), attempt, undefined, expiresAt),

    instanceAt: (instanceId, version) => update('instance', rows.instance(instanceId), (current) => current, ifVersion(version)),

    audit: (record: AuditRecord) => auditWrite(record),

    commit: (writes) => table.commit(writes),

    instances: () => table.list<Instance>('instance').map((row) => row.value),
    orderRecordOf: (orderId, orderLineId) => table.get<OrderRecord>(rows.order(orderId, orderLineId)),
    expiryOf: (instanceId) => table.expiry(rows.instance(instanceId)),
  };
}
