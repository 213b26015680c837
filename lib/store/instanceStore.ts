import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { HistoryEntry, Instance, OrderTerms } from '../instances/model.ts';
import type { LifecycleEvent } from '../outbox/events.ts';
import { keys, type Key } from './keys.ts';

/** One item of a transaction, labelled so a cancellation can say which condition failed. */
export interface LabeledWrite {
  label:
    | 'nonce'
    | 'orderLine'
    | 'instance'
    | 'history'
    | 'applied'
    | 'outbox'
    | 'audit'
    | 'order'
    | 'license'
    | 'usageWindow'
    | 'usageTotal'
    | 'usageRef'
    | 'usageCorrection'
    | 'billing'
    | 'statement'
    | 'supervision'
    | 'supervisionHistory'
    | 'proof';
  write: TransactWriteItem;
}

export type CommitResult =
  | { ok: true }
  | { ok: false; conditionFailed: LabeledWrite['label'][]; conflict: boolean };

/**
 * The audit table's record of one inbound marketplace call, or of one outbound usage push (`usagePush`: the
 * request body's hash and size, how many records, the marketplace's answer). Never a secret, signature or
 * personal data.
 */
export interface AuditRecord {
  at: string;
  correlationId: string;
  channel: 'produce' | 'produceV1' | 'usagePush';
  resultCode: string;
  latencyMs: number;
  bodySha256: string;
  bodyBytes: number;
  activity?: string;
  orderId?: string;
  orderLineId?: string;
  instanceId?: string;
  licenseId?: string;
  keyId?: string;
  signatureForm?: string;
  test?: boolean;
  reason?: string;
  /** usagePush: the number of usage records in the request. */
  records?: number;
}

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

export const toItem = (key: Key, value: object, extra: Record<string, unknown> = {}): Record<string, AttributeValue> =>
  marshall({ ...key, ...value, ...extra }, { removeUndefinedValues: true, convertClassInstanceToMap: false });

/** A put for a transaction; `mustBeNew` makes it fail (labelled) if the item exists. */
export const put = (
  label: LabeledWrite['label'],
  table: string,
  item: Record<string, AttributeValue>,
  mustBeNew: boolean,
): LabeledWrite => ({
  label,
  write: {
    Put: {
      TableName: table,
      Item: item,
      ...(mustBeNew ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
    },
  },
});

/** Writes everything in one transaction; says which labelled conditions failed if it is cancelled. */
export async function commitWrites(client: DynamoDBClient, writes: LabeledWrite[]): Promise<CommitResult> {
  try {
    await client.send(new TransactWriteItemsCommand({ TransactItems: writes.map((w) => w.write) }));
    return { ok: true };
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    const conditionFailed = writes.filter((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed').map((w) => w.label);
    const conflict = reasons.some((r) => r.Code === 'TransactionConflict');
    if (conditionFailed.length === 0 && !conflict) throw error;
    return { ok: false, conditionFailed, conflict };
  }
}

/** Strongly consistent BatchGetItem of up to 100 keys of one table, retrying unprocessed keys. */
export async function batchGet(client: DynamoDBClient, table: string, keyList: Key[]): Promise<Record<string, AttributeValue>[]> {
  const found: Record<string, AttributeValue>[] = [];
  let pending: Record<string, AttributeValue>[] = keyList.map((k) => marshall(k));
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 5) throw new Error('BatchGetItem left keys unprocessed after retries');
    if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
    const out = await client.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }));
    found.push(...(out.Responses?.[table] ?? []));
    pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
  }
  return found;
}

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

export interface StoreTables {
  main: string;
  audit: string;
}

/** Epoch seconds at which a test item expires, or nothing for real data. */
export type Expiry = number | undefined;

const DAY_SECONDS = 24 * 3600;

/** When a test record's items expire: `ttlDays` after its creation (law 8). Real records never expire. */
export function testExpiry(record: { test: boolean; createdAt: string }, ttlDays: number): Expiry {
  return record.test ? Math.floor(Date.parse(record.createdAt) / 1000) + ttlDays * DAY_SECONDS : undefined;
}

/** A put for a transaction that applies only if nobody changed the item since we read `previousVersion`. */
export const putIfVersion = (label: LabeledWrite['label'], table: string, item: Record<string, AttributeValue>, previousVersion: number): LabeledWrite => ({
  label,
  write: {
    Put: {
      TableName: table,
      Item: item,
      ConditionExpression: '#version = :previous',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':previous': { N: String(previousVersion) } },
    },
  },
});

