/** What the outbox sweep, the safety sweep and the provisioning worker need of the outboxes (lib/store/outboxStore.ts). */
import type { LifecycleEvent } from './events.ts';

export interface PendingEvent {
  event: LifecycleEvent;
  /** The outbox sweep re-sent it (once). */
  resent: boolean;
  /** Times the safety sweep re-queued it (provisioning that takes too long). */
  requeues: number;
  /** The safety sweep gave up re-queuing and reported it. */
  reported: boolean;
}

/** What the outbox sweep needs of an outbox: the lifecycle outbox, or the Kit's (lib/store/kitOutboxStore.ts). */
export interface RelayedOutbox<E> {
  /** Events older than `before` still waiting, oldest first. */
  pending(before: string, limit: number): Promise<{ event: E; resent: boolean }[]>;
  /** Records that the sweep re-sent an event; false if another sweep already did. */
  markResent(event: E, at: string): Promise<boolean>;
}

export interface OutboxStore {
  /** Removes a handled event; an event already removed (a redelivery) is fine. */
  complete(event: Pick<LifecycleEvent, 'occurredAt' | 'eventId'>): Promise<void>;
  /** Events older than `before` still waiting, oldest first. */
  pending(before: string, limit: number): Promise<PendingEvent[]>;
  /** Records that the sweep re-sent an event; false if another sweep already did. */
  markResent(event: LifecycleEvent, at: string): Promise<boolean>;
  /** Counts a re-queue by the safety sweep; false if another sweep counted this one already. */
  markRequeued(event: LifecycleEvent, seen: number, at: string): Promise<boolean>;
  /** The safety sweep gave up on an event and reported it; false if it was reported already. */
  markReported(event: LifecycleEvent, at: string): Promise<boolean>;
}
