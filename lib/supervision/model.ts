import type { SellerActor } from '#lib/audit/records.ts';
import type { ProofKind } from './proofs.ts';

/**
 * Service supervision (服务监管, spec §8.3) as the seller sees it, for offline-delivered products: the seller
 * delivers and uploads delivery proofs, the buyer (and, for enabling-cloud 赋能云 orders, Huawei) reviews them,
 * and the order is accepted or rejected. A rejection sends the seller back to deliver again. Either party may
 * appeal at any node; the flow is frozen until the appeal is closed.
 */

export const SUPERVISION_STATES = ['AWAITING_DELIVERY', 'PROOF_SUBMITTED', 'HUAWEI_REVIEW', 'ACCEPTED', 'REJECTED'] as const;
export type SupervisionState = (typeof SUPERVISION_STATES)[number];

/**
 * Who acted: the seller (a decision recorded through the seller API, with the key in `by`), this server (proof
 * verification), or `marketplace` on entries written before decisions named the seller's key.
 */
export const SUPERVISION_ACTORS = ['seller', 'system', 'marketplace'] as const;
export type SupervisionActor = (typeof SUPERVISION_ACTORS)[number];

/** How an appeal ended: decided for the one who appealed, against them, or withdrawn. */
export const APPEAL_OUTCOMES = ['upheld', 'dismissed', 'withdrawn'] as const;
export type AppealOutcome = (typeof APPEAL_OUTCOMES)[number];

export interface SupervisionWaiting {
  for: 'proofs' | 'decision';
  since: string;
}

/** An appeal in progress: while it is open the flow is frozen. */
export interface OpenAppeal {
  openedAt: string;
  reason: string;
  /** Proof ids backing the appeal (e.g. a letter of commitment uploaded as `appeal-evidence`). */
  evidence: string[];
}

export interface SupervisionRecord {
  orderId: string;
  orderLineId: string;
  instanceId: string;
  productId: string;
  /** Enabling-cloud (赋能云) order: Huawei reviews the proofs before acceptance. */
  enablingCloud: boolean;
  /** The proof kinds the product's delivery template asks for; each needs a verified proof in the current round. */
  requiredKinds: ProofKind[];
  state: SupervisionState;
  /** Delivery round, starting at 1; a rejection starts the next one, and proofs of earlier rounds no longer count. */
  round: number;
  rejections: number;
  appeal?: OpenAppeal;
  /**
   * Whom the flow waits for, since when: the seller's proofs (AWAITING_DELIVERY, REJECTED) or the buyer's (or
   * Huawei's) decision (PROOF_SUBMITTED, HUAWEI_REVIEW); absent once ACCEPTED. The safety sweep watches its deadline.
   */
  waiting?: SupervisionWaiting;
  /** The actual service start the seller declared with the proofs (ISO instant); a later round without one keeps it. */
  serviceStartAt?: string;
  /** When proofs were last submitted. */
  submittedAt?: string;
  acceptedAt?: string;
  /** Who recorded the acceptance (the seller API key). */
  acceptedBy?: SellerActor;
  createdAt: string;
  updatedAt: string;
  /** Incremented on every change; guards concurrent writers and numbers the history. */
  version: number;
}

/** What can happen to a supervision flow. */
export type SupervisionAction =
  | {
      /** The current round's required proofs are uploaded and verified (actor `system`). */
      type: 'proofSubmitted';
      proofIds: string[];
      /** Actual service start (ISO instant); without it validity starts at acceptance. */
      serviceStartAt?: string | undefined;
      /** The round the proofs belong to; a proof of another round does not move the flow. */
      round?: number | undefined;
      note?: string | undefined;
    }
  | { type: 'startReview'; note?: string | undefined }
  | { type: 'accept'; note?: string | undefined }
  | { type: 'reject'; reason: string; note?: string | undefined }
  | { type: 'openAppeal'; reason: string; evidence: string[]; note?: string | undefined }
  | { type: 'closeAppeal'; reason: string; outcome?: AppealOutcome | undefined; note?: string | undefined };

export type SupervisionActionType = SupervisionAction['type'];

export const SUPERVISION_ACTION_TYPES = [
  'proofSubmitted',
  'startReview',
  'accept',
  'reject',
  'openAppeal',
  'closeAppeal',
] as const satisfies readonly SupervisionActionType[];

/** One entry in a supervision flow's history: who did what, when, and the state before and after. */
export interface SupervisionHistoryEntry {
  version: number;
  at: string;
  actor: SupervisionActor;
  action: SupervisionActionType | 'created';
  /** Absent on the entry that creates the flow. */
  from?: SupervisionState;
  to: SupervisionState;
  /** The delivery round the action happened in. */
  round: number;
  note?: string;
  reason?: string;
  proofIds?: string[];
  evidence?: string[];
  serviceStartAt?: string;
  outcome?: AppealOutcome;
  /** Who recorded the decision (the seller API key); absent on entries of the system and on older entries. */
  by?: SellerActor;
  /** openAppeal: who appealed. */
  appellant?: 'seller' | 'buyer';
}

/** A delivery proof is requested (AWAITING_UPLOAD), then VERIFIED or REJECTED once, when its object is checked. */
export const PROOF_STATES = ['AWAITING_UPLOAD', 'VERIFIED', 'REJECTED'] as const;
export type ProofState = (typeof PROOF_STATES)[number];

export interface ProofRecord {
  orderId: string;
  orderLineId: string;
  proofId: string;
  kind: ProofKind;
  fileName: string;
  contentType: string;
  size: number;
  /** As declared by the seller, lower-case hex. */
  sha256: string;
  /** The object key the server chose: proofs/<orderId>/<orderLineId>/<proofId>. */
  key: string;
  state: ProofState;
  /** The delivery round the proof belongs to (supervision record's `round` when it was requested). */
  round: number;
  /** Actual service start declared with the proof (ISO instant). */
  serviceStartAt?: string;
  requestedAt: string;
  /** The upload form's expiry: an object arriving later is refused. */
  uploadExpiresAt: string;
  receivedAt?: string;
  verifiedAt?: string;
  rejection?: { reason: string; message: string };
  /** Where a refused object was moved. */
  quarantineKey?: string;
}

/** A flow with its whole history and every proof. */
export interface SupervisionView {
  record: SupervisionRecord;
  history: SupervisionHistoryEntry[];
  proofs: ProofRecord[];
}
