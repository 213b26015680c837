import { randomUUID } from 'node:crypto';
import { type AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, SCOPES, type SellerKey } from '#lib/seller-api/apiKeys.ts';
import { apiKeyStore } from '#lib/store/apiKeyStore.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { keys } from '#lib/store/keys.ts';
import { createLocalKey, runKeysCli } from '../../scripts/keys.ts';
import { env } from '../helpers/produce.ts';

/** Seller API keys against DynamoDB Local: the store and the seller's CLI. */

const store = (touchEverySeconds?: number) =>
  apiKeyStore(dynamoClient(), env('MAIN_TABLE'), touchEverySeconds === undefined ? {} : { touchEverySeconds });
const uniqueName = (prefix = 'key') => `${prefix}-${randomUUID()}`;
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** The stored item of a secret, as DynamoDB holds it. */
async function storedItem(secret: string): Promise<Record<string, unknown> | undefined> {
  const out = await dynamoClient().send('GetItem', {
    TableName: env('MAIN_TABLE'),
    Key: marshall(keys.apiKey(hashApiKey(secret))),
    ConsistentRead: true,
  });
  return out.Item ? unmarshall(out.Item) : undefined;
}

/** Every API-key item on the listing index, raw. Only this file writes API keys, and its tests run one at a time. */
async function apiKeyItemCount(): Promise<number> {
  let count = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await dynamoClient().send('Query', {
      TableName: env('MAIN_TABLE'),
      IndexName: 'list',
      KeyConditionExpression: 'listKind = :kind',
      ExpressionAttributeValues: marshall({ ':kind': 'APIKEY' }),
      Select: 'COUNT',
      ExclusiveStartKey: start,
    });
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return count;
}

const byName = async (name: string) => (await store().list()).filter((k) => k.name === name);

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } };
}

describe('create and authenticate', () => {
  it('creates a key that authenticates, storing its hash and never its secret', async () => {
    // Prepare
    const name = uniqueName('billing');

    // Act
    const { secret, key } = await store().create({ name, scopes: ['usage:write', 'messages:read'], now: T0 });
    const result = await store().authenticate(secret, T0 + 1_000);

    // Assess
    expect(key).toEqual({ keyId: hashApiKey(secret).slice(0, 12), name, scopes: ['usage:write', 'messages:read'], createdAt: iso(T0) });
    expect(result).toEqual({ ok: true, key: { ...key, lastUsedAt: iso(T0 + 1_000) } });
    const item = await storedItem(secret);
    expect(item).toMatchObject({
      pk: `APIKEY#${hashApiKey(secret)}`,
      sk: '#APIKEY',
      hash: hashApiKey(secret),
      keyId: key.keyId,
      listKind: 'APIKEY',
      listAt: `${iso(T0)}#${key.keyId}`,
    });
    expect(JSON.stringify(item)).not.toContain(secret);
    expect(JSON.stringify(item)).not.toContain(secret.slice(4));
  });

  it('answers unknown for a secret it never issued, and for one that is not a key', async () => {
    const { secret } = await store().create({ name: uniqueName(), scopes: ['usage:write'], now: T0 });
    const other = generateApiKey().secret;

    expect(await store().authenticate(other, T0)).toEqual({ ok: false, reason: 'unknown' });
    expect(await store().authenticate(`${secret}x`, T0)).toEqual({ ok: false, reason: 'unknown' });
    expect(await store().authenticate('', T0)).toEqual({ ok: false, reason: 'unknown' });
    expect(await storedItem(other)).toBeUndefined();
  });

  it('answers revoked for a revoked key, and does not record its use', async () => {
    const { secret, key } = await store().create({ name: uniqueName(), scopes: ['usage:write'], now: T0 });
    await store().revoke(key.keyId, T0 + 1_000);

    expect(await store().authenticate(secret, T0 + 120_000)).toEqual({ ok: false, reason: 'revoked' });
    expect((await storedItem(secret))?.lastUsedAt).toBeUndefined();
  });

  it('records lastUsedAt once per window: not again within it, again after it', async () => {
    const { secret } = await store().create({ name: uniqueName(), scopes: ['usage:write'], now: T0 });
    const lastUsed = async () => (await storedItem(secret))?.lastUsedAt;

    await store().authenticate(secret, T0);
    expect(await lastUsed()).toBe(iso(T0));

    const within = await store().authenticate(secret, T0 + 59_999);
    expect(within).toMatchObject({ ok: true, key: { lastUsedAt: iso(T0) } });
    expect(await lastUsed()).toBe(iso(T0));

    const after = await store().authenticate(secret, T0 + 60_001);
    expect(after).toMatchObject({ ok: true, key: { lastUsedAt: iso(T0 + 60_001) } });
    expect(await lastUsed()).toBe(iso(T0 + 60_001));
  });

  it('takes its window from touchEverySeconds', async () => {
    const { secret } = await store().create({ name: uniqueName(), scopes: ['usage:write'], now: T0 });
    const hourly = store(3600);

    await hourly.authenticate(secret, T0);
    await hourly.authenticate(secret, T0 + 30 * 60_000);
    expect((await storedItem(secret))?.lastUsedAt).toBe(iso(T0));

    await hourly.authenticate(secret, T0 + 61 * 60_000);
    expect((await storedItem(secret))?.lastUsedAt).toBe(iso(T0 + 61 * 60_000));
  });

  it('authenticates when a concurrent request recorded the use first (the conditional touch fails quietly)', async () => {
    const { secret } = await store().create({ name: uniqueName(), scopes: ['usage:write'], now: T0 });

    const results = await Promise.all(Array.from({ length: 10 }, () => store().authenticate(secret, T0 + 5_000)));

    expect(results.every((r) => r.ok)).toBe(true);
    expect((await storedItem(secret))?.lastUsedAt).toBe(iso(T0 + 5_000));
  });
});

