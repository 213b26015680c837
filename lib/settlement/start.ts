import { randomBytes } from 'node:crypto';
import { errorText } from '#lib/shared/errors.ts';
import { iso } from '#lib/shared/time.ts';
import { checkPeriod, PeriodClosedError, PeriodNotStartedError, RunInProgressError, UnknownRunError } from './errors.ts';
import type { MessageOutcome, SettlementMessage } from './messages.ts';
import { BILL_SHARDS, type Period } from './model.ts';
import { periodBounds } from './period.ts';
import type { SettlementDeps } from './ports.ts';
import type { RunTrigger, SettlementRun } from './statementRecords.ts';

/**
 * The monthly settlement run (docs/settlement.md). A run of a month is split into segments, one per shard of the
 * `bill` index and kind of input (16 of order lines, 16 of accepted usage), each a message on the settlement
 * queue. A segment applies the rules to its shard and writes its lines, sorted by lineId, to S3; the segment that
 * finishes last queues the assembly, which merges the parts into the statement files of a new version, or finds
 * the latest version unchanged. One run per month at a time; a CLOSED month is never run again.
 * The steps, in order: start.ts, segment.ts, assemble.ts, then close.ts once the month has ended.
 *
 *   settlement-runs/{period}/{runId}/…        the segments' parts (deleted once the run is assembled)
 *   statements/{period}/v{n}/statement.csv    the statement (CSV, RFC 4180)
 *   statements/{period}/v{n}/statement.json   the same as one JSON document, with problems and totals
 *   statements/{period}/v{n}/lines.jsonl      its lines as JSON Lines (diffs, reconciliation)
 *   statements/{period}/v{n}/diff.jsonl       what changed since v{n-1}
 */

/** Segments of a run: every shard of both kinds of input. */
export const SEGMENTS = 2 * BILL_SHARDS;
/** A run under way for longer than this is abandoned: a new run may replace it. */
export const RUN_STALE_MS = 6 * 3_600_000;

/** A run id that sorts by start time: 20261201T020000123Z-1a2b3c4d. */
const newRunId = (nowMs: number): string => `${iso(nowMs).replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;

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

/** The run a segment or assembly message names, if it is still under way; otherwise what to answer the message. */
export async function runUnderWay(deps: SettlementDeps, message: SettlementMessage): Promise<SettlementRun | MessageOutcome> {
  const run = await deps.statements.getRun(message.period, message.runId);
  if (!run) throw new UnknownRunError(`no settlement run ${message.runId} of ${message.period}`);
  if (run.status !== 'RUNNING') return { outcome: 'skipped', reason: `run ${run.status}` };
  return run;
}
