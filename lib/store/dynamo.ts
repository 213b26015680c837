/**
 * Generic DynamoDB helpers every adapter in lib/store uses: labelled transactions, conditional puts and updates,
 * consistent single and batch reads, and one paged query. Nothing here knows the table layout (that is keys.ts).
 */
import { type AttributeValue, type QueryCommandInput, type TransactWriteItem, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { cancellationReasons, failedCondition } from '#lib/aws/dynamoDb.ts';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { CommitResult, PlannedWrite, WriteLabel } from '#lib/shared/transaction.ts';
import { sleep } from '#lib/shared/time.ts';
import type { Key } from './keys.ts';

export type { CommitResult, WriteLabel } from '#lib/shared/transaction.ts';

export type Item = Record<string, AttributeValue>;

/** One item of a DynamoDB transaction, labelled so a cancellation can say which condition failed. */
export interface LabeledWrite extends PlannedWrite {
  write: TransactWriteItem;
}

export interface StoreTables {
  main: string;
  audit: string;
}

/** The writes a domain planned, as DynamoDB writes: every write a DynamoDB adapter plans carries its item. */
function dynamoWrites(writes: readonly PlannedWrite[]): LabeledWrite[] {
  return writes.map((w) => {
    if (!('write' in w)) throw new TypeError(`write '${w.label}' was not planned by a DynamoDB adapter`);
    return w as LabeledWrite;
  });
}

export const toItem = (key: Key, value: object, extra: Record<string, unknown> = {}): Item =>
  marshall({ ...key, ...value, ...extra }, { removeUndefinedValues: true, convertClassInstanceToMap: false });

/** A put for a transaction; `mustBeNew` makes it fail (labelled) if the item exists. */
export const put = (label: WriteLabel, table: string, item: Item, mustBeNew: boolean): LabeledWrite => ({
  label,
  write: {
    Put: {
      TableName: table,
      Item: item,
      ...(mustBeNew ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
    },
  },
});

/** The condition that nobody changed an item since we read `previousVersion`. */
const atVersion = (previousVersion: number): Condition => ({
  ConditionExpression: '#version = :previous',
  ExpressionAttributeNames: { '#version': 'version' },
  ExpressionAttributeValues: { ':previous': { N: String(previousVersion) } },
});

/** A put for a transaction that applies only if nobody changed the item since we read `previousVersion`. */
export const putIfVersion = (label: WriteLabel, table: string, item: Item, previousVersion: number): LabeledWrite => ({
  label,
  write: { Put: { TableName: table, Item: item, ...atVersion(previousVersion) } },
});

/** A condition on an item, as a transaction item carries it. */
export interface Condition {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

/** A transaction item that writes nothing and fails the transaction (labelled) unless `condition` holds for the item. */
export const conditionCheck = (label: WriteLabel, table: string, key: Key, condition: Condition): LabeledWrite => ({
  label,
  write: { ConditionCheck: { TableName: table, Key: marshall(key), ...condition } },
});

/** A transaction item that writes nothing and fails (labelled) if the item changed since we read `previousVersion`. */
export const checkVersion = (label: WriteLabel, table: string, key: Key, previousVersion: number): LabeledWrite =>
  conditionCheck(label, table, key, atVersion(previousVersion));

/** Writes everything in one transaction; says which labelled conditions failed if it is cancelled. */
export async function commitWrites(client: DynamoDb, planned: readonly LabeledWrite[] | readonly PlannedWrite[]): Promise<CommitResult> {
  const writes = dynamoWrites(planned);
  try {
    await client.send('TransactWriteItems', { TransactItems: writes.map((w) => w.write) });
    return { ok: true };
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (!reasons) throw error;
    const conditionFailed = writes.filter((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed').map((w) => w.label);
    const conflict = reasons.some((r) => r.Code === 'TransactionConflict');
    if (conditionFailed.length === 0 && !conflict) throw error;
    return { ok: false, conditionFailed, conflict };
  }
}

/** One item by its key, read strongly consistent unless `eventual`; only the `projection`'s attributes if given. */
export async function getItem(
  client: DynamoDb,
  table: string,
  key: Key,
  options: { projection?: string; names?: Record<string, string>; eventual?: boolean } = {},
): Promise<Item | undefined> {
  const out = await client.send('GetItem', {
    TableName: table,
    Key: marshall(key),
    ...(options.eventual ? {} : { ConsistentRead: true }),
    ...(options.projection ? { ProjectionExpression: options.projection } : {}),
    ...(options.names ? { ExpressionAttributeNames: options.names } : {}),
  });
  return out.Item;
}

/**
 * A conditional UpdateItem: the item as it is after the update, or undefined when the condition did not hold (the
 * one failure a caller decides on; any other error is thrown).
 */
export async function updateIf(
  client: DynamoDb,
  table: string,
  key: Key,
  update: Omit<UpdateItemCommandInput, 'TableName' | 'Key' | 'ReturnValues'>,
): Promise<Item | undefined> {
  try {
    const out = await client.send('UpdateItem', { TableName: table, Key: marshall(key), ReturnValues: 'ALL_NEW', ...update });
    return out.Attributes ?? {};
  } catch (error) {
    if (failedCondition(error)) return undefined;
    throw error;
  }
}

/** Strongly consistent BatchGetItem of up to 100 keys of one table, retrying unprocessed keys. */
export async function batchGet(client: DynamoDb, table: string, keyList: Key[]): Promise<Item[]> {
  const found: Item[] = [];
  let pending: Item[] = keyList.map((k) => marshall(k));
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 5) throw new Error('BatchGetItem left keys unprocessed after retries');
    if (attempt > 0) await sleep(20 * 2 ** attempt);
    const out = await client.send('BatchGetItem', { RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } });
    found.push(...(out.Responses?.[table] ?? []));
    pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
  }
  return found;
}

/**
 * A query page by page (each page as DynamoDB returned it, possibly empty after a filter). `pageLimit`, asked
 * before each page, caps how many items that page evaluates (else the input's `Limit`, if any).
 */
export async function* queryPages(
  client: DynamoDb,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
  pageLimit: () => number | undefined = () => undefined,
): AsyncGenerator<Item[]> {
  let start: Item | undefined;
  do {
    const limit = pageLimit();
    const out = await client.send('Query', { ...input, ...(limit === undefined ? {} : { Limit: limit }), ExclusiveStartKey: start });
    yield out.Items ?? [];
    start = out.LastEvaluatedKey;
  } while (start);
}

/**
 * The items of a query across its pages, at most `limit` of them: each page asks only for what is still wanted.
 * `keep` drops items that do not count toward the limit (a check applied after reading).
 */
export async function queryItems(
  client: DynamoDb,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'Limit'>,
  options: { limit?: number; keep?: (item: Item) => boolean } = {},
): Promise<Item[]> {
  const limit = options.limit ?? Infinity;
  const found: Item[] = [];
  const remaining = () => (Number.isFinite(limit) ? limit - found.length : undefined);
  for await (const page of queryPages(client, input, remaining)) {
    for (const item of page) if (!options.keep || options.keep(item)) found.push(item);
    if (found.length >= limit) break;
  }
  return found.slice(0, limit);
}

/** Every item of a partition whose sort key starts with `prefix` (consistent), in sort-key order or its reverse. */
export function queryPrefix(
  client: DynamoDb,
  table: string,
  pk: string,
  prefix: string,
  options: { newestFirst?: boolean } = {},
): Promise<Item[]> {
  return queryItems(client, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: marshall({ ':pk': pk, ':prefix': prefix }),
    ...(options.newestFirst ? { ScanIndexForward: false } : {}),
    ConsistentRead: true,
  });
}

/** Every item of a partition (consistent), in sort-key order. */
export function queryPartition(client: DynamoDb, table: string, pk: string): Promise<Item[]> {
  return queryItems(client, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: marshall({ ':pk': pk }),
    ConsistentRead: true,
  });
}

/** An item's own fields: without its keys, type and TTL. */
function withoutBookkeeping(item: Item): Record<string, unknown> {
  const { pk: _pk, sk: _sk, type: _type, expiresAt: _exp, ...fields } = unmarshall(item);
  return fields;
}

/** Every `HISTORY#` entry of a partition, oldest first, without the item's own keys and bookkeeping. */
export async function queryHistory(client: DynamoDb, table: string, pk: string): Promise<Record<string, unknown>[]> {
  return (await queryPrefix(client, table, pk, 'HISTORY#')).map(withoutBookkeeping);
}

/** The main table's sparse index of instances the safety sweep watches (resources/dynamodb.yml). */
export const DUE_INDEX = 'due';

/** The main table's index of the seller API's listings, newest first (resources/dynamodb.yml). */
export const LIST_INDEX = 'list';
