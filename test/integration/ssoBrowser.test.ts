/**
 * The single sign-on end to end in a real headless Chromium: our login → the fake OneAccess's page → the callback →
 * the hand-off page (CSP with a hashed script) → the product's login URL receiving a valid assertion. The cookies
 * are checked as the browser keeps them, the state is shown to be bound to the browser, and a revoked user is refused.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchChromium } from '../helpers/chromium.ts';
import { startSsoStack, type SsoStack } from '../helpers/ssoStack.ts';

const run = browserAvailable();
let stack: SsoStack;
let browser: Browser;

beforeAll(async () => {
  if (!run) return;
  stack = await startSsoStack();
  await stack.seedTenant('tb', [
    { userName: 'alice', name: 'Alice', role: 'user', enabled: true, status: 'AUTHORISED' },
    { userName: 'bob', name: 'Bob', role: 'user', enabled: true, status: 'REVOKED' },
  ]);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe.runIf(run)('single sign-on in a headless browser', () => {
  it('signs a user in through OneAccess and posts a valid assertion to the product', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    let callbackUrl = '';
    page.on('request', (request) => {
      if (request.url().startsWith(`${stack.url}/sso/callback`)) callbackUrl = request.url();
    });
    await page.goto(`${stack.url}/sso/login?tenant=tb&return=/home`);
    expect(page.url()).toContain(`${stack.fake.domainOf('tb')}/api/v1/oauth2/authorize`);
    const stateInUrl = new URL(page.url()).searchParams.get('state');
    const stateCookie = (await context.cookies(`${stack.url}/sso/`)).find((c) => c.name === 'kg_sso_state');
    expect(stateCookie).toMatchObject({ value: stateInUrl, httpOnly: true, sameSite: 'Lax', path: '/sso' });

    await Promise.all([page.waitForURL(`${stack.productUrl}/login/sso`), page.getByRole('button', { name: /alice/ }).click()]);
    expect(await page.textContent('body')).toContain('product login');
    expect(stack.received).toHaveLength(1);
    const { payload } = await jwtVerify(stack.received[0]!, createRemoteJWKSet(new URL(`${stack.url}/sso/jwks.json`)), {
      issuer: `${stack.url}/sso`,
      audience: stack.productUrl,
    });
    expect(payload).toMatchObject({ sub: 'alice@code-tb', tenant: 'tb', ret: '/home' });

    const cookies = await context.cookies(stack.url + '/sso/');
    expect(cookies.find((c) => c.name === 'kg_sso_state')).toBeUndefined();
    expect(cookies.find((c) => c.name === 'kg_sso_session')).toMatchObject({ value: payload.sid, httpOnly: true, sameSite: 'Lax' });

    // The same callback in another browser (no state cookie) is refused, and makes no session.
    const other = await browser.newContext();
    const stranger = await other.newPage();
    const refused = await stranger.goto(callbackUrl);
    expect(refused?.status()).toBe(403);
    expect((await other.cookies(stack.url + '/sso/')).find((c) => c.name === 'kg_sso_session')).toBeUndefined();
    await other.close();
    await context.close();
  });

  it('refuses a revoked user with a page that says why, and the product receives nothing', async () => {
    const before = stack.received.length;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/sso/login?tenant=tb`);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${stack.url}/sso/callback`)),
      page.getByRole('button', { name: /bob/ }).click(),
    ]);
    expect(answer.status()).toBe(403);
    await page.waitForLoadState();
    expect(await page.textContent('h1')).toBe('Sign-in refused');
    expect(await page.textContent('body')).toContain('withdrawn');
    expect(stack.received).toHaveLength(before);
    await context.close();
  });
});
