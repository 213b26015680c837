/**
 * `GET /sso/callback?code=…&state=…[&tenant=…]`: the end of the login. The state must be this browser's (cookie)
 * and still stored (consumed here, once); the code is exchanged once at the tenant's OneAccess with the app's
 * client id and decrypted secret; userinfo names the user, who must be the tenant's and authorised and enabled for
 * the app (Kit authSync). Then a server-side session and the signed hand-off to the product. Every outcome is
 * audited; a refusal is a 4xx page that says why, a failure of OneAccess a 502 page.
 */
import * as z from 'zod';
import { assertionClaims } from './assertion.ts';
import { auditSso } from './audit.ts';
import type { SsoContext } from './context.ts';
import { SESSION_COOKIE, STATE_COOKIE, clearCookie, readCookie, setCookie } from './cookies.ts';
import { loginTarget, type LoginTarget } from './directoryLookup.ts';
import { handOffPage, messagePage, redirect, type SsoAnswer, type SsoRequest } from './http.ts';
import type { OneAccessFailure } from './ports.ts';
import { idHash, randomId, sameSecret } from './secrets.ts';
import { decideUser } from './userMatch.ts';

const Id = z.string().min(1).max(64);
const CallbackQuery = z.object({
  code: z.string().min(1).max(2048).optional(),
  state: z.string().min(1).max(128).optional(),
  tenant: Id.optional(),
  error: z.string().max(256).optional(),
});

/** What the refusal page says for each reason (kept as the audit record's errorCode). */
const REASONS: Record<string, string> = {
  bad_request: 'The sign-in answer is malformed.',
  no_code: 'OneAccess did not grant the sign-in.',
  state_missing: 'The sign-in answer is not tied to a sign-in started here.',
  state_cookie_missing: 'This browser did not start this sign-in (or its cookie expired): start again.',
  state_mismatch: 'This sign-in was started in another browser or tab: start again.',
  state_unknown: 'This sign-in has expired or was already used: start again.',
  tenant_mismatch: 'The sign-in answer is for another enterprise.',
  unsolicited: 'Sign-in must start from the product: open the product and sign in there.',
  tenant_unknown: 'This enterprise or its application is not (or no longer) set up for this product.',
  code_rejected: 'The sign-in code was already used or has expired: start again.',
  user_unknown: 'Your account is not authorised for this application. Ask your enterprise administrator.',
  user_revoked: 'Your authorisation for this application was withdrawn. Ask your enterprise administrator.',
  user_disabled: 'Your account is disabled for this application. Ask your enterprise administrator.',
};

interface Who {
  tenantId?: string | undefined;
  userName?: string | undefined;
  appId?: string | undefined;
}

export async function finishLogin(request: SsoRequest, ctx: SsoContext): Promise<SsoAnswer> {
  const { settings } = ctx;
  const clearState = clearCookie(STATE_COOKIE, settings.secureCookies);

  const refuse = async (status: number, reason: string, who: Who = {}): Promise<SsoAnswer> => {
    await auditSso(ctx, request, { action: 'sso.login', outcome: 'refused', status, errorCode: reason, ...who });
    ctx.log.warn('sso login refused', { reason, tenantId: who.tenantId, correlationId: request.correlationId });
    return messagePage(status, 'Sign-in refused', REASONS[reason] ?? 'The sign-in was refused.', [clearState]);
  };
  const fail = async (reason: string, who: Who): Promise<SsoAnswer> => {
    await auditSso(ctx, request, { action: 'sso.login', outcome: 'failed', status: 502, errorCode: reason, ...who });
    ctx.log.error('sso login failed', { reason, tenantId: who.tenantId, appId: who.appId, correlationId: request.correlationId });
    return messagePage(502, 'Sign-in unavailable', 'The sign-in service of your enterprise could not be reached. Try again shortly.', [
      clearState,
    ]);
  };
  const oneAccessProblem = (failure: OneAccessFailure, who: Who): Promise<SsoAnswer> =>
    failure.kind === 'invalid_grant'
      ? refuse(403, 'code_rejected', who)
      : fail(failure.kind === 'refused' ? 'oneaccess_refused' : 'oneaccess_unavailable', who);

  const query = CallbackQuery.safeParse(request.query);
  if (!query.success) return refuse(400, 'bad_request');
  const { code, state, tenant, error } = query.data;
  if (error !== undefined || code === undefined) return refuse(400, 'no_code', { tenantId: tenant });

  let tenantId: string;
  let appId: string | undefined;
  let returnTo: string | undefined;
  if (state !== undefined) {
    const cookie = readCookie(request.cookies, STATE_COOKIE);
    if (!cookie) return refuse(403, 'state_cookie_missing', { tenantId: tenant });
    if (!sameSecret(cookie, state)) return refuse(403, 'state_mismatch', { tenantId: tenant });
    const stored = await ctx.states.consume(state, Math.floor(ctx.now() / 1000));
    if (!stored) return refuse(403, 'state_unknown', { tenantId: tenant });
    if (tenant !== undefined && tenant !== stored.tenantId) return refuse(403, 'tenant_mismatch', { tenantId: stored.tenantId });
    ({ tenantId, appId, returnTo } = stored);
  } else {
    // A login started at the unified login page or the enterprise workbench carries no state (spec §5.2).
    if (tenant === undefined) return refuse(400, 'state_missing');
    if (settings.unsolicitedLogin === 'refuse') return refuse(403, 'unsolicited', { tenantId: tenant });
    if (settings.unsolicitedLogin === 'restart') {
      // The code is never used: a fresh login with our own state, which OneAccess's open session answers at once.
      return redirect(`${new URL('login', settings.callbackUrl).href}?${new URLSearchParams({ tenant }).toString()}`, [clearState]);
    }
    tenantId = tenant;
    appId = settings.defaultAppId;
  }

  const target = await loginTarget(ctx.directory, tenantId, appId);
  if (!target) return refuse(403, 'tenant_unknown', { tenantId, appId });
  return completeLogin(request, ctx, target, { code, returnTo, refuse, oneAccessProblem, fail, clearState });
}

