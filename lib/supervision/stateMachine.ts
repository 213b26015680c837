import type {
  SupervisionAction,
  SupervisionActor,
  SupervisionHistoryEntry,
  SupervisionRecord,
  SupervisionState,
  SupervisionWaiting,
} from './model.ts';
import type { ProofKind } from './proofs.ts';

/**
 * The service-supervision state machine, pure: given a record and an action it says what changes.
 *
 *   AWAITING_DELIVERY ─proofSubmitted→ PROOF_SUBMITTED ─accept→ ACCEPTED            (ordinary orders)
 *                                      PROOF_SUBMITTED ─startReview→ HUAWEI_REVIEW ─accept→ ACCEPTED (enabling cloud)
 *   PROOF_SUBMITTED | HUAWEI_REVIEW ─reject→ REJECTED ─proofSubmitted→ PROOF_SUBMITTED (next round)
 *
 * ACCEPTED is terminal. An appeal can be opened at any node, ACCEPTED and REJECTED included; while it is open
 * every action but `closeAppeal` is refused (APPEAL_OPEN), and closing it leaves the state where it was.
 *
 * Repeats are harmless, answered `ok` and `unchanged` with no history entry:
 * - `proofSubmitted` while the round's proofs are already in (PROOF_SUBMITTED, HUAWEI_REVIEW), or for another
 *   round than the current one (a late duplicate of an earlier round's event);
 * - `startReview` in HUAWEI_REVIEW, `accept` in ACCEPTED, `reject` in REJECTED (a rejection happens once per round);
 * - `openAppeal` with the same reason and evidence as the open appeal.
 * A `closeAppeal` with no appeal open is NO_APPEAL: callers replaying one may read it as "already closed".
 */

export type SupervisionErrorCode = 'ILLEGAL_TRANSITION' | 'APPEAL_OPEN' | 'NO_APPEAL' | 'INVALID';

export type SupervisionResult =
  | { ok: true; unchanged?: false; next: SupervisionRecord; entry: SupervisionHistoryEntry }
  | { ok: true; unchanged: true; next: SupervisionRecord; reason: string }
  | { ok: false; code: SupervisionErrorCode; message: string };

export interface NewSupervisionInput {
  orderId: string;
  orderLineId: string;
  instanceId: string;
  productId: string;
  enablingCloud: boolean;
  requiredKinds: readonly ProofKind[];
}

/** A new flow, waiting for the seller's delivery (round 1). */
export function newSupervision(
  input: NewSupervisionInput,
  at: string,
  actor: SupervisionActor = 'system',
): { record: SupervisionRecord; entry: SupervisionHistoryEntry } {
  const record: SupervisionRecord = {
    orderId: input.orderId,
    orderLineId: input.orderLineId,
    instanceId: input.instanceId,
    productId: input.productId,
    enablingCloud: input.enablingCloud,
    requiredKinds: [...new Set(input.requiredKinds)],
    state: 'AWAITING_DELIVERY',
    round: 1,
    rejections: 0,
    waiting: { for: 'proofs', since: at },
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  const entry: SupervisionHistoryEntry = { version: 1, at, actor, action: 'created', to: 'AWAITING_DELIVERY', round: 1 };
  return { record, entry };
}

/** Whom a flow in `state` waits for: the seller's proofs, the buyer's decision, or nobody (ACCEPTED). */
export function waitingFor(state: SupervisionState): SupervisionWaiting['for'] | undefined {
  if (state === 'AWAITING_DELIVERY' || state === 'REJECTED') return 'proofs';
  if (state === 'PROOF_SUBMITTED' || state === 'HUAWEI_REVIEW') return 'decision';
  return undefined;
}

/** When the service's validity starts (§8.3): the declared actual start, else the acceptance. */
export function effectiveServiceStart(record: SupervisionRecord): string | undefined {
  return record.serviceStartAt ?? record.acceptedAt;
}

/** Whether the flow is finished for good (an appeal may still be opened on it). */
export function isTerminal(state: SupervisionState): boolean {
  return state === 'ACCEPTED';
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 date-time with an explicit offset that names a real instant. */
export function isIsoInstant(value: string): boolean {
  return ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value));
}

const blank = (value: string | undefined): boolean => value === undefined || value.trim() === '';
const validIds = (ids: readonly string[]): boolean => Array.isArray(ids) && ids.every((id) => typeof id === 'string' && id.trim() !== '');

