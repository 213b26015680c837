/**
 * The SSO's HTTP answers: redirects, small HTML pages and JSON, each with headers that keep them out of caches and
 * frames. The hand-off page posts the assertion to the product with one inline script allowed by its hash (CSP
 * without 'unsafe-inline') and a button for browsers without script. Pure.
 */
import { createHash } from 'node:crypto';

export interface SsoRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  /** API Gateway v2's `cookies` (one `name=value` each), or a Cookie header's value. */
  cookies: readonly string[] | string | undefined;
  headers: Record<string, string | undefined>;
  body?: string | undefined;
  correlationId: string;
}

export interface SsoAnswer {
  status: number;
  headers: Record<string, string>;
  /** Set-Cookie values (API Gateway v2 sends each as its own header). */
  cookies: string[];
  body: string;
}

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
} as const;

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function redirect(location: string, cookies: string[] = []): SsoAnswer {
  return { status: 302, headers: { ...COMMON_HEADERS, location }, cookies, body: '' };
}

export function json(status: number, value: unknown, cookies: string[] = []): SsoAnswer {
  return { status, headers: { ...COMMON_HEADERS, 'content-type': 'application/json' }, cookies, body: JSON.stringify(value) };
}

/** A plain page saying why the login stopped (no script, no style, no external resource). */
export function messagePage(status: number, title: string, message: string, cookies: string[] = []): SsoAnswer {
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
  return {
    status,
    headers: {
      ...COMMON_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    },
    cookies,
    body,
  };
}

/** The one script of the hand-off page, allowed by its hash. */
export const SUBMIT_SCRIPT = "document.getElementById('handoff').submit();";
export const SUBMIT_SCRIPT_HASH = `sha256-${createHash('sha256').update(SUBMIT_SCRIPT).digest('base64')}`;

/** The page that POSTs `assertion` to the product's login URL at once. */
export function handOffPage(productLoginUrl: string, assertion: string, cookies: string[]): SsoAnswer {
  const body =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing in…</title></head><body>' +
    `<form id="handoff" method="post" action="${escapeHtml(productLoginUrl)}">` +
    `<input type="hidden" name="assertion" value="${escapeHtml(assertion)}">` +
    '<noscript><button type="submit">Continue</button></noscript></form>' +
    `<script>${SUBMIT_SCRIPT}</script></body></html>`;
  return {
    status: 200,
    headers: {
      ...COMMON_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy':
        `default-src 'none'; script-src '${SUBMIT_SCRIPT_HASH}'; form-action ${new URL(productLoginUrl).origin}; ` +
        "base-uri 'none'; frame-ancestors 'none'",
    },
    cookies,
    body,
  };
}
