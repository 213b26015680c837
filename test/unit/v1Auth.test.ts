import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AccessKey } from '#lib/koogallery/auth.ts';
import { keyId } from '#lib/koogallery/signature.ts';
import {
  formatV1Timestamp,
  javaUrlEncode,
  parseV1Query,
  parseV1Timestamp,
  signV1Request,
  v1AuthToken,
  verifyV1Request,
} from '#lib/koogallery/v1Auth.ts';
import { TEST_KEY } from '../helpers/signing.ts';

const WINDOW = 60_000;
const current: AccessKey = { id: keyId(TEST_KEY), secret: TEST_KEY };
const previous: AccessKey = { id: keyId('old-key'), secret: 'old-key' };

/** The spec §7.5 vector. */
const VECTOR_PARAMS: Record<string, string> = {
  activity: 'newInstance',
  businessId: '61e834ba-7b97-4418-b8f7-e5345137278c',
  customerId: '68cbc86abc2018ab880d92f36422fa0e',
  expireTime: '20200727153156',
  orderId: 'CS1906666666ABCDE',
  productId: '00301-666666-0--0',
  testFlag: '1',
  timeStamp: '20200727073711903',
};
const VECTOR_DATA =
  'activity=newInstance&businessId=61e834ba-7b97-4418-b8f7-e5345137278c&customerId=68cbc86abc2018ab880d92f36422fa0e' +
  '&expireTime=20200727153156&orderId=CS1906666666ABCDE&productId=00301-666666-0--0&testFlag=1&timeStamp=20200727073711903';
const VECTOR_TOKEN = 'aHmSFfsBiXeBGlHZrnzhjCy5A7xwPUHOJnr7t9vAL+Y=';
const VECTOR_NOW = Date.UTC(2020, 6, 27, 7, 37, 11, 903);
/** The vector's parameters in a scrambled order, unencoded (none needs encoding), token last and raw. */
const VECTOR_QUERY_UNSIGNED = Object.entries(VECTOR_PARAMS)
  .reverse()
  .map(([k, v]) => `${k}=${v}`)
  .join('&');

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0, 0);
const base = { activity: 'queryInstance', instanceId: 'abc', testFlag: '1' };

describe('v1AuthToken', () => {
  it('reproduces the spec §7.5 vector', () => {
    expect(
      createHmac('sha256', TEST_KEY + '20200727073711903')
        .update(VECTOR_DATA)
        .digest('base64'),
    ).toBe(VECTOR_TOKEN);
    expect(v1AuthToken(TEST_KEY, VECTOR_PARAMS)).toBe(VECTOR_TOKEN);
  });

  it('sorts by name whatever the arrival order, and ignores authToken', () => {
    const shuffled = Object.entries(VECTOR_PARAMS).reverse();
    expect(v1AuthToken(TEST_KEY, shuffled)).toBe(VECTOR_TOKEN);
    expect(v1AuthToken(TEST_KEY, [...shuffled, ['authToken', 'anything']])).toBe(VECTOR_TOKEN);
  });

  it('sorts by UTF-16 code units (uppercase before lowercase), not locale', () => {
    const params = { b: '1', B: '2', a: '3', timeStamp: '20240501120000000' };
    const data = 'B=2&a=3&b=1&timeStamp=20240501120000000';
    const expected = createHmac('sha256', 'k20240501120000000').update(data).digest('base64');
    expect(v1AuthToken('k', params)).toBe(expected);
  });

  it('signs decoded values', () => {
    const params = { name: 'a b+c/é', timeStamp: '20240501120000000' };
    const data = 'name=a b+c/é&timeStamp=20240501120000000';
    const expected = createHmac('sha256', 'k20240501120000000').update(data, 'utf8').digest('base64');
    expect(v1AuthToken('k', params)).toBe(expected);
  });

  it('requires timeStamp', () => {
    expect(() => v1AuthToken('k', { activity: 'x' })).toThrow(RangeError);
  });
});

