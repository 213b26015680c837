import { type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod/mini';
import '#lib/shared/zodMessages.ts';
import { batchGet, commitWrites, DUE_INDEX, put, queryItems, toItem, type LabeledWrite, updateIf } from './dynamo.ts';
import { usageBillAttributes } from './billingStore.ts';
import { keys, type Key } from './keys.ts';
import {
  additionResultOf,
  MAX_REFS_PER_ADDITION,
  WINDOW_STATES,
  type AdditionResult,
  type UsageCorrection,
  type UsageLedger,
  type UsageWindow,
  type WindowAddition,
} from '#lib/usage/ports.ts';

/**
 * The usage ledger (docs/data-model.md): one window item per (instance, window begin) summing what the seller
 * reported, in 0.0001 units (lib/usage/decimal.ts) held as a DynamoDB Number and added with `ADD`, so totals are
 * exact. A window is OPEN while reports may still join it; the hourly push seals it (PUSHING, with its metering_sn
 * and the total it sends), then records the marketplace's verdict (ACCEPTED or REJECTED). While OPEN or PUSHING a
 * window is listed in the `due` index under `dueKind = USAGE` by its end time. A REJECTED window the seller asks to
 * send again is OPEN and due once more, under the next revision (a new metering_sn when it is sealed).
 */

const USAGE_DUE_KIND = 'USAGE';
const bigintOf = (v: AttributeValue | undefined): bigint => (v?.N !== undefined ? BigInt(v.N) : 0n);

const WindowItemSchema = z.object({
  instanceId: z.string(),
  beginTime: z.string(),
  endTime: z.string(),
  usageState: z.enum(WINDOW_STATES),
  reports: z._default(z.number(), 0),
  revision: z._default(z.number(), 1),
  meteringSn: z.optional(z.string()),
  recordTime: z.optional(z.string()),
  attempts: z._default(z.number(), 0),
  nextAttemptAt: z.optional(z.string()),
  lastError: z.optional(z.string()),
  acceptedAt: z.optional(z.string()),
  duplicate: z.optional(z.boolean()),
  rejection: z.optional(z.object({ code: z.string(), message: z.string() })),
  previousRejection: z.optional(z.object({ code: z.string(), message: z.string() })),
  updatedAt: z.string(),
});

/** Quantities are read from the raw item: they must never pass through a JS float. */
function toWindow(item: Record<string, AttributeValue>): UsageWindow {
  const { units: _units, lateUnits: _late, pushedUnits: _pushed, ...others } = item;
  const { usageState, ...rest } = WindowItemSchema.parse(unmarshall(others));
  return {
    ...rest,
    state: usageState,
    units: bigintOf(item.units),
    lateUnits: bigintOf(item.lateUnits),
    ...(item.pushedUnits ? { pushedUnits: bigintOf(item.pushedUnits) } : {}),
  };
}

const CorrectionItemSchema = z.object({
  instanceId: z.string(),
  at: z.string(),
  reportedFor: z.object({ beginTime: z.string(), endTime: z.string() }),
  appliedTo: z.object({ beginTime: z.string(), endTime: z.string() }),
  reports: z.number(),
  clientRefs: z._default(z.array(z.string()), []),
});

function toCorrection(item: Record<string, AttributeValue>): UsageCorrection {
  const { units, ...others } = item;
  return { ...CorrectionItemSchema.parse(unmarshall(others)), units: bigintOf(units) };
}

export function usageStore(client: DynamoDb, table: string): UsageLedger {
  const windowKey = (w: { instanceId: string; beginTime: string }): Key => keys.usageWindow(w.instanceId, w.beginTime);

  const updateWindow = (w: { instanceId: string; beginTime: string }, update: Parameters<typeof updateIf>[3]) =>
    updateIf(client, table, windowKey(w), update);

  return {
    /** Which of these (instanceId, clientRef) pairs are already taken; keys of the answer are `${instanceId}\n${clientRef}`. */
    async takenRefs(pairs: { instanceId: string; clientRef: string }[]): Promise<Set<string>> {
      const taken = new Set<string>();
      for (let i = 0; i < pairs.length; i += 100) {
        const items = await batchGet(
          client,
          table,
          pairs.slice(i, i + 100).map((p) => keys.usageRef(p.instanceId, p.clientRef)),
        );
        for (const item of items) taken.add(`${item.instanceId?.S ?? ''}\n${item.clientRef?.S ?? ''}`);
      }
      return taken;
    },

    /**
     * Adds usage to an OPEN (or new) window, claims its clientRefs and updates the instance's running total, all
     * or nothing. Fails without writing if the window is no longer OPEN or a clientRef is already taken.
     */
    async add(addition: WindowAddition, at: string): Promise<AdditionResult> {
      if (addition.clientRefs.length > MAX_REFS_PER_ADDITION) throw new Error(`at most ${MAX_REFS_PER_ADDITION} clientRefs per addition`);
      const units = { N: addition.units.toString() };
      const late = addition.late !== undefined;
      const writes: LabeledWrite[] = [
        {
          label: 'usageWindow',
          write: {
            Update: {
              TableName: table,
              Key: marshall(windowKey(addition)),
              UpdateExpression:
                'SET #type = :type, instanceId = :instanceId, beginTime = :begin, endTime = :end, ' +
                'usageState = if_not_exists(usageState, :open), revision = if_not_exists(revision, :one), ' +
                'dueKind = :dueKind, dueAt = :end, createdAt = if_not_exists(createdAt, :at), updatedAt = :at ' +
                `ADD units :units, reports :reports${late ? ', lateUnits :units' : ''}`,
              ConditionExpression: 'attribute_not_exists(pk) OR usageState = :open',
              ExpressionAttributeNames: { '#type': 'type' },
              ExpressionAttributeValues: {
                ...marshall({
                  ':type': 'usageWindow',
                  ':instanceId': addition.instanceId,
                  ':begin': addition.beginTime,
                  ':end': addition.endTime,
                  ':open': 'OPEN',
                  ':one': 1,
                  ':dueKind': USAGE_DUE_KIND,
                  ':at': at,
                  ':reports': addition.reports,
                }),
                ':units': units,
              },
            },
          },
        },
        {
          label: 'usageTotal',
          write: {
            Update: {
              TableName: table,
              Key: marshall(keys.usageTotal(addition.instanceId)),
              UpdateExpression: 'SET #type = :type, instanceId = :instanceId, updatedAt = :at ADD units :units',
              ExpressionAttributeNames: { '#type': 'type' },
              ExpressionAttributeValues: {
                ...marshall({ ':type': 'usageTotal', ':instanceId': addition.instanceId, ':at': at }),
                ':units': units,
              },
            },
          },
        },
      ];
      if (addition.late) {
        const correction = {
          type: 'usageCorrection',
          instanceId: addition.instanceId,
          at,
          reportedFor: addition.late.reportedFor,
          appliedTo: { beginTime: addition.beginTime, endTime: addition.endTime },
          reports: addition.reports,
          clientRefs: addition.clientRefs,
        };
        const item = { ...toItem(keys.usageCorrection(addition.instanceId, at, addition.late.correctionId), correction), units };
        writes.push(put('usageCorrection', table, item, true));
      }
      for (const clientRef of addition.clientRefs) {
        const claim = { type: 'usageRef', instanceId: addition.instanceId, clientRef, windowBegin: addition.beginTime, at, late };
        writes.push(put('usageRef', table, toItem(keys.usageRef(addition.instanceId, clientRef), claim), true));
      }
      return additionResultOf(await commitWrites(client, writes));
    },

    /** Windows whose end is at or before `nowIso` and that are not pushed yet (OPEN or PUSHING), oldest first. */
    async dueWindows(nowIso: string, limit: number): Promise<{ instanceId: string; beginTime: string }[]> {
      const items = await queryItems(
        client,
        {
          TableName: table,
          IndexName: DUE_INDEX,
          KeyConditionExpression: 'dueKind = :kind AND dueAt <= :now',
          ExpressionAttributeValues: marshall({ ':kind': USAGE_DUE_KIND, ':now': nowIso }),
        },
        { limit },
      );
      return items.map((item) => ({ instanceId: item.instanceId?.S ?? '', beginTime: (item.sk?.S ?? '').replace(/^WINDOW#/, '') }));
    },

    async getWindows(list: { instanceId: string; beginTime: string }[]): Promise<UsageWindow[]> {
      const found: UsageWindow[] = [];
      for (let i = 0; i < list.length; i += 100) {
        found.push(...(await batchGet(client, table, list.slice(i, i + 100).map(windowKey))).map(toWindow));
      }
      return found;
    },

    /**
     * OPEN → PUSHING: fixes the record (metering_sn, record time, the total sent) in the same conditional write that
     * stops reports from joining the window. Undefined if the window was not OPEN any more.
     */
    async seal(w: UsageWindow, sealed: { meteringSn: string; recordTime: string; at: string }): Promise<UsageWindow | undefined> {
      const out = await updateWindow(w, {
        UpdateExpression: 'SET usageState = :pushing, meteringSn = :sn, recordTime = :recordTime, pushedUnits = units, updatedAt = :at',
        ConditionExpression: 'usageState = :open',
        ExpressionAttributeValues: marshall({
          ':pushing': 'PUSHING',
          ':open': 'OPEN',
          ':sn': sealed.meteringSn,
          ':recordTime': sealed.recordTime,
          ':at': sealed.at,
        }),
      });
      return out === undefined ? undefined : toWindow(out);
    },

    /** PUSHING → ACCEPTED for the record with this metering_sn; leaves the `due` index, enters the `bill` index. */
    async accept(w: UsageWindow, verdict: { duplicate: boolean; at: string }): Promise<boolean> {
      // Accepted usage is settlement's input: listed in the `bill` index by its acceptance (billingStore.ts).
      const bill = usageBillAttributes(w.instanceId, w.beginTime, verdict.at);
      const out = await updateWindow(w, {
        UpdateExpression:
          'SET usageState = :accepted, acceptedAt = :at, duplicate = :duplicate, updatedAt = :at, billShard = :billShard, billAt = :billAt REMOVE dueKind, dueAt, nextAttemptAt, lastError',
        ConditionExpression: 'usageState = :pushing AND meteringSn = :sn',
        ExpressionAttributeValues: marshall({
          ':accepted': 'ACCEPTED',
          ':pushing': 'PUSHING',
          ':sn': w.meteringSn ?? '',
          ':at': verdict.at,
          ':duplicate': verdict.duplicate,
          ':billShard': bill.billShard,
          ':billAt': bill.billAt,
        }),
      });
      return out !== undefined;
    },

    /** PUSHING → REJECTED with the marketplace's (or our pre-check's) reason; leaves the `due` index. */
    async reject(w: UsageWindow, rejection: { code: string; message: string }, at: string): Promise<boolean> {
      const out = await updateWindow(w, {
        UpdateExpression: 'SET usageState = :rejected, rejection = :rejection, updatedAt = :at REMOVE dueKind, dueAt, nextAttemptAt',
        ConditionExpression: 'usageState = :pushing AND meteringSn = :sn',
        ExpressionAttributeValues: marshall({
          ':rejected': 'REJECTED',
          ':pushing': 'PUSHING',
          ':sn': w.meteringSn ?? '',
          ':rejection': rejection,
          ':at': at,
        }),
      });
      return out !== undefined;
    },

    /** Stays PUSHING (same metering_sn); the next run after `nextAttemptAt` sends it again. */
    async retryLater(w: UsageWindow, retry: { nextAttemptAt: string; lastError: string; at: string }): Promise<boolean> {
      const out = await updateWindow(w, {
        UpdateExpression: 'SET nextAttemptAt = :next, lastError = :error, updatedAt = :at ADD attempts :one',
        ConditionExpression: 'usageState = :pushing AND meteringSn = :sn',
        ExpressionAttributeValues: marshall({
          ':pushing': 'PUSHING',
          ':sn': w.meteringSn ?? '',
          ':next': retry.nextAttemptAt,
          ':error': retry.lastError,
          ':at': retry.at,
          ':one': 1,
        }),
      });
      return out !== undefined;
    },

    /**
     * REJECTED → OPEN, due again by its end time, under the next revision; the refusal becomes `previousRejection`
     * and what the refused record carried (metering_sn, record time, total sent, attempts) is cleared for the next seal.
     */
    async resend(w: { instanceId: string; beginTime: string }, at: string): Promise<UsageWindow | undefined> {
      const out = await updateWindow(w, {
        UpdateExpression:
          'SET usageState = :open, previousRejection = rejection, dueKind = :dueKind, dueAt = endTime, attempts = :zero, updatedAt = :at ' +
          'ADD revision :one REMOVE rejection, meteringSn, recordTime, pushedUnits, nextAttemptAt, lastError',
        ConditionExpression: 'usageState = :rejected',
        ExpressionAttributeValues: marshall({
          ':open': 'OPEN',
          ':rejected': 'REJECTED',
          ':dueKind': USAGE_DUE_KIND,
          ':zero': 0,
          ':one': 1,
          ':at': at,
        }),
      });
      return out === undefined ? undefined : toWindow(out);
    },

    /** Running totals (0.0001 units) of up to 100 instances; instances without usage are absent. */
    async totals(instanceIds: readonly string[]): Promise<Map<string, { units: bigint; updatedAt: string }>> {
      const items = await batchGet(
        client,
        table,
        instanceIds.map((id) => keys.usageTotal(id)),
      );
      return new Map(items.map((item) => [item.instanceId?.S ?? '', { units: bigintOf(item.units), updatedAt: item.updatedAt?.S ?? '' }]));
    },

    /** An instance's windows with begin in [fromIso, toIso), oldest first, at most `limit`. */
    async windows(instanceId: string, fromIso: string, toIso: string, limit: number): Promise<UsageWindow[]> {
      const pk = keys.usagePartition(instanceId);
      const items = await queryItems(
        client,
        {
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: marshall({ ':pk': pk, ':from': `WINDOW#${fromIso}`, ':to': `WINDOW#${toIso}` }),
          ConsistentRead: true,
        },
        { limit },
      );
      return items.filter((item) => item.sk?.S !== `WINDOW#${toIso}`).map(toWindow);
    },

    /** An instance's late-usage corrections, oldest first. */
    async corrections(instanceId: string, limit: number): Promise<UsageCorrection[]> {
      const pk = keys.usagePartition(instanceId);
      const items = await queryItems(
        client,
        {
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :late)',
          ExpressionAttributeValues: marshall({ ':pk': pk, ':late': 'LATE#' }),
          ConsistentRead: true,
        },
        { limit },
      );
      return items.map(toCorrection);
    },
  };
}
