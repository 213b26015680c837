/** The OneAccess client's reading of answers (spec §5.3–5.5), over a network that answers what each test says. */
import { describe, expect, it } from 'vitest';
import { oneAccessClient } from '#lib/sso/oneAccess.ts';

const client = { clientId: 'c', clientSecret: 's' };
const answering = (status: number, body: string) => {
  const seen: { url: string; init: RequestInit }[] = [];
  const fetcher = (async (url: string, init: RequestInit) => {
    seen.push({ url, init });
    return new Response(body, { status });
  }) as unknown as typeof fetch;
  return { oneAccess: oneAccessClient({ timeoutMs: 1000, fetch: fetcher }), seen };
};

describe('OneAccess client', () => {
  it('exchanges a code with a form body and reads the tokens', async () => {
    const { oneAccess, seen } = answering(200, '{"access_token":"a","token_type":"Bearer","expires_in":"7200","refresh_token":"r"}');
    expect(await oneAccess.exchangeCode('https://t.example.com', client, 'code', 'https://isv/cb')).toEqual({
      ok: true,
      value: { accessToken: 'a', expiresIn: 7200, refreshToken: 'r' },
    });
    expect(seen[0]!.url).toBe('https://t.example.com/api/v1/oauth2/token');
    expect(Object.fromEntries(new URLSearchParams(String(seen[0]!.init.body)))).toEqual({
      client_id: 'c',
      client_secret: 's',
      code: 'code',
      grant_type: 'authorization_code',
      redirect_uri: 'https://isv/cb',
    });
    expect(seen[0]!.init.redirect).toBe('manual');
  });

  it('takes the documented 2 h when expires_in is missing, and no refresh token when none is given', async () => {
    const { oneAccess } = answering(200, '{"access_token":"a"}');
    expect(await oneAccess.refresh('https://t', client, 'r')).toEqual({ ok: true, value: { accessToken: 'a', expiresIn: 7200 } });
  });

  it.each([
    [400, '{"error":"invalid_grant","error_description":"Invalid authorization code"}', { ok: false, kind: 'invalid_grant' }],
    [401, '{"error":"invalid_client"}', { ok: false, kind: 'refused', status: 401, error: 'invalid_client' }],
    [403, 'forbidden', { ok: false, kind: 'refused', status: 403 }],
    [500, 'oops', { ok: false, kind: 'unavailable', reason: 'HTTP 500' }],
    [200, 'not json', { ok: false, kind: 'unavailable', reason: 'token answer is not OneAccess JSON' }],
    [200, JSON.stringify({ access_token: 'a', pad: 'x'.repeat(70_000) }), { ok: false, kind: 'unavailable', reason: 'answer too large' }],
  ])('reads HTTP %i %s', async (status, body, expected) => {
    expect(await answering(status, body).oneAccess.exchangeCode('https://t', client, 'c', 'https://cb')).toEqual(expected);
  });

  it('reads userinfo with the Bearer token and refuses an answer without userName', async () => {
    const good = answering(200, '{"userName":"alice","name":"Alice","tenant":"t1","email":"a@example.com"}');
    expect(await good.oneAccess.userInfo('https://t', 'tok')).toEqual({
      ok: true,
      value: { userName: 'alice', name: 'Alice', tenant: 't1' },
    });
    expect((good.seen[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer tok');
    expect(await answering(200, '{"name":"x"}').oneAccess.userInfo('https://t', 'tok')).toMatchObject({ ok: false, kind: 'unavailable' });
    expect(await answering(401, '{"error":"unauthorized"}').oneAccess.userInfo('https://t', 'tok')).toMatchObject({
      ok: false,
      kind: 'refused',
      status: 401,
    });
  });

  it('says "not reached" when the network fails', async () => {
    const failing = oneAccessClient({
      timeoutMs: 1000,
      fetch: (async () => Promise.reject(new TypeError('fetch failed'))) as unknown as typeof fetch,
    });
    expect(await failing.userInfo('https://t', 'tok')).toEqual({ ok: false, kind: 'unavailable', reason: 'not reached' });
  });
});
