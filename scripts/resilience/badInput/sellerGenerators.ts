/** Generators of seller API requests refused for their key, path, query or cursor. */
import fc from 'fast-check';
import { INSTANCE_STATES } from '#lib/instances/model.ts';
import { anyText, b64url, badLimit, charsOf, flip, LETTERS, loneSurrogate, notIsoTime, overLong } from './arbitraries.ts';
import { type BuildContext, idsOf, sellerRecipe } from './cases.ts';
import { bearer, definedOnly, type QueryParams, sellerEvent } from './events.ts';
import { ANY_KEY } from '#lib/seller-api/apiKeys.ts';
import { LIMITED_KEY_SCOPES, routeRequest, SELLER_ROUTES } from './sellerRoutes.ts';

const KEY_CHARS = `${LETTERS}_-`;

/** Missing, malformed, unknown, revoked or under-scoped keys on every route: 401 (403 for the missing scope). */
export const sellerBadAuth = sellerRecipe(
  'seller: missing or bad key',
  fc
    .tuple(
      fc.constantFrom(...SELLER_ROUTES),
      fc.nat(),
      fc.constantFrom(
        'none',
        'empty',
        'scheme only',
        'scheme and space',
        'basic',
        'random',
        'unknown key',
        'revoked key',
        'key with a changed character',
        'key truncated',
        'two spaces',
        'trailing space',
        'tab',
        'newline',
        'no scheme',
        'limited key',
      ),
      anyText(80),
      fc.string({ unit: charsOf(KEY_CHARS), minLength: 43, maxLength: 43 }),
      fc.nat(),
      fc.boolean(),
    )
    .map(([route, pick, how, text, randomKey, position, capitalised]) => (ctx: BuildContext) => {
      const { full, revoked, limited } = ctx.fixture.sellerKeys;
      const changed = flip(full, 4 + (position % (full.length - 4)), Array.from(KEY_CHARS), position, () => true)!;
      const authorization: Record<typeof how, string | undefined> = {
        none: undefined,
        empty: '',
        'scheme only': 'Bearer',
        'scheme and space': 'Bearer ',
        basic: `Basic ${Buffer.from(`user:${full}`).toString('base64')}`,
        random: text,
        'unknown key': bearer(`kgs_${randomKey}`),
        'revoked key': bearer(revoked),
        'key with a changed character': bearer(changed),
        'key truncated': bearer(full.slice(0, -1)),
        'two spaces': `Bearer  ${full}`,
        'trailing space': `${bearer(full)} `,
        tab: `Bearer\t${full}`,
        newline: `${bearer(full)}\n`,
        'no scheme': full,
        'limited key': bearer(limited),
      };
      const req = routeRequest(route, ctx, pick);
      // The limited key is refused with 403 where it lacks the scope; on a route of its own scopes it is the right key.
      const limitedRoute = how === 'limited key' && (route.scope === ANY_KEY || LIMITED_KEY_SCOPES.includes(route.scope));
      const value = limitedRoute ? bearer(changed) : authorization[how];
      return {
        event: sellerEvent({
          method: route.method,
          path: req.path,
          authorization: value,
          authorizationHeader: capitalised ? 'Authorization' : 'authorization',
          query: req.query,
          body: req.body,
        }),
        expect: { statuses: how === 'limited key' && !limitedRoute ? [403] : [401] },
        ids: idsOf(req.query),
      };
    }),
);

const API_SEGMENTS = ['instances', 'messages', 'usage', 'supervision', 'statements', 'openapi.json'];

