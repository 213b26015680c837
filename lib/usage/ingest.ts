import { randomUUID } from 'node:crypto';
import type { Instance } from '#lib/instances/model.ts';
import type { Log } from '#lib/log.ts';
import { type UsageLedger } from './ports.ts';
import { MAX_REFS_PER_ADDITION } from './ports.ts';
import { type AdditionResult } from './ports.ts';
import { type WindowAddition } from './ports.ts';
import { checkReport, parseReport, type CheckedReport, type Rejection } from './reports.ts';
import type { MeteringSettings } from './metering.ts';
import { errorFields } from '#lib/shared/errors.ts';
import { forEachConcurrently } from '#lib/shared/pool.ts';
import { iso, sleep } from '#lib/shared/time.ts';
import { WINDOW_MS, windowStart } from './windows.ts';

/**
 * POST /seller/usage: checks every report, drops repeated clientRefs, and adds what is left to the ledger, one
 * transaction per window (window sum + running total + clientRef claims). A report for a window already pushed
 * is not lost: it joins the instance's current open window as a correction, flagged late.
 * A rejected report writes nothing; the others are unaffected by it. A window whose write fails (conflicts that
 * outlast the retries, DynamoDB trouble) answers its reports `retry`, and the rest of the request stands.
 */

export type RecordResult =
  | {
      index: number;
      status: 'accepted';
      /** The window the usage counts in. */
      window: { beginTime: string; endTime: string };
      /** Set when the reported window was already pushed: the usage was carried into `window` instead. */
      lateFor?: { beginTime: string; endTime: string };
    }
  | { index: number; status: 'duplicate'; clientRef: string }
  | { index: number; status: 'rejected'; reason: Rejection }
  /** Not recorded this time (the ledger kept conflicting, or DynamoDB failed): send the record again. */
  | { index: number; status: 'retry'; message: string };

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  retry: number;
  results: RecordResult[];
}

const RETRY_MESSAGE =
  'not recorded: the ledger was busy or unavailable; send it again (with a clientRef, a report that did get through is answered duplicate)';

export interface IngestDeps {
  /** Instances by id (unknown ids absent). */
  instances: (ids: readonly string[]) => Promise<Map<string, Instance>>;
  ledger: UsageLedger;
  settings: MeteringSettings;
  now: () => number;
  log: Log;
}

/** Same-instance windows are written one after another (they share the running total); instances in parallel. */
const PARALLEL_INSTANCES = 8;
const MAX_CONFLICT_RETRIES = 6;

interface Group {
  instanceId: string;
  beginMs: number;
  endMs: number;
  granularity: CheckedReport['granularity'];
  members: { index: number; report: CheckedReport }[];
  /** Members with a clientRef: each is a claim in the group's transaction. */
  refs: number;
}

const refKey = (instanceId: string, clientRef: string) => `${instanceId}\n${clientRef}`;

async function instancesOf(ids: string[], deps: IngestDeps): Promise<Map<string, Instance>> {
  const found = new Map<string, Instance>();
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += 100) batches.push(ids.slice(i, i + 100));
  for (const map of await Promise.all(batches.map((b) => deps.instances(b)))) for (const [id, inst] of map) found.set(id, inst);
  return found;
}

