/**
 * The single sign-on over real HTTP: the sso function, DynamoDB Local (the Kit sync's directory items, our states
 * and sessions, the audit table) and the fake OneAccess. Each refusal is checked for its page, its audit record and
 * that no session was made.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { newDynamoClient } from '#lib/aws/clients.ts';
import { queryPartition } from '#lib/store/dynamo.ts';
import { SSO_APP_ID, SSO_PRODUCT_SECRET, startSsoStack, type SsoStack } from '../helpers/ssoStack.ts';

let stack: SsoStack;
let hangingUrl: string;
const hanging = createServer(() => {
  // Never answers: the SSO's time limit must end the call.
});

const users = [
  { userName: 'alice', name: 'Alice', role: 'admin' as const, enabled: true, status: 'AUTHORISED' as const },
  { userName: 'bob', name: 'Bob', role: 'user' as const, enabled: true, status: 'REVOKED' as const },
  { userName: 'carol', name: 'Carol', role: 'user' as const, enabled: false, status: 'AUTHORISED' as const },
];

beforeAll(async () => {
  // Access tokens of 2 minutes: every session check finds less than 5 minutes left and refreshes.
  stack = await startSsoStack({ fake: { accessTtlSeconds: 120 } });
  await stack.seedTenant('t1', users);
  await stack.seedTenant('t2', []);
  // Known to OneAccess, unknown to the Kit sync's directory.
  stack.fake.addUser({ tenantId: 't1', userName: 'dave', name: 'Dave' });
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/t/th`;
  await stack.seedTenant('th', users, { domainName: hangingUrl });
});

afterAll(async () => {
  hanging.closeAllConnections();
  await new Promise<void>((resolve) => hanging.close(() => resolve()));
  await stack?.close();
});

/** A browser's cookie jar over fetch, following nothing by itself. */
class Browser {
  cookies = new Map<string, string>();
  setCookies: string[] = [];
  async get(url: string): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    this.setCookies = response.headers.getSetCookie();
    for (const line of this.setCookies) {
      const [pair, ...attributes] = line.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      if (attributes.some((a) => a.trim() === 'Max-Age=0')) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

const location = (response: Response) => response.headers.get('location') ?? '';

/** Login up to the callback URL OneAccess sends the browser to (not followed). */
async function toCallback(browser: Browser, userName: string, tenant = 't1'): Promise<string> {
  const login = await browser.get(`${stack.url}/sso/login?tenant=${tenant}&return=/reports`);
  expect(login.status).toBe(302);
  const authorize = await browser.get(`${location(login)}&user=${userName}`);
  expect(authorize.status).toBe(302);
  return location(authorize);
}

const assertionOf = (page: string) => /name="assertion" value="([^"]+)"/.exec(page)?.[1];

async function checkSession(sid: string, secret = SSO_PRODUCT_SECRET): Promise<Response> {
  return fetch(`${stack.url}/sso/session`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sid }),
  });
}

async function auditRecords(): Promise<Record<string, unknown>[]> {
  const client = newDynamoClient();
  const day = new Date().toISOString().slice(0, 10);
  const items = await queryPartition(client, process.env.AUDIT_TABLE!, `ACTION#${day}`);
  client.destroy();
  return items.map((i) => unmarshall(i)).filter((r) => r.channel === 'sso');
}

async function loginAs(userName: string) {
  const browser = new Browser();
  const callback = await toCallback(browser, userName);
  const answer = await browser.get(callback);
  return { browser, answer, page: await answer.text(), callback };
}

