/**
 * What settlement needs of storage and messaging. lib/store implements the stores on DynamoDB (statementStore.ts,
 * billingStore.ts, reconciliationStore.ts); files.ts keeps the statement files in S3 and queue.ts sends the run's
 * messages with SQS.
 */
import type { Notify } from '#lib/notifications/notifier.ts';
import type { InstanceStore } from '#lib/instances/ports.ts';
import type { Log } from '#lib/log.ts';
import type { PlannedWrite } from '#lib/shared/transaction.ts';
import type { ReconcileReport } from './billComparison.ts';
import type { StatementFiles } from './files.ts';
import type { SettlementMessage } from './messages.ts';
import type { BillKind, OrderLineFacts, Period, SettlementSettings } from './model.ts';
import type { SegmentMarker, SettlementRun, StatementHeader, StatementVersion } from './statementRecords.ts';

export type BeginRunResult =
  { ok: true } | { ok: false; reason: 'closed' } | { ok: false; reason: 'running'; activeRun: { runId: string; startedAt: string } };

export type SegmentDoneResult =
  /** This call finished the segment; `segmentsDone` counts it. */
  | { ok: true; segmentsDone: number; segments: number }
  /** The segment was already finished (a redelivered message). */
  | { ok: false; reason: 'already'; run: SettlementRun }
  /** The run is no longer RUNNING (finished, failed, or unknown). */
  | { ok: false; reason: 'notRunning'; run: SettlementRun | undefined };

/** Monthly statements and their runs. Every change is conditional: one run per month, versions written once, a closed month never changes. */
export interface StatementStore {
  getHeader(period: Period): Promise<StatementHeader | undefined>;
  /** Statement headers, newest month first; InvalidCursorError on a cursor we did not issue. */
  listHeaders(query?: { limit?: number; cursor?: string }): Promise<{ items: StatementHeader[]; nextCursor?: string }>;
  getVersion(period: Period, version: number): Promise<StatementVersion | undefined>;
  /** Every version of a month, newest first. */
  listVersions(period: Period): Promise<StatementVersion[]>;
  getRun(period: Period, runId: string): Promise<SettlementRun | undefined>;
  /**
   * Creates a run and makes it the month's run under way, all or nothing: refused when the month is CLOSED or
   * another run started after `staleBefore` is still under way.
   */
  beginRun(run: SettlementRun, staleBefore: string): Promise<BeginRunResult>;
  /** Marks a segment finished and counts it in its run, once (a redelivered segment changes nothing). */
  segmentDone(period: Period, runId: string, marker: SegmentMarker, at: string): Promise<SegmentDoneResult>;
  getSegment(period: Period, runId: string, segment: number): Promise<SegmentMarker | undefined>;
  /** Every finished segment of a run, by segment number. */
  listSegments(period: Period, runId: string): Promise<SegmentMarker[]>;
  /** The run's new version, the header moved to it and the run DONE, all or nothing; false when the month moved on. */
  finishVersion(version: StatementVersion, at: string): Promise<boolean>;
  /** The run found the latest version unchanged: the header records that its inputs are current as of this run. */
  finishUnchanged(period: Period, run: SettlementRun, version: number, at: string): Promise<boolean>;
  /** A run that cannot finish: FAILED, and no longer the month's run under way. */
  failRun(period: Period, runId: string, error: string, at: string): Promise<void>;
  /** DRAFT → CLOSED, only if the header is still what the caller checked; false otherwise. */
  close(period: Period, version: number, runStartedAt: string, at: string, staleBefore: string): Promise<boolean>;
  /** CLOSED → DRAFT by the close that just made it CLOSED (its `closedAt`), when that close found inputs changed. */
  reopen(period: Period, closedAt: string, at: string): Promise<boolean>;
}

export interface StoredFacts {
  facts: OrderLineFacts;
  version: number;
  recordedAt: string;
}

/** One item read from a shard of settlement's input. */
export type BillItem =
  | { kind: 'LINE'; facts: OrderLineFacts }
  | { kind: 'USAGE'; instanceId: string; beginTime: string; endTime: string; units: bigint; acceptedAt: string };

/**
 * Settlement's inputs: order lines' billing facts and accepted usage, spread over BILL_SHARDS shards. `W` is what a
 * planned write is to the adapter that plans it (the DynamoDB adapter's carry their transaction item).
 */
export interface BillingStore<W extends PlannedWrite = PlannedWrite> {
  /** An order line's billing facts (consistent read), or undefined. */
  getFacts(orderId: string, orderLineId: string): Promise<StoredFacts | undefined>;
  /**
   * The facts for a transaction: created (`previousVersion` undefined, must be new) or replaced (if nobody changed
   * them since `previousVersion`), recorded at `at` for a change whose business time is `changedAt`.
   */
  factsWrite(facts: OrderLineFacts, previousVersion: number | undefined, at: string, changedAt?: string): W;
  /** Whether a month's statement is closed (a change belonging to it becomes an adjustment of a later month). */
  isClosed(period: Period): Promise<boolean>;
  /** Whether one shard holds a change recorded since `since` that can touch a month ending at `periodEnd`. */
  changedSince(kind: BillKind, shard: number, since: string, periodEnd: string): Promise<boolean>;
  /** A transaction item that fails (label `statement`) if the month was closed after we looked. */
  notClosedCheck(period: Period): W;
  /**
   * Every item of one shard recorded at or after `from` whose business began before `to` (order lines), or which
   * was accepted before `to` (usage), page by page.
   */
  readShard(kind: BillKind, shard: number, from: string, to: string): AsyncGenerator<BillItem[]>;
}

/** The month's reconciliation: the latest bill upload and its last report. */
export interface ReconciliationRecord {
  period: string;
  uploadId: string;
  /** bills/<period>/<uploadId>.csv */
  billKey: string;
  requestedAt: string;
  reportKey?: string;
  reportVersion?: number;
  reportedAt?: string;
  totals?: ReconcileReport['totals'];
}

export interface ReconciliationStore {
  get(period: Period): Promise<ReconciliationRecord | undefined>;
  /** A new upload replaces the previous one (and its report); a report is added to its upload. */
  put(record: ReconciliationRecord): Promise<void>;
}

/** Where a run's messages go: the settlement queue (queue.ts sends them with SQS). */
export interface SettlementQueue {
  send(messages: readonly SettlementMessage[]): Promise<void>;
}

/** What the settlement flow works with (deps.ts builds them from the configuration). */
export interface SettlementDeps {
  statements: StatementStore;
  billing: Pick<BillingStore, 'readShard' | 'changedSince'>;
  instances: Pick<InstanceStore, 'getInstances'>;
  files: StatementFiles;
  queue: SettlementQueue;
  settings: SettlementSettings;
  now: () => number;
  log: Log;
  /** Tells the seller's people of a statement ready or with problems (lib/notifications); nobody when absent. */
  notify?: Notify | undefined;
  /** How long closing waits for the `bill` index before its second look (default INDEX_LAG_MS). */
  indexLagMs?: number;
}
