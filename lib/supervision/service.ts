import type { PlannedWrite } from '../shared/transaction.ts';
import { createHash } from 'node:crypto';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import * as z from 'zod';
import type { Config } from '../config.ts';
import { log as defaultLog, type Log } from '../log.ts';
import type { BillingRecorder } from '../settlement/billingFacts.ts';
import { billingRecorderFor } from '../settlement/deps.ts';
import { dynamoClient } from '../aws/clients.ts';
import { instanceStore } from '../store/instanceStore.ts';
import { s3Client } from '../aws/clients.ts';
import { supervisionStore, type ProofRecord, type SupervisionStore } from '../store/supervisionStore.ts';
import { APPEAL_OUTCOMES, type SupervisionAction, type SupervisionActor, type SupervisionHistoryEntry, type SupervisionRecord } from './model.ts';
import { downloadUrl, proofUploadForm, type ProofUploadForm } from './presign.ts';
import { presigningS3Client } from '../aws/clients.ts';
import {
  checkReceivedObject,
  decodeS3EventKey,
  isProofId,
  LONE_SURROGATE,
  newProofId,
  parseProofObjectKey,
  proofObjectKey,
  proofRequestSchemaFor,
  quarantineKey,
  requiredKindsPresent,
  sha256Forms,
  type ProofKind,
} from './proofs.ts';
import { SNIFF_HEAD_BYTES, sniffContentType } from './sniff.ts';
import { applySupervision, effectiveServiceStart } from './stateMachine.ts';

/**
 * Service supervision's flows (spec §8.3) for the seller API and the proof check:
 *  - a seller asks to upload a delivery proof and gets a presigned POST for an object key the server chose;
 *  - S3 reports the object; it is checked (size, SHA-256, sniffed type, upload window) and the proof is VERIFIED,
 *    or REJECTED and the object moved to `quarantine/`; once the round's required kinds are verified the flow moves
 *    to PROOF_SUBMITTED;
 *  - the seller records the buyer's, Huawei's or its own decisions (review, acceptance, rejection, appeals); an
 *    acceptance makes the order line billable in the same transaction;
 *  - the seller reads the flow, its history and its proofs, with short-lived download links for verified ones.
 *
 * Which uploads are accepted: delivery proofs while the flow is open (AWAITING_DELIVERY, PROOF_SUBMITTED,
 * HUAWEI_REVIEW, REJECTED) and no appeal is open; appeal evidence at any time, ACCEPTED and open appeals included.
 *
 * Who is recorded as the actor: `system` for proofs submitted by the check; `marketplace` for the decisions the
 * seller reads in the Seller Console and records here (Huawei review, acceptance, rejection, an appeal's closing,
 * a buyer's appeal); `seller` for the seller's own appeal.
 */

/** How long an upload form is valid. */
export const UPLOAD_SECONDS = 15 * 60;
/** How long a download link is valid. */
export const DOWNLOAD_SECONDS = 5 * 60;
/**
 * S3 checks a POST form's expiry when the upload starts; a large file started just in time is stored later.
 * An object created up to this long after the form expired still counts.
 */
export const RECEIVE_GRACE_SECONDS = 5 * 60;
/** Attempts at a version-conditioned write before a concurrent change is reported. */
const MAX_ATTEMPTS = 5;

export interface SupervisionServiceSettings {
  /** Largest proof accepted (PROOF_MAX_BYTES). */
  maxBytes: number;
}

export interface SupervisionDeps {
  store: SupervisionStore;
  /** Reads, copies and deletes proof objects. */
  s3: S3Client;
  /** Signs upload forms and download links (presigningS3Client: no checksum parameters in URLs). */
  presigner: S3Client;
  /** The files bucket (FILES_BUCKET). */
  bucket: string;
  settings: SupervisionServiceSettings;
  recorder: Pick<BillingRecorder, 'supervisionCompletedWrites'>;
  /** Whether the marketplace ever sent this order line: tells an unknown order line from an unsupervised one. */
  orderLineKnown?: (orderId: string, orderLineId: string) => Promise<boolean>;
  now: () => number;
  log: Log;
}

export type SupervisionFailureCode = 'not_found' | 'conflict' | 'unprocessable';
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: SupervisionFailureCode; message: string };

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const fail = <T>(code: SupervisionFailureCode, message: string): Outcome<T> => ({ ok: false, code, message });
const iso = (ms: number) => new Date(ms).toISOString();

