import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalHeaders,
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  formatSdkDate,
  parseSdkDate,
  signApigRequest,
  stringToSign,
  uriEncode,
  verifyApigRequest,
  type ApigCredentials,
} from '#lib/koogallery/apig.ts';

// Made-up keys, not Huawei's.
const CREDS: ApigCredentials = { ak: 'TESTAK0123456789ABCD', sk: 'testSecretKey-0123456789' };
const NOW = new Date('2025-01-02T03:04:05.678Z');
const URL_ =
  'https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderLineId=CS2211181819B4LVS-000001&orderId=CS2211181819B4LVS';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const CANONICAL = [
  'GET',
  '/api/mkp-openapi-public/global/v1/order/query/',
  'orderId=CS2211181819B4LVS&orderLineId=CS2211181819B4LVS-000001',
  'content-type:application/json',
  'host:mkt.myhuaweicloud.com',
  'x-sdk-date:20250102T030405Z',
  '',
  'content-type;host;x-sdk-date',
  EMPTY_SHA256,
].join('\n');

/** The Authorization header split into its parts. */
function authParts(value: string | undefined) {
  const m = /^SDK-HMAC-SHA256 Access=(\S+), SignedHeaders=(\S+), Signature=([0-9a-f]{64})$/.exec(value ?? '');
  expect(m).not.toBeNull();
  return { access: m![1], signedHeaders: m![2], signature: m![3] };
}

/** What the fake server hands to verifyApigRequest for a request signed with these headers. */
function asReceived(url: string, headers: Record<string, string>, method = 'GET', body = '') {
  const u = new URL(url);
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return { method, path: u.pathname, rawQuery: u.search.slice(1), headers: lower, body };
}

const secretFor = (ak: string) => (ak === CREDS.ak ? CREDS.sk : undefined);

