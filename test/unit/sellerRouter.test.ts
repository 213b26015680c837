import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { SellerActionRecord } from '#lib/audit/records.ts';
import type { Log } from '#lib/log.ts';
import { hashApiKey, keyIdOf, type SellerKey } from '#lib/seller-api/apiKeys.ts';
import { SellerApiError } from '#lib/seller-api/errors.ts';
import { defineRoute, type AnyRoute } from '#lib/seller-api/defineRoute.ts';
import {
  handleSellerRequest,
  type Authenticate,
  type RouterContext,
  type SellerRequest,
  type SellerResponse,
} from '#lib/seller-api/router.ts';

/** The seller API's request pipeline with small routes, an in-memory key list and a recording log. */

const NOW = Date.parse('2026-11-20T08:30:00.000Z');
const CORRELATION_ID = 'corr-0123456789';
const MAX_BODY_BYTES = 64;

const secret = (c: string) => `kgs_${c.repeat(43)}`;
const READER = secret('r');
const WRITER = secret('w');
const REVOKED = secret('x');
const UNKNOWN = secret('u');

const KEYS: Record<string, SellerKey> = {
  [READER]: { keyId: 'aaaaaaaaaaaa', name: 'reader', scopes: ['instances:read'], createdAt: '2026-01-01T00:00:00.000Z' },
  [WRITER]: { keyId: 'bbbbbbbbbbbb', name: 'writer', scopes: ['usage:write'], createdAt: '2026-01-01T00:00:00.000Z' },
};

interface Deps {
  calls: { route: string; input: unknown }[];
}

const things = defineRoute({
  method: 'GET',
  path: '/seller/things/{thingId}',
  summary: 'One thing',
  scope: 'instances:read',
  params: z.strictObject({ thingId: z.string().min(1).max(20) }),
  query: z.strictObject({ limit: z.coerce.number().int().min(1).max(10).default(5), verbose: z.enum(['true', 'false']).optional() }),
  response: z.object({ thingId: z.string() }),
  async handle(input, deps: Deps) {
    deps.calls.push({ route: 'things', input });
    return { body: { thingId: input.params.thingId } };
  },
});

const create = defineRoute({
  method: 'POST',
  path: '/seller/things',
  summary: 'Create a thing',
  scope: 'usage:write',
  body: z.strictObject({ name: z.string().min(1), size: z.number().int().optional() }),
  response: z.object({ created: z.string() }),
  successStatus: 201,
  async handle(input, deps: Deps) {
    deps.calls.push({ route: 'create', input });
    return { body: { created: input.body.name } };
  },
});

const lenient = defineRoute({
  method: 'POST',
  path: '/seller/reports',
  summary: 'Reports checked one by one',
  scope: 'usage:write',
  body: z.strictObject({ records: z.array(z.string()) }),
  lenientBody: true,
  response: z.object({ ok: z.boolean() }),
  async handle(input, deps: Deps) {
    deps.calls.push({ route: 'lenient', input });
    return { body: { ok: true } };
  },
});

const open = defineRoute({
  method: 'GET',
  path: '/seller/open',
  summary: 'No key needed',
  scope: null,
  response: z.object({ open: z.boolean() }),
  async handle(input, deps: Deps) {
    deps.calls.push({ route: 'open', input });
    return { body: { open: true } };
  },
});

/** A route that fails the way the test tells it to. */
let failure: unknown;
const failing = defineRoute({
  method: 'GET',
  path: '/seller/failing',
  summary: 'Fails',
  scope: null,
  response: z.object({}),
  async handle(_input, deps: Deps) {
    deps.calls.push({ route: 'failing', input: undefined });
    throw failure;
  },
});

const ROUTES: AnyRoute<Deps>[] = [things, create, lenient, open, failing];

let deps: Deps;
let authentications: number;
let logged: { level: string; message: string; extra?: Record<string, unknown> }[];
let ctx: RouterContext<Deps>;
let audited: SellerActionRecord[];

