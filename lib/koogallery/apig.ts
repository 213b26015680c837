/**
 * Huawei API Gateway (APIG) AK/SK request signing, "SDK-HMAC-SHA256" (spec §7.8): how the seller authenticates
 * its calls to the KooGallery Open API (Query Order, usage push, License APIs). A port of Huawei's APIG signer:
 *
 *   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n
 *                      hex(SHA256(body))
 *   StringToSign     = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(SHA256(CanonicalRequest))
 *   Signature        = hex(HMAC-SHA256(SK, StringToSign))
 *   Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b;c>, Signature=<hex>
 *
 * The verifier is the gateway's side of the same algorithm; the local fake Open API uses it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from './signature.ts';

export const APIG_ALGORITHM = 'SDK-HMAC-SHA256';
/** The gateway accepts an X-Sdk-Date up to 15 minutes away from its clock. */
export const APIG_DEFAULT_WINDOW_MS = 15 * 60_000;

/** A Huawei Cloud access key pair ("My Credentials → Access Keys", spec §7.1). Secret: never log either part. */
export interface ApigCredentials {
  ak: string;
  sk: string;
}

/** The parts of a request that are signed, as they travel on the wire. */
export interface CanonicalInput {
  method: string;
  /** Path as sent, percent-encoded or not (e.g. `/api/x/y`). */
  path: string;
  /** Query string as sent, without the leading `?` ('' when none). */
  rawQuery: string;
  /** The signed headers only: names in any case, values as sent. */
  headers: Record<string, string>;
  body: string;
}

/** RFC 3986 percent-encoding of UTF-8: everything but A–Z a–z 0–9 - _ . ~ is escaped, hex uppercase. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Each path segment decoded then URI-encoded; always ends with "/" (the signer's rule, even if the URL does not). */
export function canonicalUri(path: string): string {
  const encoded = safeDecode(path === '' ? '/' : path)
    .split('/')
    .map(uriEncode)
    .join('/');
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

/**
 * Query parameters decoded, sorted by key then value, re-encoded per RFC 3986, `k=v` joined with `&`.
 * Empty keys are dropped and a parameter without `=` has the empty value, as in Huawei's signer. `+` is kept as a
 * literal plus (the client never sends one: it encodes spaces as %20).
 */
export function canonicalQueryString(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.replace(/^\?/, '').split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = safeDecode(eq === -1 ? part : part.slice(0, eq));
    const value = eq === -1 ? '' : safeDecode(part.slice(eq + 1));
    if (key !== '') pairs.push([key, value]);
  }
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
}

function lowercaseHeaders(headers: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) out.set(name.toLowerCase(), value);
  return out;
}

/** Lowercase header names, sorted: the SignedHeaders list. */
export function signedHeaderNames(headers: Record<string, string>): string[] {
  return [...lowercaseHeaders(headers).keys()].sort();
}

/** `name:value\n` for every header (lowercase name, trimmed value), sorted by name. */
export function canonicalHeaders(headers: Record<string, string>): string {
  const lower = lowercaseHeaders(headers);
  return [...lower.keys()]
    .sort()
    .map((name) => `${name}:${(lower.get(name) ?? '').trim()}\n`)
    .join('');
}

/** Only these methods carry a signed body; for the others the signer hashes the empty string. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The canonical request text that is hashed into the string to sign. A signed `x-sdk-content-sha256` header
 * (e.g. UNSIGNED-PAYLOAD) stands in for the body hash, as in Huawei's signer.
 */
export function canonicalRequest(input: CanonicalInput): string {
  const method = input.method.toUpperCase();
  const contentSha256 = lowercaseHeaders(input.headers).get('x-sdk-content-sha256');
  const bodyHash = contentSha256 ?? sha256Hex(BODY_METHODS.has(method) ? input.body : '');
  return [
    method,
    canonicalUri(input.path),
    canonicalQueryString(input.rawQuery),
    canonicalHeaders(input.headers),
    signedHeaderNames(input.headers).join(';'),
    bodyHash,
  ].join('\n');
}

