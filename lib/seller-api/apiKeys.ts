/**
 * Seller API keys (ARCHITECTURE.md law 7): the secret is shown to the seller once and only its SHA-256 is kept.
 * A key is `kgs_` + 32 random bytes in base64url; its keyId (the hash's first 12 hex digits) is safe to show and log.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import type { SellerActor } from '#lib/audit/records.ts';

import { SCOPES, type Scope } from './scopes.ts';

export { SCOPES, type Scope };

/** What a route asks of a key: one scope, or `ANY_KEY` (any key that is known and not revoked, whatever its scopes). */
export const ANY_KEY = 'any key' as const;
export type RouteScope = Scope | typeof ANY_KEY;
export const ScopeSchema = z.enum(SCOPES, {
  error: (issue) => `${JSON.stringify(issue.input)} is not a scope (one of ${SCOPES.join(', ')})`,
});

export interface SellerKey {
  keyId: string;
  name: string;
  scopes: Scope[];
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export const API_KEY_PREFIX = 'kgs_';
/** The whole secret: the prefix and 43 base64url characters (32 bytes, unpadded). */
export const API_KEY_PATTERN = /^kgs_[A-Za-z0-9_-]{43}$/;
const SECRET_BYTES = 32;
const KEY_ID_LENGTH = 12;
export const KEY_ID_PATTERN = /^[0-9a-f]{12}$/;

/** Why a key cannot be created or revoked; the message is safe to show the seller (it never holds a secret). */
export class ApiKeyError extends Error {
  override readonly name = 'ApiKeyError';
  constructor(
    readonly reason: 'invalid' | 'duplicate' | 'ambiguous',
    message: string,
  ) {
    super(message);
  }
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export const keyIdOf = (hash: string): string => hash.slice(0, KEY_ID_LENGTH);

export function generateApiKey(): { secret: string; hash: string; keyId: string } {
  const secret = `${API_KEY_PREFIX}${randomBytes(SECRET_BYTES).toString('base64url')}`;
  const hash = hashApiKey(secret);
  return { secret, hash, keyId: keyIdOf(hash) };
}

/** The key from `Authorization: Bearer <key>`: one space, one token in the key's format; anything else is no key. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^([^ ]+) ([^ ]+)$/.exec(authorization);
  if (!match || match[1]!.toLowerCase() !== 'bearer') return undefined;
  const token = match[2]!;
  return API_KEY_PATTERN.test(token) ? token : undefined;
}

/** A key as the actor of what it did (audit log, supervision history, statement runs): its id and name. */
export const keyActor = (key: Pick<SellerKey, 'keyId' | 'name'>): SellerActor => ({ kind: 'key', keyId: key.keyId, name: key.name });

/** The authenticated key of a route that needs one (the router never runs such a route without it). */
export function requireKey(key: SellerKey | undefined): SellerKey {
  if (!key) throw new TypeError('this route runs only with an authenticated key');
  return key;
}

/** A revoked key has no scope left, whatever it was created with; any live key passes `ANY_KEY`. */
export function hasScope(key: SellerKey, scope: RouteScope): boolean {
  return key.revokedAt === undefined && (scope === ANY_KEY || key.scopes.includes(scope));
}

/** Compares two hashes in time independent of where they differ. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Names are what `revoke` takes besides a keyId, so a name may not look like one. */
export const KeyNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 characters of A-Z a-z 0-9 . _ -')
  .refine((name) => !KEY_ID_PATTERN.test(name), 'must not look like a keyId (12 hex digits)');

export const ScopesSchema = z
  .array(ScopeSchema)
  .min(1, 'at least one scope is required')
  .refine((scopes) => new Set(scopes).size === scopes.length, 'must not repeat a scope');

export const NewKeySchema = z.object({ name: KeyNameSchema, scopes: ScopesSchema });
export type NewKey = z.output<typeof NewKeySchema>;

/** A new key's name and scopes, or a message naming the first problem. */
export function parseNewKey(input: { name: unknown; scopes: unknown }): { ok: true; value: NewKey } | { ok: false; error: string } {
  const parsed = NewKeySchema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, error: `${issue?.path[0] === 'name' ? 'name' : 'scopes'}: ${issue?.message ?? 'is invalid'}` };
}
