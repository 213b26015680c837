import type { DynamoDb } from '#lib/aws/clients.ts';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type {
  ProofRecord,
  SupervisionHistoryEntry,
  SupervisionRecord,
  SupervisionState,
  SupervisionView,
  SupervisionWaiting,
} from '#lib/supervision/model.ts';
import type { SupervisionPage, SupervisionStore } from '#lib/supervision/ports.ts';
import type { PlannedWrite } from '#lib/shared/transaction.ts';
import {
  conditionCheck,
  DUE_INDEX,
  LIST_INDEX,
  queryItems,
  getItem,
  commitWrites,
  put,
  putIfVersion,
  queryPartition,
  toItem,
  type LabeledWrite,
  type StoreTables,
  updateIf,
} from './dynamo.ts';
import { decodeCursor, encodeCursor, keyString, startKey } from './cursor.ts';
import { keys } from './keys.ts';

/**
 * Service supervision in the main table (docs/data-model.md): one partition per supervised order line holding
 * the record (`#SUPERVISION`), its history (`HISTORY#<version>`, append-only) and its delivery proofs
 * (`PROOF#<proofId>`). The record is written with a version condition; a proof moves once from
 * AWAITING_UPLOAD to VERIFIED or REJECTED, so a repeated S3 event changes nothing. Every record is listed in the
 * `list` index by its state, most recently changed first (`listKind = SUPERVISION#<state>`).
 */

const strip = (row: Record<string, unknown>): Record<string, unknown> => {
  const {
    pk: _pk,
    sk: _sk,
    type: _type,
    expiresAt: _expiresAt,
    dueKind: _dueKind,
    dueAt: _dueAt,
    listKind: _listKind,
    listAt: _listAt,
    ...rest
  } = row;
  return rest;
};

/** The `due` index's kind of flows waiting for `what`. */
const waitingKind = (what: SupervisionWaiting['for']) => `SUPERVISION#${what.toUpperCase()}`;

/**
 * A flow that waits (for the seller's proofs or the buyer's decision) with no appeal open is listed in the `due`
 * index by the start of its wait, with its ids: `dueAt = <since>#<orderId>#<orderLineId>` (URI-encoded ids).
 */
function waitingAttributes(record: SupervisionRecord): { dueKind?: string; dueAt?: string } {
  if (!record.waiting || record.appeal) return {};
  return {
    dueKind: waitingKind(record.waiting.for),
    dueAt: `${record.waiting.since}#${encodeURIComponent(record.orderId)}#${encodeURIComponent(record.orderLineId)}`,
  };
}

/** The `list` index's kind of flows in `state`. */
const listKindOf = (state: SupervisionState) => `SUPERVISION#${state}`;

/**
 * Every flow is listed in the `list` index under its state, by its last change, with its ids:
 * `listAt = <updatedAt>#<orderId>#<orderLineId>` (URI-encoded ids). A transition moves it to its new state's list.
 */
function listAttributes(record: SupervisionRecord): { listKind: string; listAt: string } {
  return {
    listKind: listKindOf(record.state),
    listAt: `${record.updatedAt}#${encodeURIComponent(record.orderId)}#${encodeURIComponent(record.orderLineId)}`,
  };
}

/** A listing cursor: the last key of the page, valid only for the state it was issued for. */
const cursorShape = (state: SupervisionState) =>
  z.strictObject({
    list: z.literal('supervision'),
    key: z.strictObject({ listKind: z.literal(listKindOf(state)), listAt: keyString(), pk: keyString(), sk: z.literal('#SUPERVISION') }),
  });

