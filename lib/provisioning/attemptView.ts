import type { Instance, ProvisioningAttempt } from '#lib/instances/model.ts';
import { iso } from '#lib/shared/time.ts';
import { CALL_LIFETIME_MS } from './worker.ts';

/**
 * What the seller sees of an instance's calls to its product (the `ProvisioningAttempt` record): how many were made,
 * whether one is in flight, the last error, and when the queue delivers the event again.
 *
 * `nextRetryAt`: a call that failed in a way that may pass later (or whose worker died) leaves the event on the
 * provisioning queue, which delivers it again once its visibility timeout has run out since it was received:
 * about `startedAt` + PROVISIONING_VISIBILITY_SECONDS. It is shown only while that moment is ahead and the instance
 * still waits for provisioning. Past it, the event is either being handled or, after five receives, in the
 * dead-letter queue; the hourly safety sweep then re-queues it (at most STUCK_PROVISIONING_REQUEUES times, for
 * events older than STUCK_PROVISIONING_MINUTES) and finally marks the instance `stuckSince`.
 */

/** The provisioning queue's visibility timeout (serverless.yml, custom.queues.provisioningVisibilitySeconds). */
export const PROVISIONING_VISIBILITY_SECONDS = 180;

export interface ProvisioningAttemptView {
  /** Calls made to the seller's product for this instance, in all (redeliveries, re-queues and retries included). */
  attempts: number;
  /** `calling`: a call is in flight (or its worker died); `answered`: the last call was answered. */
  status: ProvisioningAttempt['status'];
  startedAt: string;
  answeredAt?: string;
  /** Why the latest call failed; absent when it succeeded. */
  lastError?: string;
  /** When the queue delivers the event again, if a retry is due. */
  nextRetryAt?: string;
}

/** Whether the queue will deliver the event again: the instance still waits and no call is in flight. */
function retryPending(instance: Instance, attempt: ProvisioningAttempt, now: number): boolean {
  if (instance.state !== 'PROVISIONING' || instance.appInfo || instance.provisioning?.stuckSince) return false;
  if (attempt.status === 'answered') return true;
  return now - Date.parse(attempt.startedAt) >= CALL_LIFETIME_MS;
}

export function provisioningAttemptView(instance: Instance, attempt: ProvisioningAttempt, now: number): ProvisioningAttemptView {
  const view: ProvisioningAttemptView = {
    attempts: attempt.attempts,
    status: attempt.status,
    startedAt: attempt.startedAt,
    ...(attempt.answeredAt ? { answeredAt: attempt.answeredAt } : {}),
    ...(attempt.lastError ? { lastError: attempt.lastError } : {}),
  };
  const redelivery = Date.parse(attempt.startedAt) + PROVISIONING_VISIBILITY_SECONDS * 1000;
  if (retryPending(instance, attempt, now) && redelivery > now) view.nextRetryAt = iso(redelivery);
  return view;
}
