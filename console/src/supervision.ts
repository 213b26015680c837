/**
 * Service supervision in the console, the pure parts: the decisions a seller records (and the body each sends),
 * the content type a proof is declared with, and whether a proof's check is over.
 */
import type { Proof, SupervisionDetail } from './types.ts';

export const DECISIONS = [
  { action: 'accept', label: 'Accepted by the buyer (or Huawei)', needsReason: false },
  { action: 'reject', label: 'Rejected by the buyer (or Huawei): a new round', needsReason: true },
  { action: 'startReview', label: 'Huawei started its review (enabling-cloud orders)', needsReason: false },
  { action: 'openAppeal', label: 'Open an appeal', needsReason: true },
  { action: 'closeAppeal', label: 'Close the appeal', needsReason: true },
] as const;
export type DecisionAction = (typeof DECISIONS)[number]['action'];

/** The transition's body: the text is the reason where the decision needs one, else a note. */
export function decisionBody(action: DecisionAction, text: string): Record<string, string> {
  const trimmed = text.trim();
  const decision = DECISIONS.find((d) => d.action === action)!;
  if (decision.needsReason) return { action, reason: trimmed };
  return trimmed ? { action, note: trimmed } : { action };
}

export const PROOF_KINDS = ['acceptance', 'requirement', 'license-screenshot', 'deployment', 'appeal-evidence', 'other'] as const;

const TYPES_BY_EXTENSION: Record<string, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  zip: 'application/zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** The declared content type: the one the browser knows, else the one the file name's extension says. */
export function proofContentType(fileName: string, browserType: string): string {
  if (browserType) return browserType;
  const extension = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase() ?? '';
  return TYPES_BY_EXTENSION[extension] ?? 'application/octet-stream';
}

/** The proof once its check is over (VERIFIED or REJECTED), else undefined. */
export function settledProof(detail: SupervisionDetail, proofId: string): Proof | undefined {
  const proof = detail.proofs.find((p) => p.proofId === proofId);
  return proof && proof.state !== 'AWAITING_UPLOAD' ? proof : undefined;
}
