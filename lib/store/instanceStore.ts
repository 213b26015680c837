import { type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AuditRecord } from '#lib/audit/records.ts';
import type { HistoryEntry, Instance, OrderTerms, ProvisioningAttempt } from '#lib/instances/model.ts';
import type { InstanceStore } from '#lib/instances/ports.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import type { Expiry } from '#lib/shared/testData.ts';
import {
  checkVersion,
  getItem,
  batchGet,
  commitWrites,
  DUE_INDEX,
  put,
  putIfVersion,
  queryHistory,
  queryItems,
  toItem,
  type LabeledWrite,
  type StoreTables,
  updateIf,
} from './dynamo.ts';
import { keys } from './keys.ts';

const INSTANCE_FIELDS = [
  'instanceId',
  'orderId',
  'orderLineId',
  'businessId',
  'state',
  'test',
  'expireTime',
  'productId',
  'appInfo',
  'order',
  'provisioning',
  'overdueSince',
  'createdAt',
  'updatedAt',
  'version',
] as const;

/** An instance item as the API shows it: the instance's own fields, never keys, index attributes or TTL. */
export function toInstance(item: Record<string, AttributeValue>): Instance {
  const raw = unmarshall(item);
  const instance: Record<string, unknown> = {};
  for (const field of INSTANCE_FIELDS) if (raw[field] !== undefined) instance[field] = raw[field];
  return instance as unknown as Instance;
}

/**
 * `yyyyMMddHHmmss` as an ISO instant. The marketplace does not state the time zone (spec §10.5); it is read as
 * UTC, and the sweep's grace (hours) absorbs the difference.
 */
export function expireTimeIso(expireTime: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(expireTime);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : undefined;
}

/**
 * The sparse `due` index (docs/data-model.md): a real ACTIVE instance with an expiry, not yet flagged overdue,
 * is listed under `dueKind = EXPIRY` by its expiry, so the safety sweep finds the ones the marketplace did not freeze.
 */
export function dueAttributes(instance: Instance): { dueKind?: string; dueAt?: string } {
  if (instance.state !== 'ACTIVE' || instance.test || instance.overdueSince || !instance.expireTime) return {};
  const dueAt = expireTimeIso(instance.expireTime);
  return dueAt ? { dueKind: 'EXPIRY', dueAt } : {};
}

/**
 * The `list` index (docs/data-model.md): every instance is listed under `listKind = INSTANCE`, sorted by
 * creation time then id, so the seller API can page through them newest first.
 */
export function listAttributes(instance: Instance): { listKind: 'INSTANCE'; listAt: string } {
  return { listKind: 'INSTANCE', listAt: `${instance.createdAt}#${instance.instanceId}` };
}

/** Outbox entries outlive the queue's 14-day retention by a day, then TTL removes them. */
const OUTBOX_RETENTION_SECONDS = 15 * 24 * 3600;

