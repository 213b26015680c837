import { gzipSync } from 'node:zlib';
import { ASSETS_DIR, INDEX_FILE, type ConsoleBundle, type ConsoleFile } from './bundle.ts';

/**
 * How the console function answers a browser: `GET /console` (and `/console/`) is the page, never cached;
 * `GET /console/assets/<file>` a hashed asset, cached for a year; anything else 404. Every answer carries the
 * security headers: a Content-Security-Policy that allows only this origin (no inline script or style, no framing),
 * nosniff and no referrer. The page may also send to one other origin, the files bucket's (presigned POST uploads of
 * proofs and bill exports; connect-src and form-action), computed from configuration. Text is gzipped when the browser accepts it (API Gateway does not compress).
 */

export interface ConsoleRequest {
  method: string;
  path: string;
  acceptEncoding?: string | undefined;
}

export interface ConsoleResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

export const CONSOLE_PATH = '/console';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** The policy, allowing uploads to `uploadOrigin` (the files bucket's origin) when there is one. */
export function contentSecurityPolicy(uploadOrigin: string | undefined): string {
  if (!uploadOrigin) return CONTENT_SECURITY_POLICY;
  return [
    "default-src 'self'",
    `connect-src 'self' ${uploadOrigin}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    `form-action 'self' ${uploadOrigin}`,
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** The settings the bucket's origin follows from (the functions' environment). */
export interface FilesBucketSettings {
  FILES_BUCKET?: string | undefined;
  AWS_REGION?: string | undefined;
  AWS_ENDPOINT_URL_S3?: string | undefined;
  AWS_ENDPOINT_URL?: string | undefined;
  S3_FORCE_PATH_STYLE?: string | undefined;
}

/**
 * The origin presigned POST forms of the files bucket point at: the virtual-hosted address on AWS
 * (`https://<bucket>.s3.<region>.amazonaws.com`), the endpoint's origin with path-style addressing (local), else the
 * bucket under the endpoint's host. Undefined without a bucket or a usable endpoint/region.
 */
export function filesBucketOrigin(settings: FilesBucketSettings): string | undefined {
  const bucket = settings.FILES_BUCKET;
  if (!bucket) return undefined;
  const endpoint = settings.AWS_ENDPOINT_URL_S3 || settings.AWS_ENDPOINT_URL;
  if (!endpoint) return settings.AWS_REGION ? `https://${bucket}.s3.${settings.AWS_REGION}.amazonaws.com` : undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  return settings.S3_FORCE_PATH_STYLE === 'true' ? url.origin : `${url.protocol}//${bucket}.${url.host}`;
}

const OTHER_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
} as const;

export const SECURITY_HEADERS: Readonly<Record<string, string>> = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, ...OTHER_HEADERS };

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
/** Below this size gzip saves nothing worth a header. */
const GZIP_MIN_BYTES = 1024;

/** The file a path names, and how long it may be cached; undefined when the console has no such file. */
function fileOf(bundle: ConsoleBundle, path: string): { file: ConsoleFile; cacheControl: string } | undefined {
  if (path === CONSOLE_PATH || path === `${CONSOLE_PATH}/`) {
    const page = bundle.files[INDEX_FILE];
    return page && { file: page, cacheControl: REVALIDATE };
  }
  const prefix = `${CONSOLE_PATH}/${ASSETS_DIR}/`;
  if (!path.startsWith(prefix)) return undefined;
  const name = path.slice(prefix.length);
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(name)) return undefined;
  const asset = Object.hasOwn(bundle.files, `${ASSETS_DIR}/${name}`) ? bundle.files[`${ASSETS_DIR}/${name}`] : undefined;
  return asset && { file: asset, cacheControl: IMMUTABLE };
}

const accepts = (header: string | undefined, coding: string) =>
  (header ?? '').split(',').some((part) => part.trim().split(';')[0]!.trim().toLowerCase() === coding);

/** A plain-text answer (404, 405, 503) with the security headers. */
function plainText(security: Record<string, string>, status: number, message: string, extra: Record<string, string> = {}): ConsoleResponse {
  return {
    status,
    headers: { ...security, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra },
    body: message,
    isBase64Encoded: false,
  };
}

/** Builds the answers of one bundle; gzipped bodies are made once per file. */
export function consoleServer(
  bundle: ConsoleBundle | undefined,
  options: { uploadOrigin?: string | undefined } = {},
): (request: ConsoleRequest) => ConsoleResponse {
  const gzipped = new Map<string, string>();
  const security = { 'Content-Security-Policy': contentSecurityPolicy(options.uploadOrigin), ...OTHER_HEADERS };
  const text = (status: number, message: string, extra?: Record<string, string>) => plainText(security, status, message, extra);
  return (request) => {
    if (!bundle) return text(503, 'The console is not built into this function: package it with `npx serverless package`.');
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'Method not allowed', { Allow: 'GET, HEAD' });
    const found = fileOf(bundle, request.path);
    if (!found) return text(404, 'Not found');
    const { file, cacheControl } = found;
    const headers = { ...security, 'Content-Type': file.contentType, 'Cache-Control': cacheControl, Vary: 'Accept-Encoding' };
    const head = request.method === 'HEAD';
    if (Buffer.byteLength(file.body) >= GZIP_MIN_BYTES && accepts(request.acceptEncoding, 'gzip')) {
      let body = gzipped.get(file.body);
      if (body === undefined) {
        body = gzipSync(file.body).toString('base64');
        gzipped.set(file.body, body);
      }
      return { status: 200, headers: { ...headers, 'Content-Encoding': 'gzip' }, body: head ? '' : body, isBase64Encoded: !head };
    }
    return { status: 200, headers, body: head ? '' : file.body, isBase64Encoded: false };
  };
}
