import { describe, expect, it } from 'vitest';
import {
  keepBody,
  markerFor,
  MAX_KEPT_CHARS,
  MAX_KEPT_DEPTH,
  MAX_STRING_CHARS,
  notKept,
  PERSONAL_FIELDS,
  PERSONAL_MARKER,
  redact,
  SECRET_FIELDS,
  SECRET_MARKER,
  TOO_DEEP_MARKER,
} from '#lib/audit/redact.ts';

describe('the message log redactor', () => {
  it.each([
    'signature',
    'Body-Sign',
    'x-sign',
    'X-Sign',
    'authToken',
    'AUTHTOKEN',
    'password',
    'clientSecret',
    'client_secret',
    'appSecret',
    'accessKey',
    'access_key',
    'secretKey',
    'sk',
    'ak',
    'Authorization',
    'accessToken',
    'refresh_token',
    'newPassword',
    'webhookSignature',
  ])('replaces the secret field %s by the secret marker', (name) => {
    expect(redact({ [name]: 'abc', other: 'kept' })).toEqual({ [name]: SECRET_MARKER, other: 'kept' });
  });

  it.each(['customerName', 'userName', 'mobilePhone', 'email', 'EMAIL', 'mobile_phone', 'phone', 'realName'])(
    'replaces the personal field %s by the personal marker, encrypted or not',
    (name) => {
      expect(redact({ [name]: 'AbCdEf0123456789Hp/bCFSsFPBoi6suIrx8jw==' })).toEqual({ [name]: PERSONAL_MARKER });
    },
  );

  it('judges every listed name, and keeps ids, nonces and signature forms', () => {
    for (const name of SECRET_FIELDS) expect(markerFor(name), name).toBe(SECRET_MARKER);
    for (const name of PERSONAL_FIELDS) expect(markerFor(name), name).toBe(PERSONAL_MARKER);
    for (const name of ['orderId', 'instanceId', 'customerId', 'userId', 'keyId', 'nonce', 'signatureForm', 'productName', 'activity']) {
      expect(markerFor(name), name).toBeUndefined();
    }
  });

  it('redacts a secret object as a whole, and nested and array fields wherever they are', () => {
    const body = {
      activity: 'newInstance',
      buyerInfo: { customerId: 'c-1', customerName: 'Zhang San', contact: { email: 'a@b.c' } },
      info: [{ instanceId: 'i-1', appInfo: { frontEndUrl: 'https://x', userName: 'admin', password: 'pw' } }],
      credentials: { ak: 'AK', sk: 'SK' },
    };
    expect(redact(body)).toEqual({
      activity: 'newInstance',
      buyerInfo: { customerId: 'c-1', customerName: PERSONAL_MARKER, contact: { email: PERSONAL_MARKER } },
      info: [{ instanceId: 'i-1', appInfo: { frontEndUrl: 'https://x', userName: PERSONAL_MARKER, password: SECRET_MARKER } }],
      credentials: SECRET_MARKER,
    });
  });

  it("judges a {name, value} pair's value by the name it carries", () => {
    const params = [
      { name: 'identificationCode', value: 'ID-1' },
      { name: 'password', value: 'pw' },
      { name: 'mobilePhone', value: '138' },
    ];
    expect(redact({ saasExtendParams: params })).toEqual({
      saasExtendParams: [
        { name: 'identificationCode', value: 'ID-1' },
        { name: 'password', value: SECRET_MARKER },
        { name: 'mobilePhone', value: PERSONAL_MARKER },
      ],
    });
  });

  it('caps long strings and long names, keeping unknown data', () => {
    const long = 'x'.repeat(MAX_STRING_CHARS + 10);
    const out = redact({ novel: { deep: long }, ['n'.repeat(300)]: 1 }) as { novel: { deep: string } } & Record<string, unknown>;
    expect(out.novel.deep).toBe(`${'x'.repeat(MAX_STRING_CHARS)}…[+10 chars]`);
    expect(Object.keys(out)[1]).toBe(`${'n'.repeat(128)}…[+172 chars]`);
  });

  it('never cuts a surrogate pair in half', () => {
    const text = `${'a'.repeat(MAX_STRING_CHARS - 1)}😀tail`;
    // The emoji (two UTF-16 units) and `tail` are cut whole.
    expect(redact(text)).toBe(`${'a'.repeat(MAX_STRING_CHARS - 1)}…[+6 chars]`);
  });

  it('cuts nesting deeper than the limit', () => {
    let value: unknown = 'bottom';
    for (let i = 0; i < MAX_KEPT_DEPTH + 2; i++) value = { a: value };
    let out = redact(value);
    let levels = 0;
    while (typeof out === 'object' && out !== null) {
      out = (out as { a: unknown }).a;
      levels++;
    }
    expect(levels).toBe(MAX_KEPT_DEPTH);
    expect(out).toBe(TOO_DEEP_MARKER);
  });

  it('keeps JSON values and drops what JSON cannot hold', () => {
    expect(redact({ n: 1.5, inf: Infinity, t: true, z: null, u: undefined, f: () => 1, list: [undefined, 2] })).toEqual({
      n: 1.5,
      inf: null,
      t: true,
      z: null,
      list: [null, 2],
    });
    expect(keepBody(undefined)).toEqual({ json: 'null' });
  });

  it('keeps a small body whole, and cuts a large one at the cap, marked truncated', () => {
    expect(keepBody({ activity: 'queryInstance', signature: 's' })).toEqual({
      json: JSON.stringify({ activity: 'queryInstance', signature: SECRET_MARKER }),
    });
    const large = { items: Array.from({ length: 500 }, (_, i) => ({ id: `item-${i}`, password: `pw-${i}` })) };
    const kept = keepBody(large);
    expect(kept.truncated).toBe(true);
    expect(kept.json).toHaveLength(MAX_KEPT_CHARS);
    expect(kept.json).not.toContain('pw-');
    expect(kept.json.startsWith('{"items":[{"id":"item-0","password":"[redacted: secret]"}')).toBe(true);
  });

  it('cuts the JSON text before a lone high surrogate', () => {
    // ["ab", then strings of emoji: the text's character at the cap is the first half of an emoji.
    const kept = keepBody(['ab', ...Array.from({ length: 9 }, () => '😀'.repeat(500))]);
    expect(kept.truncated).toBe(true);
    expect(kept.json).toHaveLength(MAX_KEPT_CHARS - 1);
    expect(kept.json.endsWith('😀')).toBe(true);
  });

  it('keeps a member named __proto__ as a member', () => {
    const body = JSON.parse('{"activity":"newInstance","__proto__":{"testFlag":"1","password":"pw"}}') as unknown;
    expect(keepBody(body).json).toBe('{"activity":"newInstance","__proto__":{"testFlag":"1","password":"[redacted: secret]"}}');
  });

  it('keeps a note instead of a body it cannot read', () => {
    expect(keepBody({ body: notKept('malformed JSON') })).toEqual({ json: '{"body":"[not kept: malformed JSON]"}' });
  });
});
