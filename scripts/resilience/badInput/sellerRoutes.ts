/** The seller API routes that need a key, and a reasonable request for each that still changes nothing. */
import { ANY_KEY, type RouteScope, type Scope } from '#lib/seller-api/apiKeys.ts';
import type { Method } from '#lib/seller-api/defineRoute.ts';
import { sellerRoutes } from '#lib/seller-api/allRoutes.ts';
import { hexDigest } from './arbitraries.ts';
import type { BuildContext } from './cases.ts';

/** The routes that need a key, and the scope each needs (lib/seller-api/allRoutes.ts; sellerRouteDrift checks the list). */
export const SELLER_ROUTES = [
  { method: 'GET', path: '/seller/instances', scope: 'instances:read' },
  { method: 'GET', path: '/seller/instances/{instanceId}', scope: 'instances:read' },
  { method: 'GET', path: '/seller/messages', scope: 'messages:read' },
  { method: 'POST', path: '/seller/usage', scope: 'usage:write' },
  { method: 'GET', path: '/seller/usage', scope: 'usage:read' },
  { method: 'GET', path: '/seller/supervision', scope: 'instances:read' },
  { method: 'POST', path: '/seller/supervision/{orderId}/{orderLineId}/proofs', scope: 'proofs:write' },
  { method: 'GET', path: '/seller/supervision/{orderId}/{orderLineId}/proofs', scope: 'instances:read' },
  { method: 'POST', path: '/seller/supervision/{orderId}/{orderLineId}/transitions', scope: 'supervision:decide' },
  { method: 'GET', path: '/seller/statements', scope: 'statements:read' },
  { method: 'GET', path: '/seller/statements/{period}', scope: 'statements:read' },
  { method: 'POST', path: '/seller/statements/{period}/run', scope: 'statements:write' },
  { method: 'POST', path: '/seller/statements/{period}/close', scope: 'statements:write' },
  { method: 'POST', path: '/seller/statements/{period}/reconciliation', scope: 'statements:write' },
  { method: 'GET', path: '/seller/statements/{period}/reconciliation', scope: 'statements:read' },
  { method: 'GET', path: '/seller/audit', scope: 'audit:read' },
  { method: 'GET', path: '/seller/messages/{messageId}', scope: 'messages:read' },
  { method: 'POST', path: '/seller/instances/{instanceId}/provisioning/retry', scope: 'messages:replay' },
  { method: 'POST', path: '/seller/dlq/redrive', scope: 'messages:replay' },
  { method: 'POST', path: '/seller/usage/windows/resend', scope: 'messages:replay' },
  { method: 'GET', path: '/seller/notifications', scope: 'messages:read' },
  { method: 'GET', path: '/seller/notifications/{notificationId}', scope: 'messages:read' },
  { method: 'GET', path: '/seller/dlq', scope: 'messages:read' },
  { method: 'GET', path: '/seller/whoami', scope: ANY_KEY },
  { method: 'GET', path: '/seller/keys', scope: 'keys:manage' },
  { method: 'POST', path: '/seller/keys', scope: 'keys:manage' },
  { method: 'POST', path: '/seller/keys/{keyId}/revoke', scope: 'keys:manage' },
  { method: 'GET', path: '/seller/tenants', scope: 'kit:read' },
  { method: 'GET', path: '/seller/tenants/{tenantId}', scope: 'kit:read' },
  { method: 'GET', path: '/seller/tenants/{tenantId}/users', scope: 'kit:read' },
] as const satisfies readonly { method: Method; path: string; scope: RouteScope }[];
type SellerRoute = (typeof SELLER_ROUTES)[number];

/** The scopes of the fixture's limited key: it is refused (403) on every route that needs another one. */
export const LIMITED_KEY_SCOPES: readonly Scope[] = ['usage:read'];

/**
 * Where SELLER_ROUTES and the seller API's routes disagree: a route that needs a key and is not listed (or is listed
 * with another scope), or a listed route that is gone. Empty when the generators know every route.
 */
export function sellerRouteDrift(): string[] {
  const name = (r: { method: string; path: string; scope: string | null }) => `${r.method} ${r.path} (${r.scope})`;
  const served = new Set(sellerRoutes.filter((r) => r.scope !== null).map(name));
  const listed = new Set(SELLER_ROUTES.map(name));
  return [
    ...[...served].filter((r) => !listed.has(r)).map((r) => `not in SELLER_ROUTES: ${r}`),
    ...[...listed].filter((r) => !served.has(r)).map((r) => `in SELLER_ROUTES but not served: ${r}`),
  ];
}

