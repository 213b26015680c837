/**
 * `koogallery-sim scenario joint-operation`: a joint-operation (联营) product from order to login (spec kit.md §1.1,
 * §5): newInstance; the enterprise bound (tenantSync, applicationSync and allOrgSync sent together, as KooGallery
 * does); users authorised (authSync); a department moved (singleOrgSync with a new parentCode); a user signed in
 * through the single sign-on against the (fake) OneAccess, following the redirects over HTTP with a cookie jar, and
 * the assertion the product receives verified against /sso/jwks.json; the user's authorisation revoked (authSync
 * flag 3) and the next login refused. The login steps need a OneAccess whose authorize page takes `&user=` (the
 * local stack's fake); without one they are skipped.
 */
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { errorMessage } from '#lib/shared/errors.ts';
import { kitClient, type KitCallResult, type KitName } from '#lib/simulator/kitClient.ts';
import { kitBody, kitIds, kitUser, type KitBodyOptions } from '#lib/simulator/kitRequests.ts';
import { newOrderId } from '#lib/simulator/requests.ts';
import { orderLike } from './fakeOrders.ts';
import { scenario, type Scenario } from './scenarios.ts';

const ORGS = [
  { orgCode: 'root', orgName: 'Head office', parentCode: '' },
  { orgCode: 'sales', orgName: 'Sales', parentCode: 'root' },
  { orgCode: 'dev', orgName: 'Development', parentCode: 'root' },
];
const ADMIN = kitUser('alice', 'dev', 'admin');
const USER = kitUser('bob', 'sales', 'user');
const HTTP_TIMEOUT_MS = 10_000;

type Json = Record<string, unknown>;

/** A Kit answer as a step's outcome: ok on 000000. */
function kitOutcome(result: KitCallResult, want = '000000') {
  const code = typeof result.json?.resultCode === 'string' ? result.json.resultCode : undefined;
  const ok = result.status === 200 && code === want;
  return {
    ok,
    latencyMs: result.latencyMs,
    ...(code ? { resultCode: code } : {}),
    ...(ok ? {} : { detail: result.error ?? `HTTP ${result.status} ${result.raw.slice(0, 300)} (expected ${want})` }),
  };
}

