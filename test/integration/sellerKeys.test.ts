import { describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { hashApiKey, keyIdOf } from '#lib/seller-api/apiKeys.ts';
import { sellerActionLog } from '#lib/store/sellerActionLog.ts';
import { env } from '../helpers/produce.ts';
import { keys, seller, sellerKey } from '../helpers/seller.ts';

/**
 * The seller's keys through the real seller function and DynamoDB Local: which key is calling (any key), the key
 * list, a new key whose secret is answered once, a revocation, each mutation in the audit log; and the depth of the
 * provisioning dead-letter queue.
 */

const keyIdOfSecret = (secret: string) => keyIdOf(hashApiKey(secret));

async function auditedActions(correlationId: string): Promise<string[]> {
  const now = Date.now();
  const page = await sellerActionLog(dynamoClient(), env('AUDIT_TABLE')).list({
    from: new Date(now - 3_600_000).toISOString(),
    to: new Date(now + 60_000).toISOString(),
    limit: 200,
  });
  return page.items.filter((r) => r.correlationId === correlationId).map((r) => `${r.action} ${r.result.status}`);
}

describe('GET /seller/whoami', () => {
  it('names the calling key and its scopes, whatever they are', async () => {
    const secret = await sellerKey('usage:read');
    const answer = await seller('GET', '/seller/whoami', { key: secret });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ keyId: keyIdOfSecret(secret), name: expect.stringMatching(/^test-/), scopes: ['usage:read'] });
    expect(JSON.stringify(answer.json)).not.toContain(secret);
  });

  it('refuses no key, an unknown key and a revoked key with 401', async () => {
    expect((await seller('GET', '/seller/whoami')).status).toBe(401);
    expect((await seller('GET', '/seller/whoami', { key: `kgs_${'A'.repeat(43)}` })).status).toBe(401);
    const secret = await sellerKey('usage:read');
    await keys().revoke(keyIdOfSecret(secret), Date.now());
    const revoked = await seller('GET', '/seller/whoami', { key: secret });
    expect(revoked.status).toBe(401);
    expect(revoked.json).toEqual({ error: { code: 'unauthenticated', message: 'this API key was revoked' } });
  });
});

describe('managing keys (scope keys:manage)', () => {
  it('creates a key whose secret works at once, lists it without a secret, revokes it; each step audited', async () => {
    const admin = await sellerKey('keys:manage', 'instances:read');
    const name = `console-${Date.now().toString(36)}`;
    const created = await seller('POST', '/seller/keys', { key: admin, body: { name, scopes: ['instances:read'] } });
    expect(created.status).toBe(201);
    const secret = created.json.secret as string;
    const { keyId } = created.json.key as { keyId: string };
    expect(keyId).toBe(keyIdOfSecret(secret));
    expect(created.json.key).toMatchObject({ name, scopes: ['instances:read'] });
    expect((await seller('GET', '/seller/instances', { key: secret, query: { limit: '1' } })).status).toBe(200);
    expect(await auditedActions(created.headers['X-Correlation-Id']!)).toEqual(['keys.create 201']);

    const listed = await seller('GET', '/seller/keys', { key: admin });
    expect(listed.status).toBe(200);
    expect((listed.json.items as { keyId: string }[]).find((k) => k.keyId === keyId)).toMatchObject({ name, scopes: ['instances:read'] });
    expect(JSON.stringify(listed.json)).not.toContain(secret);
    expect(JSON.stringify(listed.json)).not.toContain(hashApiKey(secret));

    const revoked = await seller('POST', `/seller/keys/${keyId}/revoke`, { key: admin, body: {} });
    expect(revoked.status).toBe(200);
    expect((revoked.json.key as { revokedAt?: string }).revokedAt).toEqual(expect.any(String));
    expect(await auditedActions(revoked.headers['X-Correlation-Id']!)).toEqual(['keys.revoke 200']);
    expect((await seller('GET', '/seller/instances', { key: secret })).status).toBe(401);
    // Revoking again answers the same key and changes nothing.
    const again = await seller('POST', `/seller/keys/${keyId}/revoke`, { key: admin, body: {} });
    expect((again.json.key as { revokedAt: string }).revokedAt).toBe((revoked.json.key as { revokedAt: string }).revokedAt);
  });

  it('grants only scopes the calling key holds, and refuses bad input without making a key', async () => {
    const admin = await sellerKey('keys:manage', 'instances:read');
    const before = (await keys().list()).length;
    const wider = await seller('POST', '/seller/keys', { key: admin, body: { name: 'wider', scopes: ['audit:read'] } });
    expect(wider.status).toBe(403);
    expect(wider.json).toEqual({ error: { code: 'forbidden', message: 'this API key cannot grant scopes it does not hold: audit:read' } });
    const noScope = await seller('POST', '/seller/keys', { key: admin, body: { name: 'none', scopes: [] } });
    expect(noScope.status).toBe(422);
    const badName = await seller('POST', '/seller/keys', { key: admin, body: { name: 'a b', scopes: ['instances:read'] } });
    expect(badName.status).toBe(422);
    const unknownScope = await seller('POST', '/seller/keys', { key: admin, body: { name: 'x', scopes: ['root'] } });
    expect(unknownScope.status).toBe(422);
    expect((await keys().list()).length).toBe(before);
  });

  it('answers 409 for a name a live key has, 404 for an unknown keyId, 400 for a malformed one', async () => {
    const admin = await sellerKey('keys:manage', 'usage:read');
    const name = `dup-${Date.now().toString(36)}`;
    expect((await seller('POST', '/seller/keys', { key: admin, body: { name, scopes: ['usage:read'] } })).status).toBe(201);
    const duplicate = await seller('POST', '/seller/keys', { key: admin, body: { name, scopes: ['usage:read'] } });
    expect(duplicate.status).toBe(409);
    expect((await seller('POST', '/seller/keys/000000000000/revoke', { key: admin, body: {} })).status).toBe(404);
    expect((await seller('POST', '/seller/keys/not-a-key-id/revoke', { key: admin, body: {} })).status).toBe(400);
  });

  it('refuses a key without keys:manage with 403', async () => {
    const reader = await sellerKey('instances:read', 'audit:read');
    expect((await seller('GET', '/seller/keys', { key: reader })).status).toBe(403);
    expect((await seller('POST', '/seller/keys', { key: reader, body: { name: 'x', scopes: ['instances:read'] } })).status).toBe(403);
  });
});

describe('GET /seller/dlq', () => {
  it("answers the provisioning dead-letter queue's name and depth, and needs messages:read", async () => {
    const reader = await sellerKey('messages:read');
    const answer = await seller('GET', '/seller/dlq', { key: reader });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ queue: expect.stringMatching(/provisioning-dlq$/), depth: expect.any(Number) });
    expect((await seller('GET', '/seller/dlq', { key: await sellerKey('usage:read') })).status).toBe(403);
  });
});
