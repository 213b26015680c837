import type { S3Client } from '@aws-sdk/client-s3';
import type { SellerActor } from '#lib/audit/records.ts';
import type { Log } from '#lib/log.ts';
import type { Notify } from '#lib/notifications/notifier.ts';
import type { SupervisionDeadlines } from './deadlines.ts';
import type { Commit, PlannedWrite } from '#lib/shared/transaction.ts';
import type {
  ProofRecord,
  SupervisionHistoryEntry,
  SupervisionRecord,
  SupervisionState,
  SupervisionView,
  SupervisionWaiting,
} from './model.ts';

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
 * Who is recorded as the actor: `system` for proofs submitted by the check; `seller` for every decision recorded
 * here (Huawei review, acceptance, rejection, appeals), with the seller API key that recorded it (`by`) and, for an
 * appeal, who appealed. Entries written before decisions named their key say `marketplace` and have no `by`.
 *
 * A request the flow refuses throws a `Refusal` (lib/shared/refusal.ts): `not_found` without a supervision flow,
 * `conflict` when the state does not allow it, `unprocessable` for a malformed body; the seller API answers it.
 */

/**
 * What the supervision flows (and the order intake that starts them) need of storage: one flow per supervised
 * order line, its history and its proofs. lib/store/supervisionStore.ts implements it on DynamoDB.
 */
export interface SupervisionStore {
  /** A new flow and its first history entry, for the transaction that provisions the order line. */
  createWrites(record: SupervisionRecord, entry: SupervisionHistoryEntry): PlannedWrite[];
  /** A transition: the record (if nobody changed it since `previousVersion`) and its history entry. */
  transitionWrites(previousVersion: number, next: SupervisionRecord, entry: SupervisionHistoryEntry): PlannedWrite[];
  get(orderId: string, orderLineId: string): Promise<SupervisionRecord | undefined>;
  /** The record with its whole history and every proof (consistent). */
  view(orderId: string, orderLineId: string): Promise<SupervisionView | undefined>;
  getProof(orderId: string, orderLineId: string, proofId: string): Promise<ProofRecord | undefined>;
  /** A requested upload; refused (false) if the supervision record does not exist. */
  addProof(proof: ProofRecord): Promise<boolean>;
  /**
   * AWAITING_UPLOAD → VERIFIED or REJECTED, once: a second event for the same object finds the proof settled
   * and gets undefined.
   */
  settleProof(
    proof: ProofRecord,
    outcome: Pick<ProofRecord, 'state' | 'receivedAt' | 'verifiedAt' | 'rejection' | 'quarantineKey'>,
  ): Promise<ProofRecord | undefined>;
  /**
   * Flows waiting for `what` whose wait began within `range` (ISO instants, inclusive), oldest first, at most `limit`;
   * flows with an appeal open are not listed (the `due` index; eventually consistent).
   */
  waitingSince(
    what: SupervisionWaiting['for'],
    range: { from: string; to: string },
    limit: number,
  ): Promise<{ orderId: string; orderLineId: string; instanceId: string; since: string }[]>;
  /** Flows in `state`, most recently changed first, a page at a time (eventually consistent). */
  list(state: SupervisionState, page: { limit: number; cursor?: string | undefined }): Promise<SupervisionPage>;
  commit: Commit;
}

/** A page of flows, with the cursor of the next page when there is one. */
export interface SupervisionPage {
  items: SupervisionRecord[];
  nextCursor?: string;
}

/** Billing's part in an acceptance (the billing recorder, lib/settlement/billingFacts.ts). */
export interface SupervisionBilling {
  /** The order line's billing facts for an accepted delivery, written in the acceptance's transaction. */
  supervisionCompletedWrites(
    orderId: string,
    orderLineId: string,
    completedAt: string,
    serviceStartAt: string | undefined,
    at: string,
    /** Who recorded the acceptance, kept with the facts. */
    acceptedBy?: SellerActor,
  ): Promise<PlannedWrite[]>;
}

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
  recorder: SupervisionBilling;
  /** Tells the seller's people when a rejection sends them back to deliver (lib/notifications); nobody when absent. */
  notify?: Notify | undefined;
  /** The deadline that notice names. */
  deadlines?: SupervisionDeadlines | undefined;
  /** Whether the marketplace ever sent this order line: tells an unknown order line from an unsupervised one. */
  orderLineKnown?: (orderId: string, orderLineId: string) => Promise<boolean>;
  now: () => number;
  log: Log;
}