beforeEach(() => {
  deps = { calls: [] };
  authentications = 0;
  logged = [];
  failure = new Error('boom');
  const authenticate: Authenticate = async (key, now) => {
    authentications++;
    expect(now).toBe(NOW);
    if (key === REVOKED) return { ok: false, reason: 'revoked' };
    const found = KEYS[key];
    return found ? { ok: true, key: found } : { ok: false, reason: 'unknown' };
  };
  const log: Log = {
    info: (message, extra) => logged.push({ level: 'info', message, extra }),
    warn: (message, extra) => logged.push({ level: 'warn', message, extra }),
    error: (message, extra) => logged.push({ level: 'error', message, extra }),
  };
  audited = [];
  const actions = { append: async (record: SellerActionRecord) => void audited.push(record) };
  ctx = { routes: ROUTES, authenticate, deps, now: () => NOW, maxBodyBytes: MAX_BODY_BYTES, actions, log };
});

function request(
  method: string,
  path: string,
  options: { key?: string; authorization?: string; query?: Record<string, string>; body?: string } = {},
) {
  const headers: Record<string, string | undefined> = { 'content-type': 'application/json' };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.authorization !== undefined) headers.Authorization = options.authorization;
  const req: SellerRequest = { method, path, headers, query: options.query ?? {}, body: options.body, correlationId: CORRELATION_ID };
  return handleSellerRequest(req, ctx);
}

/** An error answer: exactly `{error: {code, message}}`, JSON, never cached. */
function expectError(res: SellerResponse, status: number, code: string): string {
  expect(res.status).toBe(status);
  expect(res.headers['Content-Type']).toBe('application/json');
  expect(res.headers['Cache-Control']).toBe('no-store');
  expect(res.headers['X-Correlation-Id']).toBe(CORRELATION_ID);
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  return body.error.message;
}

