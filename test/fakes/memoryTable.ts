/**
 * An in-memory stand-in for the main and audit tables, shared by the fakes of the ports in this folder, so that
 * one transaction can hold writes planned by several of them (a produce call's nonce claim, instance, history,
 * outbox event, audit record and license writes) and commit all or nothing, as DynamoDB's TransactWriteItems does:
 * every condition is checked against the rows as they were before the transaction, and a failed one is answered
 * with its write's label.
 */
import type { CommitResult, PlannedWrite, WriteLabel } from '#lib/shared/transaction.ts';

/** A row's address: its kind first, then the ids that name it (['instance', id], ['history', id, '00000002']). */
export type RowKey = readonly string[];

/** One write of a transaction against the memory table. */
export interface MemoryWrite extends PlannedWrite {
  key: RowKey;
  /** Must hold for the row as it is before the transaction (undefined: no row); else the commit fails with the label. */
  condition?: ((current: unknown) => boolean) | undefined;
  /** The row's next value from its current one; undefined removes the row. */
  apply: (current: unknown) => unknown;
  /**
   * Epoch seconds at which DynamoDB's TTL would remove the row (test data, nonces, the outbox). A put always sets it
   * (undefined: never), as it replaces the whole item; a write without the property (an update) keeps the row's.
   */
  expiresAt?: number | undefined;
}

/** What an injected fault does to the commit it hits. */
export type Fault =
  /** Fails before writing anything (the table is unreachable). */
  | { kind: 'throw'; error?: Error }
  /** Writes everything, then fails as a timeout would: the answer was lost, the writes are durable. */
  | { kind: 'lostAnswer'; error?: Error }
  /** Cancelled by a concurrent transaction (DynamoDB's TransactionConflict): nothing written, no condition named. */
  | { kind: 'conflict' }
  /** Another writer commits first (`otherWriter` runs), then this commit's conditions are checked. */
  | { kind: 'race'; otherWriter: () => unknown };

export interface FaultOptions {
  /** Which commits the fault hits (default: any). */
  when?: (writes: readonly MemoryWrite[]) => boolean;
  /** How many commits it hits (default 1). */
  times?: number;
}

/** A fault's error, named like the SDK's so logs read as they would in production. */
export class InjectedFault extends Error {
  override name = 'InjectedFault';
}

const rowId = (key: RowKey): string => JSON.stringify(key);

/** Version numbers in keys sort as DynamoDB's sort keys do: zero-padded. */
export const padded = (version: number): string => String(version).padStart(8, '0');

/** The condition of a put that must create its row. */
export const mustBeNew = (current: unknown): boolean => current === undefined;

/** The condition of a put that applies only if nobody changed the row since we read `previousVersion`. */
export const ifVersion =
  (previousVersion: number) =>
  (current: unknown): boolean =>
    (current as { version?: unknown } | undefined)?.version === previousVersion;

/**
 * A put for a transaction. The value is copied when the write is planned (as the DynamoDB adapter marshals it
 * then), so a later change to the caller's object does not reach the table.
 */
export function put(
  label: WriteLabel,
  key: RowKey,
  value: object,
  condition?: (current: unknown) => boolean,
  expiresAt?: number,
): MemoryWrite {
  const snapshot = structuredClone(value);
  return { label, key, condition, apply: () => structuredClone(snapshot), expiresAt };
}

/** An update of one row in place (its TTL kept); `apply` gets a copy of the current value, undefined if there is none. */
export const update = (
  label: WriteLabel,
  key: RowKey,
  apply: (current: unknown) => unknown,
  condition?: (current: unknown) => boolean,
): MemoryWrite => ({
  label,
  key,
  condition,
  apply,
});

/** Matches commits that write a row of this kind (and these leading ids). */
export const touches =
  (...prefix: string[]) =>
  (writes: readonly MemoryWrite[]): boolean =>
    writes.some((w) => prefix.every((part, i) => w.key[i] === part));

