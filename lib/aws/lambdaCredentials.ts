/**
 * The credentials of the functions' AWS clients on Lambda: the execution role's, which Lambda puts in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); serverless-offline and the tests set the same
 * variables. The bundles (serverless.yml, custom.esbuild.alias) resolve the SDK's default credential chain,
 * `@aws-sdk/credential-provider-node`, to this module, so they carry no SSO, STS, ini-file, process or metadata
 * providers, none of which a function on Lambda uses, and no SDK code at all. Scripts run unbundled (operator CLIs)
 * keep the whole chain, profiles included.
 */
import type { AwsCredentials } from './sigV4.ts';

/** No credentials in the environment (the name is the SDK's for a provider that found none). */
export class CredentialsProviderError extends Error {
  override readonly name = 'CredentialsProviderError';
}

/** Stands in for `defaultProvider` of `@aws-sdk/credential-provider-node` in the bundles: the environment's credentials. */
export function defaultProvider(): () => Promise<AwsCredentials> {
  return async () => {
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION } = process.env;
    if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
      throw new CredentialsProviderError('Unable to find environment variable credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).');
    }
    return {
      accessKeyId: AWS_ACCESS_KEY_ID,
      secretAccessKey: AWS_SECRET_ACCESS_KEY,
      ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
      ...(AWS_CREDENTIAL_EXPIRATION ? { expiration: new Date(AWS_CREDENTIAL_EXPIRATION) } : {}),
    };
  };
}
