import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendBatch, sqsBatches } from '../aws/sqsBatch.ts';
import { parseJsonMessage, type Parsed } from '../shared/json.ts';
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import type { Log } from '../log.ts';
import { BILL_SHARDS, type BillingStore, type BillKind } from '../store/billingStore.ts';
import type { InstanceStore } from '../instances/ports.ts';
import type { SettlementRun, StatementHeader, StatementStore, StatementVersion, RunTrigger } from '../store/statementStore.ts';
import { formatQuantity } from '../usage/decimal.ts';
import { iso } from '../shared/time.ts';
import { statementJsonLine } from './csv.ts';
import { statementDiff, type StatementDiff } from './diff.ts';
import { hashSink, type StatementFiles, type TextSink } from './files.ts';
import type { Period, SettlementProblem, SettlementSettings, StatementLine, UsageFacts } from './model.ts';
import { isPeriod, periodBounds } from './period.ts';
import { mergeSorted, parseLineRecord, parseProblemRecord, problemJsonLine, problemKey, renderStatement, type Rendered, type RenderTargets } from './render.ts';
import { orderLineEntries, usageEntries, type Entries } from './rules.ts';

/**
 * The monthly settlement run (docs/settlement.md). A run of a month is split into segments, one per shard of the
 * `bill` index and kind of input (16 of order lines, 16 of accepted usage), each a message on the settlement
 * queue. A segment applies the rules to its shard and writes its lines, sorted by lineId, to S3; the segment that
 * finishes last queues the assembly, which merges the parts into the statement files of a new version, or finds
 * the latest version unchanged. One run per month at a time; a CLOSED month is never run again.
 *
 *   settlement-runs/{period}/{runId}/…        the segments' parts (deleted once the run is assembled)
 *   statements/{period}/v{n}/statement.csv    the statement (CSV, RFC 4180)
 *   statements/{period}/v{n}/statement.json   the same as one JSON document, with problems and totals
 *   statements/{period}/v{n}/lines.jsonl      its lines as JSON Lines (diffs, reconciliation)
 *   statements/{period}/v{n}/diff.jsonl       what changed since v{n-1}
 */

/**
 * The settlement worker's V8 heap limit (serverless.yml sets `NODE_OPTIONS=--max-old-space-size=<this>`): a segment
 * holds one shard's sorted lines and a page of input, the assembly one batch per part, so its live set is small, and
 * a bounded heap keeps memory flat as months grow instead of letting garbage pile up (docs/performance.md).
 */
export const WORKER_HEAP_MB = 192;

/** Segments of a run: every shard of both kinds of input. */
export const SEGMENTS = 2 * BILL_SHARDS;
/** A run under way for longer than this is abandoned: a new run may replace it. */
export const RUN_STALE_MS = 6 * 3_600_000;
/** A message is received at most this many times before it goes to the dead-letter queue (resources/sqs.yml). */
export const SETTLEMENT_MAX_RECEIVES = 5;
/** Instances per BatchGetItem. */
const INSTANCE_BATCH = 100;

export interface SettlementQueue {
  send(messages: readonly SettlementMessage[]): Promise<void>;
}

