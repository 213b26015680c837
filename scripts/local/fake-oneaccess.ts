/**
 * A fake OneAccess (a tenant's authentication centre, spec §5.2–5.6) on 127.0.0.1 for `npm start` and the tests.
 * One server stands for every tenant: a tenant's `domainName` is `<url>/t/<tenantId>` (paths without the prefix
 * belong to no tenant).
 *  - GET  …/api/v1/oauth2/authorize: a small page listing the tenant's users; choosing one redirects to
 *    `redirect_uri?code=…&state=…&tenant=…` (`&user=<userName>` in the authorize URL chooses at once, like a
 *    OneAccess session that is already open);
 *  - POST …/api/v1/oauth2/token: `authorization_code` (single-use codes that expire) and `refresh_token` (rotated on
 *    each use), answering `invalid_grant` as OneAccess does; client secrets are checked when the fake is given them;
 *  - GET  …/api/v1/oauth2/userinfo (Bearer), GET …/api/v1/logout?redirect_url=….
 * The users are given by the caller (`users`, `addUser`) or read per tenant (`usersOf`, e.g. what authSync stored).
 * Control (loopback, unsigned): POST /_control/expire-codes, POST /_control/revoke-refresh-tokens,
 * POST /_control/expire-access-tokens, GET /_control/calls. A stand-in for the seller's product: POST
 * /_product/login shows the claims of the assertion it receives (decoded, not verified: a product verifies it).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './processes.ts';
import { BodyTooLarge, readBody } from './requestBody.ts';

export const FAKE_ONEACCESS_DEFAULT_PORT = 4030;

export interface FakeOneAccessUser {
  tenantId: string;
  userName: string;
  name?: string;
}

export interface FakeOneAccessOptions {
  port: number;
  users?: FakeOneAccessUser[];
  /** Users of a tenant read on demand (the local stack: the users authSync stored). */
  usersOf?: (tenantId: string) => Promise<FakeOneAccessUser[]>;
  /** clientId → clientSecret; when given, the token endpoint refuses any other pair (`invalid_client`). */
  clients?: Record<string, string>;
  codeTtlMs?: number;
  accessTtlSeconds?: number;
  log?: (line: string) => void;
}

/** One call the fake answered (no code, token or secret). */
export interface FakeOneAccessCall {
  method: string;
  path: string;
  tenantId?: string;
  grantType?: string;
  status: number;
  error?: string;
}

export interface FakeOneAccess {
  url: string;
  /** The `domainName` of a tenant on this fake. */
  domainOf(tenantId: string): string;
  addUser(user: FakeOneAccessUser): void;
  calls: FakeOneAccessCall[];
  close(): Promise<void>;
}

interface Grant {
  tenantId: string;
  userName: string;
  clientId: string;
  expiresAt: number;
}

