import { type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { createHash } from 'node:crypto';
import { BILL_SHARDS, type BillKind, type OrderLineFacts } from '#lib/settlement/model.ts';
import type { BillingStore, BillItem, StoredFacts } from '#lib/settlement/ports.ts';
import { conditionCheck, getItem, put, putIfVersion, queryPages, toItem, type LabeledWrite, type StoreTables } from './dynamo.ts';
import { keys } from './keys.ts';

/**
 * Settlement's inputs in the main table's `bill` index (docs/data-model.md):
 *  - an order line's billing facts (`ORDERLINE#…/BILLING`), listed under `billShard = LINE#<shard>` with
 *    `billAt = <last recorded>#<orderId>#<orderLineId>` and `billFrom` = its earliest business time;
 *  - a usage window the marketplace accepted, listed under `billShard = USAGE#<shard>` with
 *    `billAt = <acceptedAt>#<instanceId>#<window begin>`.
 * A business time (taking effect, acceptance of supervision, refund) is never later than the write that records
 * it, so everything a month's statement needs was recorded in or after that month: a run reads
 * `billAt >= <month start>` and keeps `billFrom < <month end>`.
 * Debug (test) order lines are never written here (law 8).
 */

export const BILL_INDEX = 'bill';
/** Items per page when a shard is read. */
const READ_PAGE_ITEMS = 500;

/** The shard an order line or an instance belongs to: stable, evenly spread. */
export function billShardOf(id: string): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % BILL_SHARDS;
}

export const billShard = (kind: BillKind, shard: number): string => `${kind}#${String(shard).padStart(2, '0')}`;

/** The earliest business time of an order line's facts (what `billFrom` holds). */
export function earliestBusinessTime(facts: OrderLineFacts): string | undefined {
  const times = [facts.effectiveAt, facts.supervision?.completedAt, facts.refund?.at].filter((t): t is string => Boolean(t));
  return times.sort()[0];
}

/**
 * The index attributes of an order line's billing item, recorded at `at`; `changedAt` is the business time of the
 * change being recorded (a month ending before it cannot be affected by it).
 */
export function lineBillAttributes(facts: OrderLineFacts, at: string, changedAt: string = at): Record<string, string> {
  const from = earliestBusinessTime(facts);
  // Not in effect yet: nothing to bill, so not listed (the next change lists it).
  if (!from) return {};
  return {
    billShard: billShard('LINE', billShardOf(`${facts.orderId}#${facts.orderLineId}`)),
    billAt: `${at}#${facts.orderId}#${facts.orderLineId}`,
    billFrom: from,
    billChangedAt: changedAt,
  };
}

/** The index attributes an accepted usage window gets. */
export function usageBillAttributes(instanceId: string, beginTime: string, acceptedAt: string): Record<string, string> {
  return {
    billShard: billShard('USAGE', billShardOf(instanceId)),
    billAt: `${acceptedAt}#${instanceId}#${beginTime}`,
  };
}

const FACT_FIELDS = [
  'orderId',
  'orderLineId',
  'instanceId',
  'productId',
  'kind',
  'amount',
  'currency',
  'test',
  'effectiveAt',
  'supervision',
  'refund',
  'adjustmentFor',
  'adjustmentIn',
] as const;

export function toFacts(row: Record<string, unknown>): OrderLineFacts {
  const facts: Record<string, unknown> = {};
  for (const field of FACT_FIELDS) if (row[field] !== undefined) facts[field] = row[field];
  return facts as unknown as OrderLineFacts;
}

function toBillItem(row: Record<string, unknown>): BillItem {
  if (String(row.billShard).startsWith('USAGE#')) {
    return {
      kind: 'USAGE',
      instanceId: String(row.instanceId),
      beginTime: String(row.beginTime),
      endTime: String(row.endTime),
      // What was sent and accepted (sealed at push time), in 0.0001 units.
      units: BigInt(String(row.pushedUnits ?? row.units)),
      acceptedAt: String(row.acceptedAt),
    };
  }
  return { kind: 'LINE', facts: toFacts(row) };
}