describe('V1 timeStamp', () => {
  it('formats and parses yyyyMMddHHmmssSSS in UTC', () => {
    expect(formatV1Timestamp(VECTOR_NOW)).toBe('20200727073711903');
    expect(parseV1Timestamp('20200727073711903')).toBe(VECTOR_NOW);
    expect(parseV1Timestamp('00010101000000000')).toBe(Date.parse('0001-01-01T00:00:00.000Z'));
    expect(parseV1Timestamp('20240229235959999')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
  });

  it('refuses values that are not a real instant', () => {
    for (const raw of [
      '',
      '2020072707371190',
      '202007270737119030',
      '20200230073711903',
      '20201327073711903',
      '20200727243711903',
      '20200727076011903',
      '2020-07-27T07:37',
      '1595835431903',
      '２0200727073711903',
    ]) {
      expect(parseV1Timestamp(raw)).toBeUndefined();
    }
  });
});

describe('javaUrlEncode', () => {
  it('encodes as Java URLEncoder does', () => {
    expect(javaUrlEncode('a b+c')).toBe('a+b%2Bc');
    expect(javaUrlEncode('A-z_0.9*')).toBe('A-z_0.9*');
    expect(javaUrlEncode("~!'()/=&?#%")).toBe('%7E%21%27%28%29%2F%3D%26%3F%23%25');
    expect(javaUrlEncode('é中🚀')).toBe('%C3%A9%E4%B8%AD%F0%9F%9A%80');
  });
});

describe('parseV1Query', () => {
  it('returns both readings of + and decodes UTF-8', () => {
    const parsed = parseV1Query('?name=a+b%2Bc%20d&city=%E5%8C%97%E4%BA%AC');
    expect(parsed).toEqual({
      ok: true,
      form: { name: 'a b+c d', city: '北京' },
      literal: { name: 'a+b+c d', city: '北京' },
      ambiguous: true,
    });
  });

  it('keeps + in authToken under both readings, also when it arrives as a space', () => {
    const parsed = parseV1Query('authToken=ab+c%20d=&x=1');
    expect(parsed).toMatchObject({ ok: true, form: { authToken: 'ab+c+d=', x: '1' }, literal: { authToken: 'ab+c+d=' } });
  });

  it('reads a name without = as an empty value and skips empty segments', () => {
    expect(parseV1Query('a&&b=&c=1&')).toMatchObject({ ok: true, form: { a: '', b: '', c: '1' }, ambiguous: false });
  });

  it('refuses malformed percent-encoding without throwing', () => {
    for (const raw of ['a=%', 'a=%4', 'a=%zz', 'a=%C3', 'a=%C3%28', 'a=%ED%A0%80', 'a=%C0%AF', '%=1']) {
      const parsed = parseV1Query(raw);
      expect(parsed.ok, raw).toBe(false);
    }
    expect(parseV1Query('x=%E5%8C')).toMatchObject({ ok: false, reason: 'parameter x is not correctly encoded' });
  });

  it('refuses repeated parameters, also when only decoding makes them equal', () => {
    expect(parseV1Query('a=1&b=2&a=3')).toEqual({ ok: false, reason: 'parameter a is repeated' });
    expect(parseV1Query('a=1&%61=2')).toEqual({ ok: false, reason: 'parameter a is repeated' });
    expect(parseV1Query('a+b=1&a%20b=2')).toEqual({ ok: false, reason: 'parameter a b is repeated' });
  });

  it('quotes a parameter name in a refusal only in safe characters, cut to 64', () => {
    expect(parseV1Query('x%00%3Cscript%3E=1&x%00%3Cscript%3E=2')).toEqual({ ok: false, reason: 'parameter x__script_ is repeated' });
    expect(parseV1Query('<b>%ZZ=1')).toEqual({ ok: false, reason: 'parameter _b_%ZZ is not correctly encoded' });
    const long = `${'n'.repeat(70)}\u2028`;
    expect(parseV1Query(`${long}=1&${long}=2`)).toEqual({ ok: false, reason: `parameter ${'n'.repeat(64)}… is repeated` });
  });

  it('refuses unnamed parameters', () => {
    expect(parseV1Query('=1&a=2')).toEqual({ ok: false, reason: 'a parameter has no name' });
  });

  it('refuses more than 64 parameters and overlong strings', () => {
    const many = (n: number): string => Array.from({ length: n }, (_, i) => `p${i}=1`).join('&');
    expect(parseV1Query(many(64)).ok).toBe(true);
    expect(parseV1Query(many(65))).toMatchObject({ ok: false, reason: 'more than 64 parameters' });
    expect(parseV1Query(`a=${'x'.repeat(8190)}`).ok).toBe(true);
    expect(parseV1Query(`a=${'x'.repeat(8191)}`)).toMatchObject({ ok: false });
    expect(parseV1Query('a=12345', { maxLength: 6 })).toMatchObject({
      ok: false,
      reason: 'query string is longer than 6 characters',
    });
  });
});

describe('verifyV1Request', () => {
  it('accepts the spec §7.5 request with the token + unencoded, as sent by a careless encoder', () => {
    const verdict = verifyV1Request([current], `${VECTOR_QUERY_UNSIGNED}&authToken=${VECTOR_TOKEN}`, VECTOR_NOW, WINDOW);
    expect(verdict).toEqual({ ok: true, keyId: current.id, params: VECTOR_PARAMS, authToken: VECTOR_TOKEN, reading: 'form' });
  });

  it('accepts the spec §7.5 request with the token + encoded as %2B', () => {
    const raw = `${VECTOR_QUERY_UNSIGNED}&authToken=${encodeURIComponent(VECTOR_TOKEN)}`;
    expect(raw).toContain('%2B');
    expect(verifyV1Request([current], raw, VECTOR_NOW, WINDOW)).toMatchObject({ ok: true, authToken: VECTOR_TOKEN });
  });

  it('accepts the token when a gateway turned its + into a space (%20)', () => {
    const raw = `${VECTOR_QUERY_UNSIGNED}&authToken=${VECTOR_TOKEN.replace('+', '%20')}`;
    expect(verifyV1Request([current], raw, VECTOR_NOW, WINDOW)).toMatchObject({ ok: true, authToken: VECTOR_TOKEN });
  });

  it('round-trips signV1Request', () => {
    const { query, params } = signV1Request(TEST_KEY, base, NOW);
    expect(params.timeStamp).toBe(formatV1Timestamp(NOW));
    expect(query).toMatch(/^activity=queryInstance&instanceId=abc&testFlag=1&timeStamp=\d{17}&authToken=[A-Za-z0-9%*]+$/);
    const { authToken, ...unsigned } = params;
    expect(verifyV1Request([current], query, NOW, WINDOW)).toEqual({
      ok: true,
      keyId: current.id,
      params: unsigned,
      authToken,
      reading: 'form',
    });
  });

  it('keeps a timeStamp given by the caller', () => {
    const { params } = signV1Request(TEST_KEY, { ...base, timeStamp: '20240101000000000' }, NOW);
    expect(params.timeStamp).toBe('20240101000000000');
  });

  it('accepts a value whose space was encoded as + (form encoding)', () => {
    const { query, params } = signV1Request(TEST_KEY, { ...base, customerName: 'Zhang San', memo: 'a+b & c=d 中' }, NOW);
    expect(query).toContain('customerName=Zhang+San');
    expect(query).toContain('memo=a%2Bb+%26+c%3Dd+%E4%B8%AD');
    expect(verifyV1Request([current], query, NOW, WINDOW)).toMatchObject({
      ok: true,
      reading: 'form',
      params: { customerName: 'Zhang San', memo: 'a+b & c=d 中' },
      authToken: params.authToken,
    });
  });

  it('accepts a value whose + was not encoded, under the literal reading', () => {
    const { params } = signV1Request(TEST_KEY, { ...base, email: 'a+b@example.com' }, NOW);
    const raw = Object.entries(params)
      .map(([k, v]) => `${k}=${k === 'authToken' ? encodeURIComponent(v) : v}`)
      .join('&');
    expect(raw).toContain('email=a+b@example.com');
    expect(verifyV1Request([current], raw, NOW, WINDOW)).toMatchObject({
      ok: true,
      reading: 'literal',
      params: { email: 'a+b@example.com' },
    });
  });

  it('accepts the previous key during a rotation and says which key matched', () => {
    const { query } = signV1Request('old-key', base, NOW);
    expect(verifyV1Request([current, previous], query, NOW, WINDOW)).toMatchObject({ ok: true, keyId: previous.id });
    expect(verifyV1Request([current], query, NOW, WINDOW)).toMatchObject({ ok: false, code: '000001' });
  });

  it('refuses a wrong key or a changed parameter with 000001', () => {
    expect(verifyV1Request([current], signV1Request('other', base, NOW).query, NOW, WINDOW)).toEqual({
      ok: false,
      code: '000001',
      reason: 'authToken does not match',
    });
    const { query } = signV1Request(TEST_KEY, base, NOW);
    expect(verifyV1Request([current], query.replace('instanceId=abc', 'instanceId=abd'), NOW, WINDOW)).toMatchObject({
      ok: false,
      code: '000001',
    });
    expect(verifyV1Request([], query, NOW, WINDOW)).toMatchObject({ ok: false, code: '000001' });
  });

  it('refuses a missing, empty or overlong authToken with 000001', () => {
    const { query } = signV1Request(TEST_KEY, base, NOW);
    const withoutToken = query.replace(/&authToken=[^&]*/, '');
    expect(verifyV1Request([current], withoutToken, NOW, WINDOW)).toEqual({
      ok: false,
      code: '000001',
      reason: 'authToken is missing',
    });
    expect(verifyV1Request([current], `${withoutToken}&authToken=`, NOW, WINDOW)).toMatchObject({ code: '000001' });
    expect(verifyV1Request([current], `${withoutToken}&authToken=${'A'.repeat(129)}`, NOW, WINDOW)).toEqual({
      ok: false,
      code: '000001',
      reason: 'authToken is malformed',
    });
  });

  it('refuses a missing timeStamp with 000002', () => {
    const token = v1AuthToken(TEST_KEY, { ...base, timeStamp: formatV1Timestamp(NOW) });
    const raw = `activity=queryInstance&instanceId=abc&testFlag=1&authToken=${encodeURIComponent(token)}`;
    expect(verifyV1Request([current], raw, NOW, WINDOW)).toEqual({
      ok: false,
      code: '000002',
      reason: 'timeStamp is required',
    });
  });

  it('refuses stale and future timeStamps with 000002, and accepts the window edges', () => {
    for (const skew of [-60_001, 60_001, -86_400_000]) {
      const { query } = signV1Request(TEST_KEY, base, NOW + skew);
      expect(verifyV1Request([current], query, NOW, WINDOW)).toEqual({
        ok: false,
        code: '000002',
        reason: 'timeStamp is outside the allowed window',
      });
    }
    for (const skew of [-60_000, 60_000]) {
      expect(verifyV1Request([current], signV1Request(TEST_KEY, base, NOW + skew).query, NOW, WINDOW).ok).toBe(true);
    }
  });

  it('refuses a malformed timeStamp with 000002, even when correctly signed', () => {
    for (const timeStamp of [String(NOW), '20240501120000', '20240231120000000', '2024050112000000x']) {
      const { query } = signV1Request(TEST_KEY, { ...base, timeStamp }, NOW);
      expect(verifyV1Request([current], query, NOW, WINDOW)).toEqual({
        ok: false,
        code: '000002',
        reason: 'timeStamp is malformed',
      });
    }
  });

  it('refuses malformed percent-encoding, repeated parameters and overlong queries with 000002', () => {
    const { query } = signV1Request(TEST_KEY, base, NOW);
    expect(verifyV1Request([current], `${query}&x=%E5%8C`, NOW, WINDOW)).toMatchObject({ ok: false, code: '000002' });
    expect(verifyV1Request([current], `${query}&instanceId=abc`, NOW, WINDOW)).toEqual({
      ok: false,
      code: '000002',
      reason: 'parameter instanceId is repeated',
    });
    expect(verifyV1Request([current], query, NOW, WINDOW, { maxLength: 20 })).toMatchObject({ ok: false, code: '000002' });
  });
});