/** What is wrong with the action on its own, whatever the record's state. */
function invalid(action: SupervisionAction, actor: SupervisionActor): string | undefined {
  switch (action.type) {
    case 'proofSubmitted':
      if (actor !== 'system') return 'proofs are submitted by the system once they are verified';
      if (!validIds(action.proofIds) || action.proofIds.length === 0) return 'proofSubmitted needs at least one proof id';
      if (action.serviceStartAt !== undefined && !isIsoInstant(action.serviceStartAt)) return 'serviceStartAt must be an ISO 8601 instant';
      if (action.round !== undefined && (!Number.isInteger(action.round) || action.round < 1)) return 'round must be a positive integer';
      return undefined;
    case 'reject':
      return blank(action.reason) ? 'a rejection needs a reason' : undefined;
    case 'openAppeal':
      if (blank(action.reason)) return 'an appeal needs a reason';
      return validIds(action.evidence) ? undefined : 'appeal evidence must be proof ids';
    case 'closeAppeal':
      return blank(action.reason) ? 'closing an appeal needs a reason' : undefined;
    default:
      return undefined;
  }
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

function refused(code: SupervisionErrorCode, message: string): SupervisionResult {
  return { ok: false, code, message };
}

function unchanged(record: SupervisionRecord, reason: string): SupervisionResult {
  return { ok: true, unchanged: true, next: record, reason };
}

function illegal(record: SupervisionRecord, action: SupervisionAction, why?: string): SupervisionResult {
  return refused('ILLEGAL_TRANSITION', `${action.type} is not possible in ${record.state}${why ? `: ${why}` : ''}`);
}

/** Applies an action: the next record and its history entry, an unchanged answer for a repeat, or a refusal. */
export function applySupervision(
  record: SupervisionRecord,
  action: SupervisionAction,
  at: string,
  actor: SupervisionActor,
): SupervisionResult {
  const problem = invalid(action, actor);
  if (problem) return refused('INVALID', problem);

  const version = record.version + 1;
  const change = (
    to: SupervisionState,
    fields: Partial<SupervisionRecord>,
    extra: Partial<Omit<SupervisionHistoryEntry, 'version' | 'at' | 'actor' | 'action' | 'from' | 'to'>> = {},
  ): SupervisionResult => {
    const next: SupervisionRecord = { ...record, ...fields, state: to, version, updatedAt: at };
    // A new state starts a new wait (an appeal, which keeps the state, keeps the wait it interrupted).
    if (to !== record.state) {
      const waiting = waitingFor(to);
      if (waiting) next.waiting = { for: waiting, since: at };
      else delete next.waiting;
    }
    const entry: SupervisionHistoryEntry = { version, at, actor, action: action.type, from: record.state, to, round: next.round, ...extra };
    if (action.note !== undefined && action.note.trim() !== '') entry.note = action.note;
    return { ok: true, next, entry };
  };

  if (record.appeal) {
    if (action.type === 'closeAppeal') {
      const { appeal: _closed, ...rest } = record;
      const next: SupervisionRecord = { ...rest, version, updatedAt: at };
      const entry: SupervisionHistoryEntry = {
        version,
        at,
        actor,
        action: 'closeAppeal',
        from: record.state,
        to: record.state,
        round: record.round,
        reason: action.reason,
      };
      if (action.outcome) entry.outcome = action.outcome;
      if (action.note !== undefined && action.note.trim() !== '') entry.note = action.note;
      return { ok: true, next, entry };
    }
    if (action.type === 'openAppeal' && action.reason === record.appeal.reason && sameList(action.evidence, record.appeal.evidence)) {
      return unchanged(record, 'this appeal is already open');
    }
    return refused('APPEAL_OPEN', `an appeal opened at ${record.appeal.openedAt} is open: the flow is frozen until it is closed`);
  }

  switch (action.type) {
    case 'closeAppeal':
      return refused('NO_APPEAL', 'no appeal is open');

    case 'openAppeal':
      return change(
        record.state,
        { appeal: { openedAt: at, reason: action.reason, evidence: [...action.evidence] } },
        { reason: action.reason, evidence: [...action.evidence] },
      );

    case 'proofSubmitted': {
      if (action.round !== undefined && action.round !== record.round) {
        return unchanged(record, `proofs of round ${action.round}, the flow is in round ${record.round}`);
      }
      if (record.state === 'PROOF_SUBMITTED' || record.state === 'HUAWEI_REVIEW')
        return unchanged(record, 'proofs of this round are already submitted');
      if (record.state !== 'AWAITING_DELIVERY' && record.state !== 'REJECTED') return illegal(record, action);
      const fields: Partial<SupervisionRecord> = { submittedAt: at };
      if (action.serviceStartAt !== undefined) fields.serviceStartAt = action.serviceStartAt;
      const extra: Partial<SupervisionHistoryEntry> = { proofIds: [...action.proofIds] };
      if (action.serviceStartAt !== undefined) extra.serviceStartAt = action.serviceStartAt;
      return change('PROOF_SUBMITTED', fields, extra);
    }

    case 'startReview':
      if (record.state === 'HUAWEI_REVIEW') return unchanged(record, 'already in Huawei review');
      if (record.state !== 'PROOF_SUBMITTED') return illegal(record, action);
      if (!record.enablingCloud) return illegal(record, action, 'only enabling-cloud orders go through Huawei review');
      return change('HUAWEI_REVIEW', {});

    case 'accept':
      if (record.state === 'ACCEPTED') return unchanged(record, 'already accepted');
      if (record.enablingCloud) {
        if (record.state !== 'HUAWEI_REVIEW') {
          return illegal(
            record,
            action,
            record.state === 'PROOF_SUBMITTED' ? 'an enabling-cloud order is accepted after Huawei review' : undefined,
          );
        }
      } else if (record.state !== 'PROOF_SUBMITTED') {
        return illegal(record, action);
      }
      return change('ACCEPTED', { acceptedAt: at });

    case 'reject':
      if (record.state === 'REJECTED') return unchanged(record, 'this round is already rejected');
      if (record.state !== 'PROOF_SUBMITTED' && record.state !== 'HUAWEI_REVIEW') return illegal(record, action);
      return change(
        'REJECTED',
        { rejections: record.rejections + 1, round: record.round + 1 },
        { reason: action.reason, round: record.round },
      );
  }
}