describe('single sign-on', () => {
  it('logs an authorised user in and hands the product a verifiable assertion', async () => {
    const browser = new Browser();
    const login = await browser.get(`${stack.url}/sso/login?tenant=t1&return=/reports`);
    const authorize = new URL(location(login));
    expect(authorize.origin + authorize.pathname).toBe(`${stack.fake.domainOf('t1')}/api/v1/oauth2/authorize`);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      client_id: 'client-1',
      redirect_uri: `${stack.url}/sso/callback`,
      response_type: 'code',
      scope: 'get_user_info',
    });
    const stateCookie = browser.setCookies.find((c) => c.startsWith('kg_sso_state='))!;
    expect(stateCookie).toMatch(/HttpOnly/);
    expect(stateCookie).toMatch(/SameSite=Lax/);
    expect(stateCookie.split(';')[0]).toBe(`kg_sso_state=${authorize.searchParams.get('state')}`);

    const back = await browser.get(`${authorize.href}&user=alice`);
    const answer = await browser.get(location(back));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-security-policy')).toContain("script-src 'sha256-");
    expect(answer.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    const sessionCookie = browser.setCookies.find((c) => c.startsWith('kg_sso_session='))!;
    expect(sessionCookie).toMatch(/HttpOnly/);
    expect(browser.cookies.has('kg_sso_state')).toBe(false);
    const page = await answer.text();
    expect(page).not.toMatch(/access_token|refresh_token/);

    const { payload, protectedHeader } = await jwtVerify(assertionOf(page)!, createRemoteJWKSet(new URL(`${stack.url}/sso/jwks.json`)), {
      issuer: `${stack.url}/sso`,
      audience: stack.productUrl,
      algorithms: ['ES256'],
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: 'alice@code-t1', tenant: 't1', role: 'admin', name: 'Alice', ret: '/reports', appId: SSO_APP_ID });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
    expect(payload.sid).toBe(browser.cookies.get('kg_sso_session'));

    const audit = await auditRecords();
    expect(audit).toContainEqual(
      expect.objectContaining({
        action: 'sso.login',
        actor: { kind: 'user', tenantId: 't1', userName: 'alice' },
        result: expect.objectContaining({ outcome: 'ok' }),
      }),
    );
    expect(JSON.stringify(audit)).not.toContain(browser.cookies.get('kg_sso_session')!);
  });

  it('refuses a callback whose state is not the browser’s, or without the state cookie', async () => {
    const browser = new Browser();
    const callback = new URL(await toCallback(browser, 'alice'));
    const forged = new URL(callback);
    forged.searchParams.set('state', 'x'.repeat(43));
    const wrong = await browser.get(forged.href);
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toContain('another browser');

    const stranger = new Browser();
    const noCookie = await stranger.get(callback.href);
    expect(noCookie.status).toBe(403);
    expect(stranger.setCookies.some((c) => c.startsWith('kg_sso_session='))).toBe(false);
    const audit = await auditRecords();
    expect(audit.map((r) => (r.result as { errorCode?: string }).errorCode)).toEqual(
      expect.arrayContaining(['state_mismatch', 'state_cookie_missing']),
    );
  });

  it('uses a state once: the same callback again is refused', async () => {
    const { browser, answer, callback } = await loginAs('alice');
    expect(answer.status).toBe(200);
    const state = new URL(callback).searchParams.get('state')!;
    browser.cookies.set('kg_sso_state', state);
    const again = await browser.get(callback);
    expect(again.status).toBe(403);
    expect(await again.text()).toContain('expired or was already used');
  });

  it('exchanges a code once: a used code is refused by OneAccess and the login with it too', async () => {
    const first = await loginAs('alice');
    expect(first.answer.status).toBe(200);
    const usedCode = new URL(first.callback).searchParams.get('code')!;
    const browser = new Browser();
    const fresh = new URL(await toCallback(browser, 'alice'));
    fresh.searchParams.set('code', usedCode);
    const answer = await browser.get(fresh.href);
    expect(answer.status).toBe(403);
    expect(await answer.text()).toContain('already used or has expired');
    expect(stack.fake.calls.filter((c) => c.grantType === 'authorization_code' && c.error === 'invalid_grant').length).toBeGreaterThan(0);
  });

  it('refuses an expired code', async () => {
    const browser = new Browser();
    const callback = await toCallback(browser, 'alice');
    await fetch(`${stack.fake.url}/_control/expire-codes`, { method: 'POST' });
    const answer = await browser.get(callback);
    expect(answer.status).toBe(403);
    expect(browser.setCookies.some((c) => c.startsWith('kg_sso_session='))).toBe(false);
  });

  it('refuses a callback for another tenant than the login’s', async () => {
    const browser = new Browser();
    const callback = new URL(await toCallback(browser, 'alice'));
    callback.searchParams.set('tenant', 't2');
    const answer = await browser.get(callback.href);
    expect(answer.status).toBe(403);
    expect(await answer.text()).toContain('another enterprise');
  });

  it.each([
    ['bob', 'user_revoked', 'withdrawn'],
    ['carol', 'user_disabled', 'disabled'],
    ['dave', 'user_unknown', 'not authorised'],
  ])('refuses %s (%s) with a clear page and an audit record', async (userName, reason, words) => {
    const { browser, answer, page } = await loginAs(userName);
    expect(answer.status).toBe(403);
    expect(page).toContain(words);
    expect(assertionOf(page)).toBeUndefined();
    expect(browser.cookies.has('kg_sso_session')).toBe(false);
    const audit = await auditRecords();
    expect(audit).toContainEqual(
      expect.objectContaining({
        action: 'sso.login',
        actor: { kind: 'user', tenantId: 't1', userName },
        result: expect.objectContaining({ outcome: 'refused', errorCode: reason, status: 403 }),
      }),
    );
  });

  it('sends a login for an unknown tenant to the unified login page, and restarts a callback without state', async () => {
    const unknown = await fetch(`${stack.url}/sso/login?tenant=nobody`, { redirect: 'manual' });
    expect(unknown.status).toBe(302);
    expect(location(unknown)).toBe(`https://macroverse.huaweicloud.com/unified-login/#/portal-login?ind=UNOP&appId=${SSO_APP_ID}`);
    const unsolicited = await fetch(`${stack.url}/sso/callback?code=abc&tenant=t1`, { redirect: 'manual' });
    expect(unsolicited.status).toBe(302);
    expect(location(unsolicited)).toBe(`${stack.url}/sso/login?tenant=t1`);
  });

  it('checks a session for the product, refreshing its tokens server-side; a refused refresh ends it', async () => {
    const { page } = await loginAs('alice');
    const sid = /"sid":"([^"]+)"/.exec(Buffer.from(assertionOf(page)!.split('.')[1]!, 'base64url').toString())![1]!;
    expect((await checkSession(sid, 'wrong-secret')).status).toBe(401);
    const refreshesBefore = stack.fake.calls.filter((c) => c.grantType === 'refresh_token' && c.status === 200).length;
    const active = await checkSession(sid);
    expect(await active.json()).toMatchObject({ active: true, sub: 'alice@code-t1', tenant: 't1', role: 'admin' });
    expect(stack.fake.calls.filter((c) => c.grantType === 'refresh_token' && c.status === 200).length).toBe(refreshesBefore + 1);

    await fetch(`${stack.fake.url}/_control/revoke-refresh-tokens`, { method: 'POST' });
    expect(await (await checkSession(sid)).json()).toEqual({ active: false });
    expect(await (await checkSession(sid)).json()).toEqual({ active: false });
    const audit = await auditRecords();
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'sso.sessionEnd', result: expect.objectContaining({ errorCode: 'refresh_rejected' }) }),
    );
  });

  it('logs out: our session and cookie go, then the tenant’s OneAccess logout', async () => {
    const { browser, page } = await loginAs('alice');
    const sid = browser.cookies.get('kg_sso_session')!;
    expect(assertionOf(page)).toBeDefined();
    const answer = await browser.get(`${stack.url}/sso/logout`);
    expect(answer.status).toBe(302);
    expect(location(answer)).toBe(`${stack.fake.domainOf('t1')}/api/v1/logout?redirect_url=${encodeURIComponent(stack.productUrl)}`);
    expect(browser.setCookies.find((c) => c.startsWith('kg_sso_session='))).toMatch(/Max-Age=0/);
    expect(await (await checkSession(sid)).json()).toEqual({ active: false });
    const audit = await auditRecords();
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'sso.logout', actor: { kind: 'user', tenantId: 't1', userName: 'alice' } }),
    );
  });

  it('gives up on a OneAccess that does not answer within SSO_TIMEOUT_MS', async () => {
    const browser = new Browser();
    const login = await browser.get(`${stack.url}/sso/login?tenant=th`);
    const state = new URL(location(login)).searchParams.get('state')!;
    const started = Date.now();
    const answer = await browser.get(`${stack.url}/sso/callback?code=c&state=${state}&tenant=th`);
    const took = Date.now() - started;
    expect(answer.status).toBe(502);
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5_000);
  });
});
