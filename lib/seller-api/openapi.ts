import * as z from 'zod';
import { ERROR_STATUS } from './errors.ts';
import type { AnyRoute } from './defineRoute.ts';
import { ANY_KEY } from './apiKeys.ts';

/**
 * The seller API's OpenAPI 3.1 document, generated from the routes' own zod schemas (the ones the router
 * validates with), so the document cannot drift from what the API accepts. Served at GET /seller/openapi.json.
 */

type JsonSchema = Record<string, unknown>;

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of what a client sends (`input`) or receives (`output`). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ErrorSchema = z.object({
  error: z.object({ code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS]), message: z.string() }),
});

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request (JSON, path or query parameters)',
  401: 'Missing, unknown or revoked API key',
  403: 'The API key lacks the scope this route needs',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  422: 'Body does not match the schema',
  429: 'Too many requests: retry after the Retry-After header',
};

function parametersOf(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const fieldSchema = jsonSchema(field, 'input');
    const description = typeof fieldSchema.description === 'string' ? fieldSchema.description : undefined;
    return {
      name,
      in: location,
      required: location === 'path' || !field.safeParse(undefined).success,
      ...(description ? { description } : {}),
      schema: fieldSchema,
    };
  });
}

function operation(route: AnyRoute<unknown>): JsonSchema {
  const errors: Record<number, string> = {};
  if (route.scope) Object.assign(errors, { 401: ERROR_DESCRIPTIONS[401] });
  if (route.scope && route.scope !== ANY_KEY) Object.assign(errors, { 403: ERROR_DESCRIPTIONS[403] });
  if (route.params || route.query) errors[400] = ERROR_DESCRIPTIONS[400]!;
  if (route.body) Object.assign(errors, { 400: ERROR_DESCRIPTIONS[400], 413: ERROR_DESCRIPTIONS[413], 422: ERROR_DESCRIPTIONS[422] });
  Object.assign(errors, route.errors ?? {});
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(\w)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    security: route.scope ? [{ apiKey: route.scope === ANY_KEY ? [] : [route.scope] }] : [],
    ...(route.scope && route.scope !== ANY_KEY ? { 'x-required-scope': route.scope } : {}),
    parameters: [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')],
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } }
      : {}),
    responses: {
      [route.successStatus ?? 200]: {
        description: { 200: 'OK', 201: 'Created', 202: 'Accepted: the work goes on' }[route.successStatus ?? 200],
        content: { 'application/json': { schema: jsonSchema(route.response, 'output') } },
      },
      ...Object.fromEntries(Object.entries(errors).map(([status, description]) => [status, errorResponse(description)])),
      500: errorResponse('Internal error; the message carries a correlation id'),
    },
  };
}

export function openApiDocument(routes: readonly AnyRoute<never>[], info: { title: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route as AnyRoute<unknown>);
  }
  return {
    openapi: '3.1.0',
    info: { ...info, description: 'Seller API of the KooGallery ISV server: usage reports, instances and the marketplace message log.' },
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'A seller API key (`npm run keys -- create`); routes name the scope they need.',
        },
      },
      schemas: { Error: jsonSchema(ErrorSchema, 'output') },
    },
  };
}
