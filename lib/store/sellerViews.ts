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
import { iso } from '#lib/shared/time.ts';
import { decodeCursor, encodeCursor, InvalidCursorError, keyString, startKey } from './cursor.ts';
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
/** A 31-day range has 32 day partitions, so the message log may need one Query per day even when they are empty. */
const MAX_MESSAGE_QUERIES = 40;
const READ_BUDGET_UNITS = 128;
/** With a filter, each Query evaluates at least this many items (a Query's Limit counts items before filtering). */
const FILTERED_PAGE_ITEMS = 100;

const DAY_MS = 24 * 3600 * 1000;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar day that exists (`2025-02-30` does not). */
const isDay = (day: string) =>
  DAY.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00.000Z`)) && new Date(`${day}T00:00:00.000Z`).toISOString().startsWith(day);
const previousDay = (day: string) => iso(Date.parse(`${day}T00:00:00.000Z`) - DAY_MS).slice(0, 10);

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

/** A message-log cursor: the day partition to continue in, and the key of the last record read there (if any). */
const messageCursor = z
  .strictObject({
    list: z.literal('messages'),
    day: z.string().refine(isDay),
    key: z.strictObject({ pk: keyString(), sk: keyString() }).optional(),
  })
  .refine(({ day, key }) => !key || (key.pk === `MSG#${day}` && key.sk.startsWith(`${day}T`)));

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
  'keyId',
  'signatureForm',
  'test',
  'reason',
  'records',
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

const isoDateTime = z.iso.datetime({ offset: true });

/** The time range as canonical ISO instants (what the audit sort keys start with), checked. */
function checkRange(from: string, to: string): { fromIso: string; toIso: string } {
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!isoDateTime.safeParse(value).success)
      throw new InvalidQueryError(`${name} must be an ISO 8601 date-time, e.g. 2025-01-31T00:00:00Z`);
  }
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  if (fromMs > toMs) throw new InvalidQueryError('from must not be after to');
  if (toMs - fromMs > MAX_MESSAGE_RANGE_DAYS * DAY_MS)
    throw new InvalidQueryError(`from and to may be at most ${MAX_MESSAGE_RANGE_DAYS} days apart`);
  return { fromIso: iso(fromMs), toIso: iso(toMs) };
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
      const { fromIso, toIso } = checkRange(query.from, query.to);
      const filter = messageFilter(query);
      const firstDay = toIso.slice(0, 10);
      const lastDay = fromIso.slice(0, 10);
      // Sort keys are `<ISO time>#<correlationId>`: '$' sorts right after '#', so `<to>$` includes records at `to`.
      const low = fromIso;
      const high = `${toIso}$`;

      let day = firstDay;
      let start: Record<string, AttributeValue> | undefined;
      if (query.cursor !== undefined) {
        const cursor = decodeCursor(query.cursor, messageCursor);
        // A cursor of another range would start outside this query's key range.
        if (cursor.day > firstDay || cursor.day < lastDay) throw new InvalidCursorError('cursor does not belong to this time range');
        if (cursor.key && (cursor.key.sk < low || cursor.key.sk > high))
          throw new InvalidCursorError('cursor does not belong to this time range');
        day = cursor.day;
        start = cursor.key && startKey(cursor.key);
      }
      const resume = (atDay: string, key?: Record<string, AttributeValue>) => encodeCursor(key, { list: 'messages', day: atDay });

      const items: MessageRecord[] = [];
      let readUnits = 0;
      for (let queries = 1; ; queries++) {
        const remaining = limit - items.length;
        const out = await client.send('Query', {
          TableName: tables.audit,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
          ...(filter ? { FilterExpression: filter.expression, ExpressionAttributeNames: filter.names } : {}),
          ExpressionAttributeValues: marshall({ ':pk': `MSG#${day}`, ':low': low, ':high': high, ...filter?.values }),
          ScanIndexForward: false,
          Limit: filter ? Math.max(remaining, FILTERED_PAGE_ITEMS) : remaining,
          ExclusiveStartKey: start,
          ReturnConsumedCapacity: 'TOTAL',
        });
        readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
        const page = out.Items ?? [];
        for (const [i, item] of page.entries()) {
          items.push(toMessage(item));
          if (items.length === limit) {
            if (i < page.length - 1) return { items, nextCursor: resume(day, keyOf(item, ['pk', 'sk'])) };
            if (out.LastEvaluatedKey) return { items, nextCursor: resume(day, out.LastEvaluatedKey) };
            return day > lastDay ? { items, nextCursor: resume(previousDay(day)) } : { items };
          }
        }
        if (out.LastEvaluatedKey) {
          start = out.LastEvaluatedKey;
        } else if (day > lastDay) {
          day = previousDay(day);
          start = undefined;
        } else {
          return { items };
        }
        if (queries >= MAX_MESSAGE_QUERIES || readUnits >= READ_BUDGET_UNITS) return { items, nextCursor: resume(day, start) };
      }
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