function memoryWrites(writes: readonly PlannedWrite[]): MemoryWrite[] {
  return writes.map((w) => {
    if (!('key' in w && 'apply' in w)) throw new TypeError(`write '${w.label}' was not planned by an in-memory fake`);
    return w as MemoryWrite;
  });
}

interface Row {
  key: RowKey;
  value: unknown;
  expiresAt?: number | undefined;
}

export type MemoryTable = ReturnType<typeof memoryTable>;

export function memoryTable() {
  const rows = new Map<string, Row>();
  const faults: { fault: Fault; when: FaultOptions['when']; left: number }[] = [];
  /** The labels of every transaction that committed, in order. */
  const commits: WriteLabel[][] = [];

  function takeFault(writes: readonly MemoryWrite[]): Fault | undefined {
    const armed = faults.find((f) => f.left > 0 && (!f.when || f.when(writes)));
    if (!armed) return undefined;
    armed.left--;
    return armed.fault;
  }

  return {
    commits,

    /** A copy of the row's value, or undefined. */
    get<T>(key: RowKey): T | undefined {
      const row = rows.get(rowId(key));
      return row === undefined ? undefined : (structuredClone(row.value) as T);
    },

    /** Copies of the rows of these ids that exist, by id (a batch get: unknown ids are absent). */
    getMany<T>(ids: readonly string[], keyOf: (id: string) => RowKey): Map<string, T> {
      const found = new Map<string, T>();
      for (const id of ids) {
        const row = rows.get(rowId(keyOf(id)));
        if (row !== undefined) found.set(id, structuredClone(row.value) as T);
      }
      return found;
    },

    /** When DynamoDB's TTL would remove the row, if ever. */
    expiry(key: RowKey): number | undefined {
      return rows.get(rowId(key))?.expiresAt;
    },

    /** Copies of the rows whose key starts with `prefix`, in key order (DynamoDB's sort-key order within a partition). */
    list<T>(...prefix: string[]): { key: RowKey; value: T }[] {
      return [...rows.values()]
        .filter((row) => prefix.every((part, i) => row.key[i] === part))
        .sort((a, b) => (rowId(a.key) < rowId(b.key) ? -1 : rowId(a.key) > rowId(b.key) ? 1 : 0))
        .map((row) => ({ key: row.key, value: structuredClone(row.value) as T }));
    },

    /** Arms a fault for the next matching commit(s). */
    inject(fault: Fault, options: FaultOptions = {}): void {
      faults.push({ fault, when: options.when, left: options.times ?? 1 });
    },

    /** Writes everything in one transaction, all or nothing; says which labelled conditions failed if it is cancelled. */
    async commit(planned: readonly PlannedWrite[]): Promise<CommitResult> {
      const writes = memoryWrites(planned);
      if (new Set(writes.map((w) => rowId(w.key))).size !== writes.length) {
        throw new Error('Transaction request cannot include multiple operations on one item');
      }
      const fault = takeFault(writes);
      if (fault?.kind === 'throw') throw fault.error ?? new InjectedFault('injected: the table is unavailable');
      if (fault?.kind === 'conflict') return { ok: false, conditionFailed: [], conflict: true };
      if (fault?.kind === 'race') await fault.otherWriter();

      const conditionFailed = writes.filter((w) => w.condition && !w.condition(rows.get(rowId(w.key))?.value)).map((w) => w.label);
      if (conditionFailed.length > 0) return { ok: false, conditionFailed, conflict: false };
      for (const w of writes) {
        const id = rowId(w.key);
        const current = rows.get(id);
        const next = w.apply(current === undefined ? undefined : structuredClone(current.value));
        if (next === undefined) rows.delete(id);
        else rows.set(id, { key: w.key, value: next, expiresAt: 'expiresAt' in w ? w.expiresAt : current?.expiresAt });
      }
      commits.push(writes.map((w) => w.label));
      if (fault?.kind === 'lostAnswer') throw fault.error ?? new InjectedFault('injected: the answer was lost after the write');
      return { ok: true };
    },
  };
}