export function supervisionStore(client: DynamoDb, tables: Pick<StoreTables, 'main'>): SupervisionStore {
  const recordItem = (record: SupervisionRecord) =>
    toItem(keys.supervision(record.orderId, record.orderLineId), {
      type: 'supervision',
      ...record,
      ...waitingAttributes(record),
      ...listAttributes(record),
    });
  const historyWrite = (record: SupervisionRecord, entry: SupervisionHistoryEntry): LabeledWrite =>
    put(
      'supervisionHistory',
      tables.main,
      toItem(keys.supervisionHistory(record.orderId, record.orderLineId, entry.version), { type: 'supervisionHistory', ...entry }),
      true,
    );

  return {
    /** A new flow and its first history entry, for the transaction that provisions the order line. */
    createWrites(record: SupervisionRecord, entry: SupervisionHistoryEntry): LabeledWrite[] {
      return [put('supervision', tables.main, recordItem(record), true), historyWrite(record, entry)];
    },

    /** A transition: the record (if nobody changed it since `previousVersion`) and its history entry. */
    transitionWrites(previousVersion: number, next: SupervisionRecord, entry: SupervisionHistoryEntry): LabeledWrite[] {
      return [putIfVersion('supervision', tables.main, recordItem(next), previousVersion), historyWrite(next, entry)];
    },

    async get(orderId: string, orderLineId: string): Promise<SupervisionRecord | undefined> {
      const item = await getItem(client, tables.main, keys.supervision(orderId, orderLineId));
      return item ? (strip(unmarshall(item)) as unknown as SupervisionRecord) : undefined;
    },

    /** The record with its whole history and every proof (one partition, consistent). */
    async view(orderId: string, orderLineId: string): Promise<SupervisionView | undefined> {
      let record: SupervisionRecord | undefined;
      const history: SupervisionHistoryEntry[] = [];
      const proofs: ProofRecord[] = [];
      for (const item of await queryPartition(client, tables.main, keys.supervisionPartition(orderId, orderLineId))) {
        const row = unmarshall(item);
        const sk = String(row.sk);
        if (sk === '#SUPERVISION') record = strip(row) as unknown as SupervisionRecord;
        else if (sk.startsWith('HISTORY#')) history.push(strip(row) as unknown as SupervisionHistoryEntry);
        else if (sk.startsWith('PROOF#')) proofs.push(strip(row) as unknown as ProofRecord);
      }
      return record ? { record, history, proofs } : undefined;
    },

    async getProof(orderId: string, orderLineId: string, proofId: string): Promise<ProofRecord | undefined> {
      const item = await getItem(client, tables.main, keys.proof(orderId, orderLineId, proofId));
      return item ? (strip(unmarshall(item)) as unknown as ProofRecord) : undefined;
    },

    /** A requested upload; refused (false) if the supervision record does not exist. */
    async addProof(proof: ProofRecord): Promise<boolean> {
      const result = await commitWrites(client, [
        conditionCheck('supervision', tables.main, keys.supervision(proof.orderId, proof.orderLineId), {
          ConditionExpression: 'attribute_exists(pk)',
        }),
        put('proof', tables.main, toItem(keys.proof(proof.orderId, proof.orderLineId, proof.proofId), { type: 'proof', ...proof }), true),
      ]);
      return result.ok;
    },

    /**
     * AWAITING_UPLOAD → VERIFIED or REJECTED, once: a second event for the same object finds the proof settled
     * and gets false.
     */
    async settleProof(
      proof: ProofRecord,
      outcome: Pick<ProofRecord, 'state' | 'receivedAt' | 'verifiedAt' | 'rejection' | 'quarantineKey'>,
    ): Promise<ProofRecord | undefined> {
      const fields = Object.entries(outcome).filter(([, v]) => v !== undefined);
      const updated = await updateIf(client, tables.main, keys.proof(proof.orderId, proof.orderLineId, proof.proofId), {
        UpdateExpression: `SET ${fields.map(([k]) => `#${k} = :${k}`).join(', ')}`,
        ConditionExpression: '#state = :awaiting',
        ExpressionAttributeNames: Object.fromEntries(fields.map(([k]) => [`#${k}`, k])),
        ExpressionAttributeValues: marshall(
          { ...Object.fromEntries(fields.map(([k, v]) => [`:${k}`, v])), ':awaiting': 'AWAITING_UPLOAD' },
          { removeUndefinedValues: true },
        ),
      });
      return updated ? (strip(unmarshall(updated)) as unknown as ProofRecord) : undefined;
    },

    async waitingSince(what, range, limit) {
      const items = await queryItems(
        client,
        {
          TableName: tables.main,
          IndexName: DUE_INDEX,
          KeyConditionExpression: 'dueKind = :kind AND dueAt BETWEEN :from AND :to',
          ExpressionAttributeValues: marshall({ ':kind': waitingKind(what), ':from': range.from, ':to': `${range.to}#\uffff` }),
        },
        { limit },
      );
      return items.map((item) => {
        const row = unmarshall(item);
        const [since = '', orderId = '', orderLineId = ''] = String(row.dueAt).split('#');
        return {
          orderId: decodeURIComponent(orderId),
          orderLineId: decodeURIComponent(orderLineId),
          instanceId: String(row.instanceId),
          since,
        };
      });
    },

    /** Flows in `state`, most recently changed first (the `list` index; eventually consistent). */
    async list(state: SupervisionState, page: { limit: number; cursor?: string | undefined }): Promise<SupervisionPage> {
      const exclusiveStart =
        page.cursor === undefined ? {} : { ExclusiveStartKey: startKey(decodeCursor(page.cursor, cursorShape(state)).key) };
      const out = await client.send('Query', {
        TableName: tables.main,
        IndexName: LIST_INDEX,
        KeyConditionExpression: 'listKind = :kind',
        ExpressionAttributeValues: marshall({ ':kind': listKindOf(state) }),
        ScanIndexForward: false,
        Limit: page.limit,
        ...exclusiveStart,
      });
      const items = (out.Items ?? []).map((item) => strip(unmarshall(item)) as unknown as SupervisionRecord);
      return out.LastEvaluatedKey ? { items, nextCursor: encodeCursor(out.LastEvaluatedKey, { list: 'supervision' }) } : { items };
    },

    commit: (writes: readonly PlannedWrite[]) => commitWrites(client, writes),
  };
}
