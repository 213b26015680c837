import * as z from 'zod';
import type { SellerActor } from '#lib/audit/records.ts';
import type { PlannedWrite } from '#lib/shared/transaction.ts';
import { issuesMessage, Refusal } from '#lib/shared/refusal.ts';
import { iso } from '#lib/shared/time.ts';
import {
  APPEAL_OUTCOMES,
  type SupervisionAction,
  type SupervisionActor,
  type SupervisionHistoryEntry,
  type SupervisionRecord,
} from './model.ts';
import type { SupervisionDeps } from './ports.ts';
import { isProofId, LONE_SURROGATE } from './proofs.ts';
import * as notices from '#lib/notifications/events.ts';
import { deadlineOf } from './deadlines.ts';
import { noSupervision } from './refusals.ts';
import { applySupervision } from './stateMachine.ts';
import { advanceIfComplete, MAX_ATTEMPTS } from './submission.ts';

/** The seller's record of decisions. */

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !LONE_SURROGATE.test(v), 'must be well-formed Unicode (it has a lone surrogate)');
const note = text(2000).optional().describe('Free text kept in the history');
const reason = text(2000);

export const TransitionRequestSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('startReview').describe('Huawei started reviewing (enabling-cloud orders)'), note }),
  z.strictObject({ action: z.literal('accept').describe('The buyer (or Huawei) accepted the delivery'), note }),
  z.strictObject({ action: z.literal('reject').describe('The buyer (or Huawei) rejected the delivery: a new round starts'), reason, note }),
  z.strictObject({
    action: z.literal('openAppeal'),
    reason,
    evidence: z
      .array(z.string().refine(isProofId, 'must be a proof id'))
      .max(20)
      .default([])
      .describe('Verified proofs of this order line backing the appeal (e.g. a letter of commitment uploaded as appeal-evidence)'),
    appellant: z.enum(['seller', 'buyer']).default('seller').describe('Who appealed'),
    note,
  }),
  z.strictObject({
    action: z.literal('closeAppeal').describe('The operations manager decided the appeal'),
    reason,
    outcome: z.enum(APPEAL_OUTCOMES).optional(),
    note,
  }),
]);
export type TransitionRequest = z.infer<typeof TransitionRequestSchema>;

export interface TransitionAnswer {
  supervision: SupervisionRecord;
  /** The history entry written; absent when the action was a repeat that changed nothing. */
  entry?: SupervisionHistoryEntry;
  unchanged: boolean;
  /** Why nothing changed. */
  reason?: string;
}

/** Every decision recorded here is the seller's: its history entry names the seller and the key that recorded it. */
const DECISION_ACTOR: SupervisionActor = 'seller';

function actionOf(request: TransitionRequest): SupervisionAction {
  const noteOf = request.note !== undefined ? { note: request.note } : {};
  switch (request.action) {
    case 'startReview':
      return { type: 'startReview', ...noteOf };
    case 'accept':
      return { type: 'accept', ...noteOf };
    case 'reject':
      return { type: 'reject', reason: request.reason, ...noteOf };
    case 'openAppeal':
      return { type: 'openAppeal', reason: request.reason, evidence: request.evidence, ...noteOf };
    case 'closeAppeal':
      return { type: 'closeAppeal', reason: request.reason, outcome: request.outcome, ...noteOf };
  }
}

/** The state machine's change, signed: the history entry names who recorded it, an acceptance too. */
function signed(
  request: TransitionRequest,
  next: SupervisionRecord,
  entry: SupervisionHistoryEntry,
  by: SellerActor,
): { next: SupervisionRecord; entry: SupervisionHistoryEntry } {
  const signedEntry: SupervisionHistoryEntry = { ...entry, by };
  if (request.action === 'openAppeal') signedEntry.appellant = request.appellant;
  return { next: request.action === 'accept' ? { ...next, acceptedBy: by } : next, entry: signedEntry };
}

/** A rejection sends the seller back to deliver: its people are told, with the new round's deadline. */
async function tellAwaitingProofs(record: SupervisionRecord, since: string, deps: SupervisionDeps): Promise<void> {
  if (!deps.notify || !deps.deadlines) return;
  const { orderId, orderLineId, instanceId } = record;
  const dueAt = deadlineOf('proofs', since, deps.deadlines);
  await deps.notify(notices.supervisionAwaitingProofs({ orderId, orderLineId, instanceId, since, dueAt, at: since }));
}

/**
 * Records a decision on the flow, taken by `by` (the seller API key that sent it). Refused (409) when the state machine refuses it; an acceptance writes the order
 * line's billing facts in the same transaction. A concurrent change is retried a few times, then reported (409).
 */
export async function recordTransition(
  orderId: string,
  orderLineId: string,
  body: unknown,
  deps: SupervisionDeps,
  by: SellerActor,
): Promise<TransitionAnswer> {
  const parsed = TransitionRequestSchema.safeParse(body);
  if (!parsed.success) throw new Refusal('unprocessable', issuesMessage(parsed.error, 'body'));
  const action = actionOf(parsed.data);
  const actor = DECISION_ACTOR;

  if (action.type === 'openAppeal' && action.evidence.length > 0) {
    const view = await deps.store.view(orderId, orderLineId);
    if (!view) throw await noSupervision(deps, orderId, orderLineId);
    const verified = new Set(view.proofs.filter((p) => p.state === 'VERIFIED').map((p) => p.proofId));
    const unknown = action.evidence.filter((id) => !verified.has(id));
    if (unknown.length > 0)
      throw new Refusal('unprocessable', `body.evidence: not verified proofs of this order line: ${unknown.slice(0, 5).join(', ')}`);
  }

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const record = await deps.store.get(orderId, orderLineId);
    if (!record) throw await noSupervision(deps, orderId, orderLineId);
    const at = iso(deps.now());
    const result = applySupervision(record, action, at, actor);
    if (!result.ok) throw new Refusal(result.code === 'INVALID' ? 'unprocessable' : 'conflict', result.message);
    if (result.unchanged) return { supervision: record, unchanged: true, reason: result.reason };
    const { next, entry } = signed(parsed.data, result.next, result.entry, by);

    const writes: PlannedWrite[] = deps.store.transitionWrites(record.version, next, entry);
    if (next.state === 'ACCEPTED' && record.state !== 'ACCEPTED') {
      const completedAt = next.acceptedAt ?? at;
      writes.push(...(await deps.recorder.supervisionCompletedWrites(orderId, orderLineId, completedAt, next.serviceStartAt, at, by)));
    }
    const committed = await deps.store.commit(writes);
    if (committed.ok) {
      deps.log.info('supervision transition recorded', {
        orderId,
        orderLineId,
        action: action.type,
        actor,
        keyId: by.kind === 'key' ? by.keyId : undefined,
        from: record.state,
        to: next.state,
        version: next.version,
      });
      if (next.state === 'REJECTED' && next.waiting) await tellAwaitingProofs(next, next.waiting.since, deps);
      let supervision = next;
      // Proofs verified while the appeal froze the flow count once it is closed.
      if (action.type === 'closeAppeal' && (await advanceIfComplete(orderId, orderLineId, deps)) === 'submitted') {
        supervision = (await deps.store.get(orderId, orderLineId)) ?? supervision;
      }
      return { supervision, entry, unchanged: false };
    }
    deps.log.warn('supervision changed concurrently; retrying', {
      orderId,
      orderLineId,
      action: action.type,
      attempt,
      conditionFailed: committed.conditionFailed,
    });
  }
  throw new Refusal('conflict', 'the supervision changed concurrently: read it again and retry');
}
