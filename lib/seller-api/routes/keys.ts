import * as z from 'zod';
import { Refusal } from '#lib/shared/refusal.ts';
import { ANY_KEY, ApiKeyError, KEY_ID_PATTERN, KeyNameSchema, requireKey, ScopeSchema, ScopesSchema, type SellerKey } from '../apiKeys.ts';
import type { ApiKeyStore } from '../ports.ts';
import { SellerApiError } from '../errors.ts';
import { defineRoute } from '../defineRoute.ts';

/**
 * The seller's own API keys in the seller API: which key is calling (`GET /seller/whoami`, any key), and, with the
 * scope `keys:manage`, the list of keys, a new key (its secret answered once) and a revocation. A key grants only
 * scopes it holds itself, so managing keys never widens what its holder can do.
 */

export interface KeyRouteDeps {
  keys: Pick<ApiKeyStore, 'create' | 'list' | 'revoke'>;
}

const KeyViewSchema = z.object({
  keyId: z.string().describe('The first 12 hex digits of the secret’s SHA-256: safe to show and log'),
  name: z.string(),
  scopes: z.array(ScopeSchema),
  createdAt: z.string(),
  lastUsedAt: z.string().optional(),
  revokedAt: z.string().optional().describe('Present once revoked: the key is refused from then on'),
});

/** A key as the seller API shows it: never its hash, never its secret. */
const keyView = (key: SellerKey): z.infer<typeof KeyViewSchema> => ({
  keyId: key.keyId,
  name: key.name,
  scopes: key.scopes,
  createdAt: key.createdAt,
  ...(key.lastUsedAt ? { lastUsedAt: key.lastUsedAt } : {}),
  ...(key.revokedAt ? { revokedAt: key.revokedAt } : {}),
});

export const whoami = defineRoute({
  method: 'GET',
  path: '/seller/whoami',
  summary: 'The calling key: its id, name and scopes (any valid key)',
  description: 'What a client (the seller console) shows and offers depends on the scopes named here.',
  scope: ANY_KEY,
  response: z.object({ keyId: z.string(), name: z.string(), scopes: z.array(ScopeSchema) }),
  async handle({ key }) {
    const { keyId, name, scopes } = requireKey(key);
    return { body: { keyId, name, scopes } };
  },
});

export const listKeys = defineRoute({
  method: 'GET',
  path: '/seller/keys',
  summary: 'Every seller API key, revoked ones included, newest first (never a secret)',
  scope: 'keys:manage',
  response: z.object({ items: z.array(KeyViewSchema) }),
  async handle(_input, deps: KeyRouteDeps) {
    return { body: { items: (await deps.keys.list()).map(keyView) } };
  },
});

export const createKey = defineRoute({
  method: 'POST',
  path: '/seller/keys',
  action: 'keys.create',
  summary: 'A new seller API key; its secret is in this answer and nowhere else',
  description: 'The calling key may grant only scopes it holds itself. Names are unique among keys that are not revoked.',
  scope: 'keys:manage',
  body: z.strictObject({ name: KeyNameSchema, scopes: ScopesSchema }),
  response: z.object({ secret: z.string().describe('Shown once: store it now'), key: KeyViewSchema }),
  successStatus: 201,
  errors: { 403: 'A scope the calling key does not hold itself', 409: 'A key that is not revoked has this name' },
  async handle({ body, key, now }, deps: KeyRouteDeps) {
    const caller = requireKey(key);
    const beyond = body.scopes.filter((scope) => !caller.scopes.includes(scope));
    if (beyond.length > 0) throw new SellerApiError('forbidden', `this API key cannot grant scopes it does not hold: ${beyond.join(', ')}`);
    try {
      const created = await deps.keys.create({ name: body.name, scopes: body.scopes, now });
      return { body: { secret: created.secret, key: keyView(created.key) } };
    } catch (error) {
      if (error instanceof ApiKeyError) throw new Refusal(error.reason === 'duplicate' ? 'conflict' : 'unprocessable', error.message);
      throw error;
    }
  },
});

export const revokeKey = defineRoute({
  method: 'POST',
  path: '/seller/keys/{keyId}/revoke',
  action: 'keys.revoke',
  summary: 'Revoke a seller API key: it is refused from now on (revoking a revoked key changes nothing)',
  scope: 'keys:manage',
  params: z.strictObject({ keyId: z.string().regex(KEY_ID_PATTERN, 'keyId must be 12 hex digits, as GET /seller/keys gives it') }),
  response: z.object({ key: KeyViewSchema }),
  errors: { 404: 'No key has this keyId' },
  async handle({ params, now }, deps: KeyRouteDeps) {
    const revoked = await deps.keys.revoke(params.keyId, now);
    if (!revoked) throw new SellerApiError('not_found', `no key ${params.keyId}`);
    return { body: { key: keyView(revoked) } };
  },
});

export const keyRoutes = [whoami, listKeys, createKey, revokeKey] as const;