export async function ingestUsage(records: readonly unknown[], deps: IngestDeps): Promise<IngestResult> {
  const nowMs = deps.now();
  const results: RecordResult[] = new Array(records.length);
  const parsed = records.map((raw, index) => ({ index, result: parseReport(raw) }));
  for (const { index, result } of parsed) if (!result.ok) results[index] = { index, status: 'rejected', reason: result.rejection };

  const ids = [...new Set(parsed.flatMap(({ result }) => (result.ok ? [result.report.instanceId] : [])))];
  const instances = await instancesOf(ids, deps);

  // Every rule, then repeated clientRefs: within this request, then against the ledger.
  const checked: { index: number; report: CheckedReport }[] = [];
  const seenRefs = new Set<string>();
  for (const { index, result } of parsed) {
    if (!result.ok) continue;
    const verdict = checkReport(result.report, instances.get(result.report.instanceId), deps.settings, nowMs);
    if (!verdict.ok) {
      results[index] = { index, status: 'rejected', reason: verdict.rejection };
      continue;
    }
    const ref = verdict.report.clientRef;
    if (ref !== undefined) {
      if (seenRefs.has(refKey(verdict.report.instanceId, ref))) {
        results[index] = { index, status: 'duplicate', clientRef: ref };
        continue;
      }
      seenRefs.add(refKey(verdict.report.instanceId, ref));
    }
    checked.push({ index, report: verdict.report });
  }
  const withRefs = checked.flatMap(({ report }) =>
    report.clientRef ? [{ instanceId: report.instanceId, clientRef: report.clientRef }] : [],
  );
  const taken = withRefs.length > 0 ? await deps.ledger.takenRefs(withRefs) : new Set<string>();
  const fresh = checked.filter(({ index, report }) => {
    if (report.clientRef === undefined || !taken.has(refKey(report.instanceId, report.clientRef))) return true;
    results[index] = { index, status: 'duplicate', clientRef: report.clientRef };
    return false;
  });

  // One group per (instance, window), split so a transaction holds at most MAX_REFS_PER_ADDITION claims.
  const byInstance = new Map<string, Group[]>();
  for (const member of fresh) {
    const { instanceId, beginMs, endMs, granularity } = member.report;
    const groups = byInstance.get(instanceId) ?? [];
    byInstance.set(instanceId, groups);
    const claims = member.report.clientRef !== undefined;
    let group = groups.find((g) => g.beginMs === beginMs && (!claims || g.refs < MAX_REFS_PER_ADDITION));
    if (!group) groups.push((group = { instanceId, beginMs, endMs, granularity, members: [], refs: 0 }));
    group.members.push(member);
    if (claims) group.refs++;
  }

  await forEachConcurrently([...byInstance.values()], PARALLEL_INSTANCES, async (groups) => {
    for (const group of groups) {
      try {
        await writeGroup(group, results, deps, nowMs);
      } catch (error) {
        // Other windows of this request are committed already: answer record by record rather than fail it all.
        deps.log.warn('usage window not recorded', {
          instanceId: group.instanceId,
          beginTime: iso(group.beginMs),
          error: errorFields(error),
        });
        for (const { index } of group.members) results[index] ??= { index, status: 'retry', message: RETRY_MESSAGE };
      }
    }
  });

  const count = (status: RecordResult['status']) => results.filter((r) => r.status === status).length;
  return { accepted: count('accepted'), duplicates: count('duplicate'), rejected: count('rejected'), retry: count('retry'), results };
}

/** Retries a transaction that lost a race with another writer (TransactionConflict). */
async function addWithRetries(ledger: UsageLedger, addition: WindowAddition, at: string): Promise<AdditionResult> {
  for (let attempt = 0; ; attempt++) {
    const result = await ledger.add(addition, at);
    if (result.ok || !result.conflict || result.windowClosed || result.refTaken || attempt >= MAX_CONFLICT_RETRIES) return result;
    await sleep(10 * 2 ** attempt + Math.random() * 20);
  }
}

function additionFor(members: Group['members'], group: Group, window: { beginMs: number; endMs: number }): WindowAddition {
  const late = window.beginMs !== group.beginMs;
  return {
    instanceId: group.instanceId,
    beginTime: iso(window.beginMs),
    endTime: iso(window.endMs),
    units: members.reduce((sum, m) => sum + m.report.units, 0n),
    reports: members.length,
    clientRefs: members.flatMap((m) => (m.report.clientRef ? [m.report.clientRef] : [])),
    ...(late ? { late: { reportedFor: { beginTime: iso(group.beginMs), endTime: iso(group.endMs) }, correctionId: randomUUID() } } : {}),
  };
}

/**
 * Writes a group into its own window, or, once that window is pushed, into the instance's current window (or the
 * next one, should that be sealed too). A clientRef taken meanwhile by a concurrent request sends the group's
 * reports through one by one, so exactly the repeated ones are answered duplicate.
 */
async function writeGroup(group: Group, results: RecordResult[], deps: IngestDeps, nowMs: number): Promise<void> {
  const at = iso(deps.now());
  const unit = WINDOW_MS[group.granularity];
  const candidates = [group.beginMs, windowStart(nowMs, group.granularity), windowStart(nowMs, group.granularity) + unit];
  const targets = [...new Set(candidates)].filter((begin) => begin >= group.beginMs);
  for (const beginMs of targets) {
    const window = { beginMs, endMs: beginMs + unit };
    const result = await addWithRetries(deps.ledger, additionFor(group.members, group, window), at);
    if (result.ok) {
      for (const { index } of group.members) {
        const late = beginMs !== group.beginMs;
        results[index] = {
          index,
          status: 'accepted',
          window: { beginTime: iso(window.beginMs), endTime: iso(window.endMs) },
          ...(late ? { lateFor: { beginTime: iso(group.beginMs), endTime: iso(group.endMs) } } : {}),
        };
      }
      return;
    }
    if (result.refTaken && !result.windowClosed) {
      if (group.members.length > 1) {
        for (const member of group.members)
          await writeGroup({ ...group, members: [member], refs: member.report.clientRef ? 1 : 0 }, results, deps, nowMs);
      } else {
        const member = group.members[0]!;
        results[member.index] = { index: member.index, status: 'duplicate', clientRef: member.report.clientRef ?? '' };
      }
      return;
    }
    if (!result.windowClosed) throw new Error(`usage window ${iso(window.beginMs)} of ${group.instanceId}: the write kept conflicting`);
    // The window was pushed: try the next target.
  }
  throw new Error(`usage for ${group.instanceId}: no open window to carry it`);
}
