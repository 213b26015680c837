import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { InvalidQueryError } from '#lib/seller-api/ports.ts';
import { iso } from '#lib/shared/time.ts';
import { decodeCursor, encodeCursor, InvalidCursorError, keyString, startKey } from './cursor.ts';
import type { Item } from './dynamo.ts';

/**
 * A time-ordered log kept in one partition per UTC day (`<prefix>#<YYYY-MM-DD>`, sort key `<ISO time>#<id>`), read
 * newest first over a time window: the listing walks the days from `to` back to `from`, optionally filtered, in
 * pages with an opaque cursor (the day to continue in and the last key read there).
 */

/** A window of at most 31 days has 32 day partitions: one Query per day even when they are empty, and a few more. */
const MAX_QUERIES = 40;
/** About 1 MB read per call (an eventually consistent read costs half a unit per 4 KB). */
const READ_BUDGET_UNITS = 128;
/** With a filter, each Query evaluates at least this many items (a Query's Limit counts items before filtering). */
const FILTERED_PAGE_ITEMS = 100;
const DAY_MS = 24 * 3600 * 1000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar day that exists (`2025-02-30` does not). */
const isDay = (day: string) =>
  DAY.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00.000Z`)) && iso(Date.parse(`${day}T00:00:00.000Z`)).startsWith(day);
const previousDay = (day: string) => iso(Date.parse(`${day}T00:00:00.000Z`) - DAY_MS).slice(0, 10);
const isoDateTime = z.iso.datetime({ offset: true });

/** The window as canonical ISO instants (what the sort keys start with), checked: `from <= to`, at most `maxDays` apart. */
export function checkWindow(from: string, to: string, maxDays: number): { fromIso: string; toIso: string } {
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
  if (toMs - fromMs > maxDays * DAY_MS) throw new InvalidQueryError(`from and to may be at most ${maxDays} days apart`);
  return { fromIso: iso(fromMs), toIso: iso(toMs) };
}

export interface DayLogFilter {
  expression: string;
  names?: Record<string, string>;
  values: Record<string, unknown>;
}

export interface DayLogQuery {
  table: string;
  /** The partition prefix, e.g. `ACTION`. */
  prefix: string;
  /** The listing's name, kept in its cursors so one listing's cursor is refused by another. */
  list: string;
  fromIso: string;
  toIso: string;
  limit: number;
  cursor?: string;
  filter?: DayLogFilter;
}

/** The items with `from <= at <= to`, newest first, and the cursor of the next page if more may follow. */
export async function listByDay(client: DynamoDb, query: DayLogQuery): Promise<{ items: Item[]; nextCursor?: string }> {
  const { prefix, fromIso, toIso, limit, filter } = query;
  const firstDay = toIso.slice(0, 10);
  const lastDay = fromIso.slice(0, 10);
  // Sort keys are `<ISO time>#<id>`: '$' sorts right after '#', so `<to>$` includes items at `to`.
  const low = fromIso;
  const high = `${toIso}$`;
  const cursorShape = z
    .strictObject({
      list: z.literal(query.list),
      day: z.string().refine(isDay),
      key: z.strictObject({ pk: keyString(), sk: keyString() }).optional(),
    })
    .refine(({ day, key }) => !key || (key.pk === `${prefix}#${day}` && key.sk.startsWith(`${day}T`)));

  let day = firstDay;
  let start: Record<string, AttributeValue> | undefined;
  if (query.cursor !== undefined) {
    const cursor = decodeCursor(query.cursor, cursorShape);
    // A cursor of another window would start outside this query's key range.
    const outside = cursor.day > firstDay || cursor.day < lastDay || (cursor.key && (cursor.key.sk < low || cursor.key.sk > high));
    if (outside) throw new InvalidCursorError('cursor does not belong to this time range');
    day = cursor.day;
    start = cursor.key && startKey(cursor.key);
  }
  const resume = (atDay: string, key?: Record<string, AttributeValue>) => encodeCursor(key, { list: query.list, day: atDay });

  const items: Item[] = [];
  let readUnits = 0;
  for (let queries = 1; ; queries++) {
    const remaining = limit - items.length;
    const out = await client.send('Query', {
      TableName: query.table,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
      ...(filter ? { FilterExpression: filter.expression } : {}),
      ...(filter?.names ? { ExpressionAttributeNames: filter.names } : {}),
      ExpressionAttributeValues: marshall({ ':pk': `${prefix}#${day}`, ':low': low, ':high': high, ...(filter?.values ?? {}) }),
      ScanIndexForward: false,
      Limit: filter ? Math.max(remaining, FILTERED_PAGE_ITEMS) : remaining,
      ExclusiveStartKey: start,
      ReturnConsumedCapacity: 'TOTAL',
    });
    readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
    const page = out.Items ?? [];
    for (const [i, item] of page.entries()) {
      items.push(item);
      if (items.length === limit) {
        if (i < page.length - 1) return { items, nextCursor: resume(day, { pk: item.pk!, sk: item.sk! }) };
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
    if (queries >= MAX_QUERIES || readUnits >= READ_BUDGET_UNITS) return { items, nextCursor: resume(day, start) };
  }
}