/** Cookies by name, as a browser keeps them for one site. */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      if (i > 0) this.cookies.set(pair!.slice(0, i).trim(), pair!.slice(i + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

async function get(url: string, jar: CookieJar): Promise<Response> {
  const response = await fetch(url, {
    redirect: 'manual',
    headers: { Cookie: jar.header() },
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  jar.take(response);
  return response;
}

const location = (response: Response, from: string): string => {
  const to = response.headers.get('location');
  if (response.status !== 302 || !to) throw new Error(`expected a redirect from ${new URL(from).pathname}, got HTTP ${response.status}`);
  return new URL(to, from).href;
};

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

interface Login {
  /** The callback's answer. */
  callback: Response;
  callbackBody: string;
}

/** /sso/login → the OneAccess authorize page → the user chosen → our callback, with the cookies a browser keeps. */
async function login(ssoBase: string, tenantId: string, userName: string): Promise<Login> {
  const jar = new CookieJar();
  const start = `${ssoBase}/sso/login?tenant=${encodeURIComponent(tenantId)}`;
  const authorize = location(await get(start, jar), start);
  const page = await get(authorize, jar);
  const html = await page.text();
  if (page.status !== 200 || !html.includes(`value="${userName}"`))
    throw new Error(`the OneAccess login page (HTTP ${page.status}) does not offer ${userName}`);
  const chosen = `${authorize}&user=${encodeURIComponent(userName)}`;
  const callbackUrl = location(await get(chosen, jar), chosen);
  const callback = await get(callbackUrl, jar);
  return { callback, callbackBody: await callback.text() };
}

/** The claims of an ES256 JWT whose signature a key of the JWK Set verifies; throws otherwise. */
export function verifiedClaims(jwt: string, jwks: { keys?: JsonWebKey[] }): Json {
  const [head, body, signature] = jwt.split('.');
  if (!head || !body || !signature) throw new Error('the assertion is not a JWT');
  const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
  if (header.alg !== 'ES256') throw new Error(`the assertion is signed with ${String(header.alg)}, not ES256`);
  const jwk = (jwks.keys ?? []).find((k) => (k as { kid?: string }).kid === header.kid);
  if (!jwk) throw new Error(`no key ${String(header.kid)} in /sso/jwks.json`);
  const ok = verify(
    'sha256',
    Buffer.from(`${head}.${body}`),
    { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  if (!ok) throw new Error('the assertion’s signature does not verify with /sso/jwks.json');
  return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Json;
}

export const jointOperation: Scenario = {
  title: 'A joint-operation product: bind an enterprise, authorise users, move a department, sign in through OneAccess, revoke',
  run: (options) =>
    scenario('joint-operation', options, async (run) => {
      const kit = options.kit;
      if (!kit) return run.fail('the Kit calls', 'needs the Kit access key and the seller’s public key (--kit-key, --kit-public-key)');
      const oneAccess = options.oneAccessUrl?.replace(/\/+$/, '');
      const instanceId = await run.newInstance(
        'newInstance (joint-operation product)',
        orderLike('MOCKPERIODYEARNEW', newOrderId(), Date.now()),
      );
      const base = kitIds({ instanceId });
      const ids = { ...base, ...(oneAccess ? { domainName: `${oneAccess}/t/${encodeURIComponent(base.tenantId)}` } : {}) };
      const client = kitClient(options.url, kit.key, { timeoutMs: options.timeoutMs ?? HTTP_TIMEOUT_MS });
      const body = (name: KitName, extra: Partial<KitBodyOptions> = {}) => kitBody(name, { ids, publicKey: kit.publicKey, ...extra });

      await run.step(`bind enterprise ${ids.tenantId}: tenantSync + applicationSync + allOrgSync together`, async () => {
        const names: KitName[] = ['tenantSync', 'applicationSync', 'allOrgSync'];
        const results = await Promise.all(names.map((name) => client.call(name, body(name, { orgs: ORGS }))));
        const outcomes = results.map((r) => kitOutcome(r));
        const failed = outcomes.findIndex((o) => !o.ok);
        const latencyMs = Math.max(...outcomes.map((o) => o.latencyMs));
        return failed >= 0
          ? { ...outcomes[failed]!, detail: `${names[failed]!}: ${outcomes[failed]!.detail ?? ''}`, latencyMs }
          : { ok: true, resultCode: '000000', latencyMs, detail: `instance ${instanceId}` };
      });
      await run.step(`authSync: authorise ${ADMIN.userName} (admin) and ${USER.userName}`, async () =>
        kitOutcome(await client.call('authSync', body('authSync', { users: [ADMIN, USER] }))),
      );
      await run.step('singleOrgSync: move Development under Sales (a new parentCode)', async () =>
        kitOutcome(await client.call('singleOrgSync', body('singleOrgSync', { org: { ...ORGS[2]!, parentCode: 'sales' }, flag: 2 }))),
      );

      const ssoBase = (options.ssoUrl ?? new URL(options.url).origin).replace(/\/+$/, '');
      if (!oneAccess) {
        for (const title of ['sign in through OneAccess', 'authSync flag 3: revoke', 'sign in again: refused'])
          run.skip(title, 'no OneAccess to sign in at (--one-access)');
        return;
      }
      await run.step(`sign in as ${ADMIN.userName} through OneAccess; the product's assertion verifies with /sso/jwks.json`, async () => {
        const started = performance.now();
        const { callback, callbackBody } = await login(ssoBase, ids.tenantId, ADMIN.userName);
        if (callback.status !== 200) return { ok: false, detail: `the callback answered HTTP ${callback.status}` };
        const action = /<form[^>]*action="([^"]+)"/.exec(callbackBody)?.[1];
        const assertion = /name="assertion" value="([^"]+)"/.exec(callbackBody)?.[1];
        if (!action || !assertion) return { ok: false, detail: 'the callback did not hand an assertion to the product' };
        const product = await fetch(unescapeHtml(action), {
          method: 'POST',
          body: new URLSearchParams({ assertion: unescapeHtml(assertion) }),
          signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        });
        if (product.status !== 200) return { ok: false, detail: `the product's login answered HTTP ${product.status}` };
        const jwks = (await (await fetch(`${ssoBase}/sso/jwks.json`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) })).json()) as {
          keys?: JsonWebKey[];
        };
        const claims = verifiedClaims(unescapeHtml(assertion), jwks);
        const latencyMs = Math.round(performance.now() - started);
        if (claims.tenant !== ids.tenantId || claims.userName !== ADMIN.userName || claims.role !== 'admin')
          return { ok: false, latencyMs, detail: `unexpected claims ${JSON.stringify(claims)}` };
        return { ok: true, latencyMs, detail: `signed in: sub ${String(claims.sub)}, role ${String(claims.role)}` };
      });
      await run.step(`authSync flag 3: revoke ${ADMIN.userName}`, async () =>
        kitOutcome(await client.call('authSync', body('authSync', { users: [ADMIN], flag: 3 }))),
      );
      await run.step(`sign in as ${ADMIN.userName} again: refused`, async () => {
        const started = performance.now();
        try {
          const { callback, callbackBody } = await login(ssoBase, ids.tenantId, ADMIN.userName);
          const latencyMs = Math.round(performance.now() - started);
          const handedOff = callbackBody.includes('name="assertion"');
          return callback.status === 403 && !handedOff
            ? { ok: true, latencyMs, detail: 'HTTP 403, no assertion' }
            : { ok: false, latencyMs, detail: `the callback answered HTTP ${callback.status}${handedOff ? ' with an assertion' : ''}` };
        } catch (error) {
          return { ok: false, detail: errorMessage(error) };
        }
      });
    }),
};
