import * as z from 'zod';
import { APPEAL_OUTCOMES, PROOF_STATES, SUPERVISION_ACTION_TYPES, SUPERVISION_ACTORS, SUPERVISION_STATES } from '#lib/supervision/model.ts';
import { proofRequestSchemaFor } from '#lib/supervision/proofRequest.ts';
import { PROOF_KINDS } from '#lib/supervision/proofs.ts';
import type { SupervisionDeps } from '#lib/supervision/ports.ts';
import { recordTransition, TransitionRequestSchema } from '#lib/supervision/transitions.ts';
import { requestProofUpload, UPLOAD_SECONDS } from '#lib/supervision/uploadRequest.ts';
import { supervisionView } from '#lib/supervision/view.ts';
import { keyActor, requireKey } from '../apiKeys.ts';
import { defineRoute, type AnyRoute } from '../defineRoute.ts';
import { SellerActorSchema } from './audit.ts';

/**
 * Service supervision (spec §8.3) in the seller API: request a delivery proof's upload, read the flow with its
 * history and proofs, and record the decisions taken in the Seller Console (review, acceptance, rejection, appeals).
 */

export interface SupervisionRouteDeps {
  supervision: SupervisionDeps;
}

const id = z.string().min(1).max(128);

const OrderLineParams = z.strictObject({ orderId: id, orderLineId: id });

const SupervisionSchema = z.object({
  orderId: z.string(),
  orderLineId: z.string(),
  instanceId: z.string(),
  productId: z.string(),
  enablingCloud: z.boolean().describe('Enabling-cloud (赋能云) order: Huawei reviews before acceptance'),
  requiredKinds: z.array(z.enum(PROOF_KINDS)),
  state: z.enum(SUPERVISION_STATES),
  round: z.number().int().describe('Delivery round, from 1; a rejection starts the next'),
  rejections: z.number().int(),
  appeal: z
    .object({ openedAt: z.string(), reason: z.string(), evidence: z.array(z.string()) })
    .optional()
    .describe('Open appeal: the flow is frozen'),
  serviceStartAt: z.string().optional().describe('Actual service start declared with the proofs'),
  submittedAt: z.string().optional(),
  acceptedAt: z.string().optional(),
  acceptedBy: SellerActorSchema.optional().describe('The seller API key that recorded the acceptance'),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
});

const HistoryEntrySchema = z.object({
  version: z.number().int(),
  at: z.string(),
  actor: z.enum(SUPERVISION_ACTORS),
  action: z.enum([...SUPERVISION_ACTION_TYPES, 'created']),
  from: z.enum(SUPERVISION_STATES).optional(),
  to: z.enum(SUPERVISION_STATES),
  round: z.number().int(),
  note: z.string().optional(),
  reason: z.string().optional(),
  proofIds: z.array(z.string()).optional(),
  evidence: z.array(z.string()).optional(),
  serviceStartAt: z.string().optional(),
  outcome: z.enum(APPEAL_OUTCOMES).optional(),
  by: SellerActorSchema.optional().describe('The seller API key that recorded the decision'),
  appellant: z.enum(['seller', 'buyer']).optional().describe('openAppeal: who appealed'),
});

const ProofSchema = z.object({
  orderId: z.string(),
  orderLineId: z.string(),
  proofId: z.string(),
  kind: z.enum(PROOF_KINDS),
  fileName: z.string(),
  contentType: z.string(),
  size: z.number().int(),
  sha256: z.string().describe('Declared SHA-256, hex'),
  key: z.string(),
  state: z.enum(PROOF_STATES),
  round: z.number().int(),
  serviceStartAt: z.string().optional(),
  requestedAt: z.string(),
  uploadExpiresAt: z.string(),
  receivedAt: z.string().optional(),
  verifiedAt: z.string().optional(),
  rejection: z.object({ reason: z.string(), message: z.string() }).optional(),
  quarantineKey: z.string().optional(),
  downloadUrl: z.string().optional().describe('Verified proofs only: a download link valid for 5 minutes'),
  downloadExpiresAt: z.string().optional(),
});

