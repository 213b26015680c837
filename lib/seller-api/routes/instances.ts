import * as z from 'zod';
import { INSTANCE_STATES, type HistoryEntry, type Instance } from '#lib/instances/model.ts';
import { provisioningAttemptView } from '#lib/provisioning/attemptView.ts';
import { iso } from '#lib/shared/time.ts';
import { INSTANCE_LIMIT, MESSAGE_CHANNELS, MESSAGE_LIMIT, MAX_MESSAGE_RANGE_DAYS, type MessageRecord, type SellerViews } from '../ports.ts';
import { SellerApiError } from '../errors.ts';
import { defineRoute } from '../defineRoute.ts';
import { SellerActorSchema } from './audit.ts';
import type { KeptBody } from '#lib/audit/redact.ts';

/**
 * GET /seller/instances, GET /seller/instances/{instanceId}, GET /seller/messages, GET /seller/messages/{messageId}:
 * the seller's view of the marketplace.
 */

export interface ViewRouteDeps {
  views: SellerViews;
}

const InstanceViewSchema = z.object({
  instanceId: z.string(),
  orderId: z.string(),
  orderLineId: z.string(),
  businessId: z.string(),
  state: z.enum(INSTANCE_STATES),
  test: z.boolean().describe('Debug traffic (testFlag=1): never metered or settled, expires'),
  expireTime: z.string().optional().describe('yyyyMMddHHmmss as the marketplace sent it'),
  productId: z.string().optional(),
  appInfo: z
    .object({ frontEndUrl: z.string(), adminUrl: z.string().optional(), userName: z.string().optional(), memo: z.string().optional() })
    .optional()
    .describe('What the buyer sees (the initial password is never shown here)'),
  order: z.record(z.string(), z.unknown()).optional().describe("The order line's terms from Query Order"),
  provisioning: z
    .object({
      failure: z.object({ reason: z.string(), at: z.string(), eventId: z.string() }).optional(),
      stuckSince: z.string().optional(),
    })
    .optional(),
  overdueSince: z.string().optional().describe('Expired and not frozen by the marketplace since'),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
});

function instanceView(instance: Instance): z.infer<typeof InstanceViewSchema> {
  const { appInfo, ...rest } = instance;
  if (!appInfo) return { ...rest } as z.infer<typeof InstanceViewSchema>;
  const { password: _password, ...shown } = appInfo;
  return { ...rest, appInfo: shown } as z.infer<typeof InstanceViewSchema>;
}

const ProvisioningAttemptSchema = z
  .object({
    attempts: z.number().int().describe("Calls made to the seller's product for this instance, in all"),
    status: z
      .enum(['calling', 'answered'])
      .describe('calling: a call is in flight (or its worker died); answered: the last call was answered'),
    startedAt: z.string(),
    answeredAt: z.string().optional(),
    lastError: z.string().optional().describe('Why the latest call failed; absent when it succeeded'),
    nextRetryAt: z
      .string()
      .optional()
      .describe(
        "When the provisioning queue delivers the event again (the call's start plus the queue's visibility timeout), if a retry is due",
      ),
  })
  .describe("The instance's calls to the seller's product (absent until the first call)");

const HistoryEntrySchema = z.object({
  version: z.number().int(),
  at: z.string(),
  actor: z.enum(['marketplace', 'provisioner', 'seller']),
  activity: z.string(),
  event: z.string(),
  orderId: z.string().optional(),
  orderLineId: z.string().optional(),
  scene: z.string().optional(),
  from: z.enum(INSTANCE_STATES).optional(),
  to: z.enum(INSTANCE_STATES),
  changes: z.record(z.string(), z.unknown()).optional(),
  reason: z.string().optional(),
  by: SellerActorSchema.optional().describe('Who asked, for a change the seller made: the seller API key or the operator'),
});

const historyView = (entry: HistoryEntry): z.infer<typeof HistoryEntrySchema> => {
  const { instanceId: _id, ...rest } = entry;
  return rest;
};

