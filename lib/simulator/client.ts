import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { signRequest } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { bodySignMatches } from '#lib/koogallery/signature.ts';
import { signV1Request } from '#lib/koogallery/v1Auth.ts';

/**
 * The marketplace's side of the production interface: builds, signs and sends calls the way KooGallery does
 * (V2 POST signed per spec §7.2, legacy V1 GET with its authToken per §7.5), reads the answer raw, and checks its
 * `Body-Sign` header (§7.4) by its exact name. Used by the simulator (`koogallery-sim`) and the availability probe;
 * the signing code is the server's own.
 */

/** Ways to spoil a V2 signature, for conformance checks. */
export interface SigningOverrides {
  /** Sign with this key instead of the client's. */
  key?: string;
  nowMs?: number;
  nonce?: string;
  /** The signature's hex case (the marketplace sends upper case; §7.2 says to compare case-insensitively). */
  signatureCase?: 'upper' | 'lower';
  /** Send this signature instead of the computed one. */
  signature?: string;
  /** Leave these query parameters out. */
  omit?: readonly ('signature' | 'timestamp' | 'nonce')[];
}

export interface CallOptions {
  /** The legacy V1 interface: GET with the parameters (strings) in the query string. */
  v1?: boolean;
  signing?: SigningOverrides;
  /** Send these bytes as the body instead of the JSON of `body` (which is still what is signed). */
  rawBody?: string;
  timeoutMs?: number;
}

/** What the `Body-Sign` header of an answer says: valid, absent, present under another case, or wrong. */
export type BodySignVerdict = 'valid' | 'absent' | 'wrong-case' | 'invalid';

export interface CallResult {
  /** 0 when no answer came (see `error`). */
  status: number;
  /** Raw header names and values, as sent. */
  headers: [string, string][];
  raw: string;
  /** The answer as JSON, when it is a JSON object. */
  json?: Record<string, unknown>;
  latencyMs: number;
  bodySign: BodySignVerdict;
  /** A transport failure (refused, reset, timed out). */
  error?: string;
}

export const BODY_SIGN_HEADER = 'Body-Sign';
export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * `exact` (default): the header must be named `Body-Sign` exactly, as the marketplace reads it. `any`: any letter
 * case, for a local stack whose HTTP server lowercases header names (serverless offline does).
 */
export type HeaderCase = 'exact' | 'any';

/**
 * The verdict on an answer's `Body-Sign` header: its name as `headerCase` says, its value in the format of §7.4
 * (whitespace around `=` and `,` tolerated), and its base64 signature exactly that of the raw body.
 */
export function bodySignVerdict(
  headers: readonly [string, string][],
  raw: string,
  key: string,
  headerCase: HeaderCase = 'exact',
): BodySignVerdict {
  const same = (name: string) => name.toLowerCase() === BODY_SIGN_HEADER.toLowerCase();
  const found =
    headers.find(([name]) => name === BODY_SIGN_HEADER) ?? (headerCase === 'any' ? headers.find(([name]) => same(name)) : undefined);
  if (!found) return headers.some(([name]) => same(name)) ? 'wrong-case' : 'absent';
  return bodySignMatches(key, raw, found[1]) ? 'valid' : 'invalid';
}

/** The V2 query parameters of a call, spoiled as `overrides` says. */
export function v2Query(key: string, body: JsonObject, overrides: SigningOverrides = {}): URLSearchParams {
  const signed = signRequest(overrides.key ?? key, body, {
    ...(overrides.nowMs !== undefined ? { nowMs: overrides.nowMs } : {}),
    ...(overrides.nonce !== undefined ? { nonce: overrides.nonce } : {}),
  });
  const signature = overrides.signature ?? (overrides.signatureCase === 'lower' ? signed.signature.toLowerCase() : signed.signature);
  const query = new URLSearchParams();
  const omit = new Set(overrides.omit ?? []);
  if (!omit.has('signature')) query.set('signature', signature);
  if (!omit.has('timestamp')) query.set('timestamp', signed.timestamp);
  if (!omit.has('nonce')) query.set('nonce', signed.nonce);
  return query;
}

/** V1 parameters are strings; anything else in the body is given as its JSON text. */
function v1Params(body: JsonObject): Record<string, string> {
  return Object.fromEntries(
    Object.entries(body)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

function exchange(
  url: URL,
  method: 'GET' | 'POST',
  body: string | undefined,
  timeoutMs: number,
): Promise<Omit<CallResult, 'bodySign' | 'json'>> {
  const started = performance.now();
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const done = (result: Omit<CallResult, 'bodySign' | 'json' | 'latencyMs'>) =>
      resolve({ ...result, latencyMs: Math.round(performance.now() - started) });
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json;charset=UTF-8';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = send(url, { method, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        done({ status: res.statusCode ?? 0, headers: pairs, raw: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (error) => done({ status: 0, headers: [], raw: '', error: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => done({ status: 0, headers: [], raw: '', error: error.message }));
    req.end(body);
  });
}

export interface MarketplaceClient {
  /** Signs and sends one call; never throws for transport failures (see CallResult.error). */
  call(body: JsonObject, options?: CallOptions): Promise<CallResult>;
  readonly url: string;
}

export interface MarketplaceClientOptions {
  headerCase?: HeaderCase;
  /** Runs before each call is signed and sent (e.g. registering its order on a fake Open API); not timed. */
  beforeSend?: (body: JsonObject, v1: boolean) => Promise<void>;
}

/** `url` is the production address (e.g. https://isv.example.com/koogallery/produce); `key` the access key. */
export function marketplaceClient(url: string, key: string, clientOptions: MarketplaceClientOptions = {}): MarketplaceClient {
  const base = new URL(url);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`the production address must be http(s): ${url}`);
  return {
    url,
    async call(body, options = {}) {
      await clientOptions.beforeSend?.(body, options.v1 ?? false);
      const target = new URL(base);
      let result: Omit<CallResult, 'bodySign' | 'json'>;
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      if (options.v1) {
        const { query } = signV1Request(options.signing?.key ?? key, v1Params(body), options.signing?.nowMs);
        target.search = query;
        result = await exchange(target, 'GET', undefined, timeoutMs);
      } else {
        target.search = v2Query(key, body, options.signing).toString();
        result = await exchange(target, 'POST', options.rawBody ?? JSON.stringify(body), timeoutMs);
      }
      let json: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(result.raw);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      return { ...result, ...(json ? { json } : {}), bodySign: bodySignVerdict(result.headers, result.raw, key, clientOptions.headerCase) };
    },
  };
}
