import { randomBytes } from 'node:crypto';
import { canonicalCandidates, canonicalPayload, type CanonicalForm, type JsonObject } from './canonicalJson.ts';
import type { JsonMap } from './jsonTree.ts';
import { ResultCode } from './resultCodes.ts';
import { signaturesEqual, signatureV2 } from './signature.ts';

/** An access key the marketplace may sign with; `id` is a non-secret fingerprint for logs. */
export interface AccessKey {
  id: string;
  secret: string;
}

export interface SignedQuery {
  signature?: string | undefined;
  timestamp?: string | undefined;
  nonce?: string | undefined;
}

export type AuthVerdict =
  | { ok: true; keyId: string; form: CanonicalForm; nonce: string }
  | { ok: false; code: typeof ResultCode.authFailed | typeof ResultCode.invalidParameter; reason: string };

/** Upper bound on nonce length: it becomes part of a DynamoDB key. */
const MAX_NONCE_LENGTH = 128;
const MAX_SIGNATURE_LENGTH = 128;

/**
 * Parses the `timestamp` query parameter as epoch milliseconds. 13-digit values are milliseconds;
 * 10-digit values are seconds (older doc revisions, spec §10.11).
 */
export function parseTimestamp(raw: string): number | undefined {
  if (/^\d{13}$/.test(raw)) return Number(raw);
  if (/^\d{10}$/.test(raw)) return Number(raw) * 1000;
  return undefined;
}

/**
 * Verifies a V2 request (spec §7.2): timestamp window, then the signature under each configured key
 * (current first, then the previous one during rotation) and each canonical form of the body, rendered from the
 * body as `parseJsonTree` read it (every key, each number as written). The nonce replay check is done by the
 * store when the call commits.
 */
export function verifyRequest(
  keys: readonly AccessKey[],
  query: SignedQuery,
  body: JsonMap,
  rawBody: string,
  nowMs: number,
  windowMs: number,
): AuthVerdict {
  const { signature, timestamp, nonce } = query;
  if (!timestamp || !nonce) {
    return { ok: false, code: ResultCode.invalidParameter, reason: 'timestamp and nonce are required' };
  }
  if (nonce.length > MAX_NONCE_LENGTH) {
    return { ok: false, code: ResultCode.invalidParameter, reason: 'nonce is too long' };
  }
  if (!signature) return { ok: false, code: ResultCode.authFailed, reason: 'signature is missing' };
  if (signature.length > MAX_SIGNATURE_LENGTH) {
    return { ok: false, code: ResultCode.authFailed, reason: 'signature is malformed' };
  }
  const ts = parseTimestamp(timestamp);
  if (ts === undefined) return { ok: false, code: ResultCode.invalidParameter, reason: 'timestamp is malformed' };
  if (Math.abs(nowMs - ts) > windowMs) {
    return { ok: false, code: ResultCode.invalidParameter, reason: 'timestamp is outside the allowed window' };
  }

  const candidates = canonicalCandidates(body, rawBody);
  for (const key of keys) {
    for (const { form, payload } of candidates) {
      if (signaturesEqual(signatureV2(key.secret, nonce, timestamp, payload), signature)) {
        return { ok: true, keyId: key.id, form, nonce };
      }
    }
  }
  return { ok: false, code: ResultCode.authFailed, reason: 'signature does not match' };
}

/**
 * Signs a request body as the marketplace does (spec §7.2): the query parameters to append to the URL.
 * `payload` overrides the canonical form (to sign a §7.2.4 candidate); the signature is uppercase, as in the docs.
 */
export function signRequest(
  accessKey: string,
  body: JsonObject,
  options: { nowMs?: number; nonce?: string; payload?: string } = {},
): { signature: string; timestamp: string; nonce: string } {
  const timestamp = String(options.nowMs ?? Date.now());
  const nonce = options.nonce ?? randomBytes(32).toString('hex').toUpperCase();
  const signature = signatureV2(accessKey, nonce, timestamp, options.payload ?? canonicalPayload(body)).toUpperCase();
  return { signature, timestamp, nonce };
}