export function instanceStore(client: DynamoDb, tables: StoreTables): InstanceStore {
  const outboxWrite = (event: LifecycleEvent, nowSeconds: number, expiresAt: Expiry): LabeledWrite =>
    put(
      'outbox',
      tables.main,
      toItem(keys.outbox(event.occurredAt, event.eventId), {
        type: 'outbox',
        eventId: event.eventId,
        message: JSON.stringify(event),
        expiresAt: Math.min(expiresAt ?? Infinity, nowSeconds + OUTBOX_RETENTION_SECONDS),
      }),
      false,
    );

  const instanceItem = (instance: Instance, ttl: { expiresAt?: number }) =>
    toItem(keys.instance(instance.instanceId), {
      type: 'instance',
      ...instance,
      ...dueAttributes(instance),
      ...listAttributes(instance),
      ...ttl,
    });

  return {
    async getInstance(instanceId: string): Promise<Instance | undefined> {
      const item = await getItem(client, tables.main, keys.instance(instanceId));
      return item ? toInstance(item) : undefined;
    },

    /** The instance and whether an order-carrying command was already applied to it, in one round trip. */
    async getInstanceAndApplied(
      instanceId: string,
      idempotencyKey: string | undefined,
    ): Promise<{ instance: Instance | undefined; alreadyApplied: boolean }> {
      const wanted = [keys.instance(instanceId)];
      if (idempotencyKey) wanted.push(keys.applied(instanceId, idempotencyKey));
      const items = await batchGet(client, tables.main, wanted);
      const instanceItem = items.find((i) => i.sk?.S === '#INSTANCE');
      return {
        instance: instanceItem ? toInstance(instanceItem) : undefined,
        alreadyApplied: items.some((i) => i.sk?.S?.startsWith('APPLIED#')),
      };
    },

    /** Up to 100 instances by id (BatchGetItem's limit, and queryInstance's). Unknown ids are absent. */
    async getInstances(instanceIds: readonly string[]): Promise<Map<string, Instance>> {
      const items = await batchGet(
        client,
        tables.main,
        instanceIds.map((id) => keys.instance(id)),
      );
      return new Map(items.map((item) => [unmarshall(item).instanceId as string, toInstance(item)]));
    },

    async getOrderLineInstanceId(orderId: string, orderLineId: string): Promise<string | undefined> {
      return (await getItem(client, tables.main, keys.orderLine(orderId, orderLineId), { projection: 'instanceId' }))?.instanceId?.S;
    },

    async getHistory(instanceId: string): Promise<HistoryEntry[]> {
      return (await queryHistory(client, tables.main, keys.instance(instanceId).pk)) as unknown as HistoryEntry[];
    },

    claimNonce(keyId: string, nonce: string, expiresAt: number): LabeledWrite {
      return put('nonce', tables.main, toItem(keys.nonce(keyId, nonce), { type: 'nonce', expiresAt }), true);
    },

    /** The order-line claim, the instance, its first history entry and the outbox event, all or nothing. */
    createInstance(instance: Instance, entry: HistoryEntry, event: LifecycleEvent, nowSeconds: number, expiresAt: Expiry): LabeledWrite[] {
      const ttl = expiresAt === undefined ? {} : { expiresAt };
      return [
        put(
          'orderLine',
          tables.main,
          toItem(keys.orderLine(instance.orderId, instance.orderLineId), { type: 'orderLine', instanceId: instance.instanceId, ...ttl }),
          true,
        ),
        put('instance', tables.main, instanceItem(instance, ttl), true),
        put('history', tables.main, toItem(keys.history(instance.instanceId, entry.version), { type: 'history', ...entry, ...ttl }), true),
        outboxWrite(event, nowSeconds, expiresAt),
      ];
    },

    applyChange(previousVersion, next, entry, idempotencyKey, event, nowSeconds, expiresAt): LabeledWrite[] {
      const ttl = expiresAt === undefined ? {} : { expiresAt };
      const writes: LabeledWrite[] = [
        putIfVersion('instance', tables.main, instanceItem(next, ttl), previousVersion),
        put('history', tables.main, toItem(keys.history(next.instanceId, entry.version), { type: 'history', ...entry, ...ttl }), true),
      ];
      if (idempotencyKey) {
        writes.push(
          put(
            'applied',
            tables.main,
            toItem(keys.applied(next.instanceId, idempotencyKey), { type: 'applied', version: entry.version, at: entry.at, ...ttl }),
            true,
          ),
        );
      }
      if (event) writes.push(outboxWrite(event, nowSeconds, expiresAt));
      return writes;
    },

    /** The order line's terms as Query Order gave them, beside the order line's claim; a later fetch replaces them. */
    orderRecord(order: OrderTerms, instanceId: string, fetchedAt: string, expiresAt: Expiry): LabeledWrite {
      const ttl = expiresAt === undefined ? {} : { expiresAt };
      return put(
        'order',
        tables.main,
        toItem(keys.order(order.orderId, order.orderLineId), { type: 'order', ...order, instanceId, fetchedAt, ...ttl }),
        false,
      );
    },

    /**
     * Annotations the safety sweep adds without a transition (no new version, no history entry), conditioned on
     * the version it read. A marketplace change racing it may drop the annotation; the next sweep adds it again.
     */
    async annotate(
      instanceId: string,
      version: number,
      fields: Partial<Pick<Instance, 'overdueSince' | 'provisioning'>>,
    ): Promise<boolean> {
      const names: Record<string, string> = { '#version': 'version' };
      const values: Record<string, unknown> = { ':version': version };
      const sets: string[] = [];
      for (const [field, value] of Object.entries(fields)) {
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        sets.push(`#${field} = :${field}`);
      }
      const updated = await updateIf(client, tables.main, keys.instance(instanceId), {
        // Flagged overdue: out of the sweep's index until a renewal or freeze rewrites the item.
        UpdateExpression: `SET ${sets.join(', ')}${fields.overdueSince ? ' REMOVE dueKind, dueAt' : ''}`,
        ConditionExpression: '#version = :version',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
      });
      return updated !== undefined;
    },

    async getProvisioningAttempt(instanceId: string): Promise<ProvisioningAttempt | undefined> {
      const item = await getItem(client, tables.main, keys.provisioningAttempt(instanceId));
      if (!item) return undefined;
      const { pk: _pk, sk: _sk, type: _type, expiresAt: _ttl, ...attempt } = unmarshall(item);
      return attempt as ProvisioningAttempt;
    },

    provisioningAttempt(attempt: ProvisioningAttempt, expiresAt: Expiry): LabeledWrite {
      const ttl = expiresAt === undefined ? {} : { expiresAt };
      return put(
        'provisioningAttempt',
        tables.main,
        toItem(keys.provisioningAttempt(attempt.instanceId), { type: 'provisioningAttempt', ...attempt, ...ttl }),
        false,
      );
    },

    instanceAt(instanceId: string, version: number): LabeledWrite {
      return checkVersion('instance', tables.main, keys.instance(instanceId), version);
    },

    /** Real ACTIVE instances whose expiry is before `before`, oldest first (the sparse `due` index). */
    async dueForExpiry(before: string, limit: number): Promise<{ instanceId: string; version: number; dueAt: string }[]> {
      const items = await queryItems(
        client,
        {
          TableName: tables.main,
          IndexName: DUE_INDEX,
          KeyConditionExpression: 'dueKind = :kind AND dueAt < :before',
          ExpressionAttributeValues: marshall({ ':kind': 'EXPIRY', ':before': before }),
        },
        { limit },
      );
      return items.map((item) => {
        const row = unmarshall(item);
        return { instanceId: String(row.instanceId), version: Number(row.version), dueAt: String(row.dueAt) };
      });
    },

    audit(record: AuditRecord): LabeledWrite {
      return put('audit', tables.audit, toItem(keys.auditMessage(record.at, record.correlationId), record), true);
    },

    /** Writes everything in one transaction; says which labelled conditions failed if it is cancelled. */
    commit: (writes) => commitWrites(client, writes),
  };
}
