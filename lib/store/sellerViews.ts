import { type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { INSTANCE_STATES, type Instance } from '#lib/instances/model.ts';
import {
  INSTANCE_LIMIT,
  InvalidQueryError,
  MAX_MESSAGE_RANGE_DAYS,
  MESSAGE_LIMIT,
  STORED_CHANNELS,
  type InstanceDetail,
  type ListInstancesQuery,
  type ListMessagesQuery,
  type MessageRecord,
  type Page,
  type SellerViews,
} from '#lib/seller-api/ports.ts';
import { decodeCursor, encodeCursor, keyString, startKey } from './cursor.ts';
import { checkWindow, listByDay } from './dayLog.ts';
import { instanceStore, toInstance } from './instanceStore.ts';
import { LIST_INDEX, type StoreTables } from './dynamo.ts';
import type { AuditRecord } from '#lib/audit/records.ts';
import { keys } from './keys.ts';

/**
 * What the seller API reads: the instance listing (index `list`, newest first), one instance with its history,
 * and the message log by time range (docs/data-model.md, access patterns).
 */

/**
 * Filters can leave pages sparse, so a listing reads on until it has `limit` items, within a budget per call:
 * this many Query round trips, and about 1 MB read (an eventually consistent read costs half a unit per 4 KB).
 */
const MAX_INSTANCE_PAGES = 10;
const READ_BUDGET_UNITS = 128;
/** With a filter, each Query evaluates at least this many items (a Query's Limit counts items before filtering). */
const FILTERED_PAGE_ITEMS = 100;
/** The message log's day partitions are `MSG#<YYYY-MM-DD>`. */
const MESSAGE_PREFIX = keys.auditMessage('', '').pk.split('#')[0]!;

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** An instance-listing cursor: the index key of the last instance returned, which must be an instance's. */
const instanceCursor = z
  .strictObject({
    list: z.literal('instances'),
    key: z.strictObject({ listKind: z.literal('INSTANCE'), listAt: keyString(), pk: keyString(), sk: z.literal('#INSTANCE') }),
  })
  .refine(({ key }) => {
    const split = key.listAt.indexOf('#');
    const instanceId = key.listAt.slice(split + 1);
    return split > 0 && ISO_INSTANT.test(key.listAt.slice(0, split)) && instanceId !== '' && keys.instance(instanceId).pk === key.pk;
  });

/** Every field of the audit record, and nothing else of the item (compile-time checked to be complete). */
const AUDIT_FIELDS = [
  'at',
  'correlationId',
  'channel',
  'resultCode',
  'latencyMs',
  'bodySha256',
  'bodyBytes',
  'activity',
  'claimedActivity',
  'orderId',
  'orderLineId',
  'instanceId',
  'licenseId',
  'tenantId',
  'keyId',
  'signatureForm',
  'test',
  'reason',
  'records',
  'httpStatus',
  'request',
  'answer',
] as const satisfies readonly (keyof AuditRecord)[];
const auditFieldsComplete: [Exclude<keyof AuditRecord, (typeof AUDIT_FIELDS)[number]>] extends [never] ? true : false = true;
void auditFieldsComplete;

function toMessage(item: Record<string, AttributeValue>): MessageRecord {
  const raw = unmarshall(item);
  const record: Record<string, unknown> = {};
  for (const field of AUDIT_FIELDS) if (raw[field] !== undefined) record[field] = raw[field];
  return record as unknown as MessageRecord;
}

/** The attributes of `item` that make up a key, to continue a Query right after it. */
const keyOf = (item: Record<string, AttributeValue>, names: readonly string[]): Record<string, AttributeValue> =>
  Object.fromEntries(names.map((name) => [name, item[name]!]));

function checkLimit(limit: number | undefined, bounds: { min: number; max: number; default: number }): number {
  const value = limit ?? bounds.default;
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new InvalidQueryError(`limit must be an integer from ${bounds.min} to ${bounds.max}`);
  }
  return value;
}

/** The message listing's filter: every condition the query names, or undefined when it names none. */
function messageFilter(
  query: ListMessagesQuery,
): { expression: string; names: Record<string, string>; values: Record<string, unknown> } | undefined {
  const conditions: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const equals = (field: 'resultCode' | 'instanceId' | 'orderId', value: string | undefined) => {
    if (value === undefined) return;
    conditions.push(`#${field} = :${field}`);
    names[`#${field}`] = field;
    values[`:${field}`] = value;
  };
  equals('resultCode', query.resultCode);
  equals('instanceId', query.instanceId);
  equals('orderId', query.orderId);
  if (query.activity !== undefined) {
    conditions.push('(#activity = :activity OR #claimedActivity = :activity)');
    Object.assign(names, { '#activity': 'activity', '#claimedActivity': 'claimedActivity' });
    values[':activity'] = query.activity;
  }
  if (query.channel !== undefined) {
    const stored = STORED_CHANNELS[query.channel];
    conditions.push(`#channel IN (${stored.map((_, i) => `:channel${i}`).join(', ')})`);
    names['#channel'] = 'channel';
    stored.forEach((value, i) => (values[`:channel${i}`] = value));
  }
  return conditions.length === 0 ? undefined : { expression: conditions.join(' AND '), names, values };
}