/** Every item of a partition whose sort key starts with `prefix` (consistent), in sort-key order or its reverse. */
export async function queryPrefix(
  client: DynamoDBClient,
  table: string,
  pk: string,
  prefix: string,
  options: { newestFirst?: boolean } = {},
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: marshall({ ':pk': pk, ':prefix': prefix }),
        ...(options.newestFirst ? { ScanIndexForward: false } : {}),
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Every `HISTORY#` entry of a partition, oldest first, without the item's own keys and bookkeeping. */
export async function queryHistory(client: DynamoDBClient, table: string, pk: string): Promise<Record<string, unknown>[]> {
  return (await queryPrefix(client, table, pk, 'HISTORY#')).map((item) => {
    const { pk: _pk, sk: _sk, type: _type, expiresAt: _exp, ...entry } = unmarshall(item);
    return entry;
  });
}

/** The main table's sparse index of instances the safety sweep watches (resources/dynamodb.yml). */
export const DUE_INDEX = 'due';

/** The main table's index of the seller API's listings, newest first (resources/dynamodb.yml). */
export const LIST_INDEX = 'list';

/** Outbox entries outlive the queue's 14-day retention by a day, then TTL removes them. */
const OUTBOX_RETENTION_SECONDS = 15 * 24 * 3600;

export function instanceStore(client: DynamoDBClient, tables: StoreTables) {
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
    toItem(keys.instance(instance.instanceId), { type: 'instance', ...instance, ...dueAttributes(instance), ...listAttributes(instance), ...ttl });

  return {
    async getInstance(instanceId: string): Promise<Instance | undefined> {
      const out = await client.send(
        new GetItemCommand({ TableName: tables.main, Key: marshall(keys.instance(instanceId)), ConsistentRead: true }),
      );
      return out.Item ? toInstance(out.Item) : undefined;
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
      const items = await batchGet(client, tables.main, instanceIds.map((id) => keys.instance(id)));
      return new Map(items.map((item) => [unmarshall(item).instanceId as string, toInstance(item)]));
    },

    async getOrderLineInstanceId(orderId: string, orderLineId: string): Promise<string | undefined> {
      const out = await client.send(
        new GetItemCommand({
          TableName: tables.main,
          Key: marshall(keys.orderLine(orderId, orderLineId)),
          ConsistentRead: true,
          ProjectionExpression: 'instanceId',
        }),
      );
      return out.Item?.instanceId?.S;
    },

    async getHistory(instanceId: string): Promise<HistoryEntry[]> {
      return (await queryHistory(client, tables.main, keys.instance(instanceId).pk)) as unknown as HistoryEntry[];
    },

    claimNonce(keyId: string, nonce: string, expiresAt: number): LabeledWrite {
      return put('nonce', tables.main, toItem(keys.nonce(keyId, nonce), { type: 'nonce', expiresAt }), true);
    },

    /** Whether the nonce is claimed (consistent read): after a commit whose answer was lost, whether it committed. */
    async nonceClaimed(keyId: string, nonce: string): Promise<boolean> {
      const out = await client.send(
        new GetItemCommand({ TableName: tables.main, Key: marshall(keys.nonce(keyId, nonce)), ConsistentRead: true, ProjectionExpression: 'pk' }),
      );
      return out.Item !== undefined;
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

    /**
     * The changed instance (only if nobody changed it since we read version `previousVersion`),
     * its history entry, the applied-marker of an order-carrying command, and the outbox event if it has one.
     */
    applyChange(
      previousVersion: number,
      next: Instance,
      entry: HistoryEntry,
      idempotencyKey: string | undefined,
      event: LifecycleEvent | undefined,
      nowSeconds: number,
      expiresAt: Expiry,
    ): LabeledWrite[] {
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
      return put('order', tables.main, toItem(keys.order(order.orderId, order.orderLineId), { type: 'order', ...order, instanceId, fetchedAt, ...ttl }), false);
    },

    /**
     * Annotations the safety sweep adds without a transition (no new version, no history entry), conditioned on
     * the version it read. A marketplace change racing it may drop the annotation; the next sweep adds it again.
     */
    async annotate(instanceId: string, version: number, fields: Partial<Pick<Instance, 'overdueSince' | 'provisioning'>>): Promise<boolean> {
      const names: Record<string, string> = { '#version': 'version' };
      const values: Record<string, unknown> = { ':version': version };
      const sets: string[] = [];
      for (const [field, value] of Object.entries(fields)) {
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        sets.push(`#${field} = :${field}`);
      }
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tables.main,
            Key: marshall(keys.instance(instanceId)),
            // Flagged overdue: out of the sweep's index until a renewal or freeze rewrites the item.
            UpdateExpression: `SET ${sets.join(', ')}${fields.overdueSince ? ' REMOVE dueKind, dueAt' : ''}`,
            ConditionExpression: '#version = :version',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },

    /** Real ACTIVE instances whose expiry is before `before`, oldest first (the sparse `due` index). */
    async dueForExpiry(before: string, limit: number): Promise<{ instanceId: string; version: number; dueAt: string }[]> {
      const found: { instanceId: string; version: number; dueAt: string }[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await client.send(
          new QueryCommand({
            TableName: tables.main,
            IndexName: DUE_INDEX,
            KeyConditionExpression: 'dueKind = :kind AND dueAt < :before',
            ExpressionAttributeValues: marshall({ ':kind': 'EXPIRY', ':before': before }),
            Limit: limit - found.length,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) {
          const row = unmarshall(item);
          found.push({ instanceId: String(row.instanceId), version: Number(row.version), dueAt: String(row.dueAt) });
        }
        start = out.LastEvaluatedKey;
      } while (start && found.length < limit);
      return found;
    },

    audit(record: AuditRecord): LabeledWrite {
      return put('audit', tables.audit, toItem(keys.auditMessage(record.at, record.correlationId), record), true);
    },

    /** Writes everything in one transaction; says which labelled conditions failed if it is cancelled. */
    commit: (writes: LabeledWrite[]) => commitWrites(client, writes),
  };
}

export type InstanceStore = ReturnType<typeof instanceStore>;
