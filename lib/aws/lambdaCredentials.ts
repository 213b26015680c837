/**
 * The credentials of the functions' AWS clients on Lambda: the execution role's, which Lambda puts in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); serverless-offline and the tests set the same
 * variables. The bundles (serverless.yml, custom.esbuild.alias) resolve the SDK's default credential chain,
 * `@aws-sdk/credential-provider-node`, to this module, so they carry no SSO, STS, ini-file, process or metadata
 * providers, none of which a function on Lambda uses. Scripts run unbundled (operator CLIs) keep the whole chain,
 * profiles included.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** What an SDK client hands its default credential provider (its configuration); only the logger is used. */
export type CredentialProviderInit = Parameters<typeof fromEnv>[0];

/** Stands in for `defaultProvider` of `@aws-sdk/credential-provider-node` in the bundles: the environment's credentials. */
export function defaultProvider(init: CredentialProviderInit = {}): ReturnType<typeof fromEnv> {
  return fromEnv(init?.logger ? { logger: init.logger } : {});
}
