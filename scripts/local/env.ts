/**
 * The environment the functions see locally: the settings of lib/config.ts, pointed at the local emulators and at
 * the local stand-ins for the outside world (the fake KooGallery Open API, the reference webhook receiver).
 * Precedence: defaults (lib/config.ts, then the local ones below) < .env file < the shell's environment < what the
 * local stack dictates (endpoints, names, the stand-ins' URLs, fake AWS credentials, which must never be a
 * developer's real ones). An empty value counts as "not set", as in lib/config.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError, parseConfig } from '#lib/config.ts';
import type { ApigCredentials } from '#lib/koogallery/apig.ts';
import { MIN_SECRET_LENGTH } from '#lib/provisioning/webhook.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type StackResources } from './emulators.ts';
import {
  FAKE_OPENAPI_DEFAULT_CREDENTIALS,
  FAKE_OPENAPI_DEFAULT_PORT,
  MOCK_PAY_PER_USE_PRODUCT_IDS,
  MOCK_PRODUCT_IDS,
} from './fake-openapi.ts';
import { FAKE_ONEACCESS_DEFAULT_PORT } from './fake-oneaccess.ts';
import { WEBHOOK_PATH } from './webhook-receiver.ts';

/** Documented local default (see .env.example); never used on AWS, where the key comes from SSM. */
export const LOCAL_DEFAULT_ACCESS_KEY = 'local-dev-access-key-change-me';

/** AK/SK shared by the functions and the fake Open API when KOOGALLERY_AK/SK are not set (documented, local only). */
export const LOCAL_DEFAULT_OPENAPI_CREDENTIALS: ApigCredentials = FAKE_OPENAPI_DEFAULT_CREDENTIALS;

/** Secret shared by the functions and the reference webhook receiver when WEBHOOK_SECRET is not set (local only). */
export const LOCAL_DEFAULT_WEBHOOK_SECRET = 'local-dev-webhook-secret-change-me';

/** Ports of the stand-ins: the receiver's is the one its standalone main uses; the fake's is clear of it. */
export const LOCAL_DEFAULT_PORTS = {
  FAKE_OPENAPI_PORT: FAKE_OPENAPI_DEFAULT_PORT,
  WEBHOOK_RECEIVER_PORT: 4010,
  FAKE_ONEACCESS_PORT: FAKE_ONEACCESS_DEFAULT_PORT,
} as const;

/** The secret the product presents to POST /sso/session when SSO_PRODUCT_SECRET is not set (local only). */
export const LOCAL_DEFAULT_SSO_PRODUCT_SECRET = 'local-dev-sso-product-secret-change-me';

/**
 * The single sign-on's local settings under the user's: our callback on the local HTTP API, the fake OneAccess's
 * stand-in product as the product's login URL, the product's secret and the signing key kept in .local/.
 */
export function ssoLocalDefaults(options: { httpUrl: string; fakeOneAccessUrl?: string; signingKey: string }): Record<string, string> {
  return {
    SSO_CALLBACK_URL: `${options.httpUrl}/sso/callback`,
    ...(options.fakeOneAccessUrl ? { SSO_PRODUCT_LOGIN_URL: `${options.fakeOneAccessUrl}/_product/login` } : {}),
    SSO_PRODUCT_SECRET: LOCAL_DEFAULT_SSO_PRODUCT_SECRET,
    SSO_SIGNING_KEY: options.signingKey,
  };
}

/** The product the local stack supervises and gives a fee share by default (`koogallery-sim scenario supervision`). */
export const LOCAL_SUPERVISED_PRODUCT = 'OFFI-LOCAL-SUPERVISED';

/**
 * Local defaults that differ from lib/config.ts's: the whole asynchronous flow runs (Query Order on the fake, the
 * reference receiver as the seller's product, which the webhook may reach on the loopback). `.env` or the shell may
 * set `PROVISIONING_MODE=template` or `ORDER_QUERY=false` instead.
 */
