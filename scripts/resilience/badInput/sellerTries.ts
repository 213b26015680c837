/** One request of the supervision/statement recipe, and the order lines, digests and broken values its tries share. */
import fc from 'fast-check';
import { anyText, charsOf, DELETE, hexDigest, loneSurrogate, smallWrongType } from './arbitraries.ts';
import type { BuildContext, Fixture } from './cases.ts';

/** One request of the supervision/statement recipe and the statuses it may get. */
export interface SellerTry {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: string;
  base64?: boolean;
  statuses: readonly number[];
  /** Ids and months the request names (see CaseBase.ids). */
  ids: string[];
}
export type TryBuild = (ctx: BuildContext) => SellerTry;

type Line = { orderId: string; orderLineId: string };
export const supervisionPath = (line: Line, tail: 'proofs' | 'transitions') =>
  `/seller/supervision/${encodeURIComponent(line.orderId)}/${encodeURIComponent(line.orderLineId)}/${tail}`;

/** An order line without a supervision flow: a seeded instance's (the marketplace sent it) or one never sent. */
export function unsupervisedLine(ctx: BuildContext, pick: number): Line {
  if (pick % 3 === 0) return { orderId: `${ctx.tag}-o`, orderLineId: `${ctx.tag}-o-000001` };
  const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
  return { orderId: seeded.orderId, orderLineId: seeded.orderLineId };
}

/** The fixture's supervised order line, or (`elsewhere`) one without a flow: for requests refused before the lookup. */
export const anyLine = (ctx: BuildContext, elsewhere: boolean, pick: number): Line =>
  elsewhere ? unsupervisedLine(ctx, pick) : ctx.fixture.supervised;

/** A POST of `body` (as JSON) to an order line's proofs or transitions, and the statuses it may get. */
export const supervisionPost = (line: Line, tail: 'proofs' | 'transitions', body: unknown, statuses: readonly number[]): SellerTry => ({
  method: 'POST',
  path: supervisionPath(line, tail),
  body: JSON.stringify(body),
  statuses,
  ids: [line.orderId, line.orderLineId],
});

/** JSON that is not an object (null, a scalar, an array) as the body of a proof or transition, on any order line: 422. */
export const nonObjectBodyTries = (tail: 'proofs' | 'transitions'): fc.Arbitrary<TryBuild> =>
  fc
    .tuple(
      fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)),
      fc.boolean(),
      fc.nat(),
    )
    .map(
      ([value, elsewhere, pick]) =>
        (ctx: BuildContext): SellerTry =>
          supervisionPost(anyLine(ctx, elsewhere, pick), tail, value, [422]),
    );

/** A value for a field, or DELETE to leave the field out; some depend on the stack's limits. */
export type Broken = { label: string; value: (fixture: Fixture) => unknown };
export const fixedValue =
  (label: string) =>
  (value: unknown): Broken => ({ label, value: () => value });
export const missingOrNull = fc.constantFrom<unknown>(DELETE, null).map(fixedValue('missing or null'));

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A well-formed proof id (26 Crockford base32 characters) of a proof that does not exist. */
export const proofIdArb = fc.string({ unit: charsOf(CROCKFORD), minLength: 26, maxLength: 26 });
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A SHA-256 in one of its two accepted forms: 64 hex digits (either case) or 44 base64 characters. */
export const sha256Arb = fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom('hex', 'HEX', 'base64')).map(([seed, form]) => {
  const hex = hexDigest(seed);
  return form === 'hex' ? hex : form === 'HEX' ? hex.toUpperCase() : Buffer.from(hex, 'hex').toString('base64');
});

/** Text that is no SHA-256 in either form. */
export const badSha256: fc.Arbitrary<Broken> = fc.oneof(
  smallWrongType.map(fixedValue('wrong type')),
  missingOrNull,
  fc
    .tuple(
      fc.integer({ min: 0, max: 200 }).filter((n) => n !== 64),
      fc.string({ maxLength: 8 }),
    )
    .map(([n, seed]) => hexDigest(seed).repeat(4).slice(0, n))
    .map(fixedValue('hex of the wrong length')),
  fc
    .tuple(fc.nat({ max: 63 }), fc.constantFrom('g', 'G', 'x', ' ', '-', 'é', '\u0000', '０'), fc.string({ maxLength: 8 }))
    .map(([at, c, seed]) => {
      const hex = hexDigest(seed);
      return hex.slice(0, at) + c + hex.slice(at + 1);
    })
    .map(fixedValue('64 characters, not all hex')),
  fc
    .tuple(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('no padding', 'double padding', 'base64url', 'non-canonical', 'prefixed', 'spaced', 'wrapped'),
    )
    .map(([seed, how]) => {
      const hex = hexDigest(seed);
      const b64 = Buffer.from(hex, 'hex').toString('base64');
      switch (how) {
        case 'no padding':
          return b64.slice(0, 43);
        case 'double padding':
          return `${b64.slice(0, 42)}==`;
        case 'base64url':
          // Forced to hold - or _ (so it differs from the base64 form).
          return `${b64.slice(0, 10).replace(/[+/]/g, 'A')}-_${b64.slice(12, 43).replace(/[+/]/g, 'A')}`;
        case 'non-canonical': {
          // The last character's two low bits are padding: setting one leaves the bytes and breaks the encoding.
          const last = B64.indexOf(b64[42]!);
          return `${b64.slice(0, 42)}${B64[last ^ 1]!}=`;
        }
        case 'prefixed':
          return `sha256:${hex}`;
        case 'spaced':
          return hex.replace(/(.{8})/g, '$1 ').trim();
        default:
          return `"${hex}"`;
      }
    })
    .map(fixedValue('malformed digest')),
  anyText(80)
    .filter((s) => !/^[0-9a-fA-F]{64}$/.test(s) && !/^[A-Za-z0-9+/]{43}=$/.test(s))
    .map(fixedValue('random text')),
  loneSurrogate.map(fixedValue('lone surrogate')),
);
