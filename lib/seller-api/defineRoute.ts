import type { z } from 'zod';
import type { RouteScope, SellerKey } from './apiKeys.ts';

/**
 * One seller API route: its method and path, the scope a key needs, and zod schemas for its path parameters,
 * query, body and answer. The router validates with the same schemas the OpenAPI document is generated from.
 */

export type Method = 'GET' | 'POST';

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The authenticated key (routes with a scope only). */
  key: SellerKey | undefined;
  correlationId: string;
  now: number;
}

export interface RouteAnswer<R> {
  body: R;
}

export interface Route<P = unknown, Q = unknown, B = unknown, R = unknown, D = unknown> {
  method: Method;
  /** e.g. `/seller/instances/{instanceId}` */
  path: string;
  summary: string;
  /** A longer explanation for the OpenAPI document. */
  description?: string;
  /**
   * The stable name of what a non-GET route does, as the audit log records it (e.g. `statements.run`); default
   * from the method and the path template (see `actionName`).
   */
  action?: string;
  /** A finer name from the validated body (e.g. `supervision.accept`); the router falls back to `action`. */
  actionOf?(body: B): string;
  /** The scope a key must carry; `ANY_KEY`: any valid key; `null`: no key needed. */
  scope: RouteScope | null;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /**
   * The body is checked record by record by the handler (usage reports): the router only requires a JSON object,
   * and `body` documents its shape.
   */
  lenientBody?: boolean;
  response: z.ZodType<R>;
  /** The status of a successful answer: 200, 201 for something created, 202 for work that goes on after the answer. */
  successStatus?: 200 | 201 | 202;
  /** Statuses other than 200 this route answers, for the document: status → description. */
  errors?: Partial<Record<400 | 401 | 403 | 404 | 409 | 413 | 422 | 429, string>>;
  handle(input: RouteInput<P, Q, B>, deps: D): Promise<RouteAnswer<R>>;
}

/**
 * The name a route's calls are audited under: its declared `action`, else the path's fixed segments after
 * `/seller` and the method, e.g. `POST /seller/things/{thingId}/copy` → `things.copy.post`.
 */
export function actionName(route: Pick<Route, 'method' | 'path' | 'action'>): string {
  if (route.action) return route.action;
  const words = route.path
    .split('/')
    .filter((segment) => segment !== '' && segment !== 'seller' && !segment.startsWith('{'))
    .map((segment) => segment.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase()));
  return [...words, route.method.toLowerCase()].join('.');
}

/** Declares a route with its types inferred from its schemas. */
export function defineRoute<P, Q, B, R, D>(definition: Route<P, Q, B, R, D>): Route<P, Q, B, R, D> {
  return definition;
}

/** Any route of an API whose routes share the dependencies `D` (schemas are covariant, handlers are methods). */
export type AnyRoute<D> = Route<unknown, unknown, unknown, unknown, D>;