export const LOCAL_DEFAULT_SETTINGS = {
  PROVISIONING_MODE: 'webhook',
  // The documented local Kit key (joint-operation Kit calls, README "Joint-operation products"); never on AWS.
  KOOGALLERY_KIT_ACCESS_KEY: 'local-kit-access-key',
  ORDER_QUERY: 'true',
  // The reference receiver, or the seller's own product under test, listens on this machine (127.0.0.1).
  WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true',
  // A demo product under service supervision with a fee share, for `koogallery-sim scenario supervision`.
  SUPERVISED_PRODUCTS: LOCAL_SUPERVISED_PRODUCT,
  // Fee shares and a pay-per-use price for the products of the fake Open API's orders (the simulator's orders take
  // their terms), so the local month's statement settles what the simulator bought instead of reporting problems.
  SETTLEMENT_FEE_SHARES: [LOCAL_SUPERVISED_PRODUCT, ...MOCK_PRODUCT_IDS].map((p) => `${p}=0.15`).join(','),
  SETTLEMENT_PRICES: MOCK_PAY_PER_USE_PRODUCT_IDS.map((p) => `${p}=0.01:CNY:unit`).join(','),
} as const;

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
    // fauxqs serves SNS on its SQS port.
    AWS_ENDPOINT_URL_SNS: endpoints.sqs,
    // Local S3 endpoints are addressed by path (http://127.0.0.1:port/bucket/key).
    S3_FORCE_PATH_STYLE: 'true',
  };
}

function queueUrl(resources: StackResources, logicalId: string): string {
  const queue = resources.queues[logicalId];
  if (!queue) throw new Error(`Queue ${logicalId} is not defined in serverless.yml/resources`);
  return queue.url;
}

function bucket(resources: StackResources, logicalId: string): string {
  const name = resources.buckets[logicalId];
  if (!name) throw new Error(`Bucket ${logicalId} is not defined in serverless.yml/resources`);
  return name;
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
    SETTLEMENT_QUEUE_URL: queueUrl(resources, 'SettlementQueue'),
    FILES_BUCKET: bucket(resources, 'FilesBucket'),
    // The notifications go to the local topic, as on AWS to the stack's (lib/notifications).
    ...(resources.topics.NotificationsTopic ? { NOTIFY_TOPIC_ARN: resources.topics.NotificationsTopic.arn } : {}),
  };
}

/** A setting as given: undefined when absent or empty. */
function given(base: Record<string, string | undefined>, name: string): string | undefined {
  const value = base[name];
  return value === undefined || value === '' ? undefined : value;
}

/** lib/config.ts's reading of a flag. */
export function isOn(value: string | undefined): boolean {
  return ['true', '1', 'on', 'yes'].includes((value ?? '').toLowerCase());
}

/** True when `url` is http://127.0.0.1:<port> or http://localhost:<port> (with `path`, if given): a stand-in's own address. */
function isLocalAddress(url: string, port: number, path?: string): boolean {
  try {
    const u = new URL(url);
    const samePath = path === undefined || u.pathname.replace(/\/+$/, '') === path;
    return u.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(u.hostname) && u.port === String(port) && samePath;
  } catch {
    return false;
  }
}

/** Which local stand-ins `npm start` runs, and with what, given the user's settings (.env under the shell). */
export interface LocalIntegrationsPlan {
  /** The fake KooGallery Open API: Query Order is on and OPENAPI_BASE_URL is unset (or is the fake's own address). */
  fakeOpenApi: { port: number; credentials: ApigCredentials } | undefined;
  /** The reference webhook receiver: webhook mode and WEBHOOK_URL unset (or the receiver's own address). */
  webhookReceiver: { port: number; secret: string } | undefined;
  provisioningMode: string;
  orderQuery: boolean;
  /** Why a stand-in is not started, for the start banner. */
  skipped: { fakeOpenApi?: string; webhookReceiver?: string };
}

export function planLocalIntegrations(
  base: Record<string, string | undefined>,
  ports: { fakeOpenApi: number; webhookReceiver: number },
): LocalIntegrationsPlan {
  const provisioningMode = given(base, 'PROVISIONING_MODE') ?? LOCAL_DEFAULT_SETTINGS.PROVISIONING_MODE;
  const orderQuery = isOn(given(base, 'ORDER_QUERY') ?? LOCAL_DEFAULT_SETTINGS.ORDER_QUERY);
  const skipped: LocalIntegrationsPlan['skipped'] = {};

  let fakeOpenApi: LocalIntegrationsPlan['fakeOpenApi'];
  const baseUrl = given(base, 'OPENAPI_BASE_URL');
  if (!orderQuery) skipped.fakeOpenApi = 'ORDER_QUERY is off';
  else if (baseUrl && !isLocalAddress(baseUrl, ports.fakeOpenApi)) skipped.fakeOpenApi = 'OPENAPI_BASE_URL points elsewhere';
  else {
    fakeOpenApi = {
      port: ports.fakeOpenApi,
      credentials: {
        ak: given(base, 'KOOGALLERY_AK') ?? LOCAL_DEFAULT_OPENAPI_CREDENTIALS.ak,
        sk: given(base, 'KOOGALLERY_SK') ?? LOCAL_DEFAULT_OPENAPI_CREDENTIALS.sk,
      },
    };
  }

  let webhookReceiver: LocalIntegrationsPlan['webhookReceiver'];
  const webhookUrl = given(base, 'WEBHOOK_URL');
  if (provisioningMode !== 'webhook') skipped.webhookReceiver = `PROVISIONING_MODE is ${provisioningMode}`;
  else if (webhookUrl && !isLocalAddress(webhookUrl, ports.webhookReceiver, WEBHOOK_PATH)) {
    skipped.webhookReceiver = 'WEBHOOK_URL points at your own product';
  } else {
    webhookReceiver = { port: ports.webhookReceiver, secret: given(base, 'WEBHOOK_SECRET') ?? LOCAL_DEFAULT_WEBHOOK_SECRET };
  }
  return { fakeOpenApi, webhookReceiver, provisioningMode, orderQuery, skipped };
}

