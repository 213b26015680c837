import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCOPES } from '#lib/seller-api/apiKeys.ts';
import { apiKeyStore } from '#lib/store/apiKeyStore.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { localSellerKey } from '../../scripts/local/sellerKey.ts';
import { env } from '../helpers/produce.ts';

/** The local stack's seller key (scripts/local/sellerKey.ts): kept across restarts while it is valid, replaced otherwise. */

const store = () => apiKeyStore(dynamoClient(), env('MAIN_TABLE'));
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const setup = () => ({ name: `local-${randomUUID()}`, file: join(mkdtempSync(join(tmpdir(), 'seller-key-')), 'seller-key.json') });
const start = (s: ReturnType<typeof setup>, nowMs: number) => localSellerKey(dynamoClient(), env('MAIN_TABLE'), { ...s, nowMs });

describe('the local seller key', () => {
  it('is created at the first start, kept owner-only, and reused at the next start: the same secret keeps working', async () => {
    const s = setup();
    const first = await start(s, T0);
    expect(first.reused).toBe(false);
    expect(first.key.scopes).toEqual([...SCOPES]);
    expect(statSync(s.file).mode & 0o777).toBe(0o600);
    expect(readFileSync(s.file, 'utf8')).toContain(first.secret);

    const second = await start(s, T0 + 60_000);
    expect(second).toMatchObject({ reused: true, secret: first.secret, key: { keyId: first.key.keyId } });
    expect((await store().authenticate(first.secret, T0 + 120_000)).ok).toBe(true);
  });

  it('is replaced when the kept one was revoked, and the new secret is kept', async () => {
    const s = setup();
    const first = await start(s, T0);
    await store().revoke(first.key.keyId, T0 + 1_000);

    const second = await start(s, T0 + 2_000);
    expect(second.reused).toBe(false);
    expect(second.secret).not.toBe(first.secret);
    expect(readFileSync(s.file, 'utf8')).toContain(second.secret);
    expect((await store().authenticate(second.secret, T0 + 3_000)).ok).toBe(true);
  });

  it('is replaced when the kept secret is unknown, unreadable or lacks a scope; a live key of the name is revoked', async () => {
    const s = setup();
    const partial = await store().create({ name: s.name, scopes: ['usage:write'], now: T0 });
    writeFileSync(s.file, JSON.stringify({ secret: partial.secret }));
    const replaced = await start(s, T0 + 1_000);
    expect(replaced.reused).toBe(false);
    expect(replaced.key.scopes).toEqual([...SCOPES]);
    expect(await store().authenticate(partial.secret, T0 + 2_000)).toEqual({ ok: false, reason: 'revoked' });

    for (const content of ['not json', JSON.stringify({ secret: 'kgs_unknown' }), '']) {
      writeFileSync(s.file, content);
      const again = await start(s, T0 + 3_000);
      expect(again.reused, content).toBe(false);
      expect((await store().authenticate(again.secret, T0 + 4_000)).ok).toBe(true);
    }
  });

  it('is created when the file is missing (after --fresh, or a first start)', async () => {
    const s = setup();
    const first = await start(s, T0);
    const other = { ...s, file: join(mkdtempSync(join(tmpdir(), 'seller-key-')), 'seller-key.json') };
    const second = await start(other, T0 + 1_000);
    expect(second.reused).toBe(false);
    expect(await store().authenticate(first.secret, T0 + 2_000)).toEqual({ ok: false, reason: 'revoked' });
  });
});
