/** Generators of legacy V1 production-interface requests (signed GET query strings) that must be refused. */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { formatV1Timestamp, signV1Request } from '#lib/koogallery/v1Auth.ts';
import { anyText, flip, FLIP_CHARS } from './arbitraries.ts';
import { type BuildContext, type Case, idsOf, produceRecipe } from './cases.ts';
import { v1Event } from './events.ts';
import { OTHER_EXPIRY } from './produceBodies.ts';

type V1Params = Record<string, string>;

/** A valid V1 call that would change state were it accepted. */
function validV1(ctx: BuildContext, which: number, pick: number): V1Params {
  const t = ctx.tag;
  const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
  switch (which % 6) {
    case 0:
      return { activity: 'newInstance', orderId: `${t}-o`, businessId: `${t}-b`, customerId: 'c', testFlag: '0' };
    case 1:
      return { activity: 'expireInstance', instanceId: seeded.instanceId };
    case 2:
      return { activity: 'releaseInstance', instanceId: seeded.instanceId };
    case 3:
      return { activity: 'instanceStatus', instanceId: seeded.instanceId, instanceStatus: 'FREEZE' };
    case 4:
      return { activity: 'refreshInstance', instanceId: seeded.instanceId, orderId: `${t}-o`, expireTime: OTHER_EXPIRY };
    default:
      return { activity: 'upgrade', instanceId: seeded.instanceId, orderId: `${t}-o`, productId: `${t}-p` };
  }
}

/** Garbage query strings: random text, bad encodings, repeated or unnamed parameters, too many, too long. */
export const v1BadQuery = produceRecipe(
  'V1: bad query string',
  fc
    .tuple(
      fc.oneof(
        anyText(300).map((s) => ({ kind: 'text' as const, s })),
        fc
          .array(
            fc.tuple(
              fc.oneof(
                fc.constantFrom(
                  'activity',
                  'timeStamp',
                  'authToken',
                  'instanceId',
                  'orderId',
                  'businessId',
                  '',
                  '%',
                  '%ZZ',
                  'a b',
                  'timeStamp',
                ),
                anyText(12),
              ),
              fc.oneof(
                anyText(40),
                fc.constantFrom('%', '%G1', '%E0%A4%', '%ED%A0%80', '%C0%AF', '%FF', '+', '%2B', 'newInstance', 'NOW', '=', '&'),
              ),
              fc.boolean(),
            ),
            { maxLength: 80 },
          )
          .map((pairs) => ({ kind: 'pairs' as const, pairs })),
        fc
          .integer({ min: 8_193, max: 40_000 })
          .map((n) => ({ kind: 'text' as const, s: `activity=queryInstance&instanceId=${'x'.repeat(n)}` })),
        fc
          .integer({ min: 65, max: 300 })
          .map((n) => ({ kind: 'text' as const, s: Array.from({ length: n }, (_, i) => `p${i}=1`).join('&') })),
      ),
      fc.boolean(),
    )
    .map(([shape, leadingMark]) => (ctx: BuildContext) => {
      let raw: string;
      if (shape.kind === 'text') raw = shape.s;
      else {
        raw = shape.pairs
          .map(([name, value, withEq]) => {
            const v = value === 'NOW' ? formatV1Timestamp(ctx.nowMs) : value;
            return withEq ? `${name}=${v}` : name;
          })
          .join('&');
      }
      return { event: v1Event(leadingMark ? `?${raw}` : raw), expect: ['000001', '000002'], ids: [] };
    }),
);