/** Paths no route serves, and methods a route does not take: 404, whatever the key. */
export const sellerBadPaths = sellerRecipe(
  'seller: bad path or method',
  fc
    .tuple(
      fc.oneof(
        anyText(30, 1)
          .filter((s) => !API_SEGMENTS.includes(s.replace(/\/+$/, '')) && !s.includes('/'))
          .map((s) => ({ method: 'GET', path: `/seller/${s}` })),
        fc
          .constantFrom(
            '',
            '/',
            '/seller',
            '/seller/',
            '//seller/instances',
            '/seller//instances',
            '/SELLER/instances',
            '/seller/Instances',
            '/seller/instances/a/b',
            '/seller/usage/x',
            '/seller/messages/x',
            '/seller/../seller/instances',
            '/seller/instances%2F',
            '/seller/%69nstances',
            '/koogallery/produce',
            '/seller/openapi.json/x',
            '/seller/instances;x',
            '/seller/instances?x',
            '/seller/\u0000',
            '/seller/supervision',
            '/seller/supervision/',
            '/seller/supervision/o',
            '/seller/supervision/o/l',
            '/seller/supervision/o/l/proof',
            '/seller/supervision/o/l/Proofs',
            '/seller/supervision/o/l/proofs/x',
            '/seller/supervision/o/l/history',
            '/seller/supervision/o/l/m/proofs',
            '/seller/supervision//l/proofs',
            '/seller/supervision/o//proofs',
            '/seller/supervision/o/l/transitions',
            '/seller/statement',
            '/seller/Statements',
            '/seller/statements/2026-01/run',
            '/seller/statements/2026-01/close',
            '/seller/statements/2026-01/x',
            '/seller/statements/2026-01/reconciliation/x',
            '/seller/statements//reconciliation',
            '/seller/statements/2026/01',
            '/seller/statements/2026-01/versions/1',
          )
          .map((path) => ({ method: 'GET', path })),
        fc.integer({ min: 1_000, max: 100_000 }).map((n) => ({ method: 'GET', path: `/seller/${'a/'.repeat(n)}` })),
        fc
          .tuple(
            fc.constantFrom('PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', 'post', 'TRACE', ''),
            fc.constantFrom(
              '/seller/instances',
              '/seller/usage',
              '/seller/messages',
              '/seller/openapi.json',
              '/seller/supervision/o/l/proofs',
              '/seller/supervision/o/l/transitions',
              '/seller/statements',
              '/seller/statements/2026-01',
              '/seller/statements/2026-01/run',
              '/seller/statements/2026-01/close',
              '/seller/statements/2026-01/reconciliation',
            ),
          )
          .map(([method, path]) => ({ method, path })),
        fc
          .constantFrom(
            '/seller/instances',
            '/seller/messages',
            '/seller/openapi.json',
            '/seller/instances/x',
            '/seller/supervision/o/l',
            '/seller/supervision/o/l/proofs/x',
            '/seller/supervision/o/l/transitions/accept',
            '/seller/statements',
            '/seller/statements/2026-01',
            '/seller/statements/2026-01/runs',
            '/seller/statements/2026-01/run/x',
            '/seller/statements//run',
            '/seller/statements//close',
          )
          .map((path) => ({ method: 'POST', path })),
      ),
      fc.boolean(),
      fc.string({ maxLength: 200 }),
    )
    .map(([{ method, path }, withKey, body]) => (ctx: BuildContext) => ({
      event: sellerEvent({ method, path, authorization: withKey ? bearer(ctx.fixture.sellerKeys.full) : undefined, body }),
      expect: { statuses: [404] },
      ids: [path],
    })),
);

/** Instance ids in the path that are badly encoded (400), too long (400) or unknown (404). */
export const sellerBadPathParams = sellerRecipe(
  'seller: bad path parameter',
  fc
    .oneof(
      fc
        .constantFrom('%', '%Z', '%ZZ', '%E0%A4', '%ED%A0%80', '%C0%AF', '%FF%FE', 'a%', '%%41')
        .map((segment) => ({ segment, statuses: [400] })),
      fc.integer({ min: 101, max: 5_000 }).map((n) => ({ segment: 'i'.repeat(n), statuses: [400] })),
      anyText(60, 1).map((s) => ({ segment: encodeURIComponent(s), statuses: [400, 404] })),
      fc
        .constantFrom('%2F', '%23INSTANCE', '..', '.', '%20', '%00', 'x%2Fy', '\u00e9')
        .map((segment) => ({ segment, statuses: [400, 404] })),
    )
    .map(({ segment, statuses }) => (ctx: BuildContext) => ({
      event: sellerEvent({ method: 'GET', path: `/seller/instances/${segment}`, authorization: bearer(ctx.fixture.sellerKeys.full) }),
      expect: { statuses },
      ids: [segment],
    })),
);

