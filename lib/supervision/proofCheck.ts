import type { S3Event, S3EventRecord } from 'aws-lambda';
import { errorFields } from '#lib/shared/errors.ts';
import { iso } from '#lib/shared/time.ts';
import type { SupervisionDeps } from './ports.ts';
import { quarantine, readObject } from './proofObjects.ts';
import { checkReceivedObject, decodeS3EventKey, parseProofObjectKey, quarantineKey } from './proofs.ts';
import { advanceIfComplete, type AdvanceOutcome } from './submission.ts';

/**
 * S3 checks a POST form's expiry when the upload starts; a large file started just in time is stored later.
 * An object created up to this long after the form expired still counts.
 */
export const RECEIVE_GRACE_SECONDS = 5 * 60;

export type ReceivedOutcome =
  | { key: string; outcome: 'verified'; proofId: string; advanced: AdvanceOutcome }
  | { key: string; outcome: 'rejected'; proofId: string; reason: string }
  | { key: string; outcome: 'quarantined'; reason: string }
  | { key: string; outcome: 'duplicate'; proofId: string }
  | { key: string; outcome: 'missing'; proofId?: string }
  | { key: string; outcome: 'ignored'; reason: string };

async function receiveOne(record: S3EventRecord, deps: SupervisionDeps): Promise<ReceivedOutcome> {
  const bucket = record.s3.bucket.name;
  const key = decodeS3EventKey(record.s3.object.key);
  if (key === undefined) {
    deps.log.error('S3 event with an undecodable object key', { bucket });
    return { key: record.s3.object.key, outcome: 'ignored', reason: 'undecodable key' };
  }
  if (bucket !== deps.bucket) {
    deps.log.warn('S3 event of another bucket ignored', { bucket, key });
    return { key, outcome: 'ignored', reason: 'another bucket' };
  }
  // Only proofs/ is watched; statements, bills and quarantined objects are none of this check's business.
  if (!key.startsWith('proofs/')) return { key, outcome: 'ignored', reason: 'not under proofs/' };

  const ids = parseProofObjectKey(key);
  const proof = ids ? await deps.store.getProof(ids.orderId, ids.orderLineId, ids.proofId) : undefined;
  if (!ids || !proof || proof.key !== key) {
    const reason = ids ? 'no such proof was requested' : 'not a proof object key';
    const moved = await quarantine(deps, bucket, key);
    deps.log.warn('unexpected object quarantined', { key, reason, quarantineKey: moved });
    return moved ? { key, outcome: 'quarantined', reason } : { key, outcome: 'missing' };
  }
  if (proof.state !== 'AWAITING_UPLOAD') {
    // A repeated event. A rejected object still in place (a move cut short) is moved now.
    if (proof.state === 'REJECTED') await quarantine(deps, bucket, key);
    return { key, outcome: 'duplicate', proofId: proof.proofId };
  }

  const object = await readObject(deps, bucket, key, proof.size);
  if (!object) {
    deps.log.warn('proof object gone before it was checked', {
      orderId: proof.orderId,
      orderLineId: proof.orderLineId,
      proofId: proof.proofId,
    });
    return { key, outcome: 'missing', proofId: proof.proofId };
  }
  const eventTime = Date.parse(record.eventTime);
  const receivedAt = iso(Number.isNaN(eventTime) ? deps.now() : eventTime);
  const expiresAt = Date.parse(proof.uploadExpiresAt);
  const check = checkReceivedObject(
    { size: proof.size, contentType: proof.contentType, sha256Hex: proof.sha256 },
    {
      ...object,
      receivedAt,
      uploadExpiresAt: Number.isNaN(expiresAt) ? proof.uploadExpiresAt : iso(expiresAt + RECEIVE_GRACE_SECONDS * 1000),
    },
  );
  const ref = { orderId: proof.orderId, orderLineId: proof.orderLineId, proofId: proof.proofId };
  if (!check.ok) {
    const settled = await deps.store.settleProof(proof, {
      state: 'REJECTED',
      receivedAt,
      rejection: { reason: check.reason, message: check.message },
      quarantineKey: quarantineKey(key),
    });
    if (!settled) return { key, outcome: 'duplicate', proofId: proof.proofId };
    await quarantine(deps, bucket, key);
    deps.log.warn('proof rejected', { ...ref, reason: check.reason });
    return { key, outcome: 'rejected', proofId: proof.proofId, reason: check.reason };
  }
  const settled = await deps.store.settleProof(proof, { state: 'VERIFIED', receivedAt, verifiedAt: iso(deps.now()) });
  if (!settled) return { key, outcome: 'duplicate', proofId: proof.proofId };
  deps.log.info('proof verified', { ...ref, kind: proof.kind, round: proof.round });
  const advanced = proof.kind === 'appeal-evidence' ? 'unchanged' : await advanceIfComplete(proof.orderId, proof.orderLineId, deps);
  return { key, outcome: 'verified', proofId: proof.proofId, advanced };
}

/**
 * S3 ObjectCreated notifications for the files bucket: each object under `proofs/` is checked against the proof
 * requested for its key. Objects nobody asked for are quarantined; repeated events change nothing. A record that
 * fails (e.g. the table is unavailable) fails the invocation after the others are done, so S3's retry runs it again.
 */
export async function proofReceived(event: S3Event, deps: SupervisionDeps): Promise<ReceivedOutcome[]> {
  const outcomes: ReceivedOutcome[] = [];
  const failures: unknown[] = [];
  for (const record of event.Records ?? []) {
    try {
      outcomes.push(await receiveOne(record, deps));
    } catch (error) {
      deps.log.error('proof check failed', {
        key: record.s3?.object?.key,
        error: errorFields(error),
      });
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new Error(`${failures.length} of ${event.Records?.length ?? 0} proof check(s) failed`);
  return outcomes;
}
