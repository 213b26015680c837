import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDb } from '#lib/aws/clients.ts';
import type { SellerActionRecord } from '#lib/audit/records.ts';
import { ACTION_LIMIT, MAX_ACTION_RANGE_DAYS, type SellerActionLog, type SellerActionQuery } from '#lib/audit/sellerActions.ts';
import { InvalidQueryError } from '#lib/seller-api/ports.ts';
import { checkWindow, listByDay, type DayLogFilter } from './dayLog.ts';
import { toItem, type Item } from './dynamo.ts';
import { keys } from './keys.ts';

/**
 * Seller actions in the audit table (docs/data-model.md): one partition per UTC day, `ACTION#<day>`, sorted by
 * time then correlation id, so the listing reads newest first over a time window and filters by actor, action,
 * target and result. Writes are conditional puts: a record is never overwritten, and nothing updates or deletes.
 */

const FIELDS = [
  'at',
  'correlationId',
  'channel',
  'actor',
  'actorId',
  'action',
  'target',
  'result',
  'latencyMs',
] as const satisfies readonly (keyof SellerActionRecord)[];
const fieldsComplete: [Exclude<keyof SellerActionRecord, (typeof FIELDS)[number]>] extends [never] ? true : false = true;
void fieldsComplete;

/** The record's own fields, never the item's keys. */
function toRecord(item: Item): SellerActionRecord {
  const raw = unmarshall(item);
  const record: Record<string, unknown> = {};
  for (const field of FIELDS) if (raw[field] !== undefined) record[field] = raw[field];
  return record as unknown as SellerActionRecord;
}

/** The FilterExpression of the query's filters, or undefined without any. */
function filterOf(query: SellerActionQuery): DayLogFilter | undefined {
  const conditions: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (query.actor !== undefined) {
    conditions.push('actorId = :actor');
    values[':actor'] = query.actor;
  }
  if (query.action !== undefined) {
    conditions.push('#action = :action');
    names['#action'] = 'action';
    values[':action'] = query.action;
  }
  if (query.target !== undefined) {
    conditions.push('#target.#targetName = :targetValue');
    names['#target'] = 'target';
    names['#targetName'] = query.target.name;
    values[':targetValue'] = query.target.value;
  }
  if (query.result !== undefined) {
    const byStatus = typeof query.result === 'number';
    conditions.push(`#result.#${byStatus ? 'status' : 'outcome'} = :result`);
    names['#result'] = 'result';
    names[byStatus ? '#status' : '#outcome'] = byStatus ? 'status' : 'outcome';
    values[':result'] = query.result;
  }
  if (conditions.length === 0) return undefined;
  return { expression: conditions.join(' AND '), ...(Object.keys(names).length > 0 ? { names } : {}), values };
}

export function sellerActionLog(client: DynamoDb, table: string): SellerActionLog {
  return {
    async append(record: SellerActionRecord): Promise<void> {
      await client.send('PutItem', {
        TableName: table,
        Item: toItem(keys.sellerAction(record.at, record.correlationId), record),
        ConditionExpression: 'attribute_not_exists(pk)',
      });
    },

    async list(query: SellerActionQuery) {
      const limit = query.limit ?? ACTION_LIMIT.default;
      if (!Number.isInteger(limit) || limit < ACTION_LIMIT.min || limit > ACTION_LIMIT.max) {
        throw new InvalidQueryError(`limit must be an integer from ${ACTION_LIMIT.min} to ${ACTION_LIMIT.max}`);
      }
      const { fromIso, toIso } = checkWindow(query.from, query.to, MAX_ACTION_RANGE_DAYS);
      const filter = filterOf(query);
      const page = await listByDay(client, {
        table,
        prefix: keys.sellerAction(fromIso, '').pk.split('#')[0]!,
        list: 'actions',
        fromIso,
        toIso,
        limit,
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        ...(filter ? { filter } : {}),
      });
      return { items: page.items.map(toRecord), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  };
}
