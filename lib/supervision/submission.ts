import { iso } from '#lib/shared/time.ts';
import type { ProofRecord } from './model.ts';
import type { SupervisionDeps } from './ports.ts';
import { requiredKindsPresent } from './proofs.ts';
import { applySupervision } from './stateMachine.ts';

/** Moving the flow on once the round's proofs are in. */

/** Attempts at a version-conditioned write before a concurrent change is reported. */
export const MAX_ATTEMPTS = 5;

/** The round's verified delivery proofs (appeal evidence does not count as delivery). */
export function deliveryProofs(proofs: readonly ProofRecord[], round: number): ProofRecord[] {
  return proofs
    .filter((p) => p.state === 'VERIFIED' && p.round === round && p.kind !== 'appeal-evidence')
    .sort((a, b) => (a.proofId < b.proofId ? -1 : a.proofId > b.proofId ? 1 : 0));
}

export type AdvanceOutcome = 'submitted' | 'incomplete' | 'unchanged' | 'refused' | 'missing';

/**
 * PROOF_SUBMITTED once the current round's verified proofs cover the required kinds, with the service start the
 * latest of them declared. Version-conditioned; a lost race re-reads and tries again.
 */
export async function advanceIfComplete(orderId: string, orderLineId: string, deps: SupervisionDeps): Promise<AdvanceOutcome> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const view = await deps.store.view(orderId, orderLineId);
    if (!view) return 'missing';
    const { record } = view;
    const verified = deliveryProofs(view.proofs, record.round);
    if (!requiredKindsPresent(record.requiredKinds, verified, record.round)) return 'incomplete';
    const serviceStartAt = [...verified].reverse().find((p) => p.serviceStartAt !== undefined)?.serviceStartAt;
    const at = iso(deps.now());
    const result = applySupervision(
      record,
      { type: 'proofSubmitted', proofIds: verified.map((p) => p.proofId), serviceStartAt, round: record.round },
      at,
      'system',
    );
    if (!result.ok) {
      deps.log.info('verified proofs do not move the flow', { orderId, orderLineId, state: record.state, code: result.code });
      return 'refused';
    }
    if (result.unchanged) return 'unchanged';
    const committed = await deps.store.commit(deps.store.transitionWrites(record.version, result.next, result.entry));
    if (committed.ok) {
      deps.log.info('supervision proofs submitted', {
        orderId,
        orderLineId,
        round: record.round,
        proofs: verified.length,
        version: result.next.version,
      });
      return 'submitted';
    }
    deps.log.warn('supervision changed concurrently; retrying', {
      orderId,
      orderLineId,
      attempt,
      conditionFailed: committed.conditionFailed,
    });
  }
  throw new Error(`supervision of ${orderId}/${orderLineId} kept changing: proofs not submitted after ${MAX_ATTEMPTS} attempts`);
}
