import type { Log } from '#lib/log.ts';
import * as notices from '#lib/notifications/events.ts';
import type { Notify } from '#lib/notifications/notifier.ts';
import type { EventPublisher } from '#lib/outbox/publisher.ts';
import type { InstanceStore } from './ports.ts';
import type { OutboxStore } from '#lib/outbox/ports.ts';
import { awaitsProvisioning } from './stateMachine.ts';
import { watchSupervision, type SupervisionWatchDeps, type SupervisionWatchSummary } from '#lib/supervision/deadlines.ts';

/**
 * The hourly safety sweep. The marketplace stays the authority: it never changes an instance's state.
 * - Provisioning that has not finished after `stuckAfterMinutes` is re-queued, at most `maxRequeues` times;
 *   after that the instance is marked `provisioning.stuckSince` and reported (an error log to alarm on).
 * - A real ACTIVE instance `graceHours` past its expireTime without a FREEZE is flagged `overdueSince` for the
 *   seller to look at.
 * - Supervised order lines waiting for proofs, and supervision deadlines within the notice window, are told
 *   (lib/supervision/deadlines.ts).
 */

export interface SafetySweepDeps {
  store: InstanceStore;
  outbox: OutboxStore;
  publisher: EventPublisher;
  /** Tells the seller's people of stuck provisioning (lib/notifications); nobody when absent. */
  notify?: Notify | undefined;
  /** Service supervision's waits and deadlines (lib/supervision/deadlines.ts); absent: not watched. */
  supervision?: Omit<SupervisionWatchDeps, 'notify' | 'now' | 'log'> | undefined;
  /** The provisioning dead-letter queue's name and message count; absent: not watched. */
  deadLetters?: { queue: string; depth: () => Promise<number> } | undefined;
  log: Log;
  now: () => number;
}

export interface SafetySweepOptions {
  stuckAfterMinutes: number;
  maxRequeues: number;
  graceHours: number;
  limit: number;
}

export interface SafetySweepSummary {
  requeued: number;
  reported: number;
  cleared: number;
  flaggedOverdue: number;
  /** Messages in the provisioning dead-letter queue, when it is watched. */
  deadLettered?: number | undefined;
  /** Supervision notices sent, when supervision is watched. */
  supervision?: SupervisionWatchSummary | undefined;
}

export async function safetySweep(deps: SafetySweepDeps, options: SafetySweepOptions): Promise<SafetySweepSummary> {
  const summary = {
    ...(await sweepStuckProvisioning(deps, options)),
    flaggedOverdue: await flagOverdue(deps, options),
    deadLettered: await watchDeadLetters(deps),
    supervision:
      deps.supervision && deps.notify
        ? await watchSupervision({ ...deps.supervision, notify: deps.notify, now: deps.now, log: deps.log })
        : undefined,
  };
  deps.log.info('safety sweep', { ...summary });
  return summary;
}

async function sweepStuckProvisioning(deps: SafetySweepDeps, options: SafetySweepOptions) {
  const at = new Date(deps.now()).toISOString();
  const before = new Date(deps.now() - options.stuckAfterMinutes * 60_000).toISOString();
  const waiting = (await deps.outbox.pending(before, options.limit)).filter((p) => p.event.type === 'instance.created' && !p.reported);
  let requeued = 0;
  let reported = 0;
  let cleared = 0;
  for (const { event, requeues } of waiting) {
    const instance = await deps.store.getInstance(event.instanceId);
    if (!instance || !awaitsProvisioning(instance)) {
      // Provisioned, failed or released meanwhile: the event has nothing left to do.
      await deps.outbox.complete(event);
      cleared++;
      continue;
    }
    if (requeues < options.maxRequeues) {
      if (!(await deps.outbox.markRequeued(event, requeues, at))) continue;
      const unsent = await deps.publisher.publish([event]);
      if (unsent.length === 0) requeued++;
      continue;
    }
    if (!(await deps.outbox.markReported(event, at))) continue;
    await deps.store.annotate(instance.instanceId, instance.version, { provisioning: { ...instance.provisioning, stuckSince: at } });
    deps.log.error('provisioning is stuck; the seller must look', {
      instanceId: instance.instanceId,
      eventId: event.eventId,
      requeues,
      since: instance.createdAt,
    });
    await deps.notify?.(
      notices.provisioningStuck({ instanceId: instance.instanceId, orderId: instance.orderId, since: instance.createdAt, requeues, at }),
    );
    reported++;
  }
  return { requeued, reported, cleared };
}

async function flagOverdue(deps: SafetySweepDeps, options: SafetySweepOptions): Promise<number> {
  const at = new Date(deps.now()).toISOString();
  const before = new Date(deps.now() - options.graceHours * 3_600_000).toISOString();
  let flagged = 0;
  for (const due of await deps.store.dueForExpiry(before, options.limit)) {
    // The index is eventually consistent: a version that moved meanwhile is looked at again next hour.
    if (!(await deps.store.annotate(due.instanceId, due.version, { overdueSince: at }))) continue;
    deps.log.warn('instance is past its expiry without a FREEZE from the marketplace', {
      instanceId: due.instanceId,
      expiredAt: due.dueAt,
    });
    flagged++;
  }
  return flagged;
}

/** Tells the seller's people while the dead-letter queue holds events (at most once a day per queue). */
async function watchDeadLetters(deps: SafetySweepDeps): Promise<number | undefined> {
  if (!deps.deadLetters) return undefined;
  const messages = await deps.deadLetters.depth();
  if (messages > 0) {
    await deps.notify?.(notices.dlqNotEmpty({ queue: deps.deadLetters.queue, messages, at: new Date(deps.now()).toISOString() }));
  }
  return messages;
}
