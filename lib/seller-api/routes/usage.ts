import * as z from 'zod';
import { formatQuantity } from '#lib/usage/decimal.ts';
import { ingestUsage, type IngestDeps } from '#lib/usage/ingest.ts';
import { MAX_REPORTS_PER_REQUEST, REJECTIONS, UsageIngestRequestSchema } from '#lib/usage/reports.ts';
import { resendRejectedWindow } from '#lib/usage/resend.ts';
import { parseUtc } from '#lib/usage/windows.ts';
import { Refusal } from '#lib/shared/refusal.ts';
import { iso } from '#lib/shared/time.ts';
import { type UsageWindow } from '#lib/usage/ports.ts';
import { WINDOW_STATES } from '#lib/usage/ports.ts';
import { SellerApiError } from '../errors.ts';
import { defineRoute } from '../defineRoute.ts';

/**
 * POST /seller/usage (report usage), GET /seller/usage (an instance's ledger) and POST /seller/usage/windows/resend
 * (send a refused window again).
 */

export interface UsageRouteDeps {
  usage: IngestDeps;
}

const windowRef = z.object({ beginTime: z.string(), endTime: z.string() });

const RecordResultSchema = z.discriminatedUnion('status', [
  z.object({
    index: z.number().int(),
    status: z.literal('accepted'),
    window: windowRef.describe('The window the usage counts in'),
    lateFor: windowRef.optional().describe('The window it was reported for, already pushed: the usage was carried into `window`'),
  }),
  z.object({ index: z.number().int(), status: z.literal('duplicate'), clientRef: z.string() }),
  z.object({
    index: z.number().int(),
    status: z.literal('rejected'),
    reason: z.object({ code: z.enum(Object.keys(REJECTIONS) as [keyof typeof REJECTIONS]), message: z.string() }),
  }),
  z.object({
    index: z.number().int(),
    status: z.literal('retry'),
    message: z.string().describe('Not recorded this time: send the record again'),
  }),
]);

const IngestAnswerSchema = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int(),
  retry: z.number().int(),
  results: z.array(RecordResultSchema).describe('One per record, in the order sent'),
});

export const reportUsage = defineRoute({
  method: 'POST',
  path: '/seller/usage',
  summary: `Report usage of pay-per-use instances (up to ${MAX_REPORTS_PER_REQUEST} records); each record is accepted, a duplicate, or rejected with its reason`,
  action: 'usage.report',
  scope: 'usage:write',
  body: UsageIngestRequestSchema,
  lenientBody: true,
  response: IngestAnswerSchema,
  async handle({ body }, deps: UsageRouteDeps) {
    const records = (body as { records?: unknown }).records;
    if (!Array.isArray(records) || records.length === 0)
      throw new SellerApiError('unprocessable', 'body.records must be a non-empty array');
    if (records.length > MAX_REPORTS_PER_REQUEST) {
      throw new SellerApiError('payload_too_large', `at most ${MAX_REPORTS_PER_REQUEST} records per request, got ${records.length}`);
    }
    const extra = Object.keys(body as object).filter((k) => k !== 'records');
    if (extra.length > 0) throw new SellerApiError('unprocessable', `unknown field(s): ${extra.slice(0, 5).join(', ')}`);
    return { body: await ingestUsage(records, deps.usage) };
  },
});

const isoInstant = z.string().refine((v) => parseUtc(v) !== undefined, 'must be an ISO 8601 UTC instant, e.g. 2026-11-20T08:00:00Z');
const DAY = 86_400_000;

const WindowViewSchema = z.object({
  beginTime: z.string(),
  endTime: z.string(),
  state: z.enum(WINDOW_STATES),
  value: z.string().describe('Total reported for the window, corrections included (decimal string)'),
  lateValue: z.string().optional().describe('Part of value that was reported late for already pushed windows'),
  reports: z.number().int(),
  meteringSn: z.string().optional(),
  pushedValue: z.string().optional(),
  attempts: z.number().int(),
  nextAttemptAt: z.string().optional(),
  lastError: z.string().optional(),
  acceptedAt: z.string().optional(),
  duplicate: z.boolean().optional(),
  rejection: z.object({ code: z.string(), message: z.string() }).optional(),
  previousRejection: z
    .object({ code: z.string(), message: z.string() })
    .optional()
    .describe('The refusal of the record sent before the window was sent again (POST /seller/usage/windows/resend)'),
});

const LedgerAnswerSchema = z.object({
  instanceId: z.string(),
  total: z.string().describe('Everything ever reported for the instance (decimal string)'),
  windows: z.array(WindowViewSchema),
  corrections: z.array(
    z.object({
      at: z.string(),
      reportedFor: windowRef,
      appliedTo: windowRef,
      value: z.string(),
      reports: z.number().int(),
      clientRefs: z.array(z.string()),
    }),
  ),
});

