import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ANY_KEY, SCOPES } from '#lib/seller-api/apiKeys.ts';
import { ERROR_STATUS } from '#lib/seller-api/errors.ts';
import { openApiDocument } from '#lib/seller-api/openapi.ts';
import { defineRoute } from '#lib/seller-api/defineRoute.ts';
import { openApiRoute, sellerRoutes } from '#lib/seller-api/allRoutes.ts';
import { UsageIngestRequestSchema, UsageReportSchema } from '#lib/usage/reports.ts';

/** The seller API's OpenAPI document, generated from the routes' zod schemas. */

const INFO = { title: 'KooGallery ISV server: seller API', version: '1' };

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: Record<string, unknown>;
}

interface Operation {
  operationId: string;
  summary: string;
  security: Record<string, string[]>[];
  'x-required-scope'?: string;
  parameters: Parameter[];
  requestBody?: { required: boolean; content: { 'application/json': { schema: Record<string, unknown> } } };
  responses: Record<string, { description: string; content?: { 'application/json': { schema: Record<string, unknown> } } }>;
}

interface Document {
  openapi: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, Record<string, unknown>>; schemas: Record<string, Record<string, unknown>> };
}

const document = () => openApiDocument(sellerRoutes, INFO) as unknown as Document;
const operationOf = (doc: Document, r: { method: string; path: string }): Operation => doc.paths[r.path]![r.method.toLowerCase()]!;