/** Queries the listings and the ledger refuse: 400. */
export const sellerBadQuery = sellerRecipe(
  'seller: bad query',
  fc
    .tuple(
      fc.oneof(
        fc.tuple(
          fc.constant('instances'),
          fc.oneof(
            fc
              .tuple(
                anyText(20, 1).filter((k) => !['state', 'productId', 'test', 'limit', 'cursor'].includes(k)),
                anyText(20),
              )
              .map(([k, v]) => ({ [k]: v })),
            anyText(30)
              .filter((s) => !(INSTANCE_STATES as readonly string[]).includes(s))
              .map((state) => ({ state })),
            fc.oneof(fc.constant(''), overLong(64)).map((productId) => ({ productId })),
            anyText(10)
              .filter((s) => s !== 'true' && s !== 'false')
              .map((test) => ({ test })),
            badLimit(1, 100).map((limit) => ({ limit })),
            fc
              .oneof(
                fc.constant(''),
                fc.integer({ min: 2_049, max: 10_000 }).map((n) => 'A'.repeat(n)),
              )
              .map((cursor) => ({ cursor })),
          ),
        ),
        fc.tuple(
          fc.constant('messages'),
          fc.oneof(
            fc
              .tuple(
                anyText(20, 1).filter((k) => !['from', 'to', 'resultCode', 'limit', 'cursor'].includes(k)),
                anyText(20),
              )
              .map(([k, v]) => ({ [k]: v })),
            notIsoTime.map((from) => ({ from })),
            notIsoTime.map((to) => ({ to })),
            fc.integer({ min: 32, max: 4_000 }).map((days) => ({
              from: new Date(Date.UTC(2025, 0, 1) - days * 86_400_000).toISOString(),
              to: new Date(Date.UTC(2025, 0, 1)).toISOString(),
            })),
            fc
              .integer({ min: 1, max: 1_000_000 })
              .map((s) => ({ from: new Date(Date.UTC(2025, 0, 2) + s * 1000).toISOString(), to: '2025-01-02T00:00:00Z' })),
            fc.oneof(fc.constant(''), overLong(16)).map((resultCode) => ({ resultCode })),
            badLimit(1, 200).map((limit) => ({ limit })),
          ),
        ),
        fc.tuple(
          fc.constant('usage'),
          fc.oneof(
            fc.constant({ instanceId: undefined }),
            fc.oneof(fc.constant(''), overLong(64)).map((instanceId) => ({ instanceId })),
            fc
              .tuple(
                anyText(20, 1).filter((k) => !['instanceId', 'from', 'to', 'limit'].includes(k)),
                anyText(20),
              )
              .map(([k, v]) => ({ [k]: v })),
            fc
              .oneof(notIsoTime, fc.constantFrom('2025-01-01T00:00:00+01:00', '2025-01-01T00:00:00.000+00:00', '2025-01-01 00:00:00Z'))
              .map((from) => ({ from })),
            notIsoTime.map((to) => ({ to })),
            fc
              .integer({ min: 1, max: 1_000_000 })
              .map((s) => ({ from: new Date(Date.UTC(2025, 0, 2) + s * 1000).toISOString(), to: '2025-01-02T00:00:00Z' })),
            badLimit(1, 1_000).map((limit) => ({ limit })),
          ),
        ),
      ),
      fc.nat(),
    )
    .map(([[listing, bad], pick]) => (ctx: BuildContext) => {
      const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
      const base: Record<string, string> = listing === 'usage' ? { instanceId: seeded.instanceId } : {};
      const query = definedOnly({ ...base, ...(bad as QueryParams) });
      if ('instanceId' in bad && bad.instanceId === undefined) delete query.instanceId;
      return {
        event: sellerEvent({ method: 'GET', path: `/seller/${listing}`, authorization: bearer(ctx.fixture.sellerKeys.full), query }),
        expect: { statuses: [400] },
        ids: idsOf(query),
      };
    }),
);