const limit = (bounds: { min: number; max: number; default: number }) =>
  z.coerce.number().int().min(bounds.min).max(bounds.max).default(bounds.default);
const cursor = z.string().min(1).max(2048).optional().describe('nextCursor of the previous page');

export const listInstances = defineRoute({
  method: 'GET',
  path: '/seller/instances',
  summary: 'Instances, newest first, optionally by state, product or test flag',
  scope: 'instances:read',
  query: z.strictObject({
    state: z.enum(INSTANCE_STATES).optional(),
    productId: z.string().min(1).max(64).optional(),
    test: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    limit: limit(INSTANCE_LIMIT),
    cursor,
  }),
  response: z.object({ items: z.array(InstanceViewSchema), nextCursor: z.string().optional() }),
  async handle({ query }, deps: ViewRouteDeps) {
    const page = await deps.views.listInstances(query);
    return { body: { items: page.items.map(instanceView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) } };
  },
});

export const getInstance = defineRoute({
  method: 'GET',
  path: '/seller/instances/{instanceId}',
  summary: 'One instance with its history (every state change, who made it and why) and its provisioning attempts',
  scope: 'instances:read',
  params: z.strictObject({ instanceId: z.string().min(1).max(100) }),
  response: z.object({
    instance: InstanceViewSchema,
    history: z.array(HistoryEntrySchema),
    provisioning: ProvisioningAttemptSchema.optional(),
  }),
  errors: { 404: 'Unknown instance' },
  async handle({ params, now }, deps: ViewRouteDeps) {
    const found = await deps.views.instanceWithHistory(params.instanceId);
    if (!found) throw new SellerApiError('not_found', `no instance ${params.instanceId}`);
    return {
      body: {
        instance: instanceView(found.instance),
        history: found.history.map(historyView),
        ...(found.attempt ? { provisioning: provisioningAttemptView(found.instance, found.attempt, now) } : {}),
      },
    };
  },
});

const MessageSchema = z.object({
  messageId: z.string().describe('`<at>~<correlationId>`: GET /seller/messages/{messageId} shows this record'),
  at: z.string(),
  correlationId: z.string(),
  channel: z
    .enum(['produce', 'produceV1', 'usagePush', 'openApi', 'webhook', 'kit'])
    .describe(
      "Marketplace call (V2 or V1), our usage push, our other Open API call (Query Order), our delivery to the seller's webhook, or a joint-operation Kit call",
    ),
  resultCode: z.string().describe('The result code answered or received; for a webhook, the HTTP status or the failure (e.g. TIMEOUT)'),
  latencyMs: z.number(),
  bodySha256: z.string(),
  bodyBytes: z.number(),
  activity: z
    .string()
    .optional()
    .describe('The activity of an authenticated call; openApi: the operation (queryOrder); webhook: the event type'),
  claimedActivity: z
    .string()
    .optional()
    .describe(
      'A refused call: the activity it claimed, not authenticated (at most 32 characters of A-Z a-z 0-9 _ . -, others replaced by _)',
    ),
  orderId: z.string().optional(),
  orderLineId: z.string().optional(),
  instanceId: z.string().optional(),
  licenseId: z.string().optional(),
  tenantId: z.string().optional().describe('kit: the tenant the call is about'),
  keyId: z.string().optional(),
  signatureForm: z.string().optional(),
  test: z.boolean().optional(),
  reason: z.string().optional(),
  records: z.number().optional(),
  httpStatus: z.number().optional().describe('openApi, usagePush, webhook: the HTTP status of the answer, when one arrived'),
});

const KeptBodySchema = z.object({
  truncated: z.boolean().describe('true when the redacted JSON was longer than 8192 characters and was cut'),
  body: z.unknown().optional().describe('The redacted JSON, when it was kept whole'),
  text: z.string().optional().describe('The first 8192 characters of the redacted JSON text, when it was cut'),
});