const token = () => randomBytes(24).toString('base64url');
const html = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export async function startFakeOneAccess(options: FakeOneAccessOptions): Promise<FakeOneAccess> {
  const codeTtlMs = options.codeTtlMs ?? 60_000;
  const accessTtlSeconds = options.accessTtlSeconds ?? 7200;
  const users = [...(options.users ?? [])];
  const codes = new Map<string, Grant & { redirectUri: string; used: boolean }>();
  const accessTokens = new Map<string, Grant>();
  const refreshTokens = new Map<string, Grant>();
  const calls: FakeOneAccessCall[] = [];

  const usersOf = async (tenantId: string): Promise<FakeOneAccessUser[]> => [
    ...users.filter((u) => u.tenantId === tenantId),
    ...(options.usersOf ? await options.usersOf(tenantId) : []),
  ];

  function issueTokens(grant: Omit<Grant, 'expiresAt'>) {
    const access = token();
    const refresh = token();
    accessTokens.set(access, { ...grant, expiresAt: Date.now() + accessTtlSeconds * 1000 });
    refreshTokens.set(refresh, { ...grant, expiresAt: Date.now() + 30 * 86_400_000 });
    return { access_token: access, token_type: 'Bearer', expires_in: accessTtlSeconds, scope: 'get_user_info', refresh_token: refresh };
  }

  async function authorize(tenantId: string, query: URLSearchParams, res: ServerResponse): Promise<number> {
    const clientId = query.get('client_id') ?? '';
    const redirectUri = query.get('redirect_uri') ?? '';
    if (!clientId || !/^https?:\/\//.test(redirectUri) || query.get('response_type') !== 'code') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('client_id, redirect_uri and response_type=code are required');
      return 400;
    }
    const known = await usersOf(tenantId);
    const chosen = query.get('user');
    if (chosen !== null) {
      const user = known.find((u) => u.userName === chosen);
      if (!user) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('no such user');
        return 400;
      }
      const code = token();
      codes.set(code, { tenantId, userName: user.userName, clientId, redirectUri, used: false, expiresAt: Date.now() + codeTtlMs });
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      const state = query.get('state');
      if (state !== null) back.searchParams.set('state', state);
      back.searchParams.set('tenant', tenantId);
      res.writeHead(302, { location: back.href }).end();
      return 302;
    }
    const hidden = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state']
      .filter((name) => query.get(name) !== null)
      .map((name) => `<input type="hidden" name="${name}" value="${html(query.get(name) ?? '')}">`)
      .join('');
    const choices = known
      .map(
        (u) =>
          `<li><button type="submit" name="user" value="${html(u.userName)}">${html(u.name ?? u.userName)} (${html(u.userName)})</button></li>`,
      )
      .join('');
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'" })
      .end(
        `<!doctype html><html><head><meta charset="utf-8"><title>Fake OneAccess</title></head><body>` +
          `<h1>Fake OneAccess — tenant ${html(tenantId)}</h1><form method="get">${hidden}<ul>${choices || '<li>No users</li>'}</ul></form></body></html>`,
      );
    return 200;
  }

  function tokenAnswer(tenantId: string, form: URLSearchParams, res: ServerResponse): { status: number; error?: string } {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const error = (body as { error?: string }).error;
      return { status, ...(error ? { error } : {}) };
    };
    const clientId = form.get('client_id') ?? '';
    const secret = form.get('client_secret') ?? '';
    if (!clientId || !secret) return send(400, { error: 'invalid_request', error_description: 'client_id and client_secret are required' });
    if (options.clients && options.clients[clientId] !== secret)
      return send(401, { error: 'invalid_client', error_description: 'Bad client credentials' });
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      if (!code || code.used || code.expiresAt <= Date.now() || code.clientId !== clientId || code.tenantId !== tenantId) {
        return send(400, { error: 'invalid_grant', error_description: 'Invalid authorization code' });
      }
      code.used = true;
      return send(200, issueTokens(code));
    }
    if (grantType === 'refresh_token') {
      const refresh = form.get('refresh_token') ?? '';
      const grant = refreshTokens.get(refresh);
      if (!grant || grant.expiresAt <= Date.now() || grant.clientId !== clientId) {
        return send(400, { error: 'invalid_grant', error_description: 'Invalid refresh token' });
      }
      refreshTokens.delete(refresh);
      return send(200, issueTokens(grant));
    }
    return send(400, { error: 'unsupported_grant_type', error_description: 'grant_type must be authorization_code or refresh_token' });
  }

  async function userInfo(req: IncomingMessage, res: ServerResponse): Promise<{ status: number; error?: string }> {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const grant = accessTokens.get(bearer);
    if (!grant || grant.expiresAt <= Date.now()) {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'unauthorized', error_description: 'Full authentication is required to access this resource' }));
      return { status: 401, error: 'unauthorized' };
    }
    const user = (await usersOf(grant.tenantId)).find((u) => u.userName === grant.userName);
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: `id-${grant.userName}`,
        userName: grant.userName,
        ...(user?.name ? { name: user.name } : {}),
        tenant: grant.tenantId,
      }),
    );
    return { status: 200 };
  }

  function control(path: string, res: ServerResponse): number {
    if (path === '/_control/calls') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(calls));
      return 200;
    }
    const expire = (map: Map<string, { expiresAt: number }>) => map.forEach((grant) => (grant.expiresAt = 0));
    if (path === '/_control/expire-codes') expire(codes);
    else if (path === '/_control/revoke-refresh-tokens') refreshTokens.clear();
    else if (path === '/_control/expire-access-tokens') expire(accessTokens);
    else {
      res.writeHead(404).end();
      return 404;
    }
    res.writeHead(204).end();
    return 204;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const prefixed = /^\/t\/([^/]{1,64})(\/.*)$/.exec(url.pathname);
    const tenantId = prefixed ? decodeURIComponent(prefixed[1]!) : undefined;
    const path = prefixed ? prefixed[2]! : url.pathname;
    const record = (status: number, extra: Partial<FakeOneAccessCall> = {}) => {
      calls.push({ method, path, ...(tenantId ? { tenantId } : {}), status, ...extra });
      options.log?.(`${method} ${url.pathname} → ${status}${extra.error ? ` ${extra.error}` : ''}`);
    };
    if (path.startsWith('/_control/') && !prefixed) return record(control(path, res));
    if (method === 'POST' && path === '/_product/login' && !prefixed) {
      const assertion = new URLSearchParams((await readBody(req, 16 * 1024)).toString('utf8')).get('assertion') ?? '';
      const claims = Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8');
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'" })
        .end(
          `<!doctype html><html><head><meta charset="utf-8"><title>Product</title></head><body><h1>Signed in</h1><pre>${html(claims)}</pre></body></html>`,
        );
      return record(200);
    }
    if (tenantId === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('use <url>/t/<tenantId>/api/v1/…');
      return record(404);
    }
    if (method === 'GET' && path === '/api/v1/oauth2/authorize') return record(await authorize(tenantId, url.searchParams, res));
    if (method === 'POST' && path === '/api/v1/oauth2/token') {
      const form = new URLSearchParams((await readBody(req, 16 * 1024)).toString('utf8'));
      const answer = tokenAnswer(tenantId, form, res);
      return record(answer.status, { grantType: form.get('grant_type') ?? '', ...(answer.error ? { error: answer.error } : {}) });
    }
    if (method === 'GET' && path === '/api/v1/oauth2/userinfo') {
      const answer = await userInfo(req, res);
      return record(answer.status, answer.error ? { error: answer.error } : {});
    }
    if (method === 'GET' && path === '/api/v1/logout') {
      const target = url.searchParams.get('redirect_url');
      if (target && /^https?:\/\//.test(target)) res.writeHead(302, { location: target }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed out of the fake OneAccess.');
      return record(target ? 302 : 200);
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return record(404);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(error instanceof BodyTooLarge ? 413 : 500).end();
    });
  });
  const port = await listenOnLoopback(server, options.port);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    domainOf: (tenantId) => `${url}/t/${encodeURIComponent(tenantId)}`,
    addUser: (user) => void users.push(user),
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
