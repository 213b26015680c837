/**
 * The environment the functions see locally: the settings of lib/config.ts, pointed at the local emulators.
 * Precedence: defaults < .env file < the shell's environment < what the local stack dictates (endpoints, names,
 * fake AWS credentials, which must never be a developer's real ones).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type StackResources } from './emulators.ts';

/** Documented local default (see .env.example); never used on AWS, where the key comes from SSM. */
export const LOCAL_DEFAULT_ACCESS_KEY = 'local-dev-access-key-change-me';

/** KEY=VALUE lines of a .env file (node's own parser: comments, quotes, `export` are handled); {} if absent. */
export function readDotEnv(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const parsed = parseEnv(readFileSync(path, 'utf8'));
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => e[1] !== undefined));
}

/** `.env` merged under the shell's environment (the shell wins). */
export function settings(dotEnvPath: string): Record<string, string | undefined> {
  return { ...readDotEnv(dotEnvPath), ...process.env };
}

/** Variables that describe where the emulators are, for any AWS SDK v3 client (they are read natively). */
export function awsEnv(endpoints: { dynamo: string; sqs: string; s3?: string }): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamo,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_S3: endpoints.s3 ?? endpoints.sqs,
  };
}

function queueUrl(resources: StackResources, logicalId: string): string {
  const queue = resources.queues[logicalId];
  if (!queue) throw new Error(`Queue ${logicalId} is not defined in serverless.yml/resources`);
  return queue.url;
}

function table(resources: StackResources, logicalId: string): string {
  const name = resources.tables[logicalId];
  if (!name) throw new Error(`Table ${logicalId} is not defined in serverless.yml/resources`);
  return name;
}

/** Names of the resources the functions are told about (see lib/config.ts). */
export function resourceEnv(resources: StackResources): Record<string, string> {
  return {
    STAGE: resources.stage,
    MAIN_TABLE: table(resources, 'MainTable'),
    AUDIT_TABLE: table(resources, 'AuditTable'),
    PROVISIONING_QUEUE_URL: queueUrl(resources, 'ProvisioningQueue'),
  };
}

/**
 * Full environment for a process running the functions (serverless-offline) or the tests.
 * `base` is where user settings come from (normally settings('.env')); AWS_PROFILE and the like are dropped so a
 * developer's real credentials can never reach the local functions.
 */
export function functionEnv(options: {
  base: Record<string, string | undefined>;
  resources: StackResources;
  endpoints: { dynamo: string; sqs: string; s3?: string };
  accessKey?: string;
}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.base)) {
    if (v === undefined) continue;
    if (/^AWS_(PROFILE|SESSION_TOKEN|SECURITY_TOKEN|CONFIG_FILE|SHARED_CREDENTIALS_FILE|ROLE_ARN|WEB_IDENTITY_TOKEN_FILE|ENDPOINT_URL.*)$/.test(k)) continue;
    out[k] = v;
  }
  return {
    ...out,
    KOOGALLERY_ACCESS_KEY: options.accessKey || options.base.KOOGALLERY_ACCESS_KEY || LOCAL_DEFAULT_ACCESS_KEY,
    ...resourceEnv(options.resources),
    ...awsEnv(options.endpoints),
  };
}