describe('list', () => {
  it('lists keys newest first, without secrets or hashes', async () => {
    // Prepare
    const names = [uniqueName('a'), uniqueName('b'), uniqueName('c')];
    const created: { secret: string; key: SellerKey }[] = [];
    for (const [i, name] of names.entries()) created.push(await store().create({ name, scopes: ['statements:read'], now: T0 + i * 1_000 }));

    // Act
    const listed = await store().list();

    // Assess
    const mine = listed.filter((k) => names.includes(k.name));
    expect(mine.map((k) => k.name)).toEqual([...names].reverse());
    expect(mine).toEqual(created.map((c) => c.key).reverse());
    for (const key of listed)
      expect(Object.keys(key).every((field) => ['keyId', 'name', 'scopes', 'createdAt', 'lastUsedAt', 'revokedAt'].includes(field))).toBe(
        true,
      );
    const text = JSON.stringify(listed);
    for (const { secret } of created) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hashApiKey(secret));
    }
  });
});

describe('revoke', () => {
  it('revokes by name; the name is free again, and the old key stays listed as revoked', async () => {
    const name = uniqueName();
    const { secret, key } = await store().create({ name, scopes: ['usage:write'], now: T0 });

    const revoked = await store().revoke(name, T0 + 1_000);
    const replacement = await store().create({ name, scopes: ['usage:write'], now: T0 + 2_000 });

    expect(revoked).toEqual({ ...key, revokedAt: iso(T0 + 1_000) });
    expect(await store().authenticate(secret, T0 + 3_000)).toEqual({ ok: false, reason: 'revoked' });
    expect((await store().authenticate(replacement.secret, T0 + 3_000)).ok).toBe(true);
    expect((await byName(name)).map((k) => [k.keyId, k.revokedAt !== undefined])).toEqual([
      [replacement.key.keyId, false],
      [key.keyId, true],
    ]);
  });

  it('revokes by keyId; revoking again returns the key unchanged', async () => {
    const { key } = await store().create({ name: uniqueName(), scopes: ['usage:write'], now: T0 });

    const first = await store().revoke(key.keyId, T0 + 1_000);
    const second = await store().revoke(key.keyId, T0 + 2_000);

    expect(first?.revokedAt).toBe(iso(T0 + 1_000));
    expect(second).toEqual(first);
  });

  it('finds nothing for an unknown keyId, or the name of a key that is revoked already', async () => {
    const name = uniqueName();
    await store().create({ name, scopes: ['usage:write'], now: T0 });
    await store().revoke(name, T0 + 1_000);

    expect(await store().revoke(name, T0 + 2_000)).toBeUndefined();
    expect(await store().revoke('000000000000', T0 + 2_000)).toBeUndefined();
    expect((await byName(name))[0]?.revokedAt).toBe(iso(T0 + 1_000));
  });
});