function windowView(w: UsageWindow): z.infer<typeof WindowViewSchema> {
  return {
    beginTime: w.beginTime,
    endTime: w.endTime,
    state: w.state,
    value: formatQuantity(w.units),
    ...(w.lateUnits > 0n ? { lateValue: formatQuantity(w.lateUnits) } : {}),
    reports: w.reports,
    ...(w.meteringSn ? { meteringSn: w.meteringSn } : {}),
    ...(w.pushedUnits !== undefined ? { pushedValue: formatQuantity(w.pushedUnits) } : {}),
    attempts: w.attempts,
    ...(w.nextAttemptAt ? { nextAttemptAt: w.nextAttemptAt } : {}),
    ...(w.lastError ? { lastError: w.lastError } : {}),
    ...(w.acceptedAt ? { acceptedAt: w.acceptedAt } : {}),
    ...(w.duplicate !== undefined ? { duplicate: w.duplicate } : {}),
    ...(w.rejection ? { rejection: w.rejection } : {}),
    ...(w.previousRejection ? { previousRejection: w.previousRejection } : {}),
  };
}

export const usageLedger = defineRoute({
  method: 'GET',
  path: '/seller/usage',
  summary: "An instance's usage ledger: windows with their push state, and late corrections",
  scope: 'usage:read',
  query: z.strictObject({
    instanceId: z.string().min(1).max(64),
    from: isoInstant.optional().describe('Windows beginning at or after this instant (default: 7 days before `to`)'),
    to: isoInstant.optional().describe('Windows beginning before this instant (default: now)'),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  }),
  response: LedgerAnswerSchema,
  errors: { 404: 'Unknown instance' },
  async handle({ query, now }, deps: UsageRouteDeps) {
    const toMs = query.to ? parseUtc(query.to)! : now;
    const fromMs = query.from ? parseUtc(query.from)! : toMs - 7 * DAY;
    if (fromMs > toMs) throw new SellerApiError('invalid_request', 'query.from must not be after query.to');
    const instance = (await deps.usage.instances([query.instanceId])).get(query.instanceId);
    if (!instance) throw new SellerApiError('not_found', `no instance ${query.instanceId}`);
    const ledger = deps.usage.ledger;
    const [totals, windows, corrections] = await Promise.all([
      ledger.totals([query.instanceId]),
      ledger.windows(query.instanceId, iso(fromMs), iso(toMs), query.limit),
      ledger.corrections(query.instanceId, query.limit),
    ]);
    return {
      body: {
        instanceId: query.instanceId,
        total: formatQuantity(totals.get(query.instanceId)?.units ?? 0n),
        windows: windows.map(windowView),
        corrections: corrections.map((c) => ({
          at: c.at,
          reportedFor: c.reportedFor,
          appliedTo: c.appliedTo,
          value: formatQuantity(c.units),
          reports: c.reports,
          clientRefs: c.clientRefs,
        })),
      },
    };
  },
});

export const resendUsageWindow = defineRoute({
  method: 'POST',
  path: '/seller/usage/windows/resend',
  action: 'usage.resend',
  summary: 'Send a usage window the marketplace refused (REJECTED) again, once the cause is fixed',
  description:
    'The window becomes OPEN and due for the next hourly push, which seals it under the next revision: the record it ' +
    'sends carries a new metering_sn, so the marketplace does not take it for the refused one. The refusal stays as ' +
    '`previousRejection`. Only a REJECTED window moves; a window that began more than 21 days ago is refused (the ' +
    'marketplace no longer takes it). A refused request changes nothing.',
  scope: 'messages:replay',
  body: z.strictObject({
    instanceId: z.string().min(1).max(64),
    beginTime: isoInstant.describe("The window's begin, as GET /seller/usage shows it"),
  }),
  response: z.object({
    instanceId: z.string(),
    beginTime: z.string(),
    endTime: z.string(),
    state: z.literal('OPEN').describe('Due again: the next hourly push sends it'),
    revision: z.number().int().describe('The revision its next record is numbered under'),
    previousRejection: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
  successStatus: 202,
  errors: {
    404: 'Unknown window',
    409: 'The window is not REJECTED (nothing was changed)',
    422: 'The window began more than 21 days ago',
  },
  async handle({ body, now }, deps: UsageRouteDeps) {
    const target = { instanceId: body.instanceId, beginTime: iso(parseUtc(body.beginTime)!) };
    const result = await resendRejectedWindow(target, { ledger: deps.usage.ledger, now: () => now });
    if (!result.ok) throw new Refusal(result.code, result.reason);
    const w = result.window;
    deps.usage.log.info('usage window sent again by the seller', {
      instanceId: w.instanceId,
      beginTime: w.beginTime,
      revision: w.revision,
    });
    return {
      body: {
        instanceId: w.instanceId,
        beginTime: w.beginTime,
        endTime: w.endTime,
        state: 'OPEN' as const,
        revision: w.revision,
        ...(w.previousRejection ? { previousRejection: w.previousRejection } : {}),
      },
    };
  },
});
