import { errorText } from '#lib/shared/errors.ts';
import * as notices from '#lib/notifications/events.ts';
import { iso } from '#lib/shared/time.ts';
import { statementDiff, type StatementDiff } from './diff.ts';
import { hashSink, type TextSink } from './files.ts';
import type { AssembleMessage, MessageOutcome } from './messages.ts';
import type { Period, SettlementProblem, StatementLine } from './model.ts';
import type { SettlementDeps } from './ports.ts';
import {
  mergeSorted,
  parseLineRecord,
  parseProblemRecord,
  problemKey,
  renderStatement,
  type Rendered,
  type RenderTargets,
} from './render.ts';
import { runPrefix } from './segment.ts';
import { runUnderWay } from './start.ts';
import type { StatementVersion } from './statementRecords.ts';

export const versionPrefix = (period: Period, version: number) => `statements/${period}/v${version}/`;

/** The statement rendered from the run's parts into the targets. */
function renderParts(
  deps: SettlementDeps,
  period: Period,
  parts: { segment: number; linesKey: string; problemsKey: string }[],
  targets: RenderTargets,
): Promise<Rendered> {
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
  if (run.segmentsDone < run.segments)
    throw new Error(`run ${runId} of ${period}: ${run.segmentsDone} of ${run.segments} segments finished`);
  const parts = await deps.statements.listSegments(period, runId);
  if (parts.length !== run.segments)
    throw new Error(`run ${runId} of ${period}: ${parts.length} segment markers, expected ${run.segments}`);

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
    deps.log.info('settlement run unchanged', {
      period,
      runId,
      version: previous.version,
      lines: measured.lineCount,
      ms: Math.round(performance.now() - started),
    });
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
    written = await renderParts(deps, period, parts, {
      csv: files.csv,
      json: files.json,
      lines: files.lines,
      ...(diff ? { observer: diff } : {}),
    });
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
  await deps.notify?.(notices.statementWritten({ month: period, version, lines: written.lineCount, problems: written.problems, at }));
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
    deps.log.warn("could not delete a settlement run's parts", { period, runId, error: errorText(error) });
  }
}
