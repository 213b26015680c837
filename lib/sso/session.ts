/**
 * After the login: `GET /sso/logout` (ends our session and the tenant's OneAccess one, spec §5.6) and
 * `POST /sso/session` (the product asks, with its secret, whether a session is still valid; the server refreshes
 * the OneAccess tokens when less than five minutes remain, and a refused refresh ends the session).
 */
import * as z from 'zod';
import { auditSso } from './audit.ts';
import type { SsoContext } from './context.ts';
import { SESSION_COOKIE, clearCookie, readCookie } from './cookies.ts';
import { loginTarget } from './directoryLookup.ts';
import { json, redirect, type SsoAnswer, type SsoRequest } from './http.ts';
import type { SsoSession } from './model.ts';
import { needsRefresh } from './refresh.ts';
import { ID_PATTERN, idHash, sameSecret } from './secrets.ts';
import { logoutUrl, oneAccessBase } from './urls.ts';

export async function logout(request: SsoRequest, ctx: SsoContext): Promise<SsoAnswer> {
  const { settings } = ctx;
  const cleared = [clearCookie(SESSION_COOKIE, settings.secureCookies)];
  const sessionId = readCookie(request.cookies, SESSION_COOKIE);
  const session = sessionId && ID_PATTERN.test(sessionId) ? await ctx.sessions.get(sessionId, Math.floor(ctx.now() / 1000)) : undefined;
  if (!sessionId || !session) return redirect(settings.loggedOutUrl, cleared);
  await ctx.sessions.delete(sessionId);
  await auditSso(ctx, request, {
    action: 'sso.logout',
    outcome: 'ok',
    status: 302,
    tenantId: session.tenantId,
    userName: session.userName,
    appId: session.appId,
  });
  const tenant = await ctx.directory.tenant(session.tenantId);
  const base = tenant ? oneAccessBase(tenant.domainName) : undefined;
  return redirect(base ? logoutUrl(base, settings.loggedOutUrl) : settings.loggedOutUrl, cleared);
}

const CheckBody = z.object({ sid: z.string().regex(ID_PATTERN, 'sid must be the session id of the assertion') });
const MAX_CHECK_BODY = 1024;

/** The product's check: 401 without its secret, 400 for a malformed body, else whether the session lives. */
export async function checkSession(request: SsoRequest, ctx: SsoContext): Promise<SsoAnswer> {
  const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (!presented || !sameSecret(presented, await ctx.productSecret())) {
    return json(401, { error: { code: 'unauthorized', message: 'Authorization: Bearer <SSO_PRODUCT_SECRET> is required' } });
  }
  let body: unknown;
  try {
    body = (request.body ?? '').length <= MAX_CHECK_BODY ? JSON.parse(request.body ?? '') : undefined;
  } catch {
    body = undefined;
  }
  const parsed = CheckBody.safeParse(body);
  if (!parsed.success) return json(400, { error: { code: 'invalid_request', message: 'body must be {"sid": "<session id>"}' } });
  const sessionId = parsed.data.sid;
  const nowSeconds = Math.floor(ctx.now() / 1000);
  const session = await ctx.sessions.get(sessionId, nowSeconds);
  if (!session) return json(200, { active: false });
  if (!needsRefresh(session.accessExpiresAt, nowSeconds)) return json(200, activeAnswer(session));
  const refreshed = await refreshSession(request, ctx, sessionId, session, nowSeconds);
  if (refreshed === 'ended') return json(200, { active: false });
  if (refreshed === 'unavailable') {
    // OneAccess cannot be reached: the session lives while its access token does.
    if (session.accessExpiresAt > nowSeconds) return json(200, activeAnswer(session));
    return json(503, { error: { code: 'unavailable', message: 'the enterprise sign-in service cannot be reached; try again' } });
  }
  return json(200, activeAnswer(refreshed));
}

function activeAnswer(session: SsoSession) {
  return {
    active: true,
    sub: `${session.userName}@${session.tenantCode}`,
    tenant: session.tenantId,
    userName: session.userName,
    role: session.role,
    appId: session.appId,
    accessExpiresAt: session.accessExpiresAt,
    expiresAt: session.expiresAt,
  };
}

/** Refreshes the session's tokens: the refreshed session, `ended` (refresh refused: session deleted) or `unavailable`. */
async function refreshSession(
  request: SsoRequest,
  ctx: SsoContext,
  sessionId: string,
  session: SsoSession,
  nowSeconds: number,
): Promise<SsoSession | 'ended' | 'unavailable'> {
  const sessionKey = idHash(sessionId);
  const end = async (reason: string) => {
    await ctx.sessions.delete(sessionId);
    const who = { tenantId: session.tenantId, userName: session.userName, appId: session.appId };
    await auditSso(ctx, request, { action: 'sso.sessionEnd', outcome: 'ok', status: 200, errorCode: reason, ...who });
    return 'ended' as const;
  };
  const tokens = await ctx.sealer.open(session.sealedTokens, sessionKey);
  if (!tokens.refreshToken) return session.accessExpiresAt > nowSeconds ? session : end('no_refresh_token');
  const target = await loginTarget(ctx.directory, session.tenantId, session.appId);
  if (!target) return end('tenant_unknown');
  let clientSecret: string;
  try {
    clientSecret = await ctx.revealClientSecret(target.app.clientSecretCiphertext);
  } catch {
    ctx.log.error('sso refresh: the client secret cannot be decrypted', { tenantId: session.tenantId, appId: session.appId });
    return 'unavailable';
  }
  const answer = await ctx.oneAccess.refresh(target.base, { clientId: target.app.clientId, clientSecret }, tokens.refreshToken);
  if (!answer.ok) {
    if (answer.kind === 'invalid_grant') return end('refresh_rejected');
    ctx.log.warn('sso refresh failed', { tenantId: session.tenantId, kind: answer.kind });
    return 'unavailable';
  }
  const next = { ...answer.value, refreshToken: answer.value.refreshToken ?? tokens.refreshToken };
  const update = { sealedTokens: await ctx.sealer.seal(next, sessionKey), accessExpiresAt: nowSeconds + next.expiresIn };
  const stored = await ctx.sessions.replaceTokens(sessionId, session.version, update);
  if (!stored) {
    // Another check refreshed it at the same time: its tokens are the ones kept.
    return (await ctx.sessions.get(sessionId, nowSeconds)) ?? 'ended';
  }
  return { ...session, ...update, version: session.version + 1 };
}