describe('APIG SDK-HMAC-SHA256 worked example (spec §7.8)', () => {
  const headers = signApigRequest({ method: 'GET', url: URL_, headers: { 'Content-Type': 'application/json' } }, CREDS, NOW);

  it('sends X-Sdk-Date, Host, Content-Type and Authorization', () => {
    expect(headers['X-Sdk-Date']).toBe('20250102T030405Z');
    expect(headers.Host).toBe('mkt.myhuaweicloud.com');
    expect(headers['Content-Type']).toBe('application/json');
    const auth = authParts(headers.Authorization);
    expect(auth.access).toBe(CREDS.ak);
    expect(auth.signedHeaders).toBe('content-type;host;x-sdk-date');
  });

  it('builds the canonical request, string to sign and signature', () => {
    const canonical = canonicalRequest({
      method: 'GET',
      path: '/api/mkp-openapi-public/global/v1/order/query',
      rawQuery: 'orderLineId=CS2211181819B4LVS-000001&orderId=CS2211181819B4LVS',
      headers: { 'Content-Type': 'application/json', Host: 'mkt.myhuaweicloud.com', 'X-Sdk-Date': '20250102T030405Z' },
      body: '',
    });
    expect(canonical).toBe(CANONICAL);

    const expectedToSign = `SDK-HMAC-SHA256\n20250102T030405Z\n${createHash('sha256').update(CANONICAL).digest('hex')}`;
    expect(stringToSign(canonical, '20250102T030405Z')).toBe(expectedToSign);

    const expectedSignature = createHmac('sha256', CREDS.sk).update(expectedToSign).digest('hex');
    expect(authParts(headers.Authorization).signature).toBe(expectedSignature);
    // Pinned (also computed with openssl from the same text), so that a change cannot go unnoticed.
    expect(expectedSignature).toBe('f41e8257044c349ad40f8b4890638ef22a7468be8cd85a5a500c77840549d096');
  });

  it('hashes the body', () => {
    const body = '{"a":1}';
    const canonical = canonicalRequest({ method: 'post', path: '/x', rawQuery: '', headers: { Host: 'h' }, body });
    expect(canonical.split('\n').at(-1)).toBe(createHash('sha256').update(body).digest('hex'));
    expect(canonical.split('\n')[0]).toBe('POST');
    // As in Huawei's signer: a GET signs no body, and x-sdk-content-sha256 replaces the hash.
    const get = canonicalRequest({ method: 'GET', path: '/x', rawQuery: '', headers: { Host: 'h' }, body });
    expect(get.split('\n').at(-1)).toBe(EMPTY_SHA256);
    const unsigned = canonicalRequest({
      method: 'PUT',
      path: '/x',
      rawQuery: '',
      headers: { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
      body,
    });
    expect(unsigned.split('\n').at(-1)).toBe('UNSIGNED-PAYLOAD');
  });
});

describe('canonical parts', () => {
  it('URI-encodes per RFC 3986 (unreserved kept, hex uppercase, UTF-8)', () => {
    expect(uriEncode("a b!*'()~_.-/:?&=+%中")).toBe('a%20b%21%2A%27%28%29~_.-%2F%3A%3F%26%3D%2B%25%E4%B8%AD');
  });

  it('encodes each path segment and always ends with "/"', () => {
    expect(canonicalUri('/')).toBe('/');
    expect(canonicalUri('')).toBe('/');
    expect(canonicalUri('/a/b')).toBe('/a/b/');
    expect(canonicalUri('/a/b/')).toBe('/a/b/');
    expect(canonicalUri('/v1/%C3%BC ber/x(1)')).toBe('/v1/%C3%BC%20ber/x%281%29/');
    expect(canonicalUri('/v1/ü%20ber')).toBe('/v1/%C3%BC%20ber/');
  });

  it('sorts the query by key then value and re-encodes it', () => {
    expect(canonicalQueryString('b=2&a=z&a=y&c&%61b=x%2By&k=%E4%B8%AD&=dropped&m=a+b')).toBe('a=y&a=z&ab=x%2By&b=2&c=&k=%E4%B8%AD&m=a%2Bb');
    expect(canonicalQueryString('')).toBe('');
    expect(canonicalQueryString('orderId=A%20B')).toBe('orderId=A%20B');
  });

  it('lowercases, trims and sorts headers, each line ending with a newline', () => {
    expect(canonicalHeaders({ 'X-Sdk-Date': ' 20250102T030405Z ', Host: 'h:8080', 'a-Header': 'x  y' })).toBe(
      'a-header:x  y\nhost:h:8080\nx-sdk-date:20250102T030405Z\n',
    );
  });

  it('formats and parses X-Sdk-Date', () => {
    expect(formatSdkDate(NOW)).toBe('20250102T030405Z');
    expect(parseSdkDate('20250102T030405Z')).toBe(Date.UTC(2025, 0, 2, 3, 4, 5));
    expect(parseSdkDate('20250230T000000Z')).toBeUndefined();
    expect(parseSdkDate('2025-01-02T03:04:05Z')).toBeUndefined();
  });

  it('signs the host with its port, and ignores a caller-given Host or X-Sdk-Date', () => {
    const h = signApigRequest(
      { method: 'GET', url: 'http://127.0.0.1:4010/x?y=1', headers: { host: 'evil', 'x-sdk-date': '19700101T000000Z' } },
      CREDS,
      NOW,
    );
    expect(h.Host).toBe('127.0.0.1:4010');
    expect(h['X-Sdk-Date']).toBe('20250102T030405Z');
    expect(Object.keys(h).filter((k) => k.toLowerCase() === 'host')).toEqual(['Host']);
  });
});

describe('verifyApigRequest', () => {
  const nowMs = NOW.getTime();
  const signGet = (url = URL_) => signApigRequest({ method: 'GET', url, headers: { 'Content-Type': 'application/json' } }, CREDS, NOW);

  it('accepts what signApigRequest signed', () => {
    const r = asReceived(URL_, signGet());
    expect(verifyApigRequest(r, secretFor, nowMs)).toEqual({ ok: true, ak: CREDS.ak });
    // …with the query in another order or another (equivalent) encoding
    expect(
      verifyApigRequest({ ...r, rawQuery: 'orderId=CS2211181819B4LVS&orderLineId=CS2211181819B4LVS%2D000001' }, secretFor, nowMs).ok,
    ).toBe(true);
  });

  it('round-trips special characters in path and query', () => {
    const url = 'https://h.example/a%20b/c(1)?q=%E4%B8%AD%20x&z=%21&a=';
    const r = asReceived(url, signApigRequest({ method: 'GET', url }, CREDS, NOW));
    expect(verifyApigRequest(r, secretFor, nowMs)).toEqual({ ok: true, ak: CREDS.ak });
  });

  it('round-trips a POST body and rejects a tampered one', () => {
    const url = 'https://h.example/api/x';
    const body = '{"usage":"10.5"}';
    const headers = signApigRequest({ method: 'POST', url, headers: { 'Content-Type': 'application/json' }, body }, CREDS, NOW);
    expect(verifyApigRequest(asReceived(url, headers, 'POST', body), secretFor, nowMs).ok).toBe(true);
    expect(verifyApigRequest(asReceived(url, headers, 'POST', '{"usage":"99"}'), secretFor, nowMs)).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    expect(verifyApigRequest(asReceived(url, headers, 'PUT', body), secretFor, nowMs).ok).toBe(false);
  });

  it('rejects a tampered query, path, host or date', () => {
    const r = asReceived(URL_, signGet());
    const mismatch = { ok: false, reason: 'signature does not match' };
    expect(
      verifyApigRequest({ ...r, rawQuery: 'orderId=CS2211181819B4LVT&orderLineId=CS2211181819B4LVS-000001' }, secretFor, nowMs),
    ).toEqual(mismatch);
    expect(verifyApigRequest({ ...r, rawQuery: `${r.rawQuery}&extra=1` }, secretFor, nowMs)).toEqual(mismatch);
    expect(verifyApigRequest({ ...r, path: `${r.path}2` }, secretFor, nowMs)).toEqual(mismatch);
    expect(verifyApigRequest({ ...r, headers: { ...r.headers, host: 'mkt.myhuaweicloud.cn' } }, secretFor, nowMs)).toEqual(mismatch);
    expect(verifyApigRequest({ ...r, headers: { ...r.headers, 'x-sdk-date': '20250102T030406Z' } }, secretFor, nowMs)).toEqual(mismatch);
  });

  it('rejects a stale or future date, whatever the signature', () => {
    const r = asReceived(URL_, signGet());
    const signedAt = Date.UTC(2025, 0, 2, 3, 4, 5);
    expect(verifyApigRequest(r, secretFor, signedAt + 15 * 60_000).ok).toBe(true);
    expect(verifyApigRequest(r, secretFor, signedAt - 15 * 60_000).ok).toBe(true);
    expect(verifyApigRequest(r, secretFor, signedAt + 15 * 60_000 + 1_000)).toEqual({
      ok: false,
      reason: 'X-Sdk-Date is outside the allowed window',
    });
    expect(verifyApigRequest(r, secretFor, nowMs - 16 * 60_000).ok).toBe(false);
    expect(verifyApigRequest(r, secretFor, nowMs + 2_000, 1_000).ok).toBe(false);
  });

  it('rejects missing or malformed Authorization, unknown AK, wrong SK and unsigned host/date', () => {
    const r = asReceived(URL_, signGet());
    const auth = r.headers.authorization!;
    const withAuth = (authorization: string | undefined) => ({ ...r, headers: { ...r.headers, authorization } });
    expect(verifyApigRequest(withAuth(undefined), secretFor, nowMs)).toEqual({ ok: false, reason: 'Authorization header is missing' });
    expect(verifyApigRequest(withAuth('Bearer x'), secretFor, nowMs)).toEqual({ ok: false, reason: 'Authorization header is malformed' });
    expect(verifyApigRequest(withAuth(auth.replace('Signature=', 'Signature=00')), secretFor, nowMs).ok).toBe(false);
    expect(verifyApigRequest(withAuth(auth.replace(CREDS.ak, 'OTHERAK')), secretFor, nowMs)).toEqual({
      ok: false,
      reason: 'unknown access key',
    });
    expect(verifyApigRequest(withAuth(auth.replace('content-type;host;x-sdk-date', 'content-type;x-sdk-date')), secretFor, nowMs)).toEqual({
      ok: false,
      reason: 'x-sdk-date and host must be signed',
    });
    expect(verifyApigRequest({ ...r, headers: { ...r.headers, 'content-type': undefined } }, secretFor, nowMs)).toEqual({
      ok: false,
      reason: 'signed header content-type is missing',
    });
    expect(verifyApigRequest(r, () => 'another-secret', nowMs)).toEqual({ ok: false, reason: 'signature does not match' });
    // Hex case does not matter.
    expect(
      verifyApigRequest(withAuth(auth.replace(/Signature=([0-9a-f]+)/, (_, s: string) => `Signature=${s.toUpperCase()}`)), secretFor, nowMs)
        .ok,
    ).toBe(true);
  });

  it('never puts the AK, SK or signature in a reason', () => {
    const r = asReceived(URL_, signGet());
    const signature = authParts(r.headers.authorization).signature!;
    for (const v of [
      verifyApigRequest(r, () => 'x', nowMs),
      verifyApigRequest(r, () => undefined, nowMs),
      verifyApigRequest(r, secretFor, nowMs + 3_600_000),
    ]) {
      expect(v.ok).toBe(false);
      const text = JSON.stringify(v);
      for (const secret of [CREDS.ak, CREDS.sk, signature]) expect(text).not.toContain(secret);
    }
  });
});
