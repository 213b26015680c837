/**
 * Our two cookies: the login state (bound to the browser that started the login) and the session id. Both are
 * HttpOnly, SameSite=Lax (they must come back on the top-level redirect from OneAccess), scoped to /sso, and
 * Secure whenever the SSO is served over https. Pure.
 */

export const STATE_COOKIE = 'kg_sso_state';
export const SESSION_COOKIE = 'kg_sso_session';

export interface CookieOptions {
  /** Secure attribute: the SSO is served over https (always on AWS). */
  secure: boolean;
  /** Max-Age in seconds; 0 deletes the cookie. */
  maxAgeSeconds: number;
}

/** A Set-Cookie header value. Values are our own base64url ids: nothing to escape. */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/sso', `Max-Age=${options.maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** A Set-Cookie header value that deletes the cookie. */
export const clearCookie = (name: string, secure: boolean): string => setCookie(name, '', { secure, maxAgeSeconds: 0 });

/** The value of cookie `name` in a Cookie header (API Gateway v2 passes them as a list), or undefined. */
export function readCookie(cookies: readonly string[] | string | undefined, name: string): string | undefined {
  const list = typeof cookies === 'string' ? cookies.split(';') : (cookies ?? []).flatMap((c) => c.split(';'));
  for (const pair of list) {
    const at = pair.indexOf('=');
    if (at < 0) continue;
    if (pair.slice(0, at).trim() === name) {
      const value = pair.slice(at + 1).trim();
      return value.length > 0 ? value : undefined;
    }
  }
  return undefined;
}