function zodMessage(error: z.ZodError): string {
  const list = error.issues.slice(0, 10).map((i) => `${['body', ...i.path.map(String)].join('.')}: ${i.message}`);
  return list.join('; ') + (error.issues.length > 10 ? ` (and ${error.issues.length - 10} more)` : '');
}

async function noSupervision<T>(deps: SupervisionDeps, orderId: string, orderLineId: string): Promise<Outcome<T>> {
  const known = deps.orderLineKnown ? await deps.orderLineKnown(orderId, orderLineId) : undefined;
  if (known === true) {
    return fail(
      'not_found',
      `order line ${orderId}/${orderLineId} has no service supervision: its product is not supervised (SUPERVISED_PRODUCTS), or its order terms are not fetched yet`,
    );
  }
  if (known === false) return fail('not_found', `no order line ${orderId}/${orderLineId}`);
  return fail('not_found', `no supervision for order line ${orderId}/${orderLineId} (product not supervised, or order unknown)`);
}

// ---------------------------------------------------------------------------------------------------------------
// Upload requests.

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
  if (record.appeal) return `an appeal opened at ${record.appeal.openedAt} is open: only appeal-evidence can be uploaded until it is closed`;
  return undefined;
}

/** A seller's request to upload one proof: the proof is recorded and a presigned POST for its object answered. */
export async function requestProofUpload(orderId: string, orderLineId: string, body: unknown, deps: SupervisionDeps): Promise<Outcome<ProofUploadAnswer>> {
  const parsed = proofRequestSchemaFor(deps.settings.maxBytes).safeParse(body);
  if (!parsed.success) return fail('unprocessable', zodMessage(parsed.error));
  const request = parsed.data;
  const record = await deps.store.get(orderId, orderLineId);
  if (!record) return noSupervision(deps, orderId, orderLineId);
  const refusal = uploadRefusal(record, request.kind);
  if (refusal) return fail('conflict', refusal);

  const now = deps.now();
  const proofId = newProofId(now);
  const key = proofObjectKey(orderId, orderLineId, proofId);
  const digest = sha256Forms(request.sha256);
  if (!digest) return fail('unprocessable', 'body.sha256: must be 64 hex characters or 44 base64 characters');
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
  if (!(await deps.store.addProof(proof))) return noSupervision(deps, orderId, orderLineId);
  deps.log.info('proof upload requested', { orderId, orderLineId, proofId, kind: proof.kind, round: proof.round, size: proof.size });
  return ok({ proofId, key, upload });
}

// ---------------------------------------------------------------------------------------------------------------
// Moving the flow on once the round's proofs are in.

/** The round's verified delivery proofs (appeal evidence does not count as delivery). */
function deliveryProofs(proofs: readonly ProofRecord[], round: number): ProofRecord[] {
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
      deps.log.info('supervision proofs submitted', { orderId, orderLineId, round: record.round, proofs: verified.length, version: result.next.version });
      return 'submitted';
    }
    deps.log.warn('supervision changed concurrently; retrying', { orderId, orderLineId, attempt, conditionFailed: committed.conditionFailed });
  }
  throw new Error(`supervision of ${orderId}/${orderLineId} kept changing: proofs not submitted after ${MAX_ATTEMPTS} attempts`);
}

// ---------------------------------------------------------------------------------------------------------------
// Uploaded objects.

export type ReceivedOutcome =
  | { key: string; outcome: 'verified'; proofId: string; advanced: AdvanceOutcome }
  | { key: string; outcome: 'rejected'; proofId: string; reason: string }
  | { key: string; outcome: 'quarantined'; reason: string }
  | { key: string; outcome: 'duplicate'; proofId: string }
  | { key: string; outcome: 'missing'; proofId?: string }
  | { key: string; outcome: 'ignored'; reason: string };

const isNotFound = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || status === 404;
};

