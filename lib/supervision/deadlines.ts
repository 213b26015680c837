/**
 * The supervision watch of the hourly safety sweep: tells the seller's people when a supervised order line waits for
 * its delivery proofs (a catch-up of the notice its flow sends when the wait begins) and when a flow's deadline is
 * near: the seller's proofs `proofDays` after the wait began, the buyer's decision `decisionDays` after the proofs
 * (an idle counterpart may then be appealed, spec §8.3). Each notice once per wait (lib/notifications).
 */
import type { Log } from '#lib/log.ts';
import * as notices from '#lib/notifications/events.ts';
import type { Notify } from '#lib/notifications/notifier.ts';
import { iso } from '#lib/shared/time.ts';
import type { SupervisionWaiting } from './model.ts';
import type { SupervisionStore } from './ports.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface SupervisionDeadlines {
  /** Days the seller has to upload a round's proofs (SUPERVISION_PROOF_DAYS). */
  proofDays: number;
  /** Days the buyer has to decide on them (SUPERVISION_DECISION_DAYS). */
  decisionDays: number;
  /** Hours before a deadline that the notice goes out (SUPERVISION_DEADLINE_NOTICE_HOURS). */
  noticeHours: number;
}

export interface SupervisionWatchDeps {
  store: Pick<SupervisionStore, 'waitingSince'>;
  notify: Notify;
  deadlines: SupervisionDeadlines;
  now: () => number;
  log: Log;
}

export interface SupervisionWatchSummary {
  awaitingProofs: number;
  nearDeadline: number;
}

/** How far back the watch looks: a wait whose deadline passed more than this long ago was told about already. */
export const LOOKBACK_MS = 7 * DAY;
const LIMIT = 500;

/** The deadline of a wait that began at `since`. */
export function deadlineOf(what: SupervisionWaiting['for'], since: string, deadlines: SupervisionDeadlines): string {
  const days = what === 'proofs' ? deadlines.proofDays : deadlines.decisionDays;
  return iso(Date.parse(since) + days * DAY);
}

export async function watchSupervision(deps: SupervisionWatchDeps): Promise<SupervisionWatchSummary> {
  const nowMs = deps.now();
  const at = iso(nowMs);
  const summary: SupervisionWatchSummary = { awaitingProofs: 0, nearDeadline: 0 };

  // Waits for proofs that began within the last day: told when they began; told here if that notice was lost.
  for (const flow of await deps.store.waitingSince('proofs', { from: iso(nowMs - DAY), to: at }, LIMIT)) {
    const dueAt = deadlineOf('proofs', flow.since, deps.deadlines);
    if ((await deps.notify(notices.supervisionAwaitingProofs({ ...flow, dueAt, at }))) === 'sent') summary.awaitingProofs++;
  }

  for (const what of ['proofs', 'decision'] as const) {
    const days = what === 'proofs' ? deps.deadlines.proofDays : deps.deadlines.decisionDays;
    // Deadline (since + days) within [now - lookback, now + notice window].
    const range = { from: iso(nowMs - LOOKBACK_MS - days * DAY), to: iso(nowMs + deps.deadlines.noticeHours * HOUR - days * DAY) };
    for (const flow of await deps.store.waitingSince(what, range, LIMIT)) {
      const dueAt = deadlineOf(what, flow.since, deps.deadlines);
      const told = await deps.notify(notices.supervisionDeadline({ ...flow, waitingFor: what, dueAt, at }));
      if (told === 'sent') summary.nearDeadline++;
    }
  }
  if (summary.awaitingProofs + summary.nearDeadline > 0) deps.log.info('supervision watch', { ...summary });
  return summary;
}
