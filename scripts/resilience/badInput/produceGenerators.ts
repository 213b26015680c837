/** Generators of V2 production-interface requests that must be refused. */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { signRequest } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { anyText, charsOf, flip, FLIP_CHARS, HEX, loneSurrogate, withField } from './arbitraries.ts';
import { type Body, type BuildContext, idsOf, produceRecipe } from './cases.ts';
import { produceEvent, type QueryParams } from './events.ts';
import { ACTIVITIES, type Activity, FIELDS, invalidBody, nonceArb, signedV2, validBody } from './produceBodies.ts';

/** Signed with the right key, one field (or the activity) wrong: 000002, and only the nonce and the message log written. */
export const produceInvalidFields = produceRecipe(
  'produce: invalid field (signed)',
  fc.tuple(invalidBody, nonceArb).map(([broken, nonce]) => (ctx: BuildContext) => {
    const body = withField(validBody(broken.activity, ctx, broken.pick), broken.field, broken.value);
    const { raw, query } = signedV2(ctx.fixture.accessKey, body, ctx.nowMs, nonce);
    return { event: produceEvent(raw, query), expect: ['000002'], claims: nonce, ids: idsOf(body) };
  }),
);

/** Unicode where ids go: well-formed text names nothing we have (000003) or is refused (000002); lone surrogates are refused. */
export const produceUnicode = produceRecipe(
  'produce: unicode',
  fc
    .tuple(
      fc.constantFrom<Activity>(
        'queryInstance',
        'refreshInstance',
        'updateInstanceStatus',
        'releaseInstance',
        'upgradeInstance',
        'changeInstanceCheck',
        'updateLicenseCodeStatus',
        'releaseLicenseCode',
      ),
      fc.oneof(
        anyText(64, 1),
        loneSurrogate,
        fc.constantFrom('\u202eevil', 'a\u0000b', '\ufeffid', 'é', 'é', '😀'.repeat(40), '\u0000', '%41', '#INSTANCE', 'a#b', '../x'),
      ),
      fc.nat(),
      nonceArb,
    )
    .map(([activity, text, pick, nonce]) => (ctx: BuildContext) => {
      const field = activity.includes('License') ? 'license' : 'instanceId';
      const body = { ...validBody(activity, ctx, pick), [field]: text };
      const { raw, query } = signedV2(ctx.fixture.accessKey, body, ctx.nowMs, nonce);
      return { event: produceEvent(raw, query), expect: ['000002', '000003'], claims: nonce, ids: idsOf(body) };
    }),
);

/** Bodies nested deeper than the limit (anywhere), unbalanced brackets, or nested values where text belongs. */
export const produceDeepJson = produceRecipe(
  'produce: deep JSON',
  fc
    .tuple(
      fc.constantFrom('top-level arrays', 'top-level objects', 'deep field', 'unbalanced', 'nested value in a text field'),
      fc.integer({ min: 33, max: 50_000 }),
      fc.integer({ min: 1, max: 31 }),
      fc.constantFrom(...ACTIVITIES),
      fc.nat(),
      nonceArb,
    )
    .map(([shape, depth, shallow, activity, pick, nonce]) => (ctx: BuildContext) => {
      const body = validBody(activity, ctx, pick);
      let raw: string;
      switch (shape) {
        case 'top-level arrays':
          raw = '['.repeat(depth) + ']'.repeat(depth);
          break;
        case 'top-level objects':
          raw = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
          break;
        case 'deep field':
          raw = JSON.stringify(body).replace(/}$/, `,"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`);
          break;
        case 'unbalanced':
          raw = JSON.stringify(body).replace(/}$/, `,"deep":${'{"x":['.repeat(Math.ceil(depth / 2))}`);
          break;
        default: {
          // A required text field holding a nested array: within the depth limit, validly signed, the wrong type.
          const field = Object.keys(FIELDS[activity]).find((f) => f !== 'testFlag')!;
          const nested: unknown = JSON.parse('['.repeat(shallow) + '"x"' + ']'.repeat(shallow));
          const signed = signedV2(ctx.fixture.accessKey, { ...body, [field]: nested }, ctx.nowMs, nonce);
          return { event: produceEvent(signed.raw, signed.query), expect: ['000002'], claims: nonce, ids: idsOf(body) };
        }
      }
      const query = signRequest(ctx.fixture.accessKey, body as JsonObject, { nowMs: ctx.nowMs, nonce });
      return { event: produceEvent(raw, query), expect: ['000002'], ids: idsOf(body) };
    }),
);