export const requestProof = defineRoute({
  method: 'POST',
  path: '/seller/supervision/{orderId}/{orderLineId}/proofs',
  summary:
    `Request the upload of one delivery proof: answers a presigned POST form valid for ${UPLOAD_SECONDS / 60} minutes for an object key ` +
    'chosen by the server. Send `fields` then the file as `file`; the upload is checked (size, SHA-256, content) once stored. ' +
    'Delivery proofs are refused after acceptance or while an appeal is open; appeal-evidence is accepted at any time. ' +
    'The largest size accepted is PROOF_MAX_BYTES.',
  action: 'proofs.request',
  scope: 'proofs:write',
  params: OrderLineParams,
  // Checked by the flow against the configured size limit; this schema documents the shape.
  body: proofRequestSchemaFor(50 * 1024 * 1024),
  lenientBody: true,
  response: z.object({
    proofId: z.string(),
    key: z.string().describe('proofs/{orderId}/{orderLineId}/{proofId}'),
    upload: z.object({
      url: z.string().describe('POST the multipart form here'),
      fields: z.record(z.string(), z.string()).describe('Form fields to send as they are, before the file'),
      expiresAt: z.string(),
    }),
  }),
  errors: {
    404: 'No supervision for this order line (unknown order line, or its product is not supervised)',
    409: 'The flow accepts no delivery proofs now (accepted, or an appeal is open)',
    422: 'Kind or content type not accepted, size over the limit, malformed SHA-256 or file name',
  },
  async handle({ params, body }, deps: SupervisionRouteDeps) {
    return { body: await requestProofUpload(params.orderId, params.orderLineId, body, deps.supervision) };
  },
});

export const getSupervision = defineRoute({
  method: 'GET',
  path: '/seller/supervision/{orderId}/{orderLineId}/proofs',
  summary:
    "An order line's supervision: its state, history (who did what, from and to which state) and proofs, with short-lived download links for verified proofs",
  scope: 'instances:read',
  params: OrderLineParams,
  response: z.object({
    supervision: SupervisionSchema,
    effectiveServiceStart: z.string().optional().describe('When validity starts: the declared actual start, else the acceptance'),
    currentRound: z.object({
      round: z.number().int(),
      requiredKinds: z.array(z.enum(PROOF_KINDS)),
      verifiedKinds: z.array(z.enum(PROOF_KINDS)),
      missingKinds: z.array(z.enum(PROOF_KINDS)),
    }),
    history: z.array(HistoryEntrySchema),
    proofs: z.array(ProofSchema),
  }),
  errors: { 404: 'No supervision for this order line (unknown order line, or its product is not supervised)' },
  async handle({ params }, deps: SupervisionRouteDeps) {
    return { body: await supervisionView(params.orderId, params.orderLineId, deps.supervision) };
  },
});

export const recordSupervisionTransition = defineRoute({
  method: 'POST',
  path: '/seller/supervision/{orderId}/{orderLineId}/transitions',
  summary:
    'Record a decision taken in the Seller Console: startReview (Huawei review of an enabling-cloud order), accept, reject, ' +
    'openAppeal, closeAppeal. Each is recorded with actor `seller` and the key that sent it (`by`). An acceptance makes ' +
    'the order line billable. A repeat answers `unchanged`. Needs `supervision:decide` (uploading proofs needs `proofs:write`).',
  action: 'supervision.decide',
  actionOf: (body) => `supervision.${body.action}`,
  scope: 'supervision:decide',
  params: OrderLineParams,
  body: TransitionRequestSchema,
  response: z.object({
    supervision: SupervisionSchema,
    entry: HistoryEntrySchema.optional(),
    unchanged: z.boolean(),
    reason: z.string().optional().describe('Why nothing changed'),
  }),
  errors: {
    404: 'No supervision for this order line',
    409: 'Not possible in the current state (e.g. accept while an appeal is open), or changed concurrently',
    422: 'Unknown action, missing reason, evidence that is not a verified proof of this order line',
  },
  async handle({ params, body, key }, deps: SupervisionRouteDeps) {
    return { body: await recordTransition(params.orderId, params.orderLineId, body, deps.supervision, keyActor(requireKey(key))) };
  },
});

export const listSupervision = defineRoute({
  method: 'GET',
  path: '/seller/supervision',
  summary:
    'The supervision flows in one state, most recently changed first, a page at a time (AWAITING_DELIVERY and REJECTED ' +
    'flows wait for the seller’s proofs). Eventually consistent: a change shows within a second or so.',
  scope: 'instances:read',
  query: z.strictObject({
    state: z.enum(SUPERVISION_STATES),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().min(1).max(2048).optional().describe('nextCursor of the previous page (for the same state)'),
  }),
  response: z.object({ items: z.array(SupervisionSchema), nextCursor: z.string().optional() }),
  errors: { 400: 'Unknown state, bad limit, or a cursor of another state or listing' },
  async handle({ query }, deps: SupervisionRouteDeps) {
    const page = await deps.supervision.store.list(query.state, { limit: query.limit, cursor: query.cursor });
    return { body: { items: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) } };
  },
});

export const supervisionRoutes: AnyRoute<SupervisionRouteDeps>[] = [
  listSupervision,
  requestProof,
  getSupervision,
  recordSupervisionTransition,
];
