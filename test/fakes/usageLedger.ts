/**
 * lib/usage/ports.ts's UsageLedger in the memory table, with the semantics of lib/store/usageStore.ts: a window is
 * OPEN while reports may join it, sealed to PUSHING (its metering_sn and the total it sends fixed), then ACCEPTED
 * or REJECTED; each clientRef is claimed once per instance; an addition updates the window, the instance's running
 * total, its clientRef claims and (for usage reported for a window already pushed) a correction, all or nothing.
 * Windows OPEN or PUSHING are due by their end time; a REJECTED window sent again is OPEN under the next revision.
 */
import {
  additionResultOf,
  MAX_REFS_PER_ADDITION,
  type AdditionResult,
  type UsageCorrection,
  type UsageLedger,
  type UsageWindow,
  type WindowAddition,
} from '#lib/usage/ports.ts';
import { mustBeNew, put, update, type MemoryTable, type MemoryWrite, type RowKey } from './memoryTable.ts';

const rows = {
  window: (w: { instanceId: string; beginTime: string }): RowKey => ['usageWindow', w.instanceId, w.beginTime],
  total: (instanceId: string): RowKey => ['usageTotal', instanceId],
  ref: (instanceId: string, clientRef: string): RowKey => ['usageRef', instanceId, clientRef],
  correction: (instanceId: string, at: string, id: string): RowKey => ['usageCorrection', instanceId, `${at}#${id}`],
};

type Total = { units: bigint; updatedAt: string };

const isDue = (w: UsageWindow) => w.state === 'OPEN' || w.state === 'PUSHING';

/** The window as an addition leaves it: created OPEN, or summed into. */
function added(current: UsageWindow | undefined, addition: WindowAddition, at: string): UsageWindow {
  const late = addition.late ? addition.units : 0n;
  const base: UsageWindow = current ?? {
    instanceId: addition.instanceId,
    beginTime: addition.beginTime,
    endTime: addition.endTime,
    state: 'OPEN',
    units: 0n,
    reports: 0,
    lateUnits: 0n,
    revision: 1,
    attempts: 0,
    updatedAt: at,
  };
  return {
    ...base,
    endTime: addition.endTime,
    units: base.units + addition.units,
    reports: base.reports + addition.reports,
    lateUnits: base.lateUnits + late,
    updatedAt: at,
  };
}

