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

  it('fails clearly when the environment holds no credentials, and looks nowhere else', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    vi.stubEnv('AWS_PROFILE', 'default');
    const debug = vi.fn();
    const logger = { debug, info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    await expect(defaultProvider({ logger })()).rejects.toThrow('Unable to find environment variable credentials');
    expect(debug).toHaveBeenCalledWith('@aws-sdk/credential-provider-env - fromEnv');
  });
});