export function billingStore(client: DynamoDb, tables: Pick<StoreTables, 'main'>): BillingStore<LabeledWrite> {
  /** The `bill` index queried page by page (each page as DynamoDB returned it, possibly empty after a filter). */
  const queryBill = (input: Omit<QueryCommandInput, 'TableName' | 'IndexName' | 'ExclusiveStartKey'>) =>
    queryPages(client, { ...input, TableName: tables.main, IndexName: BILL_INDEX });

  return {
    /** An order line's billing facts (consistent read), or undefined. */
    async getFacts(orderId: string, orderLineId: string): Promise<StoredFacts | undefined> {
      const item = await getItem(client, tables.main, keys.billing(orderId, orderLineId));
      if (!item) return undefined;
      const row = unmarshall(item);
      return { facts: toFacts(row), version: Number(row.version), recordedAt: String(row.recordedAt) };
    },

    /**
     * The facts for a transaction: created (`previousVersion` undefined, must be new) or replaced (if nobody changed
     * them since `previousVersion`), recorded at `at` for a change whose business time is `changedAt`.
     */
    factsWrite(facts: OrderLineFacts, previousVersion: number | undefined, at: string, changedAt: string = at): LabeledWrite {
      const item = toItem(keys.billing(facts.orderId, facts.orderLineId), {
        type: 'billing',
        ...facts,
        version: (previousVersion ?? 0) + 1,
        recordedAt: at,
        ...lineBillAttributes(facts, at, changedAt),
      });
      return previousVersion === undefined
        ? put('billing', tables.main, item, true)
        : putIfVersion('billing', tables.main, item, previousVersion);
    },

    /** Whether a month's statement is closed (a change belonging to it becomes an adjustment of a later month). */
    async isClosed(period: string): Promise<boolean> {
      const item = await getItem(client, tables.main, keys.statement(period), { projection: '#status', names: { '#status': 'status' } });
      return item ? unmarshall(item).status === 'CLOSED' : false;
    },

    /**
     * Whether one shard holds a change recorded since `since` that can touch a month ending at `periodEnd`: an order
     * line changed by an event before the end, or usage accepted between `since` and the end. Stops at the first.
     */
    async changedSince(kind: BillKind, shard: number, since: string, periodEnd: string): Promise<boolean> {
      // Usage accepted after the month's end never belongs to it.
      if (kind === 'USAGE' && since >= periodEnd) return false;
      const pages = queryBill({
        ...(kind === 'LINE'
          ? { KeyConditionExpression: 'billShard = :shard AND billAt >= :since', FilterExpression: 'billChangedAt < :end', Limit: 500 }
          : { KeyConditionExpression: 'billShard = :shard AND billAt BETWEEN :since AND :end', Limit: 1 }),
        ExpressionAttributeValues: marshall({ ':shard': billShard(kind, shard), ':since': since, ':end': periodEnd }),
        ProjectionExpression: 'pk',
      });
      for await (const page of pages) if (page.length > 0) return true;
      return false;
    },

    /** A transaction item that fails (label `statement`) if the month was closed after we looked. */
    notClosedCheck(period: string): LabeledWrite {
      return conditionCheck('statement', tables.main, keys.statement(period), {
        ConditionExpression: 'attribute_not_exists(pk) OR #status <> :closed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: marshall({ ':closed': 'CLOSED' }),
      });
    },

    /**
     * Every item of one shard recorded at or after `from` whose business began before `to` (order lines), or which
     * was accepted before `to` (usage), page by page in `billAt` order. Memory stays at one page.
     */
    async *readShard(kind: BillKind, shard: number, from: string, to: string): AsyncGenerator<BillItem[]> {
      const pages = queryBill({
        KeyConditionExpression:
          kind === 'LINE' ? 'billShard = :shard AND billAt >= :from' : 'billShard = :shard AND billAt BETWEEN :from AND :to',
        ...(kind === 'LINE' ? { FilterExpression: 'billFrom < :to' } : {}),
        ExpressionAttributeValues: marshall({ ':shard': billShard(kind, shard), ':from': from, ':to': to }),
        // Pages of a few hundred items keep a worker's memory low and even (a 1 MB page is ~2,000 items).
        Limit: READ_PAGE_ITEMS,
      });
      for await (const page of pages) {
        // USAGE: BETWEEN is inclusive and billAt continues with ids after the instant: keep acceptance < to.
        const items = page.map((item) => toBillItem(unmarshall(item))).filter((i) => i.kind === 'LINE' || i.acceptedAt < to);
        if (items.length > 0) yield items;
      }
    },
  };
}