/** Every `$ref` anywhere in a value. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refs(v)));
}

describe('openApiDocument of the seller routes', () => {
  it('is OpenAPI 3.1.0 with the given title and version', () => {
    const doc = document();

    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject(INFO);
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('has every route under its path and method, and nothing else', () => {
    const doc = document();

    for (const r of sellerRoutes) {
      const op = operationOf(doc, r);
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op.summary).toBe(r.summary);
    }
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(sellerRoutes.map((r) => `${r.method} ${r.path}`).sort());
    expect(operations).toContain('GET /seller/openapi.json');
    expect(operations).toContain('POST /seller/usage');
  });

  it('gives every operation a distinct operationId', () => {
    const ids = Object.values(document().paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));

    expect(new Set(ids).size).toBe(sellerRoutes.length);
    for (const id of ids) expect(id).toMatch(/^(get|post)[A-Z][A-Za-z0-9]*$/);
    expect(ids).toContain('getSellerInstancesByInstanceId');
  });

  it('names the scope of every route that needs a key, with its 401 and 403 answers', () => {
    const doc = document();
    const scoped = sellerRoutes.filter((r) => r.scope !== null && r.scope !== ANY_KEY);
    expect(scoped.length).toBeGreaterThan(0);

    for (const r of scoped) {
      const op = operationOf(doc, r);
      expect(SCOPES).toContain(r.scope);
      expect(op.security).toEqual([{ apiKey: [r.scope] }]);
      expect(op['x-required-scope']).toBe(r.scope);
      for (const status of ['401', '403']) {
        expect(op.responses[status]?.content?.['application/json'].schema, `${r.path} ${status}`).toEqual({
          $ref: '#/components/schemas/Error',
        });
      }
    }
  });

  it('declares a key without a scope, and 401 but no 403, for a route any key may call', () => {
    const doc = document();
    const anyKey = sellerRoutes.filter((r) => r.scope === ANY_KEY);
    expect(anyKey.map((r) => r.path)).toEqual(['/seller/whoami']);
    for (const r of anyKey) {
      const op = operationOf(doc, r);
      expect(op.security).toEqual([{ apiKey: [] }]);
      expect(op['x-required-scope']).toBeUndefined();
      expect(op.responses['401']).toBeDefined();
      expect(op.responses['403']).toBeUndefined();
    }
  });

  it('declares no security, scope or 401/403 for a route without a scope', () => {
    const op = operationOf(document(), openApiRoute);

    expect(openApiRoute.scope).toBeNull();
    expect(op.security).toEqual([]);
    expect(op).not.toHaveProperty('x-required-scope');
    expect(op.responses).not.toHaveProperty('401');
    expect(op.responses).not.toHaveProperty('403');
  });

  it('documents its success status (200, or 202 for work that goes on) and 500 for every route, and the error answers of its schemas', () => {
    const doc = document();

    for (const r of sellerRoutes) {
      const op = operationOf(doc, r);
      expect(op.responses[String(r.successStatus ?? 200)]?.content?.['application/json'].schema, r.path).toBeDefined();
      expect(op.responses['500']?.content?.['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
      if (r.params || r.query || r.body) expect(op.responses, r.path).toHaveProperty('400');
      if (r.body) {
        expect(op.responses).toHaveProperty('413');
        expect(op.responses).toHaveProperty('422');
      }
      for (const [status, description] of Object.entries(r.errors ?? {})) expect(op.responses[status]?.description).toBe(description);
    }
    expect(operationOf(doc, { method: 'GET', path: '/seller/instances/{instanceId}' }).responses['404']?.description).toBe(
      'Unknown instance',
    );
  });

  it('lists every path parameter as required, and nothing the path does not name', () => {
    const doc = document();

    for (const r of sellerRoutes) {
      const named = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const inPath = operationOf(doc, r).parameters.filter((p) => p.in === 'path');
      expect(inPath.map((p) => p.name).sort(), r.path).toEqual(named.sort());
      for (const p of inPath) expect(p.required).toBe(true);
    }
    expect(operationOf(doc, { method: 'GET', path: '/seller/instances/{instanceId}' }).parameters).toEqual([
      { name: 'instanceId', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 100 } },
    ]);
  });

  it('marks a query parameter required only when it has neither a default nor optional()', () => {
    const ledger = operationOf(document(), { method: 'GET', path: '/seller/usage' }).parameters;

    expect(Object.fromEntries(ledger.map((p) => [p.name, [p.in, p.required]]))).toEqual({
      instanceId: ['query', true],
      from: ['query', false],
      to: ['query', false],
      limit: ['query', false],
    });
    expect(ledger.find((p) => p.name === 'limit')?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000, default: 200 });
    expect(ledger.find((p) => p.name === 'from')?.description).toMatch(/^Windows beginning at or after/);
  });

  it('describes the usage records from the zod schema the router validates with', () => {
    const body = operationOf(document(), { method: 'POST', path: '/seller/usage' }).requestBody;

    expect(body?.required).toBe(true);
    const schema = body!.content['application/json'].schema as {
      properties: { records: { type: string; minItems: number; maxItems: number; items: Record<string, unknown> } };
    };
    const { $schema: _dialect, ...generated } = z.toJSONSchema(UsageIngestRequestSchema, { io: 'input' });
    expect(schema).toEqual(generated);

    const { records } = schema.properties;
    expect(records).toMatchObject({ type: 'array', minItems: 1, maxItems: 1000 });
    const items = records.items as {
      properties: Record<string, { type: string; description?: string; pattern?: string }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(Object.keys(items.properties).sort()).toEqual(['beginTime', 'clientRef', 'endTime', 'instanceId', 'value']);
    expect(Object.keys(items.properties).sort()).toEqual(Object.keys(UsageReportSchema.shape).sort());
    expect(items.required.sort()).toEqual(['beginTime', 'endTime', 'instanceId', 'value']);
    expect(items.additionalProperties).toBe(false);
    expect(items.properties.value).toMatchObject({ type: 'string', description: UsageReportSchema.shape.value.description });
    expect(items.properties.clientRef?.pattern).toBe('^[A-Za-z0-9._:-]{1,128}$');
  });

  it('has an Error component whose code is one of the error codes', () => {
    const error = document().components.schemas.Error as {
      properties: { error: { properties: { code: { enum: string[] }; message: { type: string } }; required: string[] } };
      required: string[];
    };

    expect(error.required).toEqual(['error']);
    expect(error.properties.error.required.sort()).toEqual(['code', 'message']);
    expect(error.properties.error.properties.code.enum).toEqual(Object.keys(ERROR_STATUS));
    expect(error.properties.error.properties.code.enum).toContain('unauthenticated');
    expect(error.properties.error.properties.message).toEqual({ type: 'string' });
  });

  it('refers only to components it defines, and carries no JSON Schema dialect of its own', () => {
    const doc = document();

    for (const ref of refs(doc)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas).toHaveProperty(ref.split('/').pop()!);
    }
    expect(JSON.stringify(doc)).not.toContain('"$schema"');
  });

  it('is JSON and the same every time', () => {
    const doc = document();
    const text = JSON.stringify(doc);

    expect(JSON.parse(text)).toEqual(doc);
    expect(JSON.stringify(document())).toBe(text);
  });

  it('is what GET /seller/openapi.json answers', async () => {
    const input = { params: undefined, query: undefined, body: undefined, key: undefined, correlationId: 'c', now: 0 };
    const first = await openApiRoute.handle(input, undefined as never);
    const second = await openApiRoute.handle(input, undefined as never);

    expect(JSON.stringify(first.body)).toBe(JSON.stringify(document()));
    expect(second.body).toBe(first.body);
  });
});

describe('openApiDocument of other routes', () => {
  const one = defineRoute({
    method: 'POST',
    path: '/seller/things/{thingId}/parts/{partId}',
    summary: 'A part',
    scope: 'proofs:write',
    params: z.strictObject({ thingId: z.string().describe('The thing'), partId: z.string() }),
    query: z.strictObject({ dryRun: z.enum(['true', 'false']).optional(), mode: z.enum(['a', 'b']) }),
    body: z.strictObject({ note: z.string().max(10) }),
    response: z.object({ ok: z.boolean() }),
    errors: { 409: 'The part changed' },
    async handle() {
      return { body: { ok: true } };
    },
  });
  const doc = openApiDocument([one], { title: 't', version: '2' }) as unknown as Document;
  const op = doc.paths['/seller/things/{thingId}/parts/{partId}']!.post!;

  it('takes parameters, their descriptions and the body from the schemas', () => {
    expect(op.operationId).toBe('postSellerThingsByThingIdPartsByPartId');
    expect(op.parameters).toEqual([
      { name: 'thingId', in: 'path', required: true, description: 'The thing', schema: { type: 'string', description: 'The thing' } },
      { name: 'partId', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'dryRun', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] } },
      { name: 'mode', in: 'query', required: true, schema: { type: 'string', enum: ['a', 'b'] } },
    ]);
    expect(op.requestBody?.content['application/json'].schema).toEqual({
      type: 'object',
      properties: { note: { type: 'string', maxLength: 10 } },
      required: ['note'],
      additionalProperties: false,
    });
  });

  it('lists exactly the answers the route can give', () => {
    expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '403', '409', '413', '422', '500']);
    expect(op.responses['409']?.description).toBe('The part changed');
  });
});
