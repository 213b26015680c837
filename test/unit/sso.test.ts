/** The single sign-on's pure parts: URLs, cookies, ids, the refresh decision, the user check, the assertion, sealing. */
import { generateKeyPairSync, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assertionClaims, es256Signer, signingKey } from '#lib/sso/assertion.ts';
import { clearCookie, readCookie, setCookie } from '#lib/sso/cookies.ts';
import { pickApp } from '#lib/sso/directoryLookup.ts';
import { handOffPage, messagePage, SUBMIT_SCRIPT, SUBMIT_SCRIPT_HASH } from '#lib/sso/http.ts';
import type { SsoApp, SsoUser } from '#lib/sso/model.ts';
import { needsRefresh } from '#lib/sso/refresh.ts';
import { ID_PATTERN, idHash, randomId, sameSecret } from '#lib/sso/secrets.ts';
import { tokenSealer } from '#lib/sso/tokenSeal.ts';
import { decideUser } from '#lib/sso/userMatch.ts';
import { authorizeUrl, DEFAULT_UNIFIED_LOGIN_URL, logoutUrl, oneAccessBase, safeReturnPath, unifiedLoginUrl } from '#lib/sso/urls.ts';
import { createHash } from 'node:crypto';

const ecPem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('URLs', () => {
  it('builds the authorize URL of spec §5.2 with every parameter encoded', () => {
    const url = new URL(
      authorizeUrl('https://t.example.com', { clientId: 'c 1', redirectUri: 'https://isv.example.com/sso/callback', state: 's' }),
    );
    expect(url.origin + url.pathname).toBe('https://t.example.com/api/v1/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'c 1',
      redirect_uri: 'https://isv.example.com/sso/callback',
      response_type: 'code',
      scope: 'get_user_info',
      state: 's',
    });
  });

  it('builds the logout and unified login URLs', () => {
    expect(logoutUrl('https://t.example.com', 'https://app.example.com/?a=1')).toBe(
      'https://t.example.com/api/v1/logout?redirect_url=https%3A%2F%2Fapp.example.com%2F%3Fa%3D1',
    );
    expect(unifiedLoginUrl(DEFAULT_UNIFIED_LOGIN_URL, 'a/b')).toBe(
      'https://macroverse.huaweicloud.com/unified-login/#/portal-login?ind=UNOP&appId=a%2Fb',
    );
  });

  it('accepts https OneAccess bases, and plain http only on the loopback', () => {
    expect(oneAccessBase('https://t.example.com/')).toBe('https://t.example.com');
    expect(oneAccessBase('http://127.0.0.1:4030/t/x')).toBe('http://127.0.0.1:4030/t/x');
    for (const bad of ['http://t.example.com', 'https://u:p@t.example.com', 'https://t.example.com/?q=1', 'ftp://t', 'not a url']) {
      expect(oneAccessBase(bad)).toBeUndefined();
    }
  });

  it('keeps only a same-site return path', () => {
    expect(safeReturnPath('/reports?x=1')).toBe('/reports?x=1');
    for (const bad of [
      '//evil.example',
      '/\\evil.example',
      'https://evil.example',
      'reports',
      '',
      '/a\nb',
      `/${'a'.repeat(600)}`,
      undefined,
    ]) {
      expect(safeReturnPath(bad)).toBeUndefined();
    }
  });
});

