import { iso } from '#lib/shared/time.ts';
import type { ProofRecord, SupervisionHistoryEntry, SupervisionRecord } from './model.ts';
import type { SupervisionDeps } from './ports.ts';
import { downloadUrl } from './presign.ts';
import type { ProofKind } from './proofs.ts';
import { noSupervision } from './refusals.ts';
import { effectiveServiceStart } from './stateMachine.ts';
import { deliveryProofs } from './submission.ts';

/** The seller's view of the flow. */

/** How long a download link is valid. */
export const DOWNLOAD_SECONDS = 5 * 60;

export type ProofView = ProofRecord & {
  /** A presigned GET valid for a few minutes; verified proofs only. */
  downloadUrl?: string;
  downloadExpiresAt?: string;
};

export interface SupervisionViewAnswer {
  supervision: SupervisionRecord;
  /** When the service's validity starts: the declared actual start, else the acceptance. */
  effectiveServiceStart?: string;
  /** The current round: which required kinds are verified and which are still missing. */
  currentRound: { round: number; requiredKinds: ProofKind[]; verifiedKinds: ProofKind[]; missingKinds: ProofKind[] };
  history: SupervisionHistoryEntry[];
  proofs: ProofView[];
}

/** The flow, its history (oldest first) and its proofs (oldest first), with download links for verified proofs. */
export async function supervisionView(orderId: string, orderLineId: string, deps: SupervisionDeps): Promise<SupervisionViewAnswer> {
  const view = await deps.store.view(orderId, orderLineId);
  if (!view) throw await noSupervision(deps, orderId, orderLineId);
  const { record } = view;
  const expiresAt = iso(deps.now() + DOWNLOAD_SECONDS * 1000);
  const proofs = await Promise.all(
    [...view.proofs]
      .sort((a, b) => (a.proofId < b.proofId ? -1 : a.proofId > b.proofId ? 1 : 0))
      .map(async (proof): Promise<ProofView> => {
        if (proof.state !== 'VERIFIED') return proof;
        const url = await downloadUrl(deps.presigner, {
          bucket: deps.bucket,
          key: proof.key,
          expiresSeconds: DOWNLOAD_SECONDS,
          fileName: proof.fileName,
        });
        return { ...proof, downloadUrl: url, downloadExpiresAt: expiresAt };
      }),
  );
  const verifiedKinds = [...new Set(deliveryProofs(view.proofs, record.round).map((p) => p.kind))];
  const start = effectiveServiceStart(record);
  return {
    supervision: record,
    ...(start ? { effectiveServiceStart: start } : {}),
    currentRound: {
      round: record.round,
      requiredKinds: record.requiredKinds,
      verifiedKinds,
      missingKinds: record.requiredKinds.filter((k) => !verifiedKinds.includes(k)),
    },
    history: [...view.history].sort((a, b) => a.version - b.version),
    proofs,
  };
}
