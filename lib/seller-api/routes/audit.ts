import * as z from 'zod';
import { ACTION_LIMIT, ACTION_PATTERN, MAX_ACTION_RANGE_DAYS, type SellerActionLog } from '#lib/audit/sellerActions.ts';
import { iso } from '#lib/shared/time.ts';
import { defineRoute } from '../defineRoute.ts';

/** GET /seller/audit: the audit log of seller actions (every seller API call that changes something, every operator command). */

export interface AuditRouteDeps {
  actions: Pick<SellerActionLog, 'list'>;
}

const HOUR = 3_600_000;
const isoTime = z.iso.datetime({ offset: true });

/** Who did it (lib/audit/records.ts SellerActor), as the seller API shows it. */
export const SellerActorSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('key'), keyId: z.string(), name: z.string() }),
    z.object({ kind: z.literal('operator'), principal: z.string().describe('AWS principal ARN, or local:<user>@<host>') }),
    z.object({
      kind: z.literal('anonymous'),
      keyId: z.string().optional().describe('The key presented, not accepted (unknown or revoked)'),
    }),
    z.object({
      kind: z.literal('user'),
      tenantId: z.string().describe("The buyer's tenant (enterprise) id"),
      userName: z.string().describe('The login name OneAccess vouched for'),
    }),
  ])
  .describe('Who acted: a seller API key, an operator, a caller refused before authentication, or a user at the single sign-on');

const SellerActionSchema = z.object({
  at: z.string(),
  correlationId: z.string().describe("The request's X-Correlation-Id"),
  channel: z.enum(['sellerApi', 'operator', 'sso']),
  actor: SellerActorSchema,
  actorId: z.string().describe('keyId, principal, `<tenantId>/<userName>` or `anonymous`: what the `actor` filter matches'),
  action: z.string().describe('e.g. usage.report, statements.run, supervision.accept'),
  target: z.record(z.string(), z.string()).describe('The ids the action names (the path parameters), e.g. {"period": "2026-11"}'),
  result: z.object({
    outcome: z.enum(['ok', 'refused', 'failed']).describe('ok: done; refused: a 4xx, nothing changed; failed: a 5xx'),
    status: z.number().int().optional(),
    errorCode: z.string().optional(),
  }),
  latencyMs: z.number().optional(),
});

/** `name:value`, e.g. `period:2026-11` or `orderId:CS123`. */
const TargetFilter = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9]{0,31}:.{1,256}$/, 'must be name:value, e.g. period:2026-11')
  .transform((v) => ({ name: v.slice(0, v.indexOf(':')), value: v.slice(v.indexOf(':') + 1) }));

const ResultFilter = z
  .string()
  .regex(/^(ok|refused|failed|[1-5]\d\d)$/, 'must be ok, refused, failed or an HTTP status such as 403')
  .transform((v) => (/^\d+$/.test(v) ? Number(v) : (v as 'ok' | 'refused' | 'failed')));

export const listSellerActions = defineRoute({
  method: 'GET',
  path: '/seller/audit',
  summary: 'The audit log of seller actions: who did what, to what, with what result, newest first',
  description:
    'Every seller API call that changes something (refused ones included) and every operator command, over a window of at ' +
    `most ${MAX_ACTION_RANGE_DAYS} days (default: the last 24 hours). Filter by actor (keyId, operator principal or ` +
    '`anonymous`), action, target and result. Records hold ids only, never bodies or secrets; nobody can change or delete them.',
  scope: 'audit:read',
  query: z.strictObject({
    from: isoTime.optional().describe('Default: 24 hours before `to`'),
    to: isoTime.optional().describe('Default: now'),
    actor: z.string().min(1).max(256).optional().describe('keyId, operator principal, or anonymous'),
    action: z.string().regex(ACTION_PATTERN, 'must be an action name such as statements.run').optional(),
    target: TargetFilter.optional().describe('name:value, e.g. period:2026-11'),
    result: ResultFilter.optional().describe('ok, refused, failed, or an HTTP status'),
    limit: z.coerce.number().int().min(ACTION_LIMIT.min).max(ACTION_LIMIT.max).default(ACTION_LIMIT.default),
    cursor: z.string().min(1).max(2048).optional().describe('nextCursor of the previous page'),
  }),
  response: z.object({ items: z.array(SellerActionSchema), nextCursor: z.string().optional() }),
  errors: { 400: 'A malformed filter, a window over 31 days, or a cursor of another query' },
  async handle({ query, now }, deps: AuditRouteDeps) {
    const to = iso(query.to ? Date.parse(query.to) : now);
    const from = iso(query.from ? Date.parse(query.from) : Date.parse(to) - 24 * HOUR);
    const page = await deps.actions.list({ ...query, from, to });
    return { body: { items: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) } };
  },
});
