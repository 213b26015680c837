/**
 * The URLs of the OneAccess login (spec §5.2–5.6), built from a tenant's `domainName`, and the checks on the
 * addresses we redirect to. Pure.
 */

/** The unified login page (spec §5.2) with `{appId}` where the app credential's App ID goes. */
export const DEFAULT_UNIFIED_LOGIN_URL = 'https://macroverse.huaweicloud.com/unified-login/#/portal-login?ind=UNOP&appId={appId}';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * The tenant's OneAccess base URL, checked: https (plain http only to a loopback host, for the local fake), no
 * credentials, query or fragment; without a trailing slash. Undefined when it is not usable.
 */
export function oneAccessBase(domainName: string): string | undefined {
  let url: URL;
  try {
    url = new URL(domainName);
  } catch {
    return undefined;
  }
  const allowed = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  if (!allowed || url.username || url.password || url.search || url.hash) return undefined;
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** `{domainName}/api/v1/oauth2/authorize?client_id&redirect_uri&response_type=code&scope=get_user_info&state`. */
export function authorizeUrl(base: string, params: { clientId: string; redirectUri: string; state: string }): string {
  const query = new URLSearchParams({
    client_id: params.clientId,
    redirect_uri: params.redirectUri,
    response_type: 'code',
    scope: 'get_user_info',
    state: params.state,
  });
  return `${base}/api/v1/oauth2/authorize?${query.toString()}`;
}

export const tokenUrl = (base: string): string => `${base}/api/v1/oauth2/token`;
export const userInfoUrl = (base: string): string => `${base}/api/v1/oauth2/userinfo`;

/** `{domainName}/api/v1/logout?redirect_url=…` (spec §5.6). */
export function logoutUrl(base: string, redirectUrl: string): string {
  return `${base}/api/v1/logout?${new URLSearchParams({ redirect_url: redirectUrl }).toString()}`;
}

/** The unified login page for `appId`: the template's `{appId}` replaced (URL-encoded). */
export function unifiedLoginUrl(template: string, appId: string): string {
  return template.split('{appId}').join(encodeURIComponent(appId));
}

/**
 * A path on the product to come back to, or undefined: only an absolute path of at most 512 characters, never
 * `//host` or `/\host` (which a browser reads as another site) and no control characters.
 */
export function safeReturnPath(value: string | undefined): string | undefined {
  if (value === undefined || value.length === 0 || value.length > 512) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return undefined;
  return value;
}
