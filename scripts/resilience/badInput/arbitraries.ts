/** Small fast-check arbitraries and string edits the generators share. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { Body } from './cases.ts';

export const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const HEX = '0123456789ABCDEF';
export const charsOf = (chars: string) => fc.constantFrom(...Array.from(chars));
/** Strings of any Unicode (no lone surrogates: fast-check's `binary` unit never makes them). */
export const anyText = (maxLength: number, minLength = 0) =>
  fc.oneof(
    fc.string({ unit: 'binary', minLength, maxLength }),
    fc.string({ unit: 'grapheme', minLength, maxLength }),
    fc.string({ unit: 'binary-ascii', minLength, maxLength }),
  );
/** A UTF-16 string that is not well formed: a lone surrogate among ASCII. */
export const loneSurrogate = fc
  .tuple(
    fc.string({ unit: 'grapheme-ascii', maxLength: 8 }),
    fc.integer({ min: 0xd800, max: 0xdfff }),
    fc.string({ unit: 'grapheme-ascii', maxLength: 8 }),
  )
  .map(([a, s, b]) => a + String.fromCharCode(s) + b);
/** Whitespace only: refused wherever a non-empty value is required (values are trimmed). */
export const blank = fc.constantFrom('', ' ', '   ', '\t', '\r\n', '\u00a0', '\u3000', '\ufeff', ' \u2028 ');
/** Longer than `max` code points, whatever the unit. */
export const overLong = (max: number) =>
  fc
    .tuple(fc.integer({ min: max + 1, max: max + 3000 }), fc.constantFrom('x', '9', '-', 'é', '中', '😀', '\u0301a'))
    .map(([n, c]) => c.repeat(n));
export const smallWrongType = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);
/** Numbers, booleans, arrays (some huge), objects: never null, which counts as absent. */
export const wrongType = fc.oneof(
  smallWrongType,
  fc.integer({ min: 1000, max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => i)),
);
/** Not an object: for fields where an object is acceptable (productInfo). */
export const wrongTypeNotObject = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
);
export const DELETE = Symbol('delete');

/** The body with a field set (an own property, even `__proto__`) or, for DELETE, left out. */
export function withField(body: Body, field: string, value: unknown): Body {
  const out = { ...body };
  if (value === DELETE) delete out[field];
  else Object.defineProperty(out, field, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Replaces the character at `index` by the first candidate that `accept` takes; undefined if none is. */
export function flip(
  text: string,
  index: number,
  candidates: readonly string[],
  start: number,
  accept: (mutated: string) => boolean,
): string | undefined {
  for (let k = 0; k < candidates.length; k++) {
    const c = candidates[(start + k) % candidates.length]!;
    if (c === text[index]) continue;
    const mutated = text.slice(0, index) + c + text.slice(index + 1);
    if (accept(mutated)) return mutated;
  }
  return undefined;
}

export const FLIP_CHARS = Array.from(`${LETTERS}{}[]":,\\ .-_+%&=*/中é\u0000`);

/** A SHA-256 as 64 hex digits, of some text. */
export const hexDigest = (text: string) => createHash('sha256').update(text).digest('hex');

/** A limit string the route refuses: not an integer from min to max once read as a number. */
export const badLimit = (min: number, max: number) =>
  fc
    .oneof(
      fc.constantFrom('0', '-1', 'abc', '1.5', 'NaN', 'Infinity', '1e9', '', String(max + 1), '99999999999999999999', '5x', '0x'),
      anyText(12),
    )
    .filter((s) => {
      const n = Number(s);
      return !(Number.isInteger(n) && n >= min && n <= max);
    });

/** A string that is not an ISO date-time by any reading: no `yyyy-` start. */
export const notIsoTime = fc.oneof(
  fc.constantFrom(
    'yesterday',
    '2025-13-01T00:00:00Z',
    '2025-02-30T00:00:00Z',
    '2025-01-01T24:00:00Z',
    '2025-01-01',
    '1735689600000',
    '',
    'T',
    '2025-01-01T00:00:00+25:00',
    '２０２５-01-01T00:00:00Z',
  ),
  anyText(30).filter((s) => !/^\d{4}-/.test(s)),
);

export const b64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');

const isNotJson = (text: string) => {
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
};

/** Text that is not JSON: random text, the near misses given, or random bytes read as latin1. */
export const notJsonText = (nearMisses: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    anyText(500).filter(isNotJson),
    fc.constantFrom(...nearMisses),
    fc
      .uint8Array({ minLength: 1, maxLength: 2000 })
      .map((b) => Buffer.from(b).toString('latin1'))
      .filter(isNotJson),
  );

/** Bodies that are not JSON (400), in text or base64. */
export const notJson: fc.Arbitrary<string> = notJsonText([
  '',
  '{',
  '{"kind":',
  '{"action":"accept",}',
  "{'action':'accept'}",
  '{"size":NaN}',
  '\ufeff{}',
  '{"a":1}}',
  'undefined',
  '{"a":1}{"b":2}',
  '[1,]',
  '{"sha256":"a"\u0000}',
]);