/** Validly signed V1 calls whose parameters are wrong (or whose timeStamp is stale): 000002. */
export const v1SignedInvalid = produceRecipe(
  'V1: invalid parameters (signed)',
  fc
    .tuple(
      fc.nat(),
      fc.nat(),
      fc.constantFrom(
        'unknown activity',
        'no activity',
        'bad instanceStatus',
        'newInstance without businessId',
        'newInstance without orderId',
        'over-long businessId',
        'bad expireTime',
        'no instanceId',
        'bad testFlag',
        'stale timeStamp',
        'future timeStamp',
      ),
      anyText(30, 1),
      fc.integer({ min: 61_000, max: 400 * 86_400_000 }),
    )
    .map(([which, pick, how, text, skewMs]) => (ctx: BuildContext) => {
      const t = ctx.tag;
      const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
      let params: V1Params;
      let at = ctx.nowMs;
      switch (how) {
        case 'unknown activity':
          params = {
            ...validV1(ctx, which, pick),
            activity: (
              [
                'newInstance',
                'expireInstance',
                'releaseInstance',
                'instanceStatus',
                'refreshInstance',
                'upgrade',
                'queryInstance',
              ] as string[]
            ).includes(text)
              ? `${text}x`
              : text,
          };
          break;
        case 'no activity': {
          const { activity: _a, ...rest } = validV1(ctx, which, pick);
          params = rest;
          break;
        }
        case 'bad instanceStatus':
          params = {
            activity: 'instanceStatus',
            instanceId: seeded.instanceId,
            instanceStatus: ['FREEZE', 'NORMAL'].includes(text) ? 'normal' : text,
          };
          break;
        case 'newInstance without businessId':
          params = { activity: 'newInstance', orderId: `${t}-o` };
          break;
        case 'newInstance without orderId':
          params = { activity: 'newInstance', businessId: `${t}-b` };
          break;
        case 'over-long businessId':
          params = { activity: 'newInstance', orderId: `${t}-o`, businessId: `${t}-${'b'.repeat(65)}` };
          break;
        case 'bad expireTime':
          params = {
            activity: 'refreshInstance',
            instanceId: seeded.instanceId,
            orderId: `${t}-o`,
            expireTime: /^\d{14}$/.test(text) ? '20991301000000' : text,
          };
          break;
        case 'no instanceId':
          params = { activity: ['expireInstance', 'releaseInstance', 'queryInstance', 'upgrade'][which % 4]!, orderId: `${t}-o` };
          break;
        case 'bad testFlag':
          params = { ...validV1(ctx, which, pick), testFlag: ['0', '1'].includes(text) ? '2' : text };
          break;
        case 'stale timeStamp':
          params = validV1(ctx, which, pick);
          at = ctx.nowMs - skewMs;
          break;
        default:
          params = validV1(ctx, which, pick);
          at = ctx.nowMs + skewMs;
          break;
      }
      const signed = signV1Request(ctx.fixture.accessKey, params, at);
      const fresh = how !== 'stale timeStamp' && how !== 'future timeStamp';
      return {
        event: v1Event(signed.query),
        expect: ['000002'],
        ...(fresh ? { claims: `v1:${signed.params.authToken}` } : {}),
        ids: idsOf(params),
      };
    }),
);

/** The parameters of a raw V1 query string under one reading of `+`, as the server would take them; undefined if refused. */
function v1Reading(raw: string, plusIsSpace: boolean): V1Params | undefined {
  const out: V1Params = {};
  for (const segment of raw.split('&').filter((s) => s !== '')) {
    const eq = segment.indexOf('=');
    const decode = (s: string) => decodeURIComponent(plusIsSpace ? s.replaceAll('+', ' ') : s);
    let name: string;
    let value: string;
    try {
      name = decode(eq === -1 ? segment : segment.slice(0, eq));
      value = decode(eq === -1 ? '' : segment.slice(eq + 1));
    } catch {
      return undefined;
    }
    if (name === 'authToken') value = value.replaceAll(' ', '+');
    if (name === '' || Object.hasOwn(out, name)) return undefined;
    out[name] = value;
  }
  return out;
}

/** The nonce a production-interface request would claim were it accepted: V2 `nonce`, V1 `v1:<authToken>`. */
export function nonceOf(c: Case): string | undefined {
  if (c.target !== 'produce') return undefined;
  if (c.event.requestContext.http.method === 'GET') {
    const raw = c.event.rawQueryString;
    const token = v1Reading(raw.startsWith('?') ? raw.slice(1) : raw, false)?.authToken;
    return token ? `v1:${token}` : undefined;
  }
  return c.event.queryStringParameters?.nonce;
}

/** Valid V1 calls, signed, then one character of the query string changed (never into an equivalent encoding). */
export const v1Mutated = produceRecipe(
  'V1: mutated after signing',
  fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()).map(([which, pick, position, start]) => (ctx: BuildContext) => {
    const params = validV1(ctx, which, pick);
    const signed = signV1Request(ctx.fixture.accessKey, params, ctx.nowMs);
    const raw = signed.query;
    const accept = (mutated: string) =>
      [true, false].every((plus) => {
        const reading = v1Reading(mutated, plus);
        return reading === undefined || !isDeepStrictEqual(reading, signed.params);
      });
    const mutated = flip(raw, position % raw.length, FLIP_CHARS, start, accept) ?? raw.slice(0, -1);
    return { event: v1Event(mutated), expect: ['000001', '000002'], ids: idsOf(params) };
  }),
);