/** A month `YYYY-MM` (the year zero-padded to 4 digits). */
export const monthOf = (year: number, month: number) => `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
/** A past month no settlement run ever touches here (the tests settle 1970-01, 2011 to 2014 and 2024 onwards). */
export const NEVER_RUN_MONTH = '1991-06';
/** A month that has not started: a run of it is refused (422). */
const NOT_STARTED_MONTH = '2999-01';

/**
 * A reasonable request for a route (valid query and body), given a key. Whatever would change state stays refused
 * even with a right key: proofs and decisions name an order line without a supervision flow (404), a run names a
 * month that has not started (422), a new key grants no scope (422), a revocation names no key (404), a close and a bill upload a month never run (409), a provisioning retry an
 * instance that does not exist (404), a usage window resend a window that does not exist (404), a redrive is a dry run.
 */
export function routeRequest(
  route: SellerRoute,
  ctx: BuildContext,
  pick: number,
): { path: string; query: Record<string, string>; body?: string } {
  const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
  const line = `/seller/supervision/${encodeURIComponent(seeded.orderId)}/${encodeURIComponent(seeded.orderLineId)}`;
  switch (`${route.method} ${route.path}`) {
    case 'GET /seller/instances/{instanceId}':
      return { path: `/seller/instances/${encodeURIComponent(seeded.instanceId)}`, query: {} };
    case 'GET /seller/usage':
      return { path: route.path, query: { instanceId: seeded.instanceId } };
    case 'POST /seller/usage':
      return { path: route.path, query: {}, body: JSON.stringify({ records: [usageRecord(seeded.instanceId, ctx.nowMs)] }) };
    case 'POST /seller/supervision/{orderId}/{orderLineId}/proofs':
      return {
        path: `${line}/proofs`,
        query: {},
        body: JSON.stringify({
          kind: 'deployment',
          fileName: 'deployment.pdf',
          contentType: 'application/pdf',
          size: 2048,
          sha256: hexDigest(ctx.tag),
        }),
      };
    case 'GET /seller/supervision':
      return { path: route.path, query: { state: 'AWAITING_DELIVERY', limit: '5' } };
    case 'GET /seller/supervision/{orderId}/{orderLineId}/proofs':
      return { path: `${line}/proofs`, query: {} };
    case 'POST /seller/supervision/{orderId}/{orderLineId}/transitions':
      return { path: `${line}/transitions`, query: {}, body: JSON.stringify({ action: 'accept', note: 'accepted in the Seller Console' }) };
    case 'GET /seller/statements/{period}':
    case 'GET /seller/statements/{period}/reconciliation':
    case 'POST /seller/statements/{period}/close':
      return { path: route.path.replace('{period}', NEVER_RUN_MONTH), query: {} };
    case 'POST /seller/statements/{period}/run':
      return { path: route.path.replace('{period}', NOT_STARTED_MONTH), query: {} };
    case 'POST /seller/statements/{period}/reconciliation':
      return {
        path: route.path.replace('{period}', NEVER_RUN_MONTH),
        query: {},
        body: JSON.stringify({ size: 4096, sha256: hexDigest(ctx.tag) }),
      };
    case 'GET /seller/messages/{messageId}':
      return { path: `/seller/messages/${encodeURIComponent(`1991-06-01T00:00:00.000Z~never-${ctx.tag}`)}`, query: {} };
    case 'POST /seller/instances/{instanceId}/provisioning/retry':
      // An instance that does not exist: 404, nothing moves.
      return { path: `/seller/instances/${encodeURIComponent(`never-${ctx.tag}`)}/provisioning/retry`, query: {}, body: '{}' };
    case 'POST /seller/usage/windows/resend':
      // A window of an instance that does not exist: 404, nothing moves.
      return {
        path: route.path,
        query: {},
        body: JSON.stringify({ instanceId: `never-${ctx.tag}`, beginTime: usageRecord(seeded.instanceId, ctx.nowMs).beginTime }),
      };
    case 'POST /seller/dlq/redrive':
      return { path: route.path, query: {}, body: JSON.stringify({ dryRun: true, max: 1 }) };
    case 'POST /seller/keys':
      // No scope to grant: 422, no key is made.
      return { path: route.path, query: {}, body: JSON.stringify({ name: `never-${ctx.tag}`.slice(0, 64), scopes: [] }) };
    case 'POST /seller/keys/{keyId}/revoke':
      // A keyId no key has: 404, nothing is revoked.
      return { path: '/seller/keys/000000000000/revoke', query: {}, body: '{}' };
    case 'GET /seller/notifications/{notificationId}':
      return { path: `/seller/notifications/${encodeURIComponent(`never-${ctx.tag}`)}`, query: {} };
    case 'GET /seller/tenants/{tenantId}':
      return { path: `/seller/tenants/${encodeURIComponent(`never-${ctx.tag}`)}`, query: {} };
    case 'GET /seller/tenants/{tenantId}/users':
      return { path: `/seller/tenants/${encodeURIComponent(`never-${ctx.tag}`)}/users`, query: { limit: '5' } };
    default:
      return { path: route.path, query: { limit: '5' } };
  }
}

/** A well-formed usage record for the last closed hour: accepted, were it for a metered instance with a valid key. */
export function usageRecord(instanceId: string, nowMs: number): Record<string, unknown> {
  const hour = 3_600_000;
  const begin = Math.floor(nowMs / hour) * hour - hour;
  return {
    instanceId,
    beginTime: new Date(begin).toISOString().replace('.000', ''),
    endTime: new Date(begin + hour).toISOString().replace('.000', ''),
    value: '1.5',
  };
}
