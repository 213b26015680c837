import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 as lowercase hex, key and message UTF-8. */
export function hmacHex(key: string, message: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('hex');
}

/** V2 request signature (spec §7.2 steps 4–6). Lowercase hex; compare case-insensitively. */
export function signatureV2(accessKey: string, nonce: string, timestamp: string, payload: string): string {
  const inner = hmacHex(accessKey, payload);
  return hmacHex(accessKey, accessKey + nonce + timestamp + inner);
}

/** Constant-time, case-insensitive comparison of two hex signatures. */
export function signaturesEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected.toLowerCase(), 'utf8');
  const b = Buffer.from(received.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** HMAC-SHA256 of the exact body bytes under the access key, base64 (spec §7.4). */
function bodySignature(accessKey: string, body: string): string {
  return createHmac('sha256', Buffer.from(accessKey, 'utf8')).update(body, 'utf8').digest('base64');
}

/**
 * The `Body-Sign` response header value (spec §7.4): HMAC-SHA256 over the exact bytes sent, base64.
 * The format, including the space after `signature=`, is the marketplace's.
 */
export function bodySignHeader(accessKey: string, body: string): string {
  const signature = bodySignature(accessKey, body);
  return `sign_type="HMAC-SHA256", signature= "${signature}"`;
}

/**
 * What a `Body-Sign` value may look like (spec §7.4): both parameters, in that order, named exactly, values in double
 * quotes, `sign_type` exactly `HMAC-SHA256`; spaces or tabs are allowed around `=` and `,` and around the whole value
 * (the marketplace's own form has one after `signature=`, Huawei's Node sample none).
 */
const BODY_SIGN_FORMAT = /^[ \t]*sign_type[ \t]*=[ \t]*"HMAC-SHA256"[ \t]*,[ \t]*signature[ \t]*=[ \t]*"([A-Za-z0-9+/]+={0,2})"[ \t]*$/;

/** The base64 signature of a `Body-Sign` value, or undefined when the value does not have the format of §7.4. */
export function bodySignatureOf(header: string): string | undefined {
  return BODY_SIGN_FORMAT.exec(header)?.[1];
}

/** A `Body-Sign` value has the format of §7.4 and signs `body` under `accessKey`: base64 compared exactly, in constant time. */
export function bodySignMatches(accessKey: string, body: string, header: string): boolean {
  const received = bodySignatureOf(header);
  if (received === undefined) return false;
  const expected = Buffer.from(bodySignature(accessKey, body), 'utf8');
  const given = Buffer.from(received, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A short, non-reversible id for a key, safe to log and store: the first 12 hex chars of its SHA-256. */
export function keyId(accessKey: string): string {
  return createHash('sha256').update(accessKey, 'utf8').digest('hex').slice(0, 12);
}

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}