const MessageDetailSchema = MessageSchema.extend({
  request: KeptBodySchema.optional().describe(
    'What was sent, redacted (secrets and personal fields replaced by markers): produce {query, body}, produceV1 {query}, usagePush {records}, openApi {query}, webhook the event',
  ),
  answer: KeptBodySchema.optional().describe('What was answered, redacted: our answer to the marketplace, or the answer we received'),
});

const HOUR = 3_600_000;
const isoTime = z.iso.datetime({ offset: true });

export const listMessages = defineRoute({
  method: 'GET',
  path: '/seller/messages',
  summary: `The message log (生产接口消息): every marketplace call, usage push, Open API call and webhook delivery with its verdict, newest first, over at most ${MAX_MESSAGE_RANGE_DAYS} days`,
  scope: 'messages:read',
  query: z.strictObject({
    from: isoTime.optional().describe('Default: 24 hours before `to`'),
    to: isoTime.optional().describe('Default: now'),
    resultCode: z.string().min(1).max(16).optional().describe('Only messages answered with this code, e.g. 000005'),
    instanceId: z.string().min(1).max(100).optional().describe('Only messages about this instance'),
    orderId: z.string().min(1).max(64).optional().describe('Only messages about this order'),
    activity: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('Only calls of this activity (authenticated, or claimed by a refused call), e.g. newInstance'),
    channel: z
      .enum(MESSAGE_CHANNELS)
      .optional()
      .describe(
        "marketplace: the marketplace's calls to the production interface (V2, V1 and the Kit calls); usagePush: our usage push; openApi: our other Open API calls (Query Order); webhook: our deliveries to the seller's product",
      ),
    limit: limit(MESSAGE_LIMIT),
    cursor,
  }),
  response: z.object({ items: z.array(MessageSchema), nextCursor: z.string().optional() }),
  async handle({ query, now }, deps: ViewRouteDeps) {
    const to = iso(query.to ? Date.parse(query.to) : now);
    const from = iso(query.from ? Date.parse(query.from) : Date.parse(to) - 24 * HOUR);
    const page = await deps.views.listMessages({ ...query, from, to });
    return { body: { items: page.items.map(messageView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) } };
  },
});

/** A record as listed: its id in the seller API (its time and correlation id, URL-safe), without the bodies. */
const messageView = ({ request: _request, answer: _answer, ...record }: MessageRecord): z.infer<typeof MessageSchema> => ({
  messageId: `${record.at}~${record.correlationId}`,
  ...record,
});

/** A kept body as shown: the redacted JSON when whole, its cut text when truncated. */
function keptBodyView(kept: KeptBody): z.infer<typeof KeptBodySchema> {
  if (kept.truncated) return { truncated: true, text: kept.json };
  try {
    return { truncated: false, body: JSON.parse(kept.json) as unknown };
  } catch {
    return { truncated: true, text: kept.json };
  }
}

/** A record as shown alone: with its request and answer. */
const messageDetailView = (record: MessageRecord): z.infer<typeof MessageDetailSchema> => ({
  ...messageView(record),
  ...(record.request ? { request: keptBodyView(record.request) } : {}),
  ...(record.answer ? { answer: keptBodyView(record.answer) } : {}),
});

const MESSAGE_ID = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)~(.{1,100})$/;

export const getMessage = defineRoute({
  method: 'GET',
  path: '/seller/messages/{messageId}',
  summary: 'One message-log record with its request and answer (redacted), by the messageId the listing gives',
  scope: 'messages:read',
  params: z.strictObject({
    messageId: z.string().regex(MESSAGE_ID, 'messageId must be <ISO time>~<correlationId>, as GET /seller/messages gives it'),
  }),
  response: z.object({ message: MessageDetailSchema }),
  errors: { 404: 'No such message' },
  async handle({ params }, deps: ViewRouteDeps) {
    const [, at, correlationId] = MESSAGE_ID.exec(params.messageId)!;
    const record = await deps.views.getMessage(at!, correlationId!);
    if (!record) throw new SellerApiError('not_found', `no message ${params.messageId}`);
    return { body: { message: messageDetailView(record) } };
  },
});
