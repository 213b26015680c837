import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyRequest, type AccessKey } from '#lib/koogallery/auth.ts';
import {
  canonicalCandidates,
  canonicalPayload,
  jacksonString,
  MAX_JSON_DEPTH,
  sortDeep,
  type JsonObject,
} from '#lib/koogallery/canonicalJson.ts';
import { JsonNumber, parseJsonTree, plainValue, type JsonMap } from '#lib/koogallery/jsonTree.ts';
import { TEST_KEY } from '../helpers/signing.ts';

/**
 * The V2 signature's canonical JSON (spec §7.2): the body is read without losing any key or any number's text, and
 * the Jackson-exact candidate is what Huawei's Java demo writes. Expected strings are written by hand from
 * Jackson's rules; signatures are computed here with node:crypto.
 */

const NOW = 1_700_000_000_000;
const key: AccessKey = { id: 'k', secret: TEST_KEY };
const hmac = (message: string) => createHmac('sha256', TEST_KEY).update(message, 'utf8').digest('hex');
/** The V2 signature of a payload (spec §7.2 steps 4–6), computed independently of lib/. */
const sign = (payload: string, nonce = 'n-1') => ({
  signature: hmac(`${TEST_KEY}${nonce}${NOW}${hmac(payload)}`),
  timestamp: String(NOW),
  nonce,
});

function tree(text: string): JsonMap {
  const reading = parseJsonTree(text, MAX_JSON_DEPTH);
  if (!reading.ok || !(reading.value instanceof Map)) throw new Error(`not a JSON object: ${text}`);
  return reading.value;
}

const verify = (raw: string, query: ReturnType<typeof sign>) => verifyRequest([key], query, tree(raw), raw, NOW, 60_000);
const payloads = (raw: string) => canonicalCandidates(tree(raw), raw).map((c) => c.payload);

