import { issuesMessage, Refusal } from '#lib/shared/refusal.ts';
import { iso } from '#lib/shared/time.ts';
import type { ProofRecord, SupervisionRecord } from './model.ts';
import type { SupervisionDeps } from './ports.ts';
import { proofUploadForm, type ProofUploadForm } from './presign.ts';
import { proofRequestSchemaFor } from './proofRequest.ts';
import { newProofId, proofObjectKey, sha256Forms, type ProofKind } from './proofs.ts';
import { noSupervision } from './refusals.ts';

/** How long an upload form is valid. */
export const UPLOAD_SECONDS = 15 * 60;

export interface ProofUploadAnswer {
  proofId: string;
  /** Where the object will be: proofs/{orderId}/{orderLineId}/{proofId}. */
  key: string;
  upload: ProofUploadForm;
}

/** Why a proof of this kind cannot be uploaded now, or undefined. */
export function uploadRefusal(record: SupervisionRecord, kind: ProofKind): string | undefined {
  if (kind === 'appeal-evidence') return undefined;
  if (record.state === 'ACCEPTED') return 'the delivery is accepted: only appeal-evidence can be uploaded';
  if (record.appeal)
    return `an appeal opened at ${record.appeal.openedAt} is open: only appeal-evidence can be uploaded until it is closed`;
  return undefined;
}

/** A seller's request to upload one proof: the proof is recorded and a presigned POST for its object answered. */
export async function requestProofUpload(
  orderId: string,
  orderLineId: string,
  body: unknown,
  deps: SupervisionDeps,
): Promise<ProofUploadAnswer> {
  const parsed = proofRequestSchemaFor(deps.settings.maxBytes).safeParse(body);
  if (!parsed.success) throw new Refusal('unprocessable', issuesMessage(parsed.error, 'body'));
  const request = parsed.data;
  const record = await deps.store.get(orderId, orderLineId);
  if (!record) throw await noSupervision(deps, orderId, orderLineId);
  const refusal = uploadRefusal(record, request.kind);
  if (refusal) throw new Refusal('conflict', refusal);

  const now = deps.now();
  const proofId = newProofId(now);
  const key = proofObjectKey(orderId, orderLineId, proofId);
  const digest = sha256Forms(request.sha256);
  if (!digest) throw new Refusal('unprocessable', 'body.sha256: must be 64 hex characters or 44 base64 characters');
  // The policy admits exactly the declared bytes: at most their size, with their SHA-256.
  const upload = await proofUploadForm(deps.presigner, {
    bucket: deps.bucket,
    key,
    contentType: request.contentType,
    sha256Base64: digest.base64,
    maxBytes: request.size,
    expiresSeconds: UPLOAD_SECONDS,
  });
  const proof: ProofRecord = {
    orderId,
    orderLineId,
    proofId,
    kind: request.kind,
    fileName: request.fileName,
    contentType: request.contentType,
    size: request.size,
    sha256: digest.hex,
    key,
    state: 'AWAITING_UPLOAD',
    round: record.round,
    ...(request.serviceStartAt !== undefined ? { serviceStartAt: iso(Date.parse(request.serviceStartAt)) } : {}),
    requestedAt: iso(now),
    uploadExpiresAt: iso(now + UPLOAD_SECONDS * 1000),
  };
  if (!(await deps.store.addProof(proof))) throw await noSupervision(deps, orderId, orderLineId);
  deps.log.info('proof upload requested', { orderId, orderLineId, proofId, kind: proof.kind, round: proof.round, size: proof.size });
  return { proofId, key, upload };
}
