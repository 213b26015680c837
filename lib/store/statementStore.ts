import type { DynamoDb } from '#lib/aws/clients.ts';
import { marshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { Period } from '#lib/settlement/model.ts';
import type { BeginRunResult, SegmentDoneResult, StatementStore } from '#lib/settlement/ports.ts';
import type { RunStatus, SegmentMarker, SettlementRun, StatementHeader, StatementVersion } from '#lib/settlement/statementRecords.ts';
import { sleep } from '#lib/shared/time.ts';
import { decodeCursor, encodeCursor, keyString, startKey } from './cursor.ts';
import { getItem, commitWrites, LIST_INDEX, put, queryPrefix, toItem, type LabeledWrite, type StoreTables, updateIf } from './dynamo.ts';
import { keys, type Key } from './keys.ts';
import { toHeader, toMarker, toRun, toVersion } from './statementItems.ts';

/**
 * Monthly statements in the main table (docs/data-model.md), one partition per month `STATEMENT#<period>`:
 *  - the header (`#HEADER`): status DRAFT or CLOSED, the latest version and its figures, the run under way;
 *    listed in the `list` index under `listKind = STATEMENT`, `listAt = <period>` (newest month first);
 *  - one item per version (`VERSION#0001`…): where its files are, their SHA-256, totals and the diff's counts;
 *  - one item per settlement run (`RUN#<runId>`) and a marker per finished segment (`RUN#<runId>#SEGMENT#007`).
 * Every change is a conditional write or a transaction: at most one run per month is under way, a version is
 * written once, a closed month never changes.
 */

export const STATEMENT_LIST_KIND = 'STATEMENT';
export const STATEMENT_LIMIT = { min: 1, max: 100, default: 24 } as const;

const statementCursor = z.strictObject({
  list: z.literal('statements'),
  key: z.strictObject({ listKind: z.literal(STATEMENT_LIST_KIND), listAt: keyString(), pk: keyString(), sk: z.literal('#HEADER') }),
});

export function statementStore(client: DynamoDb, tables: Pick<StoreTables, 'main'>): StatementStore {
  const table = tables.main;

  const itemAt = (key: Key) => getItem(client, table, key);

  /** A conditional UpdateItem; false when the condition did not hold. */
  const updateIfHeld = async (key: Key, update: Parameters<typeof updateIf>[3]): Promise<boolean> =>
    (await updateIf(client, table, key, update)) !== undefined;

  const getRun = async (period: Period, runId: string): Promise<SettlementRun | undefined> => {
    const item = await itemAt(keys.settlementRun(period, runId));
    return item ? toRun(item) : undefined;
  };

  const getHeader = async (period: Period): Promise<StatementHeader | undefined> => {
    const item = await itemAt(keys.statement(period));
    return item ? toHeader(item) : undefined;
  };

  const getSegment = async (period: Period, runId: string, segment: number): Promise<SegmentMarker | undefined> => {
    const item = await itemAt(keys.settlementSegment(period, runId, segment));
    return item ? toMarker(item) : undefined;
  };

  const lastRunValues = (runId: string, status: RunStatus, at: string) => ({ ':lastRunId': runId, ':lastRunStatus': status, ':at': at });
  const SET_LAST_RUN = 'lastRunId = :lastRunId, lastRunStatus = :lastRunStatus, lastRunFinishedAt = :at, updatedAt = :at';

  return {
    getHeader,

    /** Statement headers, newest month first (index `list`); InvalidCursorError on a cursor we did not issue. */
    async listHeaders(query: { limit?: number; cursor?: string } = {}): Promise<{ items: StatementHeader[]; nextCursor?: string }> {
      const limit = query.limit ?? STATEMENT_LIMIT.default;
      if (!Number.isInteger(limit) || limit < STATEMENT_LIMIT.min || limit > STATEMENT_LIMIT.max) {
        throw new RangeError(`limit must be an integer from ${STATEMENT_LIMIT.min} to ${STATEMENT_LIMIT.max}`);
      }
      const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, statementCursor);
      const out = await client.send('Query', {
        TableName: table,
        IndexName: LIST_INDEX,
        KeyConditionExpression: 'listKind = :kind',
        ExpressionAttributeValues: marshall({ ':kind': STATEMENT_LIST_KIND }),
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: startKey(cursor.key) } : {}),
      });
      const items = (out.Items ?? []).map(toHeader);
      return out.LastEvaluatedKey ? { items, nextCursor: encodeCursor(out.LastEvaluatedKey, { list: 'statements' }) } : { items };
    },

    async getVersion(period: Period, version: number): Promise<StatementVersion | undefined> {
      const item = await itemAt(keys.statementVersion(period, version));
      return item ? toVersion(item) : undefined;
    },

    /** Every version of a month, newest first. */
    async listVersions(period: Period): Promise<StatementVersion[]> {
      const items = await queryPrefix(client, table, keys.statementPartition(period), 'VERSION#', { newestFirst: true });
      return items.map(toVersion);
    },

    getRun,

    /**
     * Creates a run and makes it the month's run under way, all or nothing: refused when the month is CLOSED or
     * another run started after `staleBefore` is still under way. Creates the header (DRAFT, no version) if needed.
     */
    async beginRun(run: SettlementRun, staleBefore: string): Promise<BeginRunResult> {
      const writes: LabeledWrite[] = [
        {
          label: 'statement',
          write: {
            Update: {
              TableName: table,
              Key: marshall(keys.statement(run.period)),
              UpdateExpression:
                'SET #type = :type, period = :period, #status = if_not_exists(#status, :draft), ' +
                'latestVersion = if_not_exists(latestVersion, :zero), lineCount = if_not_exists(lineCount, :zero), ' +
                'problems = if_not_exists(problems, :zero), totals = if_not_exists(totals, :empty), ' +
                'createdAt = if_not_exists(createdAt, :at), updatedAt = :at, listKind = :listKind, listAt = :period, ' +
                'activeRunId = :runId, activeRunStartedAt = :at',
              ConditionExpression:
                '(attribute_not_exists(pk) OR #status <> :closed) AND (attribute_not_exists(activeRunId) OR activeRunStartedAt < :staleBefore)',
              ExpressionAttributeNames: { '#type': 'type', '#status': 'status' },
              ExpressionAttributeValues: marshall({
                ':type': 'statement',
                ':period': run.period,
                ':draft': 'DRAFT',
                ':closed': 'CLOSED',
                ':zero': 0,
                ':empty': {},
                ':at': run.startedAt,
                ':listKind': STATEMENT_LIST_KIND,
                ':runId': run.runId,
                ':staleBefore': staleBefore,
              }),
            },
          },
        },
        put('statement', table, toItem(keys.settlementRun(run.period, run.runId), { type: 'settlementRun', ...run }), true),
      ];
      for (let attempt = 0; attempt < 3; attempt++) {
        const result = await commitWrites(client, writes);
        if (result.ok) return { ok: true };
        const header = await getHeader(run.period);
        if (header?.status === 'CLOSED') return { ok: false, reason: 'closed' };
        if (header?.activeRun && header.activeRun.startedAt >= staleBefore)
          return { ok: false, reason: 'running', activeRun: header.activeRun };
        // A transaction conflict (a recorder checking the header at the same moment): try again.
      }
      throw new Error(`could not start a settlement run for ${run.period}: the statement header kept changing`);
    },

    /**
     * Marks a segment finished and counts it, in one transaction: the marker is written only once (a redelivered
     * segment changes nothing), and the count moves from the value read, so the caller whose write brings it to the
     * total knows it.
     */
    async segmentDone(period: Period, runId: string, marker: SegmentMarker, at: string): Promise<SegmentDoneResult> {
      for (let attempt = 0; ; attempt++) {
        const run = await getRun(period, runId);
        if (!run || run.status !== 'RUNNING') return { ok: false, reason: 'notRunning', run };
        if (await getSegment(period, runId, marker.segment)) return { ok: false, reason: 'already', run };
        const next = run.segmentsDone + 1;
        const result = await commitWrites(client, [
          put(
            'statement',
            table,
            toItem(keys.settlementSegment(period, runId, marker.segment), { type: 'settlementSegment', runId, ...marker, at }),
            true,
          ),
          {
            label: 'statement',
            write: {
              Update: {
                TableName: table,
                Key: marshall(keys.settlementRun(period, runId)),
                UpdateExpression: 'SET segmentsDone = :next, updatedAt = :at',
                ConditionExpression: 'segmentsDone = :seen AND #status = :running',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: marshall({ ':next': next, ':seen': run.segmentsDone, ':running': 'RUNNING', ':at': at }),
              },
            },
          },
        ]);
        if (result.ok) return { ok: true, segmentsDone: next, segments: run.segments };
        if (attempt >= 50) throw new Error(`segment ${marker.segment} of run ${runId}: the run's count kept changing`);
        // Another segment finished at the same moment: read the count again.
        await sleep(5 + Math.random() * 20);
      }
    },

    getSegment,

    /** Every finished segment of a run, by segment number. */
    async listSegments(period: Period, runId: string): Promise<SegmentMarker[]> {
      const items = await queryPrefix(client, table, keys.statementPartition(period), `RUN#${runId}#SEGMENT#`);
      return items.map(toMarker).sort((a, b) => a.segment - b.segment);
    },

    /**
     * The run's new version, all or nothing: the version item (written once), the header moved to it (only if it
     * is still at the previous version, still DRAFT and this run is the one under way), the run DONE.
     */
    async finishVersion(version: StatementVersion, at: string): Promise<boolean> {
      const result = await commitWrites(client, [
        put(
          'statement',
          table,
          toItem(keys.statementVersion(version.period, version.version), { type: 'statementVersion', ...version }),
          true,
        ),
        {
          label: 'statement',
          write: {
            Update: {
              TableName: table,
              Key: marshall(keys.statement(version.period)),
              UpdateExpression:
                'SET latestVersion = :version, sha256 = :sha256, lineCount = :lineCount, totals = :totals, problems = :problems, ' +
                `runStartedAt = :runStartedAt, ${SET_LAST_RUN} REMOVE activeRunId, activeRunStartedAt`,
              ConditionExpression: 'latestVersion = :previous AND activeRunId = :lastRunId AND #status = :draft',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: marshall({
                ':version': version.version,
                ':previous': version.version - 1,
                ':sha256': version.sha256Csv,
                ':lineCount': version.lineCount,
                ':totals': version.totals,
                ':problems': version.problems,
                ':runStartedAt': version.runStartedAt,
                ':draft': 'DRAFT',
                ...lastRunValues(version.runId, 'DONE', at),
              }),
            },
          },
        },
        {
          label: 'statement',
          write: {
            Update: {
              TableName: table,
              Key: marshall(keys.settlementRun(version.period, version.runId)),
              UpdateExpression: 'SET #status = :done, finishedAt = :at, version = :version, updatedAt = :at',
              ConditionExpression: '#status = :running',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: marshall({ ':done': 'DONE', ':running': 'RUNNING', ':at': at, ':version': version.version }),
            },
          },
        },
      ]);
      return result.ok;
    },

    /** The run found the latest version unchanged: the header records that its inputs are current as of this run. */
    async finishUnchanged(period: Period, run: SettlementRun, version: number, at: string): Promise<boolean> {
      const result = await commitWrites(client, [
        {
          label: 'statement',
          write: {
            Update: {
              TableName: table,
              Key: marshall(keys.statement(period)),
              UpdateExpression: `SET runStartedAt = :runStartedAt, ${SET_LAST_RUN} REMOVE activeRunId, activeRunStartedAt`,
              ConditionExpression: 'latestVersion = :version AND activeRunId = :lastRunId AND #status = :draft',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: marshall({
                ':runStartedAt': run.startedAt,
                ':version': version,
                ':draft': 'DRAFT',
                ...lastRunValues(run.runId, 'UNCHANGED', at),
              }),
            },
          },
        },
        {
          label: 'statement',
          write: {
            Update: {
              TableName: table,
              Key: marshall(keys.settlementRun(period, run.runId)),
              UpdateExpression: 'SET #status = :unchanged, finishedAt = :at, version = :version, updatedAt = :at',
              ConditionExpression: '#status = :running',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: marshall({ ':unchanged': 'UNCHANGED', ':running': 'RUNNING', ':at': at, ':version': version }),
            },
          },
        },
      ]);
      return result.ok;
    },

    /** A run that cannot finish: FAILED, and no longer the month's run under way (each step only if still true). */
    async failRun(period: Period, runId: string, error: string, at: string): Promise<void> {
      await updateIfHeld(keys.settlementRun(period, runId), {
        UpdateExpression: 'SET #status = :failed, finishedAt = :at, #error = :error, updatedAt = :at',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
        ExpressionAttributeValues: marshall({ ':failed': 'FAILED', ':running': 'RUNNING', ':at': at, ':error': error.slice(0, 1000) }),
      });
      await updateIfHeld(keys.statement(period), {
        UpdateExpression: `SET ${SET_LAST_RUN} REMOVE activeRunId, activeRunStartedAt`,
        ConditionExpression: 'activeRunId = :lastRunId',
        ExpressionAttributeValues: marshall(lastRunValues(runId, 'FAILED', at)),
      });
    },

    /**
     * DRAFT → CLOSED, only if the header is still what the caller checked: this version, inputs current as of
     * `runStartedAt`, no run under way (one started before `staleBefore` is abandoned and cleared).
     */
    async close(period: Period, version: number, runStartedAt: string, at: string, staleBefore: string): Promise<boolean> {
      return updateIfHeld(keys.statement(period), {
        UpdateExpression: 'SET #status = :closed, closedAt = :at, updatedAt = :at REMOVE activeRunId, activeRunStartedAt',
        ConditionExpression:
          '#status = :draft AND latestVersion = :version AND runStartedAt = :runStartedAt AND ' +
          '(attribute_not_exists(activeRunId) OR activeRunStartedAt < :staleBefore)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: marshall({
          ':closed': 'CLOSED',
          ':draft': 'DRAFT',
          ':version': version,
          ':runStartedAt': runStartedAt,
          ':at': at,
          ':staleBefore': staleBefore,
        }),
      });
    },

    /** CLOSED → DRAFT by the close that just made it CLOSED (its `closedAt`), when that close found inputs changed. */
    async reopen(period: Period, closedAt: string, at: string): Promise<boolean> {
      return updateIfHeld(keys.statement(period), {
        UpdateExpression: 'SET #status = :draft, updatedAt = :at REMOVE closedAt',
        ConditionExpression: '#status = :closed AND closedAt = :closedAt',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: marshall({ ':draft': 'DRAFT', ':closed': 'CLOSED', ':closedAt': closedAt, ':at': at }),
      });
    },
  };
}
