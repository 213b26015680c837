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

/**
 * The `Body-Sign` response header value (spec §7.4): HMAC-SHA256 over the exact bytes sent, base64.
 * The format, including the space after `signature=`, is the marketplace's.
 */
export function bodySignHeader(accessKey: string, body: string): string {
  const signature = createHmac('sha256', Buffer.from(accessKey, 'utf8')).update(body, 'utf8').digest('base64');
  return `sign_type="HMAC-SHA256", signature= "${signature}"`;
}

/** A short, non-reversible id for a key, safe to log and store: the first 12 hex chars of its SHA-256. */
export function keyId(accessKey: string): string {
  return createHash('sha256').update(accessKey, 'utf8').digest('hex').slice(0, 12);
}

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}