export interface SettlementDeps {
  statements: StatementStore;
  billing: Pick<BillingStore, 'readShard' | 'changedSince'>;
  instances: Pick<InstanceStore, 'getInstances'>;
  files: StatementFiles;
  queue: SettlementQueue;
  settings: SettlementSettings;
  now: () => number;
  log: Log;
  /** How long closing waits for the `bill` index before its second look (default INDEX_LAG_MS). */
  indexLagMs?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Refusals the seller API answers with 422 (unprocessable) or 409 (conflict).

export type SettlementErrorCode = 'unprocessable' | 'conflict';

export class SettlementError extends Error {
  override name = 'SettlementError';
  constructor(
    readonly code: SettlementErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** 422: not a month `YYYY-MM`. */
export class InvalidPeriodError extends SettlementError {
  override name = 'InvalidPeriodError';
  constructor(period: unknown) {
    super('unprocessable', `not a period (YYYY-MM): "${String(period).slice(0, 40)}"`);
  }
}

/** 422: the month has not started in the statement time zone. */
export class PeriodNotStartedError extends SettlementError {
  override name = 'PeriodNotStartedError';
  constructor(period: Period) {
    super('unprocessable', `${period} has not started yet`);
  }
}

/** 409: the month's statement is closed: it is never rewritten (late changes go to the next open month). */
export class PeriodClosedError extends SettlementError {
  override name = 'PeriodClosedError';
  constructor(period: Period) {
    super('conflict', `the statement of ${period} is closed`);
  }
}

/** 409: a run of the month is under way. */
export class RunInProgressError extends SettlementError {
  override name = 'RunInProgressError';
  constructor(
    period: Period,
    readonly runId: string,
    readonly startedAt: string,
  ) {
    super('conflict', `a settlement run of ${period} is under way (${runId}, started ${startedAt})`);
  }
}

/** 409: closing needs a statement (a finished run). */
export class NothingToCloseError extends SettlementError {
  override name = 'NothingToCloseError';
  constructor(period: Period) {
    super('conflict', `${period} has no statement yet: run it first`);
  }
}

/** 409: a month can be closed only once it has ended. */
export class PeriodNotEndedError extends SettlementError {
  override name = 'PeriodNotEndedError';
  constructor(period: Period, end: string) {
    super('conflict', `${period} has not ended yet (it ends at ${end})`);
  }
}

/** 409: settlement's inputs changed since the latest version's run started (or while closing). */
export class InputsChangedError extends SettlementError {
  override name = 'InputsChangedError';
  constructor(
    readonly version: number,
    detail = `inputs changed since v${version}: run again`,
  ) {
    super('conflict', detail);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

const RUN_ID = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/;
const periodField = z.string().refine(isPeriod, 'a period YYYY-MM');
const runIdField = z.string().regex(RUN_ID, 'a run id');

const segmentMessage = z.strictObject({
  type: z.literal('segment'),
  period: periodField,
  runId: runIdField,
  kind: z.enum(['LINE', 'USAGE']),
  shard: z.int().min(0).max(BILL_SHARDS - 1),
});
const assembleMessage = z.strictObject({ type: z.literal('assemble'), period: periodField, runId: runIdField });
const settlementMessage = z.discriminatedUnion('type', [segmentMessage, assembleMessage]);

export type SegmentMessage = z.infer<typeof segmentMessage>;
export type AssembleMessage = z.infer<typeof assembleMessage>;
export type SettlementMessage = z.infer<typeof settlementMessage>;

/** A settlement queue message body, checked; the issue says what is wrong with anything else. */
export const parseSettlementMessage = (body: string): Parsed<SettlementMessage> => parseJsonMessage(body, settlementMessage);

/** Sends settlement messages in batches of 10; throws if any could not be sent (after one more try). */
export function sqsSettlementQueue(client: SQSClient, queueUrl: string): SettlementQueue {
  return {
    async send(messages) {
      for (const batch of sqsBatches(messages)) {
        let pending = batch.map((m) => ({ body: JSON.stringify(m) }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          const out = await sendBatch(client, queueUrl, pending);
          pending = out.failed.map((n) => pending[n]!);
          if (pending.length > 0 && attempt >= 1) throw new Error(`could not queue ${pending.length} settlement message(s): ${out.message ?? 'unknown'}`);
        }
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

export const segmentNumber = (kind: BillKind, shard: number): number => (kind === 'LINE' ? shard : BILL_SHARDS + shard);

/** A run's segment parts: removed after assembly; the bucket expires what a failed run leaves (resources/s3.yml). */
const runPrefix = (period: Period, runId: string) => `settlement-runs/${period}/${runId}/`;
export const versionPrefix = (period: Period, version: number) => `statements/${period}/v${version}/`;

/** A run id that sorts by start time: 20261201T020000123Z-1a2b3c4d. */
const newRunId = (nowMs: number): string => `${iso(nowMs).replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;

function checkPeriod(period: unknown): asserts period is Period {
  if (!isPeriod(period)) throw new InvalidPeriodError(period);
}

const errorText = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export interface StartedRun {
  runId: string;
  period: Period;
  segments: number;
  startedAt: string;
}

/**
 * Starts a settlement run of the month: the run becomes the month's run under way and one message per segment is
 * queued. Refuses a malformed period (InvalidPeriodError), a month that has not started (PeriodNotStartedError), a
 * CLOSED month (PeriodClosedError) and a month with a run under way (RunInProgressError). A run abandoned for
 * RUN_STALE_MS is replaced (and marked FAILED).
 */
export async function startRun(deps: SettlementDeps, period: Period, trigger: RunTrigger): Promise<StartedRun> {
  checkPeriod(period);
  const nowMs = deps.now();
  if (Date.parse(periodBounds(period, deps.settings.timeZone).start) > nowMs) throw new PeriodNotStartedError(period);
  const startedAt = iso(nowMs);
  const run: SettlementRun = { runId: newRunId(nowMs), period, status: 'RUNNING', segments: SEGMENTS, segmentsDone: 0, trigger, startedAt };
  const before = await deps.statements.getHeader(period);
  const begun = await deps.statements.beginRun(run, iso(nowMs - RUN_STALE_MS));
  if (!begun.ok) {
    if (begun.reason === 'closed') throw new PeriodClosedError(period);
    throw new RunInProgressError(period, begun.activeRun.runId, begun.activeRun.startedAt);
  }
  if (before?.activeRun) {
    deps.log.warn('settlement run abandoned, replaced by a new one', { period, runId: before.activeRun.runId, by: run.runId });
    await deps.statements.failRun(period, before.activeRun.runId, `abandoned: replaced by run ${run.runId}`, startedAt);
  }
  const messages: SettlementMessage[] = [];
  for (const kind of ['LINE', 'USAGE'] as const) {
    for (let shard = 0; shard < BILL_SHARDS; shard++) messages.push({ type: 'segment', period, runId: run.runId, kind, shard });
  }
  try {
    await deps.queue.send(messages);
  } catch (error) {
    await deps.statements.failRun(period, run.runId, `could not queue its segments: ${errorText(error)}`, iso(deps.now()));
    throw error;
  }
  deps.log.info('settlement run started', { period, runId: run.runId, trigger, segments: SEGMENTS });
  return { runId: run.runId, period, segments: SEGMENTS, startedAt };
}

export type MessageOutcome =
  | { outcome: 'segment'; segmentsDone: number; lines: number; problems: number }
  | { outcome: 'version'; version: number; lineCount: number }
  | { outcome: 'unchanged'; version: number }
  /** Nothing to do: a redelivered message, or a run that is no longer under way. */
  | { outcome: 'skipped'; reason: string };

/** A message naming a run that does not exist: it can never succeed. */
export class UnknownRunError extends Error {
  override name = 'UnknownRunError';
}

/** Handles one settlement queue message. */
export function handleSettlementMessage(deps: SettlementDeps, message: SettlementMessage): Promise<MessageOutcome> {
  return message.type === 'segment' ? runSegment(deps, message) : assemble(deps, message);
}

async function runUnderWay(deps: SettlementDeps, message: SettlementMessage): Promise<SettlementRun | MessageOutcome> {
  const run = await deps.statements.getRun(message.period, message.runId);
  if (!run) throw new UnknownRunError(`no settlement run ${message.runId} of ${message.period}`);
  if (run.status !== 'RUNNING') return { outcome: 'skipped', reason: `run ${run.status}` };
  return run;
}

/** What one order line or instance contributes, checked to be sorted by the caller. */
interface Collected {
  lines: { id: string; text: string }[];
  problems: { key: string; text: string }[];
}

function collect(into: Collected, entries: Entries): void {
  for (const line of entries.lines) into.lines.push({ id: line.lineId, text: statementJsonLine(line) });
  for (const problem of entries.problems) into.problems.push({ key: problemKey(problem), text: problemJsonLine(problem) });
}

/** Applies the rules to the order lines of one shard. */
async function lineSegment(deps: SettlementDeps, period: Period, shard: number, bounds: { start: string; end: string }): Promise<Collected> {
  const out: Collected = { lines: [], problems: [] };
  for await (const page of deps.billing.readShard('LINE', shard, bounds.start, bounds.end)) {
    for (const item of page) {
      if (item.kind !== 'LINE') continue;
      try {
        collect(out, orderLineEntries(item.facts, period, deps.settings));
      } catch (error) {
        throw new Error(`order line ${item.facts.orderId} ${item.facts.orderLineId}: ${errorText(error)}`);
      }
    }
  }
  return out;
}

/** Sums one shard's accepted usage per instance (exact, in 0.0001 units), then prices it per instance. */
async function usageSegment(deps: SettlementDeps, period: Period, shard: number, bounds: { start: string; end: string }): Promise<Collected> {
  const sums = new Map<string, { units: bigint; windows: number }>();
  for await (const page of deps.billing.readShard('USAGE', shard, bounds.start, bounds.end)) {
    for (const item of page) {
      if (item.kind !== 'USAGE') continue;
      const sum = sums.get(item.instanceId) ?? { units: 0n, windows: 0 };
      sum.units += item.units;
      sum.windows += 1;
      sums.set(item.instanceId, sum);
    }
  }
  const out: Collected = { lines: [], problems: [] };
  const ids = [...sums.keys()].sort();
  for (let i = 0; i < ids.length; i += INSTANCE_BATCH) {
    const chunk = ids.slice(i, i + INSTANCE_BATCH);
    const instances = await deps.instances.getInstances(chunk);
    for (const instanceId of chunk) {
      const sum = sums.get(instanceId)!;
      const instance = instances.get(instanceId);
      const currency = instance?.order?.currency;
      const usage: UsageFacts = {
        instanceId,
        units: formatQuantity(sum.units),
        windows: sum.windows,
        test: instance?.test ?? false,
        ...(instance?.productId ? { productId: instance.productId } : {}),
        ...(currency ? { currency } : {}),
      };
      collect(out, usageEntries(usage, period, deps.settings));
    }
  }
  return out;
}

async function writeSorted(files: StatementFiles, key: string, records: { text: string }[]): Promise<void> {
  let size = 0;
  for (const r of records) size += Buffer.byteLength(r.text, 'utf8');
  const writer = files.writer(key, 'application/x-ndjson', size);
  try {
    let chunk = '';
    for (const r of records) {
      chunk += r.text;
      if (chunk.length >= 65_536) {
        await writer.write(chunk);
        chunk = '';
      }
    }
    if (chunk) await writer.write(chunk);
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/**
 * One segment: reads its shard for the month, applies the rules, writes its lines and problems (sorted) to S3 under
 * names of its own, then marks itself finished and counts itself in the run (once: a redelivered message changes
 * nothing). The segment that brings the count to the total queues the assembly.
 */
export async function runSegment(deps: SettlementDeps, message: SegmentMessage): Promise<MessageOutcome> {
  const { period, runId, kind, shard } = message;
  const found = await runUnderWay(deps, message);
  if ('outcome' in found) return found;
  const run = found;
  const segment = segmentNumber(kind, shard);
  if (await deps.statements.getSegment(period, runId, segment)) {
    // A redelivery; if the first delivery stopped before queuing the assembly, queue it again (it is idempotent).
    if (run.segmentsDone >= run.segments) await deps.queue.send([{ type: 'assemble', period, runId }]);
    return { outcome: 'skipped', reason: 'segment already finished' };
  }

  const started = performance.now();
  const bounds = periodBounds(period, deps.settings.timeZone);
  const collected = kind === 'LINE' ? await lineSegment(deps, period, shard, bounds) : await usageSegment(deps, period, shard, bounds);
  collected.lines.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  collected.problems.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  // Names of this attempt's own: a duplicate delivery running at the same time never overwrites the parts used.
  const base = `${runPrefix(period, runId)}${kind}-${String(shard).padStart(2, '0')}.${randomBytes(4).toString('hex')}`;
  const marker = {
    segment,
    linesKey: `${base}.lines.jsonl`,
    problemsKey: `${base}.problems.jsonl`,
    lines: collected.lines.length,
    problems: collected.problems.length,
  };
  await writeSorted(deps.files, marker.linesKey, collected.lines);
  await writeSorted(deps.files, marker.problemsKey, collected.problems);

  const done = await deps.statements.segmentDone(period, runId, marker, iso(deps.now()));
  if (!done.ok) {
    if (done.reason === 'already' && done.run.segmentsDone >= done.run.segments) await deps.queue.send([{ type: 'assemble', period, runId }]);
    return { outcome: 'skipped', reason: done.reason === 'already' ? 'segment already finished' : 'run no longer under way' };
  }
  deps.log.info('settlement segment finished', {
    period,
    runId,
    kind,
    shard,
    lines: marker.lines,
    problems: marker.problems,
    segmentsDone: done.segmentsDone,
    ms: Math.round(performance.now() - started),
  });
  if (done.segmentsDone === done.segments) await deps.queue.send([{ type: 'assemble', period, runId }]);
  return { outcome: 'segment', segmentsDone: done.segmentsDone, lines: marker.lines, problems: marker.problems };
}

/** The statement rendered from the run's parts into the targets. */
function renderParts(deps: SettlementDeps, period: Period, parts: { segment: number; linesKey: string; problemsKey: string }[], targets: RenderTargets): Promise<Rendered> {
  const lines = mergeSorted<StatementLine>(
    parts.map((p) => ({ name: p.linesKey, batches: deps.files.lines(p.linesKey) })),
    parseLineRecord,
    (line) => line.lineId,
  );
  const problems = () =>
    mergeSorted<SettlementProblem>(
      parts.map((p) => ({ name: p.problemsKey, batches: deps.files.lines(p.problemsKey) })),
      parseProblemRecord,
      problemKey,
    );
  return renderStatement(period, lines, problems, targets);
}

/**
 * Assembles the statement from the run's segments. Pass 1 merges the parts by lineId and only measures (SHA-256
 * of the CSV and the JSON, totals, counts): if both files would be identical to the latest version's, the run is
 * UNCHANGED and nothing is written. Otherwise pass 2 streams version n+1 to S3 (CSV, JSON, lines, and the diff
 * against version n), then records the version and moves the header to it in one transaction.
 */
export async function assemble(deps: SettlementDeps, message: AssembleMessage): Promise<MessageOutcome> {
  const { period, runId } = message;
  const found = await runUnderWay(deps, message);
  if ('outcome' in found) return found;
  const run = found;
  if (run.segmentsDone < run.segments) throw new Error(`run ${runId} of ${period}: ${run.segmentsDone} of ${run.segments} segments finished`);
  const parts = await deps.statements.listSegments(period, runId);
  if (parts.length !== run.segments) throw new Error(`run ${runId} of ${period}: ${parts.length} segment markers, expected ${run.segments}`);

  const header = await deps.statements.getHeader(period);
  if (header?.status === 'CLOSED' || header?.activeRun?.runId !== runId) {
    const reason = header?.status === 'CLOSED' ? 'the statement was closed while it ran' : 'replaced by another run';
    await deps.statements.failRun(period, runId, reason, iso(deps.now()));
    return { outcome: 'skipped', reason };
  }
  const started = performance.now();
  const previous = header.latestVersion > 0 ? await deps.statements.getVersion(period, header.latestVersion) : undefined;
  if (header.latestVersion > 0 && !previous) throw new Error(`${period}: version ${header.latestVersion} is missing`);

  // Pass 1: measure only.
  const csvHash = hashSink();
  const jsonHash = hashSink();
  const measured = await renderParts(deps, period, parts, { csv: csvHash, json: jsonHash });
  const [csv1, json1] = await Promise.all([csvHash.close(), jsonHash.close()]);

  if (previous && csv1.sha256 === previous.sha256Csv && json1.sha256 === previous.sha256Json) {
    const ok = await deps.statements.finishUnchanged(period, run, previous.version, iso(deps.now()));
    if (!ok) return afterLostFinish(deps, period, runId);
    deps.log.info('settlement run unchanged', { period, runId, version: previous.version, lines: measured.lineCount, ms: Math.round(performance.now() - started) });
    await removeParts(deps, period, runId);
    return { outcome: 'unchanged', version: previous.version };
  }

  // Pass 2: write version n.
  const version = header.latestVersion + 1;
  const prefix = versionPrefix(period, version);
  const files = {
    csv: deps.files.writer(`${prefix}statement.csv`, 'text/csv; charset=utf-8'),
    json: deps.files.writer(`${prefix}statement.json`, 'application/json'),
    lines: deps.files.writer(`${prefix}lines.jsonl`, 'application/x-ndjson'),
    diff: previous ? deps.files.writer(`${prefix}diff.jsonl`, 'application/x-ndjson') : undefined,
  };
  const sinks: TextSink[] = [files.csv, files.json, files.lines, ...(files.diff ? [files.diff] : [])];
  let diff: StatementDiff | undefined;
  let written: Rendered;
  try {
    diff = previous && files.diff ? statementDiff(deps.files.lines(previous.linesKey), files.diff) : undefined;
    written = await renderParts(deps, period, parts, { csv: files.csv, json: files.json, lines: files.lines, ...(diff ? { observer: diff } : {}) });
  } catch (error) {
    await diff?.close().catch(() => undefined);
    await Promise.all(sinks.map((s) => s.abort()));
    throw error;
  }
  let diffCounts;
  try {
    diffCounts = diff ? await diff.finish() : undefined;
  } catch (error) {
    await diff?.close().catch(() => undefined);
    await Promise.all(sinks.map((s) => s.abort()));
    throw error;
  }
  const [csv, json, lines, diffFile] = await Promise.all([files.csv.close(), files.json.close(), files.lines.close(), files.diff?.close()]);

  const at = iso(deps.now());
  const item: StatementVersion = {
    period,
    version,
    csvKey: csv.key,
    jsonKey: json.key,
    linesKey: lines.key,
    ...(diffFile ? { diffKey: diffFile.key } : {}),
    sha256Csv: csv.sha256,
    sha256Json: json.sha256,
    csvBytes: csv.bytes,
    jsonBytes: json.bytes,
    lineCount: written.lineCount,
    totals: written.totals,
    problems: written.problems,
    ...(diffCounts && previous ? { diff: { against: previous.version, ...diffCounts } } : {}),
    runId,
    runStartedAt: run.startedAt,
    createdAt: at,
  };
  if (!(await deps.statements.finishVersion(item, at))) return afterLostFinish(deps, period, runId);
  deps.log.info('settlement statement written', {
    period,
    runId,
    version,
    lines: written.lineCount,
    problems: written.problems,
    csvBytes: csv.bytes,
    ...(diffCounts ?? {}),
    ms: Math.round(performance.now() - started),
  });
  await removeParts(deps, period, runId);
  return { outcome: 'version', version, lineCount: written.lineCount };
}

/** The final transaction failed: a duplicate assembly finished first, or the month moved on under the run. */
async function afterLostFinish(deps: SettlementDeps, period: Period, runId: string): Promise<MessageOutcome> {
  const run = await deps.statements.getRun(period, runId);
  if (run && run.status !== 'RUNNING') return { outcome: 'skipped', reason: `run ${run.status}` };
  await deps.statements.failRun(period, runId, 'the statement changed while the run assembled it', iso(deps.now()));
  return { outcome: 'skipped', reason: 'the statement changed while the run assembled it' };
}

async function removeParts(deps: SettlementDeps, period: Period, runId: string): Promise<void> {
  try {
    await deps.files.removePrefix(runPrefix(period, runId));
  } catch (error) {
    deps.log.warn('could not delete a settlement run\'s parts', { period, runId, error: errorText(error) });
  }
}

/** A message that failed for the last time (it goes to the dead-letter queue): its run is FAILED. */
export async function abandonRun(deps: SettlementDeps, message: SettlementMessage, error: unknown): Promise<void> {
  const reason = `${message.type === 'segment' ? `segment ${message.kind} ${message.shard}` : 'assembly'} failed ${SETTLEMENT_MAX_RECEIVES} times: ${errorText(error)}`;
  await deps.statements.failRun(message.period, message.runId, reason, iso(deps.now()));
  deps.log.error('settlement run failed', { period: message.period, runId: message.runId, reason });
}

export interface ClosedStatement {
  header: StatementHeader;
  /** The month was already closed: nothing changed. */
  alreadyClosed: boolean;
}

/** How long the `bill` index may lag behind a committed write (DynamoDB's global indexes are eventually consistent). */
export const INDEX_LAG_MS = 1_000;

/** Whether any shard holds a change, recorded since `since`, that can touch a month ending at `end`. */
async function inputsChanged(deps: SettlementDeps, since: string, end: string): Promise<boolean> {
  const checks: Promise<boolean>[] = [];
  for (const kind of ['LINE', 'USAGE'] as const) {
    for (let shard = 0; shard < BILL_SHARDS; shard++) checks.push(deps.billing.changedSince(kind, shard, since, end));
  }
  return (await Promise.all(checks)).some(Boolean);
}

/**
 * Closes the month's statement at its latest version: from then on it is never rewritten, and changes belonging to
 * it become adjustments in the next open month. Refused (409) when there is no version yet (NothingToCloseError),
 * a run is under way (RunInProgressError), the month has not ended (PeriodNotEndedError), or settlement's inputs
 * changed since the latest version's run started (InputsChangedError: run again). Closing a closed month changes
 * nothing.
 */
export async function closePeriod(deps: SettlementDeps, period: Period): Promise<ClosedStatement> {
  checkPeriod(period);
  const header = await deps.statements.getHeader(period);
  if (!header || header.latestVersion === 0 || !header.runStartedAt) throw new NothingToCloseError(period);
  if (header.status === 'CLOSED') return { header, alreadyClosed: true };
  const nowMs = deps.now();
  const staleBefore = iso(nowMs - RUN_STALE_MS);
  if (header.activeRun && header.activeRun.startedAt >= staleBefore) throw new RunInProgressError(period, header.activeRun.runId, header.activeRun.startedAt);
  const { end } = periodBounds(period, deps.settings.timeZone);
  if (nowMs < Date.parse(end)) throw new PeriodNotEndedError(period, end);

  const since = header.runStartedAt;
  if (await inputsChanged(deps, since, end)) throw new InputsChangedError(header.latestVersion);

  const at = iso(deps.now());
  if (await deps.statements.close(period, header.latestVersion, since, at, staleBefore)) {
    // A fact recorded between the check above and the close is not in the statement: look again once the index has
    // caught up. From the close on, recorders see the month closed and make their changes adjustments.
    await new Promise((r) => setTimeout(r, deps.indexLagMs ?? INDEX_LAG_MS));
    if (await inputsChanged(deps, since, end)) {
      await deps.statements.reopen(period, at, iso(deps.now()));
      throw new InputsChangedError(header.latestVersion, `inputs changed while closing v${header.latestVersion}: run again`);
    }
    deps.log.info('statement closed', { period, version: header.latestVersion });
    const { activeRun: _stale, ...rest } = header;
    return { header: { ...rest, status: 'CLOSED', closedAt: at, updatedAt: at }, alreadyClosed: false };
  }
  const now = await deps.statements.getHeader(period);
  if (now?.status === 'CLOSED') return { header: now, alreadyClosed: true };
  if (now?.activeRun) throw new RunInProgressError(period, now.activeRun.runId, now.activeRun.startedAt);
  throw new InputsChangedError(header.latestVersion, `the statement changed while closing (now v${now?.latestVersion ?? 0}): look at it and close again`);
}

export interface StatementView {
  header: StatementHeader;
  /** Newest first; each names its files (keys in `bucket`). */
  versions: StatementVersion[];
  /** The run under way, if any. */
  activeRun?: SettlementRun;
  bucket: string;
}

/** A month's statement for the seller API: header, versions and their files, the run under way; undefined if never run. */
export async function statementView(deps: Pick<SettlementDeps, 'statements' | 'files'>, period: Period): Promise<StatementView | undefined> {
  checkPeriod(period);
  const header = await deps.statements.getHeader(period);
  if (!header) return undefined;
  const [versions, activeRun] = await Promise.all([
    deps.statements.listVersions(period),
    header.activeRun ? deps.statements.getRun(period, header.activeRun.runId) : Promise.resolve(undefined),
  ]);
  return { header, versions, ...(activeRun ? { activeRun } : {}), bucket: deps.files.bucket };
}