/** Cursors the listings did not issue: 400. Cursors of the right shape (tampered real ones) may also be read: 200. */
export const sellerBadCursor = sellerRecipe(
  'seller: bad cursor',
  fc
    .tuple(
      fc.constantFrom('instances', 'messages'),
      fc.oneof(
        anyText(100, 1).map((s) => ({ build: () => s, lenient: false })),
        fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => ({ build: () => Buffer.from(b).toString('base64url'), lenient: false })),
        fc.jsonValue({ maxDepth: 4 }).map((v) => ({ build: () => b64url(v), lenient: false })),
        fc
          .constantFrom(
            'not json',
            '{',
            'null',
            '[]',
            '{"list":"instances"}',
            '{"list":"messages"}',
            '{"list":"messages","day":"2025-02-30"}',
          )
          .map((s) => ({ build: () => b64url(s), lenient: false })),
        fc
          .tuple(
            fc.oneof(
              fc.constant('2025-01-01T00:00:00.000Z'),
              anyText(30),
              loneSurrogate,
              fc.constantFrom('2025-02-30T00:00:00.000Z', '9999-12-31T23:59:59.999Z', ''),
            ),
            fc.oneof(anyText(20, 1), loneSurrogate, fc.constantFrom('x', '#', '%', '\u0000')),
            fc.constantFrom('consistent pk', 'other pk', 'extra key', 'number listAt', 'no sk'),
          )
          .map(([at, instanceId, variant]) => ({
            build: () => {
              let pk: string;
              try {
                pk = `INSTANCE#${encodeURIComponent(instanceId)}`;
              } catch {
                pk = `INSTANCE#${instanceId}`;
              }
              const key: Record<string, unknown> = {
                listKind: 'INSTANCE',
                listAt: `${at}#${instanceId}`,
                pk: variant === 'other pk' ? 'INSTANCE#other' : pk,
                sk: '#INSTANCE',
              };
              if (variant === 'extra key') key.extra = 'x';
              if (variant === 'number listAt') key.listAt = 5;
              if (variant === 'no sk') delete key.sk;
              return b64url({ list: 'instances', key });
            },
            lenient: true,
          })),
        fc
          .tuple(
            fc.oneof(
              fc.constant('2025-01-01'),
              anyText(12),
              loneSurrogate,
              fc.constantFrom('2025-02-30', '0000-00-00', '99999-01-01', '2025-1-1', ''),
            ),
            fc.oneof(anyText(30), loneSurrogate, fc.constant('T00:00:00.000Z#x')),
            fc.boolean(),
          )
          .map(([day, rest, withKey]) => ({
            build: () => b64url({ list: 'messages', day, ...(withKey ? { key: { pk: `MSG#${day}`, sk: `${day}${rest}` } } : {}) }),
            lenient: true,
          })),
        fc.integer({ min: 2_049, max: 20_000 }).map((n) => ({ build: () => 'A'.repeat(n), lenient: false })),
        fc.tuple(fc.nat(), fc.nat()).map(([position, start]) => ({
          build: (real: string | undefined, other: string | undefined) => tamper(real ?? other ?? 'AAAA', position, start),
          lenient: true,
        })),
        fc.constant({ build: (_real: string | undefined, other: string | undefined) => other ?? 'e30', lenient: false }),
      ),
    )
    .map(([listing, cursor]) => (ctx: BuildContext) => {
      const real = listing === 'instances' ? ctx.fixture.cursors.instances : ctx.fixture.cursors.messages;
      const other = listing === 'instances' ? ctx.fixture.cursors.messages : ctx.fixture.cursors.instances;
      const value = cursor.build(real, other);
      return {
        event: sellerEvent({
          method: 'GET',
          path: `/seller/${listing}`,
          authorization: bearer(ctx.fixture.sellerKeys.full),
          query: { cursor: value, limit: '2' },
        }),
        expect: { statuses: cursor.lenient ? [200, 400] : [400] },
        ids: [],
      };
    }),
);

function tamper(cursor: string, position: number, start: number): string {
  return flip(cursor, position % cursor.length, Array.from(KEY_CHARS), start, () => true) ?? `${cursor}A`;
}
