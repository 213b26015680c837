/**
 * The SSO's routes: login, callback, logout, the product's session check and the JWK Set. A request that fits
 * none is a 404; anything that throws is a 500 page that says nothing of the cause (logged with its name only).
 */
import type { SsoContext } from './context.ts';
import { finishLogin } from './callback.ts';
import { json, messagePage, type SsoAnswer, type SsoRequest } from './http.ts';
import { startLogin } from './login.ts';
import { checkSession, logout } from './session.ts';

type Route = (request: SsoRequest, ctx: SsoContext) => Promise<SsoAnswer>;

const ROUTES: Record<string, Route> = {
  'GET /sso/login': startLogin,
  'GET /sso/callback': finishLogin,
  'GET /sso/logout': logout,
  'POST /sso/session': checkSession,
  'GET /sso/jwks.json': async (_request, ctx) => {
    const answer = json(200, await ctx.signer.jwks());
    answer.headers['cache-control'] = 'public, max-age=300';
    delete answer.headers.pragma;
    return answer;
  },
};

export async function handleSsoRequest(request: SsoRequest, ctx: SsoContext): Promise<SsoAnswer> {
  const route = ROUTES[`${request.method.toUpperCase()} ${request.path.replace(/\/+$/, '')}`];
  if (!route) return messagePage(404, 'Not found', 'There is no such page.');
  try {
    return await route(request, ctx);
  } catch (error) {
    ctx.log.error('sso request failed', {
      path: request.path,
      error: error instanceof Error ? error.name : 'error',
      correlationId: request.correlationId,
    });
    return messagePage(500, 'Sign-in failed', 'Something went wrong on our side. Try again shortly.');
  }
}