describe('cookies and ids', () => {
  it('sets HttpOnly, SameSite=Lax cookies on /sso, Secure over https', () => {
    expect(setCookie('n', 'v', { secure: true, maxAgeSeconds: 60 })).toBe('n=v; Path=/sso; Max-Age=60; HttpOnly; SameSite=Lax; Secure');
    expect(clearCookie('n', false)).toBe('n=; Path=/sso; Max-Age=0; HttpOnly; SameSite=Lax');
  });

  it('reads a cookie from a header or from API Gateway’s list', () => {
    expect(readCookie('a=1; kg=xyz; b=2', 'kg')).toBe('xyz');
    expect(readCookie(['a=1', 'kg=xyz'], 'kg')).toBe('xyz');
    expect(readCookie(['kg='], 'kg')).toBeUndefined();
    expect(readCookie(undefined, 'kg')).toBeUndefined();
    expect(readCookie('broken; kgx=1', 'kg')).toBeUndefined();
  });

  it('makes unguessable ids, hashes them for storage and compares in constant time', () => {
    const a = randomId();
    expect(a).toMatch(ID_PATTERN);
    expect(randomId()).not.toBe(a);
    expect(idHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(sameSecret(a, a)).toBe(true);
    expect(sameSecret(a, randomId())).toBe(false);
    expect(sameSecret(a, 'short')).toBe(false);
  });
});

describe('refresh decision', () => {
  it('refreshes when less than five minutes remain', () => {
    expect(needsRefresh(1_000 + 301, 1_000)).toBe(false);
    expect(needsRefresh(1_000 + 299, 1_000)).toBe(true);
    expect(needsRefresh(900, 1_000)).toBe(true);
  });
});

describe('the user check', () => {
  const user: SsoUser = { userName: 'alice', name: 'A', orgCode: 'o', role: 'user', enabled: true, status: 'AUTHORISED' };
  it('lets in an authorised, enabled user of the tenant', () => {
    expect(decideUser({ userName: 'alice', tenant: 't1' }, 't1', user)).toEqual({ ok: true, user });
    expect(decideUser({ userName: 'alice' }, 't1', user).ok).toBe(true);
  });
  it.each([
    [{ userName: 'alice', tenant: 't2' }, user, 'tenant_mismatch'],
    [{ userName: 'alice' }, undefined, 'user_unknown'],
    [{ userName: 'alice' }, { ...user, status: 'DELETED' as const }, 'user_unknown'],
    [{ userName: 'alice' }, { ...user, status: 'REVOKED' as const }, 'user_revoked'],
    [{ userName: 'alice' }, { ...user, enabled: false }, 'user_disabled'],
  ])('refuses %o as %s', (info, stored, reason) => {
    expect(decideUser(info, 't1', stored)).toEqual({ ok: false, reason });
  });
});

describe('the application of a login', () => {
  const app = (appId: string, status: SsoApp['status'] = 'ACTIVE'): SsoApp => ({
    appId,
    clientId: 'c',
    clientSecretCiphertext: 'x',
    status,
  });
  it('takes the named active app, else the only active one', () => {
    expect(pickApp([app('a'), app('b')], 'b')?.appId).toBe('b');
    expect(pickApp([app('a'), app('b', 'DELETED')], undefined)?.appId).toBe('a');
    expect(pickApp([app('a'), app('b')], undefined)).toBeUndefined();
    expect(pickApp([app('a', 'DELETED')], 'a')).toBeUndefined();
  });
});

describe('the assertion', () => {
  const input = {
    issuer: 'https://isv.example.com/sso',
    audience: 'https://app.example.com',
    tenantId: 't1',
    tenantCode: 'acme',
    userName: 'alice',
    name: 'Alice',
    role: 'admin' as const,
    appId: 'app',
    sessionId: 'sid',
    returnTo: '/r',
    nowSeconds: 1_000,
    lifetimeSeconds: 600,
  };

  it('says who, for whom, and lives at most 60 seconds', () => {
    const claims = assertionClaims(input);
    expect(claims).toMatchObject({
      iss: input.issuer,
      aud: input.audience,
      sub: 'alice@acme',
      tenant: 't1',
      role: 'admin',
      sid: 'sid',
      ret: '/r',
      iat: 1_000,
      exp: 1_060,
    });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(assertionClaims(input).jti).not.toBe(claims.jti);
    expect(assertionClaims({ ...input, lifetimeSeconds: 30, returnTo: undefined, name: undefined })).not.toHaveProperty('ret');
  });

  it('is an ES256 JWS the published key verifies', async () => {
    const signer = es256Signer(async () => ecPem());
    const token = await signer.sign({ sub: 'x' });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const { keys } = await signer.jwks();
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'ES256', typ: 'JWT', kid: keys[0]!.kid });
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
    const publicKey = createPublicKey({ key: keys[0] as never, format: 'jwk' });
    expect(
      verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64url'),
      ),
    ).toBe(true);
  });

  it('refuses a signing key that is not EC P-256, naming no key material', async () => {
    expect(() => signingKey('nonsense')).toThrow('SSO_SIGNING_KEY is not a PEM private key');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => signingKey(rsa)).toThrow('EC P-256');
    let calls = 0;
    const signer = es256Signer(async () => (++calls === 1 ? 'nonsense' : ecPem()));
    await expect(signer.sign({})).rejects.toThrow('not a PEM');
    await expect(signer.sign({})).resolves.toMatch(/^ey/);
  });
});

describe('sealed tokens', () => {
  it('round-trips for the same session only', async () => {
    const sealer = tokenSealer(async () => 'secret');
    const tokens = { accessToken: 'at', expiresIn: 7200, refreshToken: 'rt' };
    const sealed = await sealer.seal(tokens, 'session-a');
    expect(sealed).not.toContain('at');
    expect(await sealer.open(sealed, 'session-a')).toEqual(tokens);
    await expect(sealer.open(sealed, 'session-b')).rejects.toThrow();
    await expect(sealer.open('v0.x.y.z', 'session-a')).rejects.toThrow('v1');
    await expect(tokenSealer(async () => 'other').open(sealed, 'session-a')).rejects.toThrow();
  });
});

describe('pages', () => {
  it('allows exactly the hand-off script by its hash, and posts only to the product', () => {
    expect(SUBMIT_SCRIPT_HASH).toBe(`sha256-${createHash('sha256').update(SUBMIT_SCRIPT).digest('base64')}`);
    const page = handOffPage('https://app.example.com/login?x="1"', 'a.b.c', []);
    expect(page.headers['content-security-policy']).toBe(
      `default-src 'none'; script-src '${SUBMIT_SCRIPT_HASH}'; form-action https://app.example.com; base-uri 'none'; frame-ancestors 'none'`,
    );
    expect(page.body).toContain('action="https://app.example.com/login?x=&quot;1&quot;"');
    expect(page.body).toContain(`<script>${SUBMIT_SCRIPT}</script>`);
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('escapes what a message page shows', () => {
    expect(messagePage(403, '<t>', 'a & b').body).toContain('&lt;t&gt;</h1><p>a &amp; b');
  });
});

describe('the audit record of a sign-in', () => {
  it('names the user as actor (tenant + userName) on the sso channel', async () => {
    const { buildSellerActionRecord } = await import('#lib/audit/sellerActions.ts');
    const record = buildSellerActionRecord(
      {
        actor: { kind: 'user', tenantId: 't1', userName: 'alice' },
        action: 'sso.login',
        target: { tenant: 't1' },
        result: { outcome: 'refused', status: 403, errorCode: 'user_revoked' },
        channel: 'sso',
      },
      Date.parse('2026-12-01T00:00:00Z'),
    );
    expect(record).toMatchObject({ channel: 'sso', actorId: 't1/alice', actor: { kind: 'user', tenantId: 't1', userName: 'alice' } });
    expect(() =>
      buildSellerActionRecord(
        { actor: { kind: 'user', tenantId: '', userName: 'alice' }, action: 'sso.login', result: { outcome: 'ok' }, channel: 'sso' },
        0,
      ),
    ).toThrow(TypeError);
  });
});
