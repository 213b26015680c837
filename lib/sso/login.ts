/**
 * `GET /sso/login?tenant=…[&appId=…][&return=…]`: where the tenant's OneAccess is known, a redirect to its authorize
 * endpoint with a fresh `state`, stored single-use and bound to this browser by a cookie; otherwise a redirect to
 * the unified login page with the app's App ID (spec §5.2).
 */
import * as z from 'zod';
import type { SsoContext } from './context.ts';
import { STATE_COOKIE, setCookie } from './cookies.ts';
import { loginTarget } from './directoryLookup.ts';
import { messagePage, redirect, type SsoAnswer, type SsoRequest } from './http.ts';
import { randomId } from './secrets.ts';
import { authorizeUrl, safeReturnPath, unifiedLoginUrl } from './urls.ts';

const Id = z.string().min(1).max(64);
const LoginQuery = z.object({ tenant: Id.optional(), appId: Id.optional(), return: z.string().max(2048).optional() });

export async function startLogin(request: SsoRequest, ctx: SsoContext): Promise<SsoAnswer> {
  const query = LoginQuery.safeParse(request.query);
  if (!query.success) return messagePage(400, 'Login refused', 'The login link is malformed: tenant and appId are at most 64 characters.');
  const { settings } = ctx;
  const appId = query.data.appId ?? settings.defaultAppId;
  const target = query.data.tenant ? await loginTarget(ctx.directory, query.data.tenant, appId) : undefined;
  if (target) {
    const state = randomId();
    const returnTo = safeReturnPath(query.data.return);
    const nowSeconds = Math.floor(ctx.now() / 1000);
    await ctx.states.save(state, {
      tenantId: target.tenant.tenantId,
      appId: target.app.appId,
      ...(returnTo ? { returnTo } : {}),
      expiresAt: nowSeconds + settings.stateTtlSeconds,
    });
    const location = authorizeUrl(target.base, { clientId: target.app.clientId, redirectUri: settings.callbackUrl, state });
    return redirect(location, [
      setCookie(STATE_COOKIE, state, { secure: settings.secureCookies, maxAgeSeconds: settings.stateTtlSeconds }),
    ]);
  }
  if (!appId) {
    return messagePage(400, 'Login refused', 'This login link names no known tenant and no application: ask the product for a new link.');
  }
  return redirect(unifiedLoginUrl(settings.unifiedLoginUrl, appId));
}
