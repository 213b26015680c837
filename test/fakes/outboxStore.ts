/**
 * The outbox in the memory table (lib/outbox/ports.ts's OutboxStore, as lib/store/outboxStore.ts keeps it): lifecycle
 * events written in the same transaction as the change they describe, sorted by when they occurred, removed once
 * handled.
 */
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import type { OutboxStore, PendingEvent } from '#lib/outbox/ports.ts';
import type { Expiry } from '#lib/shared/testData.ts';
import { put, update, type MemoryTable, type MemoryWrite, type RowKey } from './memoryTable.ts';

const OUTBOX = 'outbox';

interface OutboxRow {
  event: LifecycleEvent;
  resentAt?: string;
  requeues?: number;
  requeuedAt?: string;
  reportedAt?: string;
}

/** Sorted by occurrence, then event id: what `pending` compares `before` with. */
const outboxKey = (event: Pick<LifecycleEvent, 'occurredAt' | 'eventId'>): RowKey => [OUTBOX, `${event.occurredAt}#${event.eventId}`];

/** Outbox entries outlive the queue's 14-day retention by a day, then TTL removes them. */
const OUTBOX_RETENTION_SECONDS = 15 * 24 * 3600;

/** The event as an outbox entry for a transaction (an entry written again is replaced). */
export function outboxWrite(event: LifecycleEvent, nowSeconds: number, expiresAt: Expiry): MemoryWrite {
  return put('outbox', outboxKey(event), { event }, undefined, Math.min(expiresAt ?? Infinity, nowSeconds + OUTBOX_RETENTION_SECONDS));
}

export interface FakeOutboxStore extends OutboxStore {
  /** The events still waiting, oldest first. */
  events(): LifecycleEvent[];
}

export function fakeOutboxStore(table: MemoryTable): FakeOutboxStore {
  /** A conditional update of an entry that still exists; false when the condition does not hold. */
  async function updateIfPresent(
    event: LifecycleEvent,
    holds: (row: OutboxRow) => boolean,
    change: (row: OutboxRow) => OutboxRow,
  ): Promise<boolean> {
    const exists = (row: unknown) => row !== undefined && holds(row as OutboxRow);
    return (await table.commit([update('outbox', outboxKey(event), (row) => change(row as OutboxRow), exists)])).ok;
  }

  return {
    async complete(event) {
      await table.commit([update('outbox', outboxKey(event), () => undefined)]);
    },

    async pending(before: string, limit: number): Promise<PendingEvent[]> {
      return table
        .list<OutboxRow>(OUTBOX)
        .filter((row) => row.key[1]! < before)
        .slice(0, limit)
        .map(({ value }) => ({
          event: value.event,
          resent: value.resentAt !== undefined,
          requeues: value.requeues ?? 0,
          reported: value.reportedAt !== undefined,
        }));
    },

    markResent: (event, at) =>
      updateIfPresent(
        event,
        (row) => row.resentAt === undefined,
        (row) => ({ ...row, resentAt: at }),
      ),

    markRequeued: (event, seen, at) =>
      updateIfPresent(
        event,
        (row) => row.requeues === undefined || row.requeues === seen,
        (row) => ({ ...row, requeues: seen + 1, requeuedAt: at }),
      ),

    markReported: (event, at) =>
      updateIfPresent(
        event,
        (row) => row.reportedAt === undefined,
        (row) => ({ ...row, reportedAt: at }),
      ),

    events: () => table.list<OutboxRow>(OUTBOX).map((row) => row.value.event),
  };
}