export function sellerViews(client: DynamoDb, tables: StoreTables): SellerViews {
  const store = instanceStore(client, tables);

  return {
    /** Instances newest first (by creation), optionally only those in a state, of a product, or test/real ones. */
    async listInstances(query: ListInstancesQuery = {}): Promise<Page<Instance>> {
      const limit = checkLimit(query.limit, INSTANCE_LIMIT);
      if (query.state !== undefined && !INSTANCE_STATES.includes(query.state)) {
        throw new InvalidQueryError(`state must be one of ${INSTANCE_STATES.join(', ')}`);
      }
      const conditions: string[] = [];
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ':kind': 'INSTANCE' };
      const filterOn = (field: 'state' | 'productId' | 'test', value: unknown) => {
        if (value === undefined) return;
        conditions.push(`#${field} = :${field}`);
        names[`#${field}`] = field;
        values[`:${field}`] = value;
      };
      filterOn('state', query.state);
      filterOn('productId', query.productId);
      filterOn('test', query.test);
      const filtered = conditions.length > 0;

      const indexKey = ['listKind', 'listAt', 'pk', 'sk'] as const;
      const cursorAt = (key: Record<string, AttributeValue>) => encodeCursor(key, { list: 'instances' });
      let start = query.cursor === undefined ? undefined : startKey(decodeCursor(query.cursor, instanceCursor).key);
      const items: Instance[] = [];
      let readUnits = 0;
      for (let pages = 1; ; pages++) {
        const remaining = limit - items.length;
        const out = await client.send('Query', {
          TableName: tables.main,
          IndexName: LIST_INDEX,
          KeyConditionExpression: 'listKind = :kind',
          ...(filtered ? { FilterExpression: conditions.join(' AND '), ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: marshall(values),
          ScanIndexForward: false,
          Limit: filtered ? Math.max(remaining, FILTERED_PAGE_ITEMS) : remaining,
          ExclusiveStartKey: start,
          ReturnConsumedCapacity: 'TOTAL',
        });
        readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
        const page = out.Items ?? [];
        for (const [i, item] of page.entries()) {
          items.push(toInstance(item));
          if (items.length === limit) {
            if (i < page.length - 1) return { items, nextCursor: cursorAt(keyOf(item, indexKey)) };
            return out.LastEvaluatedKey ? { items, nextCursor: cursorAt(out.LastEvaluatedKey) } : { items };
          }
        }
        if (!out.LastEvaluatedKey) return { items };
        start = out.LastEvaluatedKey;
        if (pages >= MAX_INSTANCE_PAGES || readUnits >= READ_BUDGET_UNITS) return { items, nextCursor: cursorAt(start) };
      }
    },

    /**
     * One instance, its history (oldest first) and its provisioning attempt record, or undefined if there is no
     * such instance. The history is read after the instance and cut at its version, so both describe the same moment.
     */
    async instanceWithHistory(instanceId: string): Promise<InstanceDetail | undefined> {
      const instance = await store.getInstance(instanceId);
      if (!instance) return undefined;
      const [entries, attempt] = await Promise.all([store.getHistory(instanceId), store.getProvisioningAttempt(instanceId)]);
      const history = entries.filter((entry) => entry.version <= instance.version);
      return { instance, history, ...(attempt ? { attempt } : {}) };
    },

    /**
     * Message-log records with `from <= at <= to`, newest first, optionally only those of one resultCode, instance,
     * order, activity or channel. The log is partitioned by UTC day, so the listing walks the days from `to` back to
     * `from`; filters apply within each day's range.
     */
    async listMessages(query: ListMessagesQuery): Promise<Page<MessageRecord>> {
      const limit = checkLimit(query.limit, MESSAGE_LIMIT);
      const { fromIso, toIso } = checkWindow(query.from, query.to, MAX_MESSAGE_RANGE_DAYS);
      const filter = messageFilter(query);
      const page = await listByDay(client, {
        table: tables.audit,
        prefix: MESSAGE_PREFIX,
        list: 'messages',
        fromIso,
        toIso,
        limit,
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        ...(filter ? { filter } : {}),
      });
      return { items: page.items.map(toMessage), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },

    async getMessage(at: string, correlationId: string): Promise<MessageRecord | undefined> {
      // A Query on the full key (the seller API's grant on the append-only log is Query alone).
      const key = keys.auditMessage(at, correlationId);
      const out = await client.send('Query', {
        TableName: tables.audit,
        KeyConditionExpression: 'pk = :pk AND sk = :sk',
        ExpressionAttributeValues: marshall({ ':pk': key.pk, ':sk': key.sk }),
      });
      const [item] = out.Items ?? [];
      return item ? toMessage(item) : undefined;
    },
  };
}
