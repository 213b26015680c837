import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_PATTERN,
  bearerToken,
  generateApiKey,
  hashApiKey,
  hasScope,
  parseNewKey,
  sameHash,
  SCOPES,
  type SellerKey,
} from '#lib/seller-api/apiKeys.ts';

/** Seller API keys, pure: the secret's format, its hash, the Authorization header, scopes. */

const KEY = 'kgs_' + 'A'.repeat(40) + '-_z';

describe('generateApiKey', () => {
  it('is kgs_ + 43 base64url characters (32 bytes), its hash the hex SHA-256 of the whole secret, its keyId the first 12', () => {
    const { secret, hash, keyId } = generateApiKey();

    expect(secret).toMatch(API_KEY_PATTERN);
    expect(Buffer.from(secret.slice(4), 'base64url')).toHaveLength(32);
    expect(hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(keyId).toBe(hash.slice(0, 12));
  });

  it('never repeats a secret', () => {
    const secrets = new Set(Array.from({ length: 1000 }, () => generateApiKey().secret));

    expect(secrets.size).toBe(1000);
  });
});

describe('hashApiKey', () => {
  it('is stable and differs for a different secret', () => {
    expect(hashApiKey(KEY)).toBe(hashApiKey(KEY));
    expect(hashApiKey(KEY)).toBe(createHash('sha256').update(KEY, 'utf8').digest('hex'));
    expect(hashApiKey(KEY)).not.toBe(hashApiKey(KEY.replace('z', 'y')));
  });
});

describe('bearerToken', () => {
  it.each([`Bearer ${KEY}`, `bearer ${KEY}`, `BEARER ${KEY}`, `bEaReR ${KEY}`])('accepts %s', (header) => {
    expect(bearerToken(header)).toBe(KEY);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['scheme only', 'Bearer'],
    ['scheme and a space', 'Bearer '],
    ['a token not in the key format', 'bearer x'],
    ['the token alone', KEY],
    ['two spaces', `Bearer  ${KEY}`],
    ['a leading space', ` Bearer ${KEY}`],
    ['a trailing space', `Bearer ${KEY} `],
    ['a tab', `Bearer\t${KEY}`],
    ['a second token', `Bearer ${KEY} ${KEY}`],
    ['the wrong prefix', `Bearer kgx_${KEY.slice(4)}`],
    ['an upper-case prefix', `Bearer KGS_${KEY.slice(4)}`],
    ['a short token', `Bearer ${KEY.slice(0, -1)}`],
    ['a long token', `Bearer ${KEY}A`],
    ['padding', `Bearer ${KEY.slice(0, -1)}=`],
    ['a non-base64url character', `Bearer ${KEY.slice(0, -1)}+`],
    ['a newline after the token', `Bearer ${KEY}\n`],
    ['Basic', `Basic ${Buffer.from(`user:${KEY}`).toString('base64')}`],
    ['Basic with a key', `Basic ${KEY}`],
  ])('rejects %s', (_, header) => {
    expect(bearerToken(header)).toBeUndefined();
  });
});

describe('sameHash', () => {
  const hash = hashApiKey(KEY);

  it('is true for equal strings only', () => {
    expect(sameHash(hash, `${hash}`)).toBe(true);
    expect(sameHash(hash, hash.slice(0, -1) + (hash.endsWith('0') ? '1' : '0'))).toBe(false);
  });

  it('is false, not an error, for different lengths', () => {
    expect(sameHash(hash, hash.slice(0, -1))).toBe(false);
    expect(sameHash(hash, '')).toBe(false);
    expect(sameHash('', '')).toBe(true);
  });
});

describe('hasScope', () => {
  const key: SellerKey = {
    keyId: 'abcdef012345',
    name: 'billing',
    scopes: ['usage:write', 'messages:read'],
    createdAt: '2026-01-01T00:00:00.000Z',
  };

  it('grants exactly the scopes the key was created with', () => {
    expect(SCOPES.filter((scope) => hasScope(key, scope))).toEqual(['usage:write', 'messages:read']);
  });

  it('grants nothing to a revoked key', () => {
    expect(SCOPES.filter((scope) => hasScope({ ...key, revokedAt: '2026-01-02T00:00:00.000Z' }, scope))).toEqual([]);
  });
});

describe('parseNewKey', () => {
  it('accepts 1 to 64 characters of A-Z a-z 0-9 . _ - and distinct known scopes', () => {
    expect(parseNewKey({ name: 'a', scopes: ['usage:write'] })).toEqual({ ok: true, value: { name: 'a', scopes: ['usage:write'] } });
    expect(parseNewKey({ name: 'Billing-2026_v1.x'.padEnd(64, '0'), scopes: [...SCOPES] }).ok).toBe(true);
  });

  it.each([
    ['an empty name', '', ['usage:write'], 'name: '],
    ['a 65-character name', 'x'.repeat(65), ['usage:write'], 'name: '],
    ['a space in the name', 'my key', ['usage:write'], 'name: '],
    ['a name like a keyId', 'abcdef012345', ['usage:write'], 'name: must not look like a keyId'],
    ['no scopes', 'billing', [], 'scopes: at least one scope'],
    ['an unknown scope', 'billing', ['usage:write', 'usage:admin'], 'scopes: "usage:admin" is not a scope'],
    ['a repeated scope', 'billing', ['usage:write', 'usage:write'], 'scopes: must not repeat'],
  ])('refuses %s', (_, name, scopes, message) => {
    const parsed = parseNewKey({ name, scopes });

    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.error).toContain(message);
  });
});