describe('routing', () => {
  it('answers a matched route with its JSON and status', async () => {
    const res = await request('GET', '/seller/things/t-1', { key: READER });

    expect(res).toEqual({
      status: 200,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'X-Correlation-Id': CORRELATION_ID },
      body: JSON.stringify({ thingId: 't-1' }),
    });
    const created = await request('POST', '/seller/things', { key: WRITER, body: '{"name":"n"}' });
    expect(created.status).toBe(201);
    expect(JSON.parse(created.body)).toEqual({ created: 'n' });
  });

  it('gives the handler the parsed params, query and body, the key, the correlation id and the time', async () => {
    await request('GET', '/seller/things/t-1', { key: READER, query: { limit: '7' } });
    await request('POST', '/seller/things', { key: WRITER, body: '{"name":"n","size":3}' });

    expect(deps.calls).toEqual([
      {
        route: 'things',
        input: {
          params: { thingId: 't-1' },
          query: { limit: 7 },
          body: undefined,
          key: KEYS[READER],
          correlationId: CORRELATION_ID,
          now: NOW,
        },
      },
      {
        route: 'create',
        input: {
          params: undefined,
          query: undefined,
          body: { name: 'n', size: 3 },
          key: KEYS[WRITER],
          correlationId: CORRELATION_ID,
          now: NOW,
        },
      },
    ]);
  });

  it.each([
    ['an unknown path', 'GET', '/seller/nothing'],
    ['a path that only starts like a route', 'GET', '/seller/things/t-1/more'],
    ['a missing path parameter', 'GET', '/seller/things/'],
    ['the wrong method', 'DELETE', '/seller/things/t-1'],
    ['GET on a POST route', 'GET', '/seller/things'],
    ['a lower-case method', 'get', '/seller/open'],
  ])('answers 404 not_found for %s, without authenticating', async (_, method, path) => {
    const message = expectError(await request(method, path, { key: READER }), 404, 'not_found');

    expect(message).toContain(path);
    expect(authentications).toBe(0);
    expect(deps.calls).toEqual([]);
  });

  it('ignores a trailing slash', async () => {
    expect((await request('GET', '/seller/open/')).status).toBe(200);
    expect(JSON.parse((await request('GET', '/seller/things/t-1/', { key: READER })).body)).toEqual({ thingId: 't-1' });
  });

  it('decodes percent-encoded path parameters', async () => {
    const res = await request('GET', '/seller/things/a%20b%2Fc%C3%BC', { key: READER });

    expect(JSON.parse(res.body)).toEqual({ thingId: 'a b/cü' });
  });

  it.each(['%', '%zz', 'a%E0%A4%A', '%C3'])('answers 400 invalid_request for the bad percent-encoding %s', async (segment) => {
    const message = expectError(await request('GET', `/seller/things/${segment}`, { key: READER }), 400, 'invalid_request');

    expect(message).toContain('percent-encoding');
    expect(deps.calls).toEqual([]);
  });
});

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate when Authorization is missing', async () => {
    const res = await request('GET', '/seller/things/t-1');

    expect(expectError(res, 401, 'unauthenticated')).toContain('Authorization: Bearer');
    expect(res.headers['WWW-Authenticate']).toBe('Bearer');
    expect(authentications).toBe(0);
  });

  it.each([
    ['a token not in the key format', 'Bearer not-a-key'],
    ['Basic credentials', `Basic ${Buffer.from(`user:${READER}`).toString('base64')}`],
    ['the key without a scheme', READER],
    ['two spaces', `Bearer  ${READER}`],
    ['an empty header', ''],
  ])('answers 401 for a malformed header: %s', async (_, authorization) => {
    const res = await request('GET', '/seller/things/t-1', { authorization });

    expectError(res, 401, 'unauthenticated');
    expect(res.headers['WWW-Authenticate']).toBe('Bearer');
    expect(authentications).toBe(0);
  });

  it('reads the Authorization header whatever its case', async () => {
    expect((await request('GET', '/seller/things/t-1', { authorization: `Bearer ${READER}` })).status).toBe(200);
  });

  it('answers 401 for an unknown key', async () => {
    const res = await request('GET', '/seller/things/t-1', { key: UNKNOWN });

    expect(expectError(res, 401, 'unauthenticated')).toBe('unknown API key');
    expect(res.headers['WWW-Authenticate']).toBe('Bearer error="invalid_token"');
    expect(authentications).toBe(1);
  });

  it('answers 401 for a revoked key with its own message', async () => {
    const res = await request('GET', '/seller/things/t-1', { key: REVOKED });

    expect(expectError(res, 401, 'unauthenticated')).toBe('this API key was revoked');
    expect(res.headers['WWW-Authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('answers 403 forbidden, naming the scope, for a key without it', async () => {
    const message = expectError(await request('GET', '/seller/things/t-1', { key: WRITER }), 403, 'forbidden');

    expect(message).toContain('"instances:read"');
    expect(expectError(await request('POST', '/seller/things', { key: READER, body: '{"name":"n"}' }), 403, 'forbidden')).toContain(
      '"usage:write"',
    );
  });

  it('needs no key on a route without a scope, and ignores any Authorization header there', async () => {
    expect((await request('GET', '/seller/open')).status).toBe(200);
    expect((await request('GET', '/seller/open', { authorization: 'Bearer garbage' })).status).toBe(200);
    expect((await request('GET', '/seller/open', { key: REVOKED })).status).toBe(200);
    expect(authentications).toBe(0);
    expect(deps.calls.map((c) => (c.input as { key: unknown }).key)).toEqual([undefined, undefined, undefined]);
  });

  it('authenticates before validating, so a stranger learns nothing of the schemas', async () => {
    expectError(await request('GET', '/seller/things/t-1', { query: { limit: '0' } }), 401, 'unauthenticated');
    expectError(await request('POST', '/seller/things', { key: UNKNOWN, body: 'not json' }), 401, 'unauthenticated');
    expectError(await request('POST', '/seller/things', { key: READER, body: 'x'.repeat(MAX_BODY_BYTES + 1) }), 403, 'forbidden');
  });
});

