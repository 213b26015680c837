import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '#lib/aws/lambdaCredentials.ts';

afterEach(() => vi.unstubAllEnvs());

describe('the bundles’ default credential provider', () => {
  it('gives the execution role’s credentials from the environment, session token included', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-example');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session-example');
    expect(await defaultProvider()()).toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret-example',
      sessionToken: 'session-example',
    });
  });

  it('gives the expiry of temporary credentials when the environment says it', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-example');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    vi.stubEnv('AWS_CREDENTIAL_EXPIRATION', '2026-12-06T21:00:00Z');
    const credentials = await defaultProvider()();
    expect(credentials.expiration?.toISOString()).toBe('2026-12-06T21:00:00.000Z');
    expect(credentials).not.toHaveProperty('sessionToken');
  });

  it('fails clearly when the environment holds no credentials, and looks nowhere else', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    vi.stubEnv('AWS_PROFILE', 'default');
    await expect(defaultProvider()()).rejects.toMatchObject({
      name: 'CredentialsProviderError',
      message: expect.stringContaining('Unable to find environment variable credentials'),
    });
  });
});
