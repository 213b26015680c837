import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Log } from '#lib/log.ts';
import { iso } from '#lib/shared/time.ts';
import type { SellerActionOutcome, SellerActionRecord, SellerActor } from './records.ts';

/**
 * The audit log of seller actions (ARCHITECTURE.md law 6): every seller API call that changes something, written
 * by the seller API's router, and every operator command, written by the operator CLI. `recordSellerAction`
 * checks the record, builds the stored form and appends it; the log is append-only (a conditional put, never an
 * overwrite). The record carries ids only: no request body, no key secret, no personal data.
 */

/** What `GET /seller/audit` asks for: a time window (at most 31 days), optional filters, a page. */
export interface SellerActionQuery {
  /** ISO date-time, inclusive. */
  from: string;
  /** ISO date-time, inclusive. */
  to: string;
  /** A keyId, an operator's principal, a signed-in user (`<tenantId>/<userName>`), or `anonymous`. */
  actor?: string;
  action?: string;
  /** One target id, e.g. `{ name: 'period', value: '2026-11' }`. */
  target?: { name: string; value: string };
  /** An outcome, or one HTTP status. */
  result?: SellerActionOutcome | number;
  /** 1 to 200, default 50. */
  limit?: number;
  cursor?: string;
}

export const ACTION_LIMIT = { min: 1, max: 200, default: 50 } as const;
export const MAX_ACTION_RANGE_DAYS = 31;

/** The append-only log of seller actions; lib/store/sellerActionLog.ts implements it on the audit table. */
export interface SellerActionLog {
  /** Appends one record; never overwrites one (a record with the same time and correlation id is refused). */
  append(record: SellerActionRecord): Promise<void>;
  /**
   * Records with `from <= at <= to` that match every filter given, newest first. A query out of bounds is an
   * InvalidQueryError, a cursor the listing did not issue an InvalidCursorError (both answered 400).
   */
  list(query: SellerActionQuery): Promise<{ items: SellerActionRecord[]; nextCursor?: string }>;
}

export interface SellerActionDeps {
  actions: Pick<SellerActionLog, 'append'>;
  now: () => number;
}

/** A seller action as its author describes it; the time and correlation id default to now and a new id. */
export interface SellerActionInput {
  actor: SellerActor;
  action: string;
  target?: Record<string, string>;
  result: { outcome: SellerActionOutcome; status?: number; errorCode?: string };
  channel?: SellerActionRecord['channel'];
  correlationId?: string;
  at?: string;
  latencyMs?: number;
}

/** `usage.report`, `instances.retry`, `supervision.accept`: dot-separated lower camel-case words. */
export const ACTION_PATTERN = /^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*){0,5}$/;
/** An operator: an IAM or STS principal ARN, or `local:<user>@<host>` on the local stack. */
export const OPERATOR_PATTERN = /^(arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/-]{1,200}|local:[\w.-]{1,64}@[\w.-]{1,128})$/;
const KEY_ID = /^[0-9a-f]{12}$/;
const MAX_TARGETS = 8;
const MAX_TARGET_CHARS = 256;

const ActorSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('key'), keyId: z.string().regex(KEY_ID), name: z.string().min(1).max(64) }),
  z.strictObject({ kind: z.literal('operator'), principal: z.string().regex(OPERATOR_PATTERN) }),
  z.strictObject({ kind: z.literal('anonymous'), keyId: z.string().regex(KEY_ID).optional() }),
  z.strictObject({ kind: z.literal('user'), tenantId: z.string().min(1).max(64), userName: z.string().min(1).max(64) }),
]);

const InputSchema = z.strictObject({
  actor: ActorSchema,
  action: z.string().regex(ACTION_PATTERN),
  target: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,31}$/), z.string())
    .refine((t) => Object.keys(t).length <= MAX_TARGETS, `at most ${MAX_TARGETS} targets`)
    .default({}),
  result: z.strictObject({
    outcome: z.enum(['ok', 'refused', 'failed']),
    status: z.number().int().min(100).max(599).optional(),
    errorCode: z
      .string()
      .regex(/^[a-z_]{1,32}$/)
      .optional(),
  }),
  channel: z.enum(['sellerApi', 'operator', 'sso']).optional(),
  correlationId: z.string().min(1).max(128).optional(),
  at: z.iso.datetime({ offset: true }).optional(),
  latencyMs: z.number().int().min(0).optional(),
});

/** What the listing's `actor` filter matches for an actor. */
export function actorIdOf(actor: SellerActor): string {
  if (actor.kind === 'key') return actor.keyId;
  if (actor.kind === 'operator') return actor.principal;
  if (actor.kind === 'user') return `${actor.tenantId}/${actor.userName}`;
  return actor.keyId ?? 'anonymous';
}

/** The outcome of an HTTP status: below 400 done, 4xx refused, 5xx failed. */
export function outcomeOf(status: number): SellerActionOutcome {
  if (status < 400) return 'ok';
  return status < 500 ? 'refused' : 'failed';
}

/** A target value as kept: control characters replaced, at most 256 characters. */
const targetValue = (value: string): string =>
  // eslint-disable-next-line no-control-regex
  value.replace(/[\u0000-\u001f\u007f]/g, '_').slice(0, MAX_TARGET_CHARS);

/**
 * The stored record of an action, checked: an action name, actor or result out of shape is a TypeError (a
 * programming mistake of the caller, never the seller's input).
 */
export function buildSellerActionRecord(input: SellerActionInput, now: number): SellerActionRecord {
  const parsed = InputSchema.safeParse(input);
  if (!parsed.success)
    throw new TypeError(`not a seller action record: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const value = parsed.data;
  const channel = value.channel ?? (value.actor.kind === 'operator' ? 'operator' : 'sellerApi');
  const record: SellerActionRecord = {
    at: value.at ? iso(Date.parse(value.at)) : iso(now),
    correlationId: value.correlationId ?? randomUUID(),
    channel,
    actor: value.actor,
    actorId: actorIdOf(value.actor),
    action: value.action,
    target: Object.fromEntries(Object.entries(value.target).map(([name, v]) => [name, targetValue(v)])),
    result: value.result,
  };
  if (value.latencyMs !== undefined) record.latencyMs = value.latencyMs;
  return record;
}

/** Checks and appends one seller action to the audit log; the record written. A failed write throws. */
export async function recordSellerAction(deps: SellerActionDeps, input: SellerActionInput): Promise<SellerActionRecord> {
  const record = buildSellerActionRecord(input, deps.now());
  await deps.actions.append(record);
  return record;
}

/**
 * Records an action without failing the caller: an action that already happened cannot be undone, so a lost
 * audit write is logged as an error (with the record, which holds no secret) for the operator to act on.
 */
export async function recordSellerActionOrLog(deps: SellerActionDeps & { log: Log }, input: SellerActionInput): Promise<void> {
  try {
    await recordSellerAction(deps, input);
  } catch (error) {
    deps.log.error('seller action not audited', {
      action: input.action,
      actor: input.actor,
      target: input.target,
      result: input.result,
      correlationId: input.correlationId,
      error: error instanceof Error ? { name: error.name, message: error.message.slice(0, 300) } : String(error),
    });
  }
}