export function fakeUsageLedger(table: MemoryTable): UsageLedger {
  /** A conditional update of a PUSHING window still carrying this metering_sn; false when it moved on. */
  async function pushingUpdate(w: UsageWindow, change: (current: UsageWindow) => UsageWindow): Promise<boolean> {
    const sealedAs = w.meteringSn ?? '';
    const holds = (current: unknown) =>
      (current as UsageWindow | undefined)?.state === 'PUSHING' && (current as UsageWindow).meteringSn === sealedAs;
    return (await table.commit([update('usageWindow', rows.window(w), (current) => change(current as UsageWindow), holds)])).ok;
  }

  return {
    async takenRefs(pairs) {
      return new Set(
        pairs.filter((p) => table.get(rows.ref(p.instanceId, p.clientRef)) !== undefined).map((p) => `${p.instanceId}\n${p.clientRef}`),
      );
    },

    async add(addition: WindowAddition, at: string): Promise<AdditionResult> {
      if (addition.clientRefs.length > MAX_REFS_PER_ADDITION) throw new Error(`at most ${MAX_REFS_PER_ADDITION} clientRefs per addition`);
      const writes: MemoryWrite[] = [
        update(
          'usageWindow',
          rows.window(addition),
          (current) => added(current as UsageWindow | undefined, addition, at),
          (current) => current === undefined || (current as UsageWindow).state === 'OPEN',
        ),
        update('usageTotal', rows.total(addition.instanceId), (current) => ({
          units: ((current as Total | undefined)?.units ?? 0n) + addition.units,
          updatedAt: at,
        })),
      ];
      if (addition.late) {
        const correction: UsageCorrection = {
          instanceId: addition.instanceId,
          at,
          reportedFor: addition.late.reportedFor,
          appliedTo: { beginTime: addition.beginTime, endTime: addition.endTime },
          units: addition.units,
          reports: addition.reports,
          clientRefs: addition.clientRefs,
        };
        writes.push(put('usageCorrection', rows.correction(addition.instanceId, at, addition.late.correctionId), correction, mustBeNew));
      }
      for (const clientRef of addition.clientRefs) {
        const claim = { windowBegin: addition.beginTime, at, late: addition.late !== undefined };
        writes.push(put('usageRef', rows.ref(addition.instanceId, clientRef), claim, mustBeNew));
      }
      return additionResultOf(await table.commit(writes));
    },

    async dueWindows(nowIso, limit) {
      return table
        .list<UsageWindow>('usageWindow')
        .map((row) => row.value)
        .filter((w) => isDue(w) && w.endTime <= nowIso)
        .sort((a, b) => (a.endTime < b.endTime ? -1 : a.endTime > b.endTime ? 1 : 0))
        .slice(0, limit)
        .map((w) => ({ instanceId: w.instanceId, beginTime: w.beginTime }));
    },

    getWindows: async (list) => list.flatMap((w) => table.get<UsageWindow>(rows.window(w)) ?? []),

    async seal(w, sealed) {
      const open = (current: unknown) => (current as UsageWindow | undefined)?.state === 'OPEN';
      const pushing = (current: unknown): UsageWindow => {
        const window = current as UsageWindow;
        return {
          ...window,
          state: 'PUSHING',
          meteringSn: sealed.meteringSn,
          recordTime: sealed.recordTime,
          pushedUnits: window.units,
          updatedAt: sealed.at,
        };
      };
      const result = await table.commit([update('usageWindow', rows.window(w), pushing, open)]);
      return result.ok ? table.get<UsageWindow>(rows.window(w)) : undefined;
    },

    accept: (w, verdict) =>
      pushingUpdate(w, ({ nextAttemptAt: _next, lastError: _error, ...current }) => ({
        ...current,
        state: 'ACCEPTED',
        acceptedAt: verdict.at,
        duplicate: verdict.duplicate,
        updatedAt: verdict.at,
      })),

    reject: (w, rejection, at) =>
      pushingUpdate(w, ({ nextAttemptAt: _next, ...current }) => ({ ...current, state: 'REJECTED', rejection, updatedAt: at })),

    retryLater: (w, retry) =>
      pushingUpdate(w, (current) => ({
        ...current,
        nextAttemptAt: retry.nextAttemptAt,
        lastError: retry.lastError,
        updatedAt: retry.at,
        attempts: current.attempts + 1,
      })),

    async resend(w, at) {
      const rejected = (current: unknown) => (current as UsageWindow | undefined)?.state === 'REJECTED';
      const reopened = (current: unknown): UsageWindow => {
        const {
          rejection,
          meteringSn: _sn,
          recordTime: _time,
          pushedUnits: _pushed,
          nextAttemptAt: _next,
          lastError: _error,
          ...rest
        } = current as UsageWindow;
        return {
          ...rest,
          state: 'OPEN',
          revision: rest.revision + 1,
          attempts: 0,
          updatedAt: at,
          ...(rejection ? { previousRejection: rejection } : {}),
        };
      };
      const result = await table.commit([update('usageWindow', rows.window(w), reopened, rejected)]);
      return result.ok ? table.get<UsageWindow>(rows.window(w)) : undefined;
    },

    totals: async (instanceIds) => table.getMany<Total>(instanceIds, rows.total),

    /** Like the DynamoDB query: begin BETWEEN from AND to, at most `limit`, then the window beginning at `to` dropped. */
    async windows(instanceId, fromIso, toIso, limit) {
      return table
        .list<UsageWindow>('usageWindow', instanceId)
        .map((row) => row.value)
        .filter((w) => w.beginTime >= fromIso && w.beginTime <= toIso)
        .slice(0, limit)
        .filter((w) => w.beginTime !== toIso);
    },

    corrections: async (instanceId, limit) =>
      table
        .list<UsageCorrection>('usageCorrection', instanceId)
        .slice(0, limit)
        .map((row) => row.value),
  };
}
