import type { S3Client } from '@aws-sdk/client-s3';
import type { Log } from '../log.ts';
import type { BillingRecorder } from '../settlement/recording.ts';
import type { SupervisionStore } from '../store/supervisionStore.ts';

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
 *
 * A request the flow refuses throws a `Refusal` (lib/shared/refusal.ts): `not_found` without a supervision flow,
 * `conflict` when the state does not allow it, `unprocessable` for a malformed body; the seller API answers it.
 */

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
