import { GetParameterError } from '@aws-lambda-powertools/parameters/errors';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#lib/config.ts';
import { accessKeyLoader } from '#lib/koogallery/accessKeys.ts';
import { keyId } from '#lib/koogallery/signature.ts';

const base = { MAIN_TABLE: 'm', AUDIT_TABLE: 'a', PROVISIONING_QUEUE_URL: 'http://127.0.0.1:1/0/q', ORDER_QUERY: 'false' };
const onAws = parseConfig({
  ...base,
  KOOGALLERY_ACCESS_KEY_PARAMETER: '/svc/prod/access-key',
  KOOGALLERY_PREVIOUS_ACCESS_KEY_PARAMETER: '/svc/prod/previous-access-key',
});

/** What Powertools throws for a parameter that does not exist: its own error, the SDK's as cause. */
function notFound(): Error {
  const sdkError = Object.assign(new Error('Parameter /svc/prod/previous-access-key not found.'), { name: 'ParameterNotFound' });
  return new GetParameterError(sdkError.message, { cause: sdkError });
}

describe('accessKeyLoader', () => {
  it('reads the current and previous keys from SSM on AWS', async () => {
    const store: Record<string, string> = { '/svc/prod/access-key': 'new-key', '/svc/prod/previous-access-key': 'old-key' };
    const keys = await accessKeyLoader(onAws, async (name) => store[name])();
    expect(keys).toEqual([
      { id: keyId('new-key'), secret: 'new-key' },
      { id: keyId('old-key'), secret: 'old-key' },
    ]);
  });

  it('treats a missing previous key as "no rotation" and does not ask again for five minutes', async () => {
    let now = 0;
    const asked: string[] = [];
    const load = accessKeyLoader(
      onAws,
      async (name) => {
        asked.push(name);
        if (name.endsWith('previous-access-key')) throw notFound();
        return 'new-key';
      },
      () => now,
    );
    expect((await load()).map((k) => k.secret)).toEqual(['new-key']);
    await load();
    expect(asked.filter((n) => n.endsWith('previous-access-key'))).toHaveLength(1);
    now = 301_000;
    await load();
    expect(asked.filter((n) => n.endsWith('previous-access-key'))).toHaveLength(2);
  });

  it('fails when the current key is missing or SSM fails otherwise', async () => {
    await expect(
      accessKeyLoader(onAws, async () => {
        throw notFound();
      })(),
    ).rejects.toThrow(GetParameterError);
  });

  it('accepts the current key alone, and says why, when the previous key cannot be read', async () => {
    const denied = new GetParameterError('AccessDenied', { cause: Object.assign(new Error('denied'), { name: 'AccessDeniedException' }) });
    const warnings: Array<[string, Record<string, unknown>]> = [];
    let previousReads = 0;
    const load = accessKeyLoader(
      onAws,
      async (name) => {
        if (!name.endsWith('previous-access-key')) return 'k';
        previousReads++;
        throw denied;
      },
      () => 0,
      (message, fields) => warnings.push([message, fields]),
    );
    expect(await load()).toEqual([{ id: keyId('k'), secret: 'k' }]);
    expect(await load()).toEqual([{ id: keyId('k'), secret: 'k' }]);
    expect(previousReads).toBe(1);
    expect(warnings).toEqual([
      [
        'the previous access key could not be read; only the current key is accepted for now',
        { parameter: '/svc/prod/previous-access-key', error: 'GetParameterError' },
      ],
    ]);
  });

  it('uses the plain keys locally', async () => {
    const local = parseConfig({ ...base, KOOGALLERY_ACCESS_KEY: 'local-key' });
    expect(
      await accessKeyLoader(local, async () => {
        throw new Error('SSM must not be called locally');
      })(),
    ).toEqual([{ id: keyId('local-key'), secret: 'local-key' }]);
  });
});
