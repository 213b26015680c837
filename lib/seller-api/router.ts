import type { z } from 'zod';
import type { Log } from '#lib/log.ts';
import { errorFields } from '#lib/shared/errors.ts';
import { issuesMessage, Refusal } from '#lib/shared/refusal.ts';
import { bearerToken, hasScope, type SellerKey } from './apiKeys.ts';
import { errorBody, SellerApiError, type ErrorCode } from './errors.ts';
import { InvalidQueryError, type Authentication } from './ports.ts';
import type { AnyRoute } from './defineRoute.ts';

/**
 * The seller API's request pipeline, independent of Lambda: find the route, authenticate the key and check its
 * scope, validate path parameters, query and body with the route's schemas, run it, and answer JSON.
 * Every refusal is a `{"error": {code, message}}` answer: the router's own happen before the route runs, so they
 * change nothing; a route or its flow refuses by throwing a `SellerApiError` or a `Refusal` (lib/shared/refusal.ts),
 * answered here and nowhere else.
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
  log: Log;
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

async function authenticate<D>(route: AnyRoute<D>, req: SellerRequest, ctx: RouterContext<D>): Promise<SellerKey | undefined> {
  if (route.scope === null) return undefined;
  const secret = bearerToken(header(req.headers, 'authorization'));
  if (!secret)
    throw new SellerApiError('unauthenticated', 'missing or malformed "Authorization: Bearer <key>"', { 'WWW-Authenticate': 'Bearer' });
  const verdict = await ctx.authenticate(secret, ctx.now());
  if (!verdict.ok) {
    const message = verdict.reason === 'revoked' ? 'this API key was revoked' : 'unknown API key';
    throw new SellerApiError('unauthenticated', message, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
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
  const seen: { route?: string; keyId?: string } = {};
  const response = await answer(req, ctx, seen);
  // One line per request: which route, which key (its id, never the secret), the outcome.
  ctx.log.info('seller API request', {
    correlationId: req.correlationId,
    method: req.method,
    route: seen.route ?? '(none)',
    keyId: seen.keyId,
    status: response.status,
    latencyMs: ctx.now() - started,
  });
  return response;
}

async function answer<D>(req: SellerRequest, ctx: RouterContext<D>, seen: { route?: string; keyId?: string }): Promise<SellerResponse> {
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
    seen.route = `${route.method} ${route.path}`;
    const key = await authenticate(route, req, ctx);
    seen.keyId = key?.keyId;
    const params = parse(route.params, matched.params, 'path', 'invalid_request');
    const query = parse(route.query, req.query, 'query', 'invalid_request');
    const body = readBody(route, req, ctx.maxBodyBytes);
    const answer = await route.handle({ params, query, body, key, correlationId: req.correlationId, now: ctx.now() }, ctx.deps);
    return json(route.successStatus ?? 200, answer.body, req.correlationId);
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal) return json(refusal.status, errorBody(refusal.code, refusal.message), req.correlationId, refusal.headers);
    if (error instanceof Error && THROTTLING.has(error.name)) {
      ctx.log.warn('seller API throttled by a dependency', { correlationId: req.correlationId, error: error.name });
      return json(429, errorBody('rate_limited', 'too many requests: retry shortly'), req.correlationId, { 'Retry-After': '1' });
    }
    ctx.log.error('seller API request failed', {
      correlationId: req.correlationId,
      path: req.path.slice(0, 200),
      error: errorFields(error),
    });
    return json(500, errorBody('internal', `internal error (correlation id ${req.correlationId})`), req.correlationId);
  }
}