export function stringToSign(canonical: string, sdkDate: string): string {
  return `${APIG_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
}

export function apigSignature(sk: string, toSign: string): string {
  return createHmac('sha256', Buffer.from(sk, 'utf8')).update(toSign, 'utf8').digest('hex');
}

/** X-Sdk-Date format: UTC `YYYYMMDDTHHMMSSZ`. */
export function formatSdkDate(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** Epoch milliseconds of an X-Sdk-Date, or undefined if it is not a valid `YYYYMMDDTHHMMSSZ`. */
export function parseSdkDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return formatSdkDate(new Date(ms)) === value ? ms : undefined;
}

const RESERVED_HEADERS = new Set(['host', 'x-sdk-date', 'authorization']);

/**
 * Signs a request: returns every header to send (the caller's, plus `X-Sdk-Date`, `Host` and `Authorization`).
 * All of them are signed. `Host` is the URL's host (with a non-default port), which is what fetch sends.
 */
export function signApigRequest(
  request: { method: string; url: string; headers?: Record<string, string>; body?: string },
  credentials: ApigCredentials,
  now: Date,
): Record<string, string> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  headers['X-Sdk-Date'] = formatSdkDate(now);
  headers.Host = url.host;
  const canonical = canonicalRequest({
    method: request.method,
    path: url.pathname,
    rawQuery: url.search.replace(/^\?/, ''),
    headers,
    body: request.body ?? '',
  });
  const signature = apigSignature(credentials.sk, stringToSign(canonical, headers['X-Sdk-Date']));
  const signed = signedHeaderNames(headers).join(';');
  return {
    ...headers,
    Authorization: `${APIG_ALGORITHM} Access=${credentials.ak}, SignedHeaders=${signed}, Signature=${signature}`,
  };
}

export type ApigVerdict = { ok: true; ak: string } | { ok: false; reason: string };

const AUTHORIZATION = /^SDK-HMAC-SHA256 Access=([^\s,]+), ?SignedHeaders=([^\s,]+), ?Signature=([0-9a-fA-F]{64})$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * The gateway's check of a signed request: Authorization well formed, AK known, X-Sdk-Date and Host signed,
 * X-Sdk-Date within the window, signature equal (constant time). Reasons never contain keys or signatures.
 */
export function verifyApigRequest(
  request: {
    method: string;
    path: string;
    rawQuery: string;
    /** Lowercase names, as node:http gives them. */
    headers: Record<string, string | undefined>;
    body: string;
  },
  secretFor: (ak: string) => string | undefined,
  nowMs: number,
  windowMs: number = APIG_DEFAULT_WINDOW_MS,
): ApigVerdict {
  const authorization = request.headers.authorization;
  if (!authorization) return { ok: false, reason: 'Authorization header is missing' };
  const m = AUTHORIZATION.exec(authorization.trim());
  if (!m) return { ok: false, reason: 'Authorization header is malformed' };
  const [, ak = '', signedList = '', signature = ''] = m;

  const names = signedList.split(';');
  if (names.some((n) => !HEADER_NAME.test(n)) || new Set(names).size !== names.length) {
    return { ok: false, reason: 'SignedHeaders is malformed' };
  }
  if (!names.includes('x-sdk-date') || !names.includes('host')) {
    return { ok: false, reason: 'x-sdk-date and host must be signed' };
  }
  const signedHeaders: Record<string, string> = {};
  for (const name of names) {
    const value = request.headers[name];
    if (value === undefined) return { ok: false, reason: `signed header ${name} is missing` };
    signedHeaders[name] = value;
  }

  const sk = secretFor(ak);
  if (sk === undefined) return { ok: false, reason: 'unknown access key' };

  const sdkDate = signedHeaders['x-sdk-date'] ?? '';
  const dateMs = parseSdkDate(sdkDate);
  if (dateMs === undefined) return { ok: false, reason: 'X-Sdk-Date is malformed' };
  if (Math.abs(nowMs - dateMs) > windowMs) return { ok: false, reason: 'X-Sdk-Date is outside the allowed window' };

  const canonical = canonicalRequest({
    method: request.method,
    path: request.path,
    rawQuery: request.rawQuery,
    headers: signedHeaders,
    body: request.body,
  });
  const expected = Buffer.from(apigSignature(sk, stringToSign(canonical, sdkDate)), 'utf8');
  const received = Buffer.from(signature.toLowerCase(), 'utf8');
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) {
    return { ok: false, reason: 'signature does not match' };
  }
  return { ok: true, ak };
}