interface Completion {
  code: string;
  returnTo: string | undefined;
  refuse: (status: number, reason: string, who?: Who) => Promise<SsoAnswer>;
  fail: (reason: string, who: Who) => Promise<SsoAnswer>;
  oneAccessProblem: (failure: OneAccessFailure, who: Who) => Promise<SsoAnswer>;
  clearState: string;
}

/** The code exchange, userinfo, the user's check, the session and the hand-off. */
async function completeLogin(request: SsoRequest, ctx: SsoContext, target: LoginTarget, step: Completion): Promise<SsoAnswer> {
  const { settings } = ctx;
  const { tenant, app, base } = target;
  const who: Who = { tenantId: tenant.tenantId, appId: app.appId };
  let clientSecret: string;
  try {
    clientSecret = await ctx.revealClientSecret(app.clientSecretCiphertext);
  } catch {
    return step.fail('client_secret_unusable', who);
  }
  const client = { clientId: app.clientId, clientSecret };
  const tokens = await ctx.oneAccess.exchangeCode(base, client, step.code, settings.callbackUrl);
  if (!tokens.ok) return step.oneAccessProblem(tokens, who);
  const info = await ctx.oneAccess.userInfo(base, tokens.value.accessToken);
  if (!info.ok) return step.oneAccessProblem(info, who);
  const identified: Who = { ...who, userName: info.value.userName };
  const user = await ctx.directory.user(tenant.tenantId, app.appId, info.value.userName);
  const decision = decideUser(info.value, tenant.tenantId, user);
  if (!decision.ok) return step.refuse(403, decision.reason, identified);

  const nowMs = ctx.now();
  const nowSeconds = Math.floor(nowMs / 1000);
  const sessionId = randomId();
  await ctx.sessions.create(sessionId, {
    tenantId: tenant.tenantId,
    tenantCode: tenant.tenantCode,
    appId: app.appId,
    userName: decision.user.userName,
    role: decision.user.role,
    sealedTokens: await ctx.sealer.seal(tokens.value, idHash(sessionId)),
    accessExpiresAt: nowSeconds + tokens.value.expiresIn,
    expiresAt: nowSeconds + settings.sessionTtlSeconds,
    version: 1,
    createdAt: new Date(nowMs).toISOString(),
  });
  const assertion = await ctx.signer.sign(
    assertionClaims({
      issuer: settings.issuer,
      audience: settings.audience,
      tenantId: tenant.tenantId,
      tenantCode: tenant.tenantCode,
      userName: decision.user.userName,
      name: decision.user.name,
      role: decision.user.role,
      appId: app.appId,
      sessionId,
      returnTo: step.returnTo,
      nowSeconds,
      lifetimeSeconds: settings.assertionTtlSeconds,
    }),
  );
  await auditSso(ctx, request, { action: 'sso.login', outcome: 'ok', status: 200, ...identified });
  ctx.log.info('sso login', { tenantId: tenant.tenantId, appId: app.appId, correlationId: request.correlationId });
  const sessionCookie = setCookie(SESSION_COOKIE, sessionId, { secure: settings.secureCookies, maxAgeSeconds: settings.sessionTtlSeconds });
  return handOffPage(settings.productLoginUrl, assertion, [step.clearState, sessionCookie]);
}