/** The stand-ins that are running: what the functions are pointed at. */
export interface RunningIntegrations {
  fakeOpenApi?: { url: string; credentials: ApigCredentials } | undefined;
  webhookReceiver?: { url: string; secret: string } | undefined;
}

/**
 * The functions' settings for the stand-ins, in two layers: `defaults` go under the user's settings (local
 * defaults of lib/config.ts settings, the local AK/SK and secret), `dictated` over them (the stand-ins' URLs).
 */
export function integrationEnv(running: RunningIntegrations): { defaults: Record<string, string>; dictated: Record<string, string> } {
  const defaults: Record<string, string> = { ...LOCAL_DEFAULT_SETTINGS };
  const dictated: Record<string, string> = {};
  if (running.fakeOpenApi) {
    // Never the real marketplace's fallback host with local credentials.
    defaults.OPENAPI_FALLBACK_URL = 'none';
    defaults.KOOGALLERY_AK = running.fakeOpenApi.credentials.ak;
    defaults.KOOGALLERY_SK = running.fakeOpenApi.credentials.sk;
    dictated.OPENAPI_BASE_URL = running.fakeOpenApi.url;
  }
  if (running.webhookReceiver) {
    defaults.WEBHOOK_SECRET = running.webhookReceiver.secret;
    dictated.WEBHOOK_URL = running.webhookReceiver.url;
  }
  return { defaults, dictated };
}

/**
 * Full environment for a process running the functions (serverless-offline) or the tests.
 * `base` is where user settings come from (normally settings('.env')); AWS_PROFILE and the like are dropped so a
 * developer's real credentials can never reach the local functions. `integrations` are the stand-ins that run.
 */
export function functionEnv(options: {
  base: Record<string, string | undefined>;
  resources: StackResources;
  endpoints: { dynamo: string; sqs: string; s3?: string };
  accessKey?: string;
  integrations?: RunningIntegrations;
}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.base)) {
    if (v === undefined) continue;
    if (
      /^AWS_(PROFILE|SESSION_TOKEN|SECURITY_TOKEN|CONFIG_FILE|SHARED_CREDENTIALS_FILE|ROLE_ARN|WEB_IDENTITY_TOKEN_FILE|ENDPOINT_URL.*)$/.test(
        k,
      )
    )
      continue;
    out[k] = v;
  }
  const { defaults, dictated } = integrationEnv(options.integrations ?? {});
  for (const [k, v] of Object.entries(defaults)) if (!out[k]) out[k] = v;
  return {
    ...out,
    ...dictated,
    KOOGALLERY_ACCESS_KEY: options.accessKey || options.base.KOOGALLERY_ACCESS_KEY || LOCAL_DEFAULT_ACCESS_KEY,
    ...resourceEnv(options.resources),
    ...awsEnv(options.endpoints),
  };
}

/**
 * What the functions would refuse at their first call, found before anything starts: lib/config.ts's rules, plus
 * the webhook secret's length, which the provision function checks. Undefined when the environment is usable.
 */
export function functionEnvProblem(env: Record<string, string | undefined>): string | undefined {
  let cfg;
  try {
    cfg = parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.replace(/^Invalid configuration\. /, '');
    throw error;
  }
  if (cfg.PROVISIONING_MODE !== 'webhook') return undefined;
  if (!cfg.WEBHOOK_SECRET_PARAMETER && (cfg.WEBHOOK_SECRET ?? '').length < MIN_SECRET_LENGTH) {
    return `WEBHOOK_SECRET must be at least ${MIN_SECRET_LENGTH} characters`;
  }
  return undefined;
}
