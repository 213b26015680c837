import type { z } from 'zod';
import type { Log } from '#lib/log.ts';
import { errorFields } from '#lib/shared/errors.ts';
import { outcomeOf, recordSellerActionOrLog, type SellerActionLog } from '#lib/audit/sellerActions.ts';
import type { SellerActor } from '#lib/audit/records.ts';
import { issuesMessage, Refusal } from '#lib/shared/refusal.ts';
import { bearerToken, hashApiKey, hasScope, keyIdOf, type SellerKey } from './apiKeys.ts';
import { errorBody, SellerApiError, type ErrorCode } from './errors.ts';
import { InvalidQueryError, type Authentication } from './ports.ts';
import { actionName, type AnyRoute } from './defineRoute.ts';

/**
 * The seller API's request pipeline, independent of Lambda: find the route, authenticate the key and check its
 * scope, validate path parameters, query and body with the route's schemas, run it, and answer JSON.
 * Every refusal is a `{"error": {code, message}}` answer: the router's own happen before the route runs, so they
 * change nothing; a route or its flow refuses by throwing a `SellerApiError` or a `Refusal` (lib/shared/refusal.ts),
 * answered here and nowhere else.
 *
 * Every call of a non-GET route (anything that may change something) leaves one record in the audit log once it is
 * answered, refused or not: who (the key, or `anonymous` with the keyId of a key presented but not accepted), the
 * route's action name, its path parameters as the target, the status and error code. Never a body or a secret.
 */

export interface SellerRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  body: string | undefined;
  correlationId: string;
}

export interface SellerResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Authenticate = (secret: string, now: number) => Promise<Authentication>;

export interface RouterContext<D> {
  routes: readonly AnyRoute<D>[];
  authenticate: Authenticate;
  deps: D;
  now: () => number;
  maxBodyBytes: number;
  /** Where seller actions are recorded (the audit table). */
  actions: Pick<SellerActionLog, 'append'>;
  log: Log;
}

/** What the pipeline learned of a request on its way, for the request's log line and its audit record. */
interface Seen<D> {
  route?: AnyRoute<D>;
  params?: Record<string, string>;
  key?: SellerKey;
  /** The keyId of a key presented in the key format, accepted or not. */
  presentedKeyId?: string;
  body?: { value: unknown };
  errorCode?: string;
}

/** DynamoDB (or another AWS service) asking us to slow down: the seller should retry shortly. */
const THROTTLING = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.replace(/\/+$/, '').split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g);
      } catch {
        throw new SellerApiError('invalid_request', `path segment "${g.slice(0, 64)}" is not valid percent-encoding`);
      }
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string, code: ErrorCode): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (!result.success) throw new SellerApiError(code, issuesMessage(result.error, where));
  return result.data;
}

function json(status: number, value: unknown, correlationId: string, extra: Record<string, string> = {}): SellerResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'X-Correlation-Id': correlationId, ...extra },
    body: JSON.stringify(value),
  };
}

/**
 * A refusal thrown by a route or by the flow it runs, as the seller API answers it; undefined for anything else
 * (a failure: 500). Settlement and reconciliation refuse with their own coded errors; a listing's bad query is an
 * InvalidQueryError (a RangeError).
 */
function refusalOf(error: unknown): SellerApiError | undefined {
  if (error instanceof SellerApiError) return error;
  if (error instanceof Refusal) return new SellerApiError(error.code, error.message);
  if (error instanceof InvalidQueryError) return new SellerApiError('invalid_request', error.message);
  return undefined;
}

const header = (headers: SellerRequest['headers'], name: string): string | undefined =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];

