import type { Answer } from '#lib/koogallery/resultCodes.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import type { PlannedWrite, WriteLabel } from '#lib/shared/transaction.ts';

/**
 * What one marketplace call will do: the answer to give once `writes` are committed (in one transaction,
 * together with the nonce claim and the audit record), and the events to publish afterwards.
 * Plans only read; if the commit's conditions fail, the call is planned again from fresh reads.
 */
export interface Plan {
  answer: Answer;
  writes: PlannedWrite[];
  events: LifecycleEvent[];
  /** Ids for the message log. */
  refs: { orderId?: string; orderLineId?: string; instanceId?: string; licenseId?: string };
  /** Extra structured fields worth a log line (e.g. an unknown scene). */
  note?: Record<string, unknown>;
  /** Given the labels whose conditions failed: a final answer, or undefined to plan again. */
  onConditionFailed?: (labels: WriteLabel[]) => Answer | undefined;
}