/** Random bytes and JSON that is not an object, as text or base64, with no, random or plausible query parameters. */
export const produceRandomBytes = produceRecipe(
  'produce: random bytes / not an object',
  fc
    .tuple(
      fc.oneof(
        fc.uint8Array({ maxLength: 4096 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
        fc
          .jsonValue({ maxDepth: 4 })
          .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
          .map((v) => ({ kind: 'json' as const, text: JSON.stringify(v) ?? 'null' })),
        fc
          .constantFrom(
            '',
            ' ',
            'null',
            'true',
            '"x"',
            '[]',
            '1e999',
            '-0',
            '{',
            '}',
            '{"a":1,}',
            "{'activity':'newInstance'}",
            '\ufeff{}',
            '{"activity":"newInstance"}\u0000',
          )
          .map((text) => ({ kind: 'json' as const, text })),
      ),
      fc.constantFrom('text', 'base64', 'latin1'),
      fc.oneof(
        fc.constant<QueryParams>({}),
        fc.record({
          signature: fc.option(anyText(80), { nil: undefined }),
          timestamp: fc.option(anyText(16), { nil: undefined }),
          nonce: fc.option(anyText(80), { nil: undefined }),
        }),
        fc
          .record({ signature: fc.string({ unit: charsOf(HEX), minLength: 64, maxLength: 64 }), nonce: nonceArb })
          .map((q) => ({ ...q, timestamp: 'now' })),
      ),
    )
    .map(([payload, encoding, q]) => (ctx: BuildContext) => {
      const bytes = payload.kind === 'bytes' ? Buffer.from(payload.bytes) : Buffer.from(payload.text, 'utf8');
      const body =
        encoding === 'base64' ? bytes.toString('base64') : encoding === 'latin1' ? bytes.toString('latin1') : bytes.toString('utf8');
      const query = q.timestamp === 'now' ? { ...q, timestamp: String(ctx.nowMs) } : q;
      return { event: produceEvent(body, query, encoding === 'base64'), expect: ['000001', '000002'], ids: [] };
    }),
);

/** A valid signed body padded past the size limit (ASCII or multi-byte padding). */
export const produceOversized = produceRecipe(
  'produce: body over the size limit',
  fc
    .tuple(fc.constantFrom(...ACTIVITIES), fc.nat(), fc.integer({ min: 1, max: 200_000 }), fc.constantFrom('x', '中', '😀'), nonceArb)
    .map(([activity, pick, extra, pad, nonce]) => (ctx: BuildContext) => {
      const body = validBody(activity, ctx, pick);
      const base = Buffer.byteLength(JSON.stringify({ ...body, pad: '' }), 'utf8');
      const padBytes = Buffer.byteLength(pad, 'utf8');
      const count = Math.ceil((ctx.fixture.maxBodyBytes - base + extra) / padBytes);
      const padded = { ...body, pad: pad.repeat(count) };
      const { raw, query } = signedV2(ctx.fixture.accessKey, padded, ctx.nowMs, nonce);
      return { event: produceEvent(raw, query), expect: ['000002'], ids: idsOf(body) };
    }),
);

/** Valid bodies with missing, garbage, stale or wrongly keyed signature parameters. */
export const produceBadSignature = produceRecipe(
  'produce: missing or bad signature',
  fc
    .tuple(
      fc.constantFrom(...ACTIVITIES),
      fc.nat(),
      nonceArb,
      fc.constantFrom(
        'no signature',
        'no timestamp',
        'no nonce',
        'nothing',
        'empty signature',
        'random hex signature',
        'random text signature',
        'signature over 128',
        'signature 63 hex',
        'signature 65 hex',
        'other key',
        'signature of another body',
        'nonce and timestamp swapped',
        'empty timestamp',
        'timestamp not digits',
        'timestamp 12 digits',
        'timestamp 14 digits',
        'stale timestamp',
        'future timestamp',
        'stale seconds timestamp',
        'empty nonce',
        'nonce over 128',
      ),
      anyText(200, 1),
      fc.integer({ min: 61_000, max: 400 * 86_400_000 }),
    )
    .map(([activity, pick, nonce, how, text, skewMs]) => (ctx: BuildContext) => {
      const body = validBody(activity, ctx, pick);
      const raw = JSON.stringify(body);
      const key = ctx.fixture.accessKey;
      const sign = (options: { nowMs?: number; nonce?: string; key?: string; body?: Body } = {}) =>
        signRequest(options.key ?? key, (options.body ?? body) as JsonObject, {
          nowMs: options.nowMs ?? ctx.nowMs,
          nonce: options.nonce ?? nonce,
        });
      const good = sign();
      const randomHex = (n: number) => Array.from({ length: n }, (_, i) => HEX[(text.charCodeAt(i % text.length) + i) % 16]).join('');
      let query: QueryParams;
      switch (how) {
        case 'no signature':
          query = { ...good, signature: undefined };
          break;
        case 'no timestamp':
          query = { ...good, timestamp: undefined };
          break;
        case 'no nonce':
          query = { ...good, nonce: undefined };
          break;
        case 'nothing':
          query = {};
          break;
        case 'empty signature':
          query = { ...good, signature: '' };
          break;
        case 'random hex signature':
          query = { ...good, signature: randomHex(64) };
          break;
        case 'random text signature':
          query = { ...good, signature: text };
          break;
        case 'signature over 128':
          query = { ...good, signature: good.signature.repeat(3) };
          break;
        case 'signature 63 hex':
          query = { ...good, signature: good.signature.slice(0, 63) };
          break;
        case 'signature 65 hex':
          query = { ...good, signature: `${good.signature}0` };
          break;
        case 'other key':
          query = sign({ key: `${key}-other` });
          break;
        case 'signature of another body':
          query = sign({ body: { ...body, testFlag: '1' } });
          break;
        case 'nonce and timestamp swapped':
          query = { signature: good.signature, timestamp: good.nonce, nonce: good.timestamp };
          break;
        case 'empty timestamp':
          query = { ...good, timestamp: '' };
          break;
        case 'timestamp not digits':
          query = { ...good, timestamp: /^\d{10}$|^\d{13}$/.test(text) ? `${text}x` : text };
          break;
        case 'timestamp 12 digits':
          query = { ...good, timestamp: good.timestamp.slice(0, 12) };
          break;
        case 'timestamp 14 digits':
          query = { ...good, timestamp: `${good.timestamp}0` };
          break;
        case 'stale timestamp':
          query = sign({ nowMs: ctx.nowMs - skewMs });
          break;
        case 'future timestamp':
          query = sign({ nowMs: ctx.nowMs + skewMs });
          break;
        case 'stale seconds timestamp': {
          const seconds = String(Math.floor((ctx.nowMs - skewMs) / 1000));
          const signed = signRequest(key, body as JsonObject, { nowMs: Number(seconds), nonce });
          query = { ...signed, timestamp: seconds };
          break;
        }
        case 'empty nonce':
          query = { ...good, nonce: '' };
          break;
        default:
          query = sign({ nonce: nonce.repeat(3) });
          break;
      }
      return { event: produceEvent(raw, query), expect: ['000001', '000002'], ids: idsOf(body) };
    }),
);

/** JSON text whose value differs from the original's (or that is not JSON at all): a real change to the request. */
function changesJson(original: string) {
  const value: unknown = JSON.parse(original);
  return (mutated: string) => {
    try {
      return !isDeepStrictEqual(JSON.parse(mutated), value);
    } catch {
      return true;
    }
  };
}

/** Valid requests, signed, then one character of the signature, timestamp, nonce or body changed. */
export const produceMutated = produceRecipe(
  'produce: mutated after signing',
  fc
    .tuple(
      fc.constantFrom<Activity>(
        'newInstance',
        'refreshInstance',
        'updateInstanceStatus',
        'releaseInstance',
        'upgradeInstance',
        'queryInstance',
        'changeInstanceCheck',
        'refreshLicenseCode',
      ),
      fc.nat(),
      nonceArb,
      fc.constantFrom('signature', 'timestamp', 'nonce', 'body'),
      fc.nat(),
      fc.nat(),
    )
    .map(([activity, pick, nonce, part, position, start]) => (ctx: BuildContext) => {
      const body = validBody(activity, ctx, pick);
      const { raw, query } = signedV2(ctx.fixture.accessKey, body, ctx.nowMs, nonce);
      let mutatedBody = raw;
      const mutatedQuery: QueryParams = { ...query };
      const at = (s: string) => position % s.length;
      if (part === 'signature') {
        // Hex signatures compare case-insensitively: a change of case is no change.
        const same = query.signature[at(query.signature)]!.toLowerCase();
        mutatedQuery.signature = flip(
          query.signature,
          at(query.signature),
          FLIP_CHARS,
          start,
          (m) => m[at(query.signature)]!.toLowerCase() !== same,
        );
      } else if (part === 'timestamp') {
        mutatedQuery.timestamp = flip(query.timestamp, at(query.timestamp), FLIP_CHARS, start, () => true);
      } else if (part === 'nonce') {
        mutatedQuery.nonce = flip(query.nonce, at(query.nonce), FLIP_CHARS, start, () => true);
      } else {
        mutatedBody = flip(raw, at(raw), FLIP_CHARS, start, changesJson(raw)) ?? raw.slice(1);
      }
      return { event: produceEvent(mutatedBody, mutatedQuery), expect: ['000001', '000002'], ids: idsOf(body) };
    }),
);