describe('reading a body (parseJsonTree)', () => {
  const valid = [
    '{}',
    '[]',
    ' \t\r\n{ "a" : [ 1 , -2.5e+3 , true , false , null , "x" ] , "b" : { } } \n',
    String.raw`{"s":"\"\\\/\b\f\n\r\t\u0000\u001F\u00e9\uD83D\uDE00\ud800 é 😀"}`,
    '{"n":[0,-0,1.0,1e21,1E-7,12345678901234567890,0.1]}',
    '"text"',
    '42',
    'null',
  ];
  for (const text of valid) {
    it(`reads ${JSON.stringify(text).slice(0, 40)} to the same values as JSON.parse`, () => {
      const reading = parseJsonTree(text, MAX_JSON_DEPTH);
      expect(reading.ok).toBe(true);
      if (reading.ok) expect(plainValue(reading.value)).toEqual(JSON.parse(text));
    });
  }

  const invalid = [
    '',
    ' ',
    '{',
    '{"a":1,}',
    '[1,]',
    '{"a" 1}',
    '{a:1}',
    "{'a':1}",
    '{"a":01}',
    '{"a":1.}',
    '{"a":.5}',
    '{"a":+1}',
    '{"a":1e}',
    '{"a":-}',
    '{"a":NaN}',
    '{"a":tru}',
    '{"a":nul}',
    '{"a":"x\u0001"}',
    '{"a":"\\x"}',
    '{"a":"\\u12"}',
    '{"a":"\\u12G4"}',
    '{"a":"unterminated',
    '{"a":"x\\',
    '{"a":1}x',
    '{"a":1}{}',
    '\uFEFF{}',
    '\u00A0{}',
  ];
  for (const text of invalid) {
    it(`refuses ${JSON.stringify(text)}, as JSON.parse does`, () => {
      expect(() => JSON.parse(text) as unknown).toThrow();
      expect(parseJsonTree(text, MAX_JSON_DEPTH)).toEqual({ ok: false, problem: 'malformed' });
    });
  }

  it('keeps each number as written', () => {
    const body = tree('{"a":1.0,"b":1e21,"c":-0,"d":12345678901234567890,"e":-1.5E-3}');
    expect([...body.values()]).toEqual(['1.0', '1e21', '-0', '12345678901234567890', '-1.5E-3'].map((t) => new JsonNumber(t)));
  });

  it('refuses a key repeated within one object, at any level and however it is escaped', () => {
    for (const text of ['{"a":"1","a":"2"}', '{"a":"1","a":"1"}', '{"x":{"b":1,"b":1}}', '{"x":[{"b":1,"b":2}]}', '{"a":1,"\\u0061":2}']) {
      expect(parseJsonTree(text, MAX_JSON_DEPTH)).toEqual({ ok: false, problem: 'duplicate key' });
    }
    expect(parseJsonTree('{"a":{"a":1},"b":[{"a":1},{"a":2}]}', MAX_JSON_DEPTH).ok).toBe(true);
  });

  it('refuses nesting deeper than asked', () => {
    expect(parseJsonTree('[[1]]', 2).ok).toBe(true);
    expect(parseJsonTree('[[[1]]]', 2)).toEqual({ ok: false, problem: 'too deep' });
    expect(parseJsonTree('{"a":{"b":{}}}', 2)).toEqual({ ok: false, problem: 'too deep' });
    expect(parseJsonTree(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, MAX_JSON_DEPTH)).toEqual({ ok: false, problem: 'too deep' });
  });

  it('keeps a __proto__ member as a member, in the tree and in the plain values', () => {
    const body = tree('{"__proto__":{"activity":"releaseInstance"},"x":{"__proto__":"y"}}');
    expect([...body.keys()]).toEqual(['__proto__', 'x']);
    const plain = plainValue(body) as JsonObject;
    expect(Object.hasOwn(plain, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(plain.activity).toBeUndefined();
    expect(Object.hasOwn(plain.x as JsonObject, '__proto__')).toBe(true);
    expect(JSON.stringify(plain)).toBe('{"__proto__":{"activity":"releaseInstance"},"x":{"__proto__":"y"}}');
  });
});

describe('the Jackson-exact candidate', () => {
  it('escapes control characters as Jackson does: short escapes, else \\u00XX in upper case', () => {
    const raw = String.raw`{"note":"a\u0001b\u001fc` + '\u007f' + String.raw`\n\t\b\f\r\"\\\/é\u2028","activity":"queryInstance"}`;
    const jackson = String.raw`{"activity":"queryInstance","note":"a\u0001b\u001Fc` + '\u007f' + String.raw`\n\t\b\f\r\"\\/é` + '\u2028"}';
    const javascript =
      String.raw`{"activity":"queryInstance","note":"a\u0001b\u001fc` + '\u007f' + String.raw`\n\t\b\f\r\"\\/é` + '\u2028"}';
    expect(payloads(raw)).toEqual([javascript, jackson]);
    expect(verify(raw, sign(jackson))).toMatchObject({ ok: true, form: 'jackson' });
    expect(verify(raw, sign(javascript))).toMatchObject({ ok: true, form: 'top-level-sorted' });
  });

  it('writes every control character the way Jackson does', () => {
    const all = Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)).join('');
    const short: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
    const expected = Array.from({ length: 0x20 }, (_, c) => short[c] ?? `\\u00${c < 16 ? '0' : '1'}${'0123456789ABCDEF'[c % 16]}`).join('');
    expect(jacksonString(all)).toBe(`"${expected}"`);
    expect(jacksonString('plain "quoted" \\ / 云商店')).toBe('"plain \\"quoted\\" \\\\ / 云商店"');
  });

  it('signs numbers and booleans as the text they were written as', () => {
    const raw =
      '{"activity":"queryInstance","n":1.0,"e":1e21,"z":-0,"big":12345678901234567890,"t":true,"f":false,"neg":-1.5E-3,"nil":null}';
    const jackson =
      '{"activity":"queryInstance","big":"12345678901234567890","e":"1e21","f":"false","n":"1.0","neg":"-1.5E-3","t":"true","z":"-0"}';
    const asWritten = '{"activity":"queryInstance","big":12345678901234567890,"e":1e21,"f":false,"n":1.0,"neg":-1.5E-3,"t":true,"z":-0}';
    expect(payloads(raw)).toEqual(expect.arrayContaining([asWritten, jackson]));
    expect(verify(raw, sign(jackson))).toMatchObject({ ok: true, form: 'jackson' });
    expect(verify(raw, sign(asWritten))).toMatchObject({ ok: true, form: 'top-level-sorted' });
  });

  it('reinterprets no number: a signature over the number JSON.parse would read is refused', () => {
    const cases: Array<[string, string]> = [
      ['{"activity":"queryInstance","n":1.0}', '{"activity":"queryInstance","n":1}'],
      ['{"activity":"queryInstance","n":1.0}', '{"activity":"queryInstance","n":"1"}'],
      ['{"activity":"queryInstance","n":1e21}', '{"activity":"queryInstance","n":1e+21}'],
      ['{"activity":"queryInstance","n":-0}', '{"activity":"queryInstance","n":0}'],
      ['{"activity":"queryInstance","n":12345678901234567890}', '{"activity":"queryInstance","n":12345678901234567000}'],
      ['{"activity":"queryInstance","n":12345678901234567890}', '{"activity":"queryInstance","n":"12345678901234567000"}'],
    ];
    for (const [raw, reinterpreted] of cases) {
      expect(payloads(raw)).not.toContain(reinterpreted);
      expect(verify(raw, sign(reinterpreted))).toMatchObject({ ok: false, code: '000001' });
    }
  });

  it('writes nested values as received, with Jackson escaping, after the top level', () => {
    const raw = '{"productInfo":{"skuCode":"s\\u001f","n":2.50,"x":null},"activity":"changeInstanceCheck","instanceId":"i"}';
    const candidates = canonicalCandidates(tree(raw), raw);
    expect(candidates.find((c) => c.form === 'jackson')?.payload).toBe(
      '{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{"skuCode":"s\\u001F","n":2.50,"x":null}}',
    );
    expect(candidates.find((c) => c.form === 'top-level-sorted')?.payload).toBe(
      '{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{"skuCode":"s\\u001f","n":2.50,"x":null}}',
    );
  });
});

