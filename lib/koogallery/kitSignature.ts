/**
 * The `x-sign` of the joint-operation Kit calls (spec kit.md §2): pure functions, no I/O.
 *
 * canonical payload = the body with its top-level keys sorted (UTF-16 order), top-level nulls dropped, nested values
 * in the order received and every value exactly as received (`"1"` stays a string, `1` a number);
 * x-sign = lowercase hex HMAC-SHA256(key = Kit key, message = Kit key + x-nonce + x-timestamp + payload).
 * When the documented payload does not match, the recursively sorted body and the raw body are tried (§2.3): each
 * is still an HMAC under the secret key of the content received, so accepting one does not weaken the check.
 */
import { randomBytes } from 'node:crypto';
import type { AccessKey } from './auth.ts';
import { deepSorted, topLevelSorted } from './canonicalJson.ts';
import type { JsonMap } from './jsonTree.ts';
import { ResultCode } from './resultCodes.ts';
import { hmacHex, signaturesEqual } from './signature.ts';

/** The three authentication headers of a Kit call, as received. */
export interface KitHeaders {
  sign?: string | undefined;
  timestamp?: string | undefined;
  nonce?: string | undefined;
}

/** Which rendering of the body the signature matched: the documented one, or a §2.3 candidate. */
export type KitSignatureForm = 'top-level-sorted' | 'deep-sorted' | 'raw-body';

export type KitVerdict =
  | { ok: true; keyId: string; nonce: string; form: KitSignatureForm }
  | { ok: false; code: typeof ResultCode.authFailed | typeof ResultCode.invalidParameter; reason: string };

/** How far `x-timestamp` may be from now: the documented window, and the clock skew tolerated beyond it. */
export interface KitWindow {
  windowMs: number;
  skewMs: number;
}

/** The documented window (60 s) and 5 s of clock skew. */
export const KIT_WINDOW: KitWindow = { windowMs: 60_000, skewMs: 5_000 };

/** The nonce becomes part of a DynamoDB key; a signature is 64 hex characters. */
const MAX_NONCE_LENGTH = 128;
const MAX_SIGN_LENGTH = 128;

/** `x-sign` of a payload: lowercase hex HMAC-SHA256 of key + nonce + timestamp + payload under the key (§2.1 step 5). */
export function kitSignature(kitKey: string, nonce: string, timestamp: string, payload: string): string {
  return hmacHex(kitKey, kitKey + nonce + timestamp + payload);
}

/** The documented canonical payload of a received body (§2.1 steps 2–4). */
export const kitPayload = (body: JsonMap): string => topLevelSorted(body);

/** Every payload the signature is checked over, documented first, each once. */
export function kitCandidates(body: JsonMap, rawBody: string): Array<{ form: KitSignatureForm; payload: string }> {
  const candidates: Array<{ form: KitSignatureForm; payload: string }> = [];
  const add = (form: KitSignatureForm, payload: string) => {
    if (!candidates.some((c) => c.payload === payload)) candidates.push({ form, payload });
  };
  add('top-level-sorted', kitPayload(body));
  add('deep-sorted', deepSorted(body));
  add('raw-body', rawBody);
  return candidates;
}

/** `x-timestamp` as epoch milliseconds: digits only. */
function parseKitTimestamp(raw: string): number | undefined {
  return /^\d{1,16}$/.test(raw) ? Number(raw) : undefined;
}

/**
 * Checks a Kit call's headers and signature, in the order of §2.1: timestamp present, numeric and within the window
 * (000002), nonce present (000002), signature present and matching under one of the keys (000001). The nonce's replay
 * check happens when the call commits (the nonce claim is part of its transaction).
 */
export function verifyKitRequest(
  keys: readonly AccessKey[],
  headers: KitHeaders,
  body: JsonMap,
  rawBody: string,
  nowMs: number,
  window: KitWindow = KIT_WINDOW,
): KitVerdict {
  const { sign, timestamp, nonce } = headers;
  if (!timestamp) return { ok: false, code: ResultCode.invalidParameter, reason: 'x-timestamp is missing' };
  const ts = parseKitTimestamp(timestamp);
  if (ts === undefined) return { ok: false, code: ResultCode.invalidParameter, reason: 'x-timestamp is not a number' };
  if (Math.abs(nowMs - ts) > window.windowMs + window.skewMs) {
    return { ok: false, code: ResultCode.invalidParameter, reason: 'x-timestamp is outside the allowed window' };
  }
  if (!nonce) return { ok: false, code: ResultCode.invalidParameter, reason: 'x-nonce is missing' };
  if (nonce.length > MAX_NONCE_LENGTH) return { ok: false, code: ResultCode.invalidParameter, reason: 'x-nonce is too long' };
  if (!sign) return { ok: false, code: ResultCode.authFailed, reason: 'x-sign is missing' };
  if (sign.length > MAX_SIGN_LENGTH) return { ok: false, code: ResultCode.authFailed, reason: 'x-sign is malformed' };

  const candidates = kitCandidates(body, rawBody);
  for (const key of keys) {
    for (const { form, payload } of candidates) {
      if (signaturesEqual(kitSignature(key.secret, nonce, timestamp, payload), sign)) return { ok: true, keyId: key.id, nonce, form };
    }
  }
  return { ok: false, code: ResultCode.authFailed, reason: 'x-sign does not match' };
}

/** Signs a Kit body as KooGallery does: the three headers (for the simulator and the tests). `payload` overrides the documented form. */
export function signKitRequest(
  kitKey: string,
  body: JsonMap,
  options: { nowMs?: number; nonce?: string; payload?: string } = {},
): { 'x-sign': string; 'x-timestamp': string; 'x-nonce': string } {
  const timestamp = String(options.nowMs ?? Date.now());
  const nonce = options.nonce ?? randomBytes(32).toString('hex').toUpperCase();
  return {
    'x-sign': kitSignature(kitKey, nonce, timestamp, options.payload ?? kitPayload(body)),
    'x-timestamp': timestamp,
    'x-nonce': nonce,
  };
}