describe('create refuses', () => {
  it('a name a live key has, writing nothing', async () => {
    const name = uniqueName();
    await store().create({ name, scopes: ['usage:write'], now: T0 });
    const before = await apiKeyItemCount();

    await expect(store().create({ name, scopes: ['messages:read'], now: T0 + 1_000 })).rejects.toThrow(/named .* exists already/);

    expect(await apiKeyItemCount()).toBe(before);
    expect(await byName(name)).toHaveLength(1);
  });

  it.each([
    ['an unknown scope', uniqueName(), ['usage:write', 'usage:admin'], /scopes: "usage:admin" is not a scope/],
    ['no scopes', uniqueName(), [], /scopes: at least one scope/],
    ['a repeated scope', uniqueName(), ['usage:write', 'usage:write'], /scopes: must not repeat/],
    ['a bad name', `bad name ${randomUUID()}`, ['usage:write'], /name: must be 1 to 64 characters/],
    ['a long name', 'x'.repeat(65), ['usage:write'], /name: must be 1 to 64 characters/],
  ])('%s, writing nothing', async (_, name, scopes, message) => {
    const before = await apiKeyItemCount();

    await expect(store().create({ name, scopes, now: T0 })).rejects.toThrow(message);

    expect(await apiKeyItemCount()).toBe(before);
    expect(await byName(name)).toEqual([]);
  });
});

describe('keys CLI', () => {
  const cli = (argv: string[], nowMs = T0) => {
    const io = capture();
    return runKeysCli(argv, () => store(), nowMs, io.io).then((code) => ({ code, ...io }));
  };

  it('create prints the secret once with a warning; list never prints it; revoke by name', async () => {
    const name = uniqueName('cli');

    const created = await cli(['create', '--name', name, '--scopes', 'usage:write, messages:read']);
    expect(created.code).toBe(0);
    const secret = /secret\s+(kgs_\S+)/.exec(created.out.join('\n'))?.[1];
    expect(secret).toBeDefined();
    expect(created.out.join('\n').split(secret!)).toHaveLength(2);
    expect(created.out.join('\n')).toContain('usage:write,messages:read');
    expect(created.err.join('\n')).toMatch(/only time the secret is shown/);
    expect((await store().authenticate(secret!, T0)).ok).toBe(true);

    const listed = await cli(['list']);
    expect(listed.code).toBe(0);
    expect(listed.out[0]).toMatch(/^KEY ID\s+NAME\s+SCOPES\s+CREATED\s+LAST USED\s+REVOKED$/);
    const row = listed.out.find((line) => line.includes(name));
    expect(row).toContain(hashApiKey(secret!).slice(0, 12));
    expect(listed.out.join('\n')).not.toContain(secret!);
    expect(listed.out.join('\n')).not.toContain(hashApiKey(secret!));

    const revoked = await cli(['revoke', name], T0 + 1_000);
    expect(revoked).toMatchObject({
      code: 0,
      out: [`API key ${hashApiKey(secret!).slice(0, 12)} (${name}) revoked at ${iso(T0 + 1_000)}`],
    });
    expect(await cli(['revoke', name])).toMatchObject({ code: 1 });
  });

  it('refuses a taken name with exit code 1', async () => {
    const name = uniqueName('cli');
    await store().create({ name, scopes: ['usage:write'], now: T0 });

    const again = await cli(['create', '--name', name, '--scopes', 'usage:write']);

    expect(again.code).toBe(1);
    expect(again.err.join('\n')).toMatch(/exists already/);
    expect(again.out).toEqual([]);
  });

  it.each([
    [[]],
    [['rotate']],
    [['create', '--name', 'x']],
    [['create', '--scopes', 'usage:write']],
    [['create', '--name', 'x', '--scopes', 'usage:everything']],
    [['create', '--name', 'x', '--scopes', ',']],
    [['create', '--name', 'x', '--scopes', 'usage:write', '--secret', 'kgs_']],
    [['list', '--name', 'x']],
    [['revoke']],
    [['revoke', 'a', 'b']],
  ])('answers %j with the usage and exit code 2, writing nothing', async (argv) => {
    const before = await apiKeyItemCount();

    const result = await cli(argv);

    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toContain('Usage:');
    expect(await apiKeyItemCount()).toBe(before);
  });

  it('createLocalKey prints a working key, replacing a live key of the same name', async () => {
    const name = uniqueName('local');
    const first = capture();
    const second = capture();

    const a = await createLocalKey(dynamoClient(), env('MAIN_TABLE'), { name, nowMs: T0, io: first.io });
    const b = await createLocalKey(dynamoClient(), env('MAIN_TABLE'), { name, nowMs: T0 + 1_000, io: second.io });

    expect(first.out.join('\n')).toContain(a.secret);
    expect(second.out.join('\n')).toContain(b.secret);
    expect(b.key.scopes).toEqual([...SCOPES]);
    expect(await store().authenticate(a.secret, T0 + 2_000)).toEqual({ ok: false, reason: 'revoked' });
    expect((await store().authenticate(b.secret, T0 + 2_000)).ok).toBe(true);
  });
});