describe('validation', () => {
  it('answers 400 naming the query field', async () => {
    const message = expectError(
      await request('GET', '/seller/things/t-1', { key: READER, query: { limit: '11' } }),
      400,
      'invalid_request',
    );

    expect(message).toMatch(/^query\.limit: /);
  });

  it('answers 400 for an unknown query field and a bad enum value', async () => {
    expect(
      expectError(await request('GET', '/seller/things/t-1', { key: READER, query: { sort: 'asc' } }), 400, 'invalid_request'),
    ).toContain('sort');
    expect(
      expectError(await request('GET', '/seller/things/t-1', { key: READER, query: { verbose: 'yes' } }), 400, 'invalid_request'),
    ).toContain('query.verbose');
  });

  it('answers 400 naming the path parameter', async () => {
    const message = expectError(await request('GET', `/seller/things/${'t'.repeat(21)}`, { key: READER }), 400, 'invalid_request');

    expect(message).toMatch(/^path\.thingId: /);
  });

  it.each([
    ['not JSON', 'name=n'],
    ['truncated JSON', '{"name":"n"'],
    ['an empty body', ''],
  ])('answers 400 invalid_json for %s', async (_, body) => {
    expectError(await request('POST', '/seller/things', { key: WRITER, body }), 400, 'invalid_json');
  });

  it('answers 400 invalid_json for a missing body', async () => {
    expectError(await request('POST', '/seller/things', { key: WRITER }), 400, 'invalid_json');
  });

  it.each([
    ['a missing field', '{}', 'body.name'],
    ['a wrong type', '{"name":"n","size":"3"}', 'body.size'],
    ['an unknown field', '{"name":"n","admin":true}', 'admin'],
    ['an array', '[{"name":"n"}]', 'body'],
    ['null', 'null', 'body'],
  ])('answers 422 unprocessable for %s', async (_, body, where) => {
    const message = expectError(await request('POST', '/seller/things', { key: WRITER, body }), 422, 'unprocessable');

    expect(message).toContain(where);
  });

  it('answers 413 for a body over maxBodyBytes, counting bytes rather than characters', async () => {
    const fits = JSON.stringify({ name: 'n'.repeat(MAX_BODY_BYTES - 11) });
    expect(Buffer.byteLength(fits)).toBe(MAX_BODY_BYTES);
    expect((await request('POST', '/seller/things', { key: WRITER, body: fits })).status).toBe(201);

    const over = JSON.stringify({ name: 'n'.repeat(MAX_BODY_BYTES - 10) });
    expect(expectError(await request('POST', '/seller/things', { key: WRITER, body: over }), 413, 'payload_too_large')).toContain(
      `${MAX_BODY_BYTES} bytes`,
    );

    // As many characters as fit, but ü is two bytes in UTF-8.
    const wide = JSON.stringify({ name: 'ü'.repeat(MAX_BODY_BYTES - 11) });
    expect(wide.length).toBe(MAX_BODY_BYTES);
    expect(Buffer.byteLength(wide)).toBeGreaterThan(MAX_BODY_BYTES);
    expectError(await request('POST', '/seller/things', { key: WRITER, body: wide }), 413, 'payload_too_large');
  });

  it('gives a lenient route the raw object, unknown fields and all', async () => {
    const res = await request('POST', '/seller/reports', { key: WRITER, body: '{"records":[1,{"x":2}],"extra":true}' });

    expect(res.status).toBe(200);
    expect(deps.calls[0]!.input).toMatchObject({ body: { records: [1, { x: 2 }], extra: true } });
  });

  it.each(['[]', 'null', '1', '"records"', 'true'])('answers 422 when a lenient route gets %s', async (body) => {
    expect(expectError(await request('POST', '/seller/reports', { key: WRITER, body }), 422, 'unprocessable')).toBe(
      'the body must be a JSON object',
    );
  });

  it('still refuses invalid JSON and an oversized body on a lenient route', async () => {
    expectError(await request('POST', '/seller/reports', { key: WRITER, body: '{' }), 400, 'invalid_json');
    expectError(
      await request('POST', '/seller/reports', { key: WRITER, body: `{"records":["${'r'.repeat(MAX_BODY_BYTES)}"]}` }),
      413,
      'payload_too_large',
    );
  });
});

