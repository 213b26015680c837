import type { Log } from '#lib/log.ts';
import type { RelayedOutbox } from './ports.ts';
import type { EventPublisher } from './publisher.ts';

/**
 * The outbox sweep: events still in the outbox `graceSeconds` after they were written were not handled
 * (the send after commit failed, or the function died in between). Each is re-sent once; after that,
 * SQS's own retries and the DLQ take over. The lifecycle outbox and the Kit outbox are swept separately, each with
 * its own limit, so a burst of one never holds back the other.
 */
export async function sweepOutbox<E extends { eventId: string }>(
  deps: { outbox: RelayedOutbox<E>; publisher: EventPublisher<E>; log: Log; now: () => number },
  options: { graceSeconds: number; limit: number; name?: string },
): Promise<{ found: number; resent: number; failed: number }> {
  const before = new Date(deps.now() - options.graceSeconds * 1000).toISOString();
  const pending = (await deps.outbox.pending(before, options.limit)).filter((p) => !p.resent);
  let resent = 0;
  let failed = 0;
  for (const { event } of pending) {
    const unsent = await deps.publisher.publish([event]);
    if (unsent.length > 0) {
      failed++;
      continue;
    }
    if (await deps.outbox.markResent(event, new Date(deps.now()).toISOString())) resent++;
  }
  const summary = { found: pending.length, resent, failed };
  deps.log.info('outbox sweep', { outbox: options.name ?? 'lifecycle', ...summary });
  return summary;
}