describe('the §7.2.4 candidates of a nested body', () => {
  it('renders each form from the body as received, arrays in order, each distinct form once', () => {
    const raw = '{"b":[{"y":1.50,"x":null},true],"c":null,"a":"s"}';
    expect(canonicalCandidates(tree(raw), raw)).toEqual([
      { form: 'top-level-sorted', payload: '{"a":"s","b":[{"y":1.50,"x":null},true]}' },
      { form: 'deep-sorted', payload: '{"a":"s","b":[{"y":1.50},true]}' },
      { form: 'stringified-scalars', payload: '{"a":"s","b":"[{\\"y\\":1.50,\\"x\\":null},true]"}' },
      { form: 'raw-body', payload: raw },
    ]);
  });
});

describe('every key is signed', () => {
  it('a __proto__ member appended after signing is refused, at the top level and nested', () => {
    const signedTop = '{"activity":"queryInstance","instanceId":"i"}';
    const withTop = '{"activity":"queryInstance","instanceId":"i","__proto__":"x"}';
    expect(verify(signedTop, sign(signedTop))).toMatchObject({ ok: true });
    expect(verify(withTop, sign(signedTop))).toMatchObject({ ok: false, code: '000001' });
    for (const payload of payloads(withTop)) expect(payload).toContain('"__proto__":"x"');

    const signedNested = '{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{"skuCode":"s"}}';
    const withNested = '{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{"skuCode":"s","__proto__":{"productId":"p"}}}';
    for (const payload of payloads(signedNested)) expect(verify(withNested, sign(payload))).toMatchObject({ ok: false, code: '000001' });
    // Every form keeps the member (the stringified-scalars form holds productInfo as escaped JSON text).
    for (const payload of payloads(withNested)) expect(payload.replaceAll('\\"', '"')).toContain('"__proto__":{"productId":"p"}');
  });

  it('accepts a body whose signature covered its __proto__ member', () => {
    const raw = '{"activity":"queryInstance","instanceId":"i","__proto__":"x"}';
    expect(verify(raw, sign('{"__proto__":"x","activity":"queryInstance","instanceId":"i"}'))).toMatchObject({ ok: true });
  });

  it('signs __proto__ keys of a body we send like any other key', () => {
    expect(canonicalPayload(JSON.parse('{"b":"1","__proto__":"x"}') as JsonObject)).toBe('{"__proto__":"x","b":"1"}');
    expect(canonicalPayload(JSON.parse('{"b":{"__proto__":"x"},"a":null}') as JsonObject)).toBe('{"b":{"__proto__":"x"}}');
    const deep = sortDeep(JSON.parse('{"b":{"a":"2","__proto__":{"x":"1"}},"c":null}') as JsonObject);
    expect(JSON.stringify(deep)).toBe('{"b":{"__proto__":{"x":"1"},"a":"2"}}');
  });
});