/** `CopySource`: bucket and key, each segment URI-encoded. */
const copySource = (bucket: string, key: string) => `${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;

/** Moves an object to `quarantine/…` (copy, then delete); false when it is no longer there. */
async function quarantine(deps: SupervisionDeps, bucket: string, key: string): Promise<string | undefined> {
  const target = quarantineKey(key);
  try {
    await deps.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: target, CopySource: copySource(bucket, key), MetadataDirective: 'COPY' }));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  await deps.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  return target;
}

interface ReadObject {
  size: number;
  sha256Hex: string;
  sniffed: string | undefined;
}

/** The object's size, SHA-256 and sniffed type; stops reading past `limit` bytes. Undefined when it is gone. */
async function readObject(deps: SupervisionDeps, bucket: string, key: string, declaredSize: number): Promise<ReadObject | undefined> {
  let size: number;
  try {
    const head = await deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    size = head.ContentLength ?? 0;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  // Not the declared size: refused without reading it.
  if (size !== declaredSize) return { size, sha256Hex: '', sniffed: undefined };
  let body: AsyncIterable<Uint8Array>;
  try {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = out.Body as AsyncIterable<Uint8Array>;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const hash = createHash('sha256');
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let read = 0;
  for await (const chunk of body) {
    read += chunk.length;
    if (read > declaredSize) {
      // Replaced by a larger object since the HEAD: no need to read the rest.
      (body as { destroy?: () => void }).destroy?.();
      return { size: read, sha256Hex: '', sniffed: undefined };
    }
    hash.update(chunk);
    if (headBytes < SNIFF_HEAD_BYTES) {
      const part = chunk.subarray(0, SNIFF_HEAD_BYTES - headBytes);
      head.push(part);
      headBytes += part.length;
    }
  }
  return { size: read, sha256Hex: hash.digest('hex'), sniffed: sniffContentType(Buffer.concat(head)) };
}

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
    deps.log.warn('proof object gone before it was checked', { orderId: proof.orderId, orderLineId: proof.orderLineId, proofId: proof.proofId });
    return { key, outcome: 'missing', proofId: proof.proofId };
  }
  const eventTime = Date.parse(record.eventTime);
  const receivedAt = iso(Number.isNaN(eventTime) ? deps.now() : eventTime);
  const expiresAt = Date.parse(proof.uploadExpiresAt);
  const check = checkReceivedObject(
    { size: proof.size, contentType: proof.contentType, sha256Hex: proof.sha256 },
    { ...object, receivedAt, uploadExpiresAt: Number.isNaN(expiresAt) ? proof.uploadExpiresAt : iso(expiresAt + RECEIVE_GRACE_SECONDS * 1000) },
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
        error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
      });
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new Error(`${failures.length} of ${event.Records?.length ?? 0} proof check(s) failed`);
  return outcomes;
}

// ---------------------------------------------------------------------------------------------------------------
// The seller's record of decisions.

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

function actionOf(request: TransitionRequest): { action: SupervisionAction; actor: SupervisionActor } {
  const noteOf = request.note !== undefined ? { note: request.note } : {};
  switch (request.action) {
    case 'startReview':
      return { action: { type: 'startReview', ...noteOf }, actor: 'marketplace' };
    case 'accept':
      return { action: { type: 'accept', ...noteOf }, actor: 'marketplace' };
    case 'reject':
      return { action: { type: 'reject', reason: request.reason, ...noteOf }, actor: 'marketplace' };
    case 'openAppeal':
      return {
        action: { type: 'openAppeal', reason: request.reason, evidence: request.evidence, ...noteOf },
        actor: request.appellant === 'buyer' ? 'marketplace' : 'seller',
      };
    case 'closeAppeal':
      return { action: { type: 'closeAppeal', reason: request.reason, outcome: request.outcome, ...noteOf }, actor: 'marketplace' };
  }
}

/**
 * Records a decision on the flow. Refused (409) when the state machine refuses it; an acceptance writes the order
 * line's billing facts in the same transaction. A concurrent change is retried a few times, then reported (409).
 */
export async function recordTransition(orderId: string, orderLineId: string, body: unknown, deps: SupervisionDeps): Promise<Outcome<TransitionAnswer>> {
  const parsed = TransitionRequestSchema.safeParse(body);
  if (!parsed.success) return fail('unprocessable', zodMessage(parsed.error));
  const { action, actor } = actionOf(parsed.data);

  if (action.type === 'openAppeal' && action.evidence.length > 0) {
    const view = await deps.store.view(orderId, orderLineId);
    if (!view) return noSupervision(deps, orderId, orderLineId);
    const verified = new Set(view.proofs.filter((p) => p.state === 'VERIFIED').map((p) => p.proofId));
    const unknown = action.evidence.filter((id) => !verified.has(id));
    if (unknown.length > 0) return fail('unprocessable', `body.evidence: not verified proofs of this order line: ${unknown.slice(0, 5).join(', ')}`);
  }

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const record = await deps.store.get(orderId, orderLineId);
    if (!record) return noSupervision(deps, orderId, orderLineId);
    const at = iso(deps.now());
    const result = applySupervision(record, action, at, actor);
    if (!result.ok) return fail(result.code === 'INVALID' ? 'unprocessable' : 'conflict', result.message);
    if (result.unchanged) return ok({ supervision: record, unchanged: true, reason: result.reason });

    const writes: PlannedWrite[] = deps.store.transitionWrites(record.version, result.next, result.entry);
    if (result.next.state === 'ACCEPTED' && record.state !== 'ACCEPTED') {
      const completedAt = result.next.acceptedAt ?? at;
      writes.push(...(await deps.recorder.supervisionCompletedWrites(orderId, orderLineId, completedAt, result.next.serviceStartAt, at)));
    }
    const committed = await deps.store.commit(writes);
    if (committed.ok) {
      deps.log.info('supervision transition recorded', {
        orderId,
        orderLineId,
        action: action.type,
        actor,
        from: record.state,
        to: result.next.state,
        version: result.next.version,
      });
      let supervision = result.next;
      // Proofs verified while the appeal froze the flow count once it is closed.
      if (action.type === 'closeAppeal' && (await advanceIfComplete(orderId, orderLineId, deps)) === 'submitted') {
        supervision = (await deps.store.get(orderId, orderLineId)) ?? supervision;
      }
      return ok({ supervision, entry: result.entry, unchanged: false });
    }
    deps.log.warn('supervision changed concurrently; retrying', { orderId, orderLineId, action: action.type, attempt, conditionFailed: committed.conditionFailed });
  }
  return fail('conflict', 'the supervision changed concurrently: read it again and retry');
}

// ---------------------------------------------------------------------------------------------------------------
// The seller's view.

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
export async function supervisionView(orderId: string, orderLineId: string, deps: SupervisionDeps): Promise<Outcome<SupervisionViewAnswer>> {
  const view = await deps.store.view(orderId, orderLineId);
  if (!view) return noSupervision(deps, orderId, orderLineId);
  const { record } = view;
  const expiresAt = iso(deps.now() + DOWNLOAD_SECONDS * 1000);
  const proofs = await Promise.all(
    [...view.proofs]
      .sort((a, b) => (a.proofId < b.proofId ? -1 : a.proofId > b.proofId ? 1 : 0))
      .map(async (proof): Promise<ProofView> => {
        if (proof.state !== 'VERIFIED') return proof;
        const url = await downloadUrl(deps.presigner, { bucket: deps.bucket, key: proof.key, expiresSeconds: DOWNLOAD_SECONDS, fileName: proof.fileName });
        return { ...proof, downloadUrl: url, downloadExpiresAt: expiresAt };
      }),
  );
  const verifiedKinds = [...new Set(deliveryProofs(view.proofs, record.round).map((p) => p.kind))];
  const start = effectiveServiceStart(record);
  return ok({
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
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Dependencies from the configuration.

export interface SupervisionDepsOptions {
  /** With `endpoint`: its region (default AWS_REGION, else us-east-1). */
  region?: string;
  /** Another S3 endpoint than the SDK's own (AWS_ENDPOINT_URL_S3 locally). */
  endpoint?: string;
  now?: () => number;
  log?: Log;
}

/** Everything the supervision flows need, from the configuration; build once per container. */
export function supervisionDeps(cfg: Config, options: SupervisionDepsOptions = {}): SupervisionDeps {
  if (!cfg.FILES_BUCKET) throw new Error('FILES_BUCKET must be set (the bucket of delivery proofs) for service supervision');
  const client = dynamoClient();
  const store = supervisionStore(client, { main: cfg.MAIN_TABLE });
  const instances = instanceStore(client, { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE });
  // One client reads, moves and signs: it sends no checksum where S3 does not require one, so presigned URLs carry
  // none (TOOLCHAIN.md).
  const s3 = options.endpoint
    ? presigningS3Client({ region: options.region ?? process.env.AWS_REGION ?? 'us-east-1', endpoint: options.endpoint, forcePathStyle: cfg.S3_FORCE_PATH_STYLE })
    : s3Client({ forcePathStyle: cfg.S3_FORCE_PATH_STYLE });
  return {
    store,
    s3,
    presigner: s3,
    bucket: cfg.FILES_BUCKET,
    settings: { maxBytes: cfg.PROOF_MAX_BYTES },
    recorder: billingRecorderFor(cfg, client),
    orderLineKnown: async (orderId, orderLineId) => (await instances.getOrderLineInstanceId(orderId, orderLineId)) !== undefined,
    now: options.now ?? Date.now,
    log: options.log ?? defaultLog,
  };
}