async function authenticate<D>(
  route: AnyRoute<D>,
  req: SellerRequest,
  ctx: RouterContext<D>,
  seen: Seen<D>,
): Promise<SellerKey | undefined> {
  if (route.scope === null) return undefined;
  const secret = bearerToken(header(req.headers, 'authorization'));
  if (!secret)
    throw new SellerApiError('unauthenticated', 'missing or malformed "Authorization: Bearer <key>"', { 'WWW-Authenticate': 'Bearer' });
  seen.presentedKeyId = keyIdOf(hashApiKey(secret));
  const verdict = await ctx.authenticate(secret, ctx.now());
  if (!verdict.ok) {
    const message = verdict.reason === 'revoked' ? 'this API key was revoked' : 'unknown API key';
    throw new SellerApiError('unauthenticated', message, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
  seen.key = verdict.key;
  if (!hasScope(verdict.key, route.scope)) throw new SellerApiError('forbidden', `this API key lacks the scope "${route.scope}"`);
  return verdict.key;
}

function readBody<D>(route: AnyRoute<D>, req: SellerRequest, maxBytes: number): unknown {
  if (!route.body) return undefined;
  const text = req.body ?? '';
  if (Buffer.byteLength(text) > maxBytes) throw new SellerApiError('payload_too_large', `the body is larger than ${maxBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SellerApiError('invalid_json', 'the body is not valid JSON');
  }
  if (route.lenientBody) {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new SellerApiError('unprocessable', 'the body must be a JSON object');
    return value;
  }
  return parse(route.body, value, 'body', 'unprocessable');
}

export async function handleSellerRequest<D>(req: SellerRequest, ctx: RouterContext<D>): Promise<SellerResponse> {
  const started = ctx.now();
  const seen: Seen<D> = {};
  const response = await answer(req, ctx, seen);
  const latencyMs = ctx.now() - started;
  // One line per request: which route, which key (its id, never the secret), the outcome.
  ctx.log.info('seller API request', {
    correlationId: req.correlationId,
    method: req.method,
    route: seen.route ? `${seen.route.method} ${seen.route.path}` : '(none)',
    keyId: seen.key?.keyId,
    status: response.status,
    latencyMs,
  });
  if (seen.route && seen.route.method !== 'GET') await audit(seen.route, seen, req, response.status, latencyMs, ctx);
  return response;
}

/** Who made a request, as the audit log names them. */
function actorOf<D>(seen: Seen<D>): SellerActor {
  if (seen.key) return { kind: 'key', keyId: seen.key.keyId, name: seen.key.name };
  return seen.presentedKeyId ? { kind: 'anonymous', keyId: seen.presentedKeyId } : { kind: 'anonymous' };
}

/**
 * The body a route names its action from: the one it validated, or, for a key refused before that (no scope), the
 * request's body if it is within the size limit and valid. A caller without a key gets no body parsed.
 */
function namingBody<D>(route: AnyRoute<D>, seen: Seen<D>, req: SellerRequest, maxBytes: number): { value: unknown } | undefined {
  if (seen.body || !seen.key || !route.body || route.lenientBody || req.body === undefined) return seen.body;
  try {
    return { value: readBody(route, req, maxBytes) };
  } catch {
    // Too large, not JSON or not the route's shape: no finer name.
    return undefined;
  }
}

/** The action's name: the route's finer name from a valid body, else the route's own. */
function auditedAction<D>(route: AnyRoute<D>, seen: Seen<D>, req: SellerRequest, maxBytes: number): string {
  const body = route.actionOf ? namingBody(route, seen, req, maxBytes) : undefined;
  if (body && route.actionOf) {
    try {
      return route.actionOf(body.value);
    } catch {
      // A body the route cannot name an action from keeps the route's name.
    }
  }
  return actionName(route);
}

/** Writes the request's audit record (a lost write is logged, never answered: the change, if any, is done). */
async function audit<D>(route: AnyRoute<D>, seen: Seen<D>, req: SellerRequest, status: number, latencyMs: number, ctx: RouterContext<D>) {
  await recordSellerActionOrLog(
    { actions: ctx.actions, now: ctx.now, log: ctx.log },
    {
      actor: actorOf(seen),
      action: auditedAction(route, seen, req, ctx.maxBodyBytes),
      target: seen.params ?? {},
      result: { outcome: outcomeOf(status), status, ...(seen.errorCode ? { errorCode: seen.errorCode } : {}) },
      channel: 'sellerApi',
      correlationId: req.correlationId,
      latencyMs,
    },
  );
}

async function answer<D>(req: SellerRequest, ctx: RouterContext<D>, seen: Seen<D>): Promise<SellerResponse> {
  try {
    let matched: { route: AnyRoute<D>; params: Record<string, string> } | undefined;
    for (const route of ctx.routes) {
      if (route.method !== req.method) continue;
      const params = matchPath(route.path, req.path);
      if (params) {
        matched = { route, params };
        break;
      }
    }
    if (!matched) throw new SellerApiError('not_found', `no route ${req.method} ${req.path.slice(0, 200)}`);
    const { route } = matched;
    seen.route = route;
    seen.params = matched.params;
    const key = await authenticate(route, req, ctx, seen);
    const params = parse(route.params, matched.params, 'path', 'invalid_request');
    const query = parse(route.query, req.query, 'query', 'invalid_request');
    const body = readBody(route, req, ctx.maxBodyBytes);
    if (route.body && !route.lenientBody) seen.body = { value: body };
    const answer = await route.handle({ params, query, body, key, correlationId: req.correlationId, now: ctx.now() }, ctx.deps);
    return json(route.successStatus ?? 200, answer.body, req.correlationId);
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal) {
      seen.errorCode = refusal.code;
      return json(refusal.status, errorBody(refusal.code, refusal.message), req.correlationId, refusal.headers);
    }
    if (error instanceof Error && THROTTLING.has(error.name)) {
      seen.errorCode = 'rate_limited';
      ctx.log.warn('seller API throttled by a dependency', { correlationId: req.correlationId, error: error.name });
      return json(429, errorBody('rate_limited', 'too many requests: retry shortly'), req.correlationId, { 'Retry-After': '1' });
    }
    seen.errorCode = 'internal';
    ctx.log.error('seller API request failed', {
      correlationId: req.correlationId,
      path: req.path.slice(0, 200),
      error: errorFields(error),
    });
    return json(500, errorBody('internal', `internal error (correlation id ${req.correlationId})`), req.correlationId);
  }
}