describe('failures', () => {
  it('answers 500 internal with the correlation id, never the error message', async () => {
    failure = new Error('ConditionalCheckFailed on table secret-main-table');
    const res = await request('GET', '/seller/failing');

    const message = expectError(res, 500, 'internal');
    expect(message).toContain(CORRELATION_ID);
    expect(res.body).not.toContain('secret-main-table');
    expect(res.body).not.toContain('ConditionalCheckFailed');
    expect(logged.filter((l) => l.level !== 'info')).toEqual([
      {
        level: 'error',
        message: 'seller API request failed',
        extra: {
          correlationId: CORRELATION_ID,
          path: '/seller/failing',
          error: { name: 'Error', message: 'ConditionalCheckFailed on table secret-main-table' },
        },
      },
    ]);
  });

  it('answers 500 for a thrown value that is not an Error', async () => {
    failure = 'a string';

    expect(expectError(await request('GET', '/seller/failing'), 500, 'internal')).toContain(CORRELATION_ID);
  });

  it.each(['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'TooManyRequestsException'])(
    'answers 429 rate_limited with Retry-After for %s',
    async (name) => {
      failure = Object.assign(new Error('Rate exceeded for table secret-main-table'), { name });
      const res = await request('GET', '/seller/failing');

      expectError(res, 429, 'rate_limited');
      expect(res.headers['Retry-After']).toBe('1');
      expect(res.body).not.toContain('secret-main-table');
      expect(logged.map((l) => l.level)).toEqual(['warn', 'info']);
    },
  );

  it('answers a SellerApiError with its own status, code, message and headers', async () => {
    failure = new SellerApiError('conflict', 'the instance changed meanwhile', { 'X-Extra': 'yes' });
    const res = await request('GET', '/seller/failing');

    expect(expectError(res, 409, 'conflict')).toBe('the instance changed meanwhile');
    expect(res.headers['X-Extra']).toBe('yes');
    // Only the request line: a refusal is not an error.
    expect(logged).toEqual([
      {
        level: 'info',
        message: 'seller API request',
        extra: { correlationId: CORRELATION_ID, method: 'GET', route: 'GET /seller/failing', keyId: undefined, status: 409, latencyMs: 0 },
      },
    ]);
  });

  it('logs one line per request with the route and the key id, never the secret', async () => {
    const res = await request('GET', '/seller/things/t-1', { key: READER });
    expect(res.status).toBe(200);
    expect(logged).toEqual([
      {
        level: 'info',
        message: 'seller API request',
        extra: expect.objectContaining({ route: 'GET /seller/things/{thingId}', status: 200, keyId: KEYS[READER]!.keyId }),
      },
    ]);
    expect(JSON.stringify(logged)).not.toContain(READER);
  });
});

describe('refusals change nothing', () => {
  it('never runs the route when authentication, routing or validation fails', async () => {
    const refused = [
      request('GET', '/seller/things/t-1'),
      request('GET', '/seller/things/t-1', { authorization: 'Bearer nope' }),
      request('GET', '/seller/things/t-1', { key: UNKNOWN }),
      request('GET', '/seller/things/t-1', { key: REVOKED }),
      request('GET', '/seller/things/t-1', { key: WRITER }),
      request('GET', '/seller/things/t-1', { key: READER, query: { limit: 'many' } }),
      request('GET', '/seller/things/%zz', { key: READER }),
      request('POST', '/seller/things', { key: WRITER, body: '{' }),
      request('POST', '/seller/things', { key: WRITER, body: '{"name":""}' }),
      request('POST', '/seller/things', { key: WRITER, body: 'x'.repeat(MAX_BODY_BYTES + 1) }),
      request('POST', '/seller/reports', { key: WRITER, body: '[]' }),
      request('PUT', '/seller/things', { key: WRITER, body: '{"name":"n"}' }),
    ];

    const statuses = (await Promise.all(refused)).map((res) => res.status);

    expect(statuses).toEqual([401, 401, 401, 401, 403, 400, 400, 400, 422, 413, 422, 404]);
    expect(deps.calls).toEqual([]);
  });
});

describe('audit of seller actions', () => {
  const LEAKY_BODY = JSON.stringify({ name: 'kgs_secret-looking-value', size: 1 });

  it('records a mutation once, with the key, the action, the target and the result; GET routes are not recorded', async () => {
    expect((await request('GET', '/seller/things/t-1', { key: READER })).status).toBe(200);
    expect(audited).toEqual([]);
    expect((await request('POST', '/seller/things', { key: WRITER, body: JSON.stringify({ name: 'n' }) })).status).toBe(201);
    expect(audited).toEqual([
      {
        at: '2026-11-20T08:30:00.000Z',
        correlationId: CORRELATION_ID,
        channel: 'sellerApi',
        actor: { kind: 'key', keyId: 'bbbbbbbbbbbb', name: 'writer' },
        actorId: 'bbbbbbbbbbbb',
        action: 'things.post',
        target: {},
        result: { outcome: 'ok', status: 201 },
        latencyMs: 0,
      },
    ]);
  });

  it('records refusals: no key, an unknown or revoked key (its keyId), a key without the scope, bad input', async () => {
    await request('POST', '/seller/things', { body: LEAKY_BODY });
    await request('POST', '/seller/things', { key: UNKNOWN, body: LEAKY_BODY });
    await request('POST', '/seller/things', { key: REVOKED, body: LEAKY_BODY });
    await request('POST', '/seller/things', { key: READER, body: LEAKY_BODY });
    await request('POST', '/seller/things', { key: WRITER, body: '{"name": ' });
    await request('POST', '/seller/things', { key: WRITER, body: JSON.stringify({ name: '' }) });
    expect(deps.calls).toEqual([]);
    expect(audited.map((r) => [r.actor, r.result])).toEqual([
      [{ kind: 'anonymous' }, { outcome: 'refused', status: 401, errorCode: 'unauthenticated' }],
      [
        { kind: 'anonymous', keyId: keyIdOf(hashApiKey(UNKNOWN)) },
        { outcome: 'refused', status: 401, errorCode: 'unauthenticated' },
      ],
      [
        { kind: 'anonymous', keyId: keyIdOf(hashApiKey(REVOKED)) },
        { outcome: 'refused', status: 401, errorCode: 'unauthenticated' },
      ],
      [
        { kind: 'key', keyId: 'aaaaaaaaaaaa', name: 'reader' },
        { outcome: 'refused', status: 403, errorCode: 'forbidden' },
      ],
      [
        { kind: 'key', keyId: 'bbbbbbbbbbbb', name: 'writer' },
        { outcome: 'refused', status: 400, errorCode: 'invalid_json' },
      ],
      [
        { kind: 'key', keyId: 'bbbbbbbbbbbb', name: 'writer' },
        { outcome: 'refused', status: 422, errorCode: 'unprocessable' },
      ],
    ]);
    expect(audited.map((r) => r.actorId)).toEqual([
      'anonymous',
      keyIdOf(hashApiKey(UNKNOWN)),
      keyIdOf(hashApiKey(REVOKED)),
      'aaaaaaaaaaaa',
      'bbbbbbbbbbbb',
      'bbbbbbbbbbbb',
    ]);
    // No body, no secret: neither the key nor anything the body held is in a record.
    const text = JSON.stringify(audited);
    for (const secretText of [UNKNOWN, REVOKED, READER, WRITER, 'kgs_secret-looking-value', 'Bearer'])
      expect(text).not.toContain(secretText);
  });

  it('names the target from the path parameters, and the action from the route or its body', async () => {
    const named = defineRoute({
      method: 'POST',
      path: '/seller/things/{thingId}/decisions',
      summary: 'Decide',
      action: 'things.decide',
      actionOf: (body: { verb: string }) => `things.${body.verb}`,
      scope: 'usage:write',
      params: z.strictObject({ thingId: z.string().max(8) }),
      body: z.strictObject({ verb: z.enum(['keep', 'drop']) }),
      response: z.object({}),
      async handle() {
        return { body: {} };
      },
    });
    ctx.routes = [named as AnyRoute<Deps>, ...ROUTES];
    await request('POST', '/seller/things/t%201/decisions', { key: WRITER, body: JSON.stringify({ verb: 'drop' }) });
    await request('POST', '/seller/things/t-2/decisions', { key: READER, body: JSON.stringify({ verb: 'keep' }) });
    await request('POST', '/seller/things/t-3/decisions', { key: WRITER, body: JSON.stringify({ verb: 'other' }) });
    await request('POST', '/seller/things/t-4/decisions', { body: JSON.stringify({ verb: 'keep' }) });
    await request('POST', '/seller/things/much-too-long-id/decisions', { key: WRITER, body: JSON.stringify({ verb: 'keep' }) });
    expect(audited.map((r) => [r.action, r.target, r.result.status])).toEqual([
      ['things.drop', { thingId: 't 1' }, 200],
      // A key refused for its scope: the action is still named from a valid body.
      ['things.keep', { thingId: 't-2' }, 403],
      ['things.decide', { thingId: 't-3' }, 422],
      // No key: the body is not read.
      ['things.decide', { thingId: 't-4' }, 401],
      // A bad path parameter is kept as sent; a known key's valid body still names the action.
      ['things.keep', { thingId: 'much-too-long-id' }, 400],
    ]);
  });

  it('answers the route even when the audit write fails, and logs the lost record without secrets', async () => {
    ctx.actions = { append: async () => Promise.reject(new Error('table unavailable')) };
    const res = await request('POST', '/seller/things', { key: WRITER, body: JSON.stringify({ name: 'n' }) });
    expect(res.status).toBe(201);
    const lost = logged.find((l) => l.message === 'seller action not audited');
    expect(lost?.level).toBe('error');
    expect(lost?.extra).toMatchObject({ action: 'things.post', actor: { kind: 'key', keyId: 'bbbbbbbbbbbb' }, result: { status: 201 } });
    expect(JSON.stringify(logged)).not.toContain(WRITER);
  });

  it('records a failure (500) and a throttled dependency (429)', async () => {
    const boom = defineRoute({
      method: 'POST',
      path: '/seller/boom',
      summary: 'Fails',
      scope: null,
      response: z.object({}),
      async handle(): Promise<{ body: Record<string, never> }> {
        throw failure;
      },
    });
    ctx.routes = [boom as AnyRoute<Deps>];
    await request('POST', '/seller/boom');
    failure = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    await request('POST', '/seller/boom');
    expect(audited.map((r) => [r.action, r.actor, r.result])).toEqual([
      ['boom.post', { kind: 'anonymous' }, { outcome: 'failed', status: 500, errorCode: 'internal' }],
      ['boom.post', { kind: 'anonymous' }, { outcome: 'refused', status: 429, errorCode: 'rate_limited' }],
    ]);
  });
});
