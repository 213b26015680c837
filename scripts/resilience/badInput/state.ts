/** Snapshots of the tables and what changed between two: what a refusal may write, and the message log's records. */
import { isDeepStrictEqual } from 'node:util';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { keyId } from '#lib/koogallery/signature.ts';
import { keys } from '#lib/store/keys.ts';
import { type Item, queryPartition } from '../tables.ts';

export type { Item };
export type Snapshot = Map<string, Item>;

const itemKey = (item: Item) => `${String(item.pk)}\n${String(item.sk)}`;

/** Every item of a table, by pk and sk (consistent reads, in parallel segments). */
export async function scanTable(client: DynamoDb, table: string, segments = 4): Promise<Snapshot> {
  const out: Snapshot = new Map();
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send('Scan', {
          TableName: table,
          Segment: segment,
          TotalSegments: segments,
          ConsistentRead: true,
          ExclusiveStartKey: start,
        });
        for (const raw of page.Items ?? []) {
          const item = unmarshall(raw);
          out.set(itemKey(item), item);
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }),
  );
  return out;
}

export interface StateChange {
  kind: 'created' | 'changed' | 'deleted';
  pk: string;
  sk: string;
  item: Item;
}

/** A seller API key's lastUsedAt records that the key was used, which authenticating a refused request does. */
function comparable(item: Item): Item {
  if (String(item.pk).startsWith('APIKEY#')) {
    const { lastUsedAt: _l, ...rest } = item;
    return rest;
  }
  return item;
}

/** The NONCE# partition key a claimed nonce has (lib/store/keys.ts). */
export function noncePk(accessKey: string, nonce: string): string {
  return keys.nonce(keyId(accessKey), nonce).pk;
}

/**
 * The main table's changes between two snapshots, except what a refusal may write:
 *   - a nonce claim (NONCE#…) for a validly signed call whose parameters were refused (`allowedNonces`: partition
 *     keys); nonces that existed before are left out too (they only expire);
 *   - a seller API key's lastUsedAt (authenticating the request that was then refused is a use of the key).
 * `relevant` narrows the comparison to the items a run could have touched (on a table others write to as well).
 */
export function mainTableChanges(
  before: Snapshot,
  after: Snapshot,
  allowedNonces: ReadonlySet<string>,
  relevant: (item: Item) => boolean = () => true,
): { changes: StateChange[]; nonceClaims: number } {
  const changes: StateChange[] = [];
  let nonceClaims = 0;
  for (const [key, item] of after) {
    const pk = String(item.pk);
    const old = before.get(key);
    if (pk.startsWith('NONCE#')) {
      if (old) continue;
      if (allowedNonces.has(pk)) nonceClaims++;
      else if (relevant(item)) changes.push({ kind: 'created', pk, sk: String(item.sk), item });
      continue;
    }
    if (!relevant(item) && !(old && relevant(old))) continue;
    if (!old) changes.push({ kind: 'created', pk, sk: String(item.sk), item });
    else if (!isDeepStrictEqual(comparable(old), comparable(item))) changes.push({ kind: 'changed', pk, sk: String(item.sk), item });
  }
  for (const [key, item] of before) {
    if (after.has(key) || String(item.pk).startsWith('NONCE#') || !relevant(item)) continue;
    changes.push({ kind: 'deleted', pk: String(item.pk), sk: String(item.sk), item });
  }
  return { changes, nonceClaims };
}

/**
 * The message-log records of the run against the answers given (law 6): exactly one per production-interface call,
 * with the result code it was answered; nothing else. `records` are the audit items the run's calls could have made.
 */
export function auditProblems(records: Item[], answered: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const r of records) {
    const id = String(r.correlationId);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    const code = answered.get(id);
    if (code === undefined) problems.push(`message-log record ${String(r.pk)} ${String(r.sk)} is for no call of this run`);
    else if (r.resultCode !== code)
      problems.push(`message-log record of ${id} says ${String(r.resultCode)}, the call was answered ${code}`);
  }
  for (const [id, n] of seen) if (n > 1) problems.push(`${n} message-log records for ${id}`);
  let missing = 0;
  for (const id of answered.keys()) if (!seen.has(id) && missing++ < 5) problems.push(`no message-log record for ${id}`);
  if (missing > 5) problems.push(`… ${missing} calls without a message-log record in all`);
  return problems;
}

/** The message-log records whose correlation id starts with `prefix`, in the day partitions from `fromMs` to `toMs`. */
export async function auditRecordsOf(client: DynamoDb, table: string, prefix: string, fromMs: number, toMs: number): Promise<Item[]> {
  const days = new Set<string>();
  for (let t = fromMs - 86_400_000; t <= toMs + 86_400_000; t += 3_600_000) days.add(new Date(t).toISOString().slice(0, 10));
  const filter = { expression: 'begins_with(correlationId, :prefix)', values: { ':prefix': prefix } };
  const out: Item[] = [];
  for (const day of days) out.push(...(await queryPartition(client, table, `MSG#${day}`, filter)));
  return out;
}
