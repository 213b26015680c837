/**
 * The random values of the login: the `state` and the session id (32 random bytes, base64url), their storage
 * keys (SHA-256, so the table never holds a value a browser could replay) and their constant-time comparison. Pure
 * but for the randomness.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, base64url (43 characters). */
export const randomId = (): string => randomBytes(32).toString('base64url');

/** What our ids look like: anything else is refused before any lookup. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The id's storage key: hex SHA-256. */
export const idHash = (id: string): string => createHash('sha256').update(id).digest('hex');

/** True when the two strings are equal, compared in constant time for equal lengths. */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
