import { randomBytes } from 'node:crypto';
import { errorText } from '#lib/shared/errors.ts';
import { iso } from '#lib/shared/time.ts';
import { formatQuantity } from '#lib/usage/decimal.ts';
import { statementJsonLine } from './csv.ts';
import type { StatementFiles } from './files.ts';
import type { MessageOutcome, SegmentMessage } from './messages.ts';
import { BILL_SHARDS, type BillKind, type Period, type UsageFacts } from './model.ts';
import { periodBounds } from './period.ts';
import type { SettlementDeps } from './ports.ts';
import { problemJsonLine, problemKey } from './render.ts';
import { orderLineEntries, usageEntries, type Entries } from './rules.ts';
import { runUnderWay } from './start.ts';

/** Instances per BatchGetItem. */
const INSTANCE_BATCH = 100;

export const segmentNumber = (kind: BillKind, shard: number): number => (kind === 'LINE' ? shard : BILL_SHARDS + shard);

/** A run's segment parts: removed after assembly; the bucket expires what a failed run leaves (resources/s3.yml). */
export const runPrefix = (period: Period, runId: string) => `settlement-runs/${period}/${runId}/`;

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
async function lineSegment(
  deps: SettlementDeps,
  period: Period,
  shard: number,
  bounds: { start: string; end: string },
): Promise<Collected> {
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
async function usageSegment(
  deps: SettlementDeps,
  period: Period,
  shard: number,
  bounds: { start: string; end: string },
): Promise<Collected> {
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
    if (done.reason === 'already' && done.run.segmentsDone >= done.run.segments)
      await deps.queue.send([{ type: 'assemble', period, runId }]);
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
