import * as z from 'zod/mini';
import { assertWebhookUrl } from '#lib/provisioning/webhookUrl.ts';
import { parseBillColumns } from '#lib/settlement/billColumns.ts';
import type { SupervisionSettings } from '#lib/settlement/billingFacts.ts';
import type { SettlementSettings } from '#lib/settlement/model.ts';
import type { SupervisionDeadlines } from '#lib/supervision/deadlines.ts';
import { parseFeeShares, parsePrices, parseProofKinds, parseTimeZone } from '#lib/settlement/settings.ts';
import { errorMessage } from '#lib/shared/errors.ts';
import { secretBytes } from '#lib/notifications/standardWebhooks.ts';
import { addCustomIssue } from '#lib/shared/zodMessages.ts';
import { DEFAULT_UNIFIED_LOGIN_URL } from '#lib/sso/urls.ts';
import { csvSet, parseUsageProducts, type MeteringSettings } from '#lib/usage/metering.ts';

/**
 * Every setting the functions read, parsed once from the environment.
 * A missing or malformed setting stops the function at start-up with a message naming it.
 * `.env.example` lists them all with their defaults.
 */

const FLAG_VALUES = ['true', 'false', '1', '0', 'on', 'off', 'yes', 'no', ''] as const;
const flag = (fallback: boolean) =>
  z.pipe(
    z.optional(z.enum(FLAG_VALUES)),
    z.transform((v: (typeof FLAG_VALUES)[number] | undefined) =>
      v === undefined || v === '' ? fallback : ['true', '1', 'on', 'yes'].includes(v),
    ),
  );

const positiveInt = (fallback: number) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((v: string | undefined, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        addCustomIssue(ctx, `must be a positive integer, got "${v}"`);
        return z.NEVER;
      }
      return n;
    }),
  );

const optionalText = z.pipe(
  z.optional(z.string()),
  z.transform((v: string | undefined) => (v === undefined || v === '' ? undefined : v)),
);

/** A setting its domain parses (a list, a map, a time zone): the parser's error becomes the setting's issue. */
const parsedBy = <T>(parse: (value: string | undefined) => T) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((v: string | undefined, ctx) => {
      try {
        return parse(v === '' ? undefined : v);
      } catch (error) {
        addCustomIssue(ctx, errorMessage(error));
        return z.NEVER;
      }
    }),
  );

/** Text of at least one character, `fallback` when unset. */
const textOr = (fallback: string) => z._default(z.string().check(z.minLength(1)), fallback);
/** A URL (any scheme the URL parser accepts). */
const url = () => z.string().check(z.url());
/** A comma-separated list as a set, `fallback` when unset. */
const csvSetOr = (fallback: string) =>
  z.pipe(
    z._default(z.string(), fallback),
    z.transform((v: string) => csvSet(v)),
  );

const envSchema = z.object({
  STAGE: textOr('local'),
  MAIN_TABLE: z.string().check(z.minLength(1)),
  AUDIT_TABLE: z.string().check(z.minLength(1)),
  PROVISIONING_QUEUE_URL: url(),
  /** Settlement runs fan out through this queue (segments, then assembly). */
  SETTLEMENT_QUEUE_URL: z.optional(url()),
  /** The private bucket of proofs, statements and bill exports (resources/s3.yml). */
  FILES_BUCKET: optionalText,
  /** Path-style S3 addressing: needed by local S3 endpoints (http://127.0.0.1:…), never on AWS. */
  S3_FORCE_PATH_STYLE: flag(false),

  /** On AWS: names of SSM SecureString parameters. Locally: the keys themselves. */
  KOOGALLERY_ACCESS_KEY_PARAMETER: optionalText,
  KOOGALLERY_PREVIOUS_ACCESS_KEY_PARAMETER: optionalText,
  KOOGALLERY_ACCESS_KEY: optionalText,
  KOOGALLERY_PREVIOUS_ACCESS_KEY: optionalText,

  SIGNATURE_WINDOW_SECONDS: positiveInt(60),
  NONCE_TTL_SECONDS: positiveInt(300),
  MAX_BODY_BYTES: positiveInt(65_536),
  BODY_SIGN: flag(true),
  TEST_INSTANCE_TTL_DAYS: positiveInt(7),

  /** What provides a new instance's appInfo: URL templates (no call) or the seller's webhook. */
  PROVISIONING_MODE: z._default(z.enum(['template', 'webhook']), 'template'),
  /** Query Order (spec §8.1) for every new instance, upgrade and renewal; needs the AK/SK. */
  ORDER_QUERY: flag(true),
  /** queryInstance while provisioning is under way: 000004 ("request is processing") or 000000 without appInfo. */
  QUERY_PROVISIONING_ANSWER: z._default(z.enum(['000004', 'success']), '000004'),

  OPENAPI_BASE_URL: z._default(url(), 'https://mkt.myhuaweicloud.com'),
  /** Tried when the base host cannot be reached; `none` disables it. */
  OPENAPI_FALLBACK_URL: z._default(z.union([z.literal('none'), url()]), 'https://mkt.myhuaweicloud.cn'),
  /** Huawei Cloud AK/SK for the Open API: SSM SecureString names on AWS, the values locally. */
  KOOGALLERY_AK_PARAMETER: optionalText,
  KOOGALLERY_SK_PARAMETER: optionalText,
  KOOGALLERY_AK: optionalText,
  KOOGALLERY_SK: optionalText,

  /** The seller's provisioning webhook: https, or http on the loopback only (checked in webhook mode, lib/provisioning/webhook.ts). */
  WEBHOOK_URL: optionalText,
  /** The webhook's shared secret: an SSM SecureString name on AWS, the value locally. */
  WEBHOOK_SECRET_PARAMETER: optionalText,
  WEBHOOK_SECRET: optionalText,
  WEBHOOK_TIMEOUT_MS: positiveInt(3_000),
  /**
   * Let the webhook reach loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (cloud metadata),
   * CGNAT, unspecified, multicast and reserved addresses: a product on the same machine or network. The local stack
   * turns it on; on AWS leave it off (lib/provisioning/webhookAddress.ts).
   */
  WEBHOOK_ALLOW_PRIVATE_HOSTS: flag(false),

  /** Notifications for the seller's people (lib/notifications): the stack's SNS topic (serverless.yml sets it). */
  NOTIFY_TOPIC_ARN: optionalText,
  /**
   * Notifications also POSTed to the seller's own endpoint, signed the Standard Webhooks way with
   * NOTIFY_WEBHOOK_SECRET (`whsec_<base64>`: an SSM SecureString name on AWS, the value locally).
   */
  NOTIFY_WEBHOOK_URL: optionalText,
  NOTIFY_WEBHOOK_SECRET_PARAMETER: optionalText,
  NOTIFY_WEBHOOK_SECRET: optionalText,
  /** The provisioning queue's dead-letter queue: the safety sweep notifies while it holds messages. */
  PROVISIONING_DLQ_URL: optionalText,

  /** Safety sweep: provisioning older than this is re-queued, at most STUCK_PROVISIONING_REQUEUES times, then reported. */
  STUCK_PROVISIONING_MINUTES: positiveInt(10),
  STUCK_PROVISIONING_REQUEUES: positiveInt(3),
  /** Safety sweep: hours after expireTime before an instance the marketplace did not freeze is flagged. */
  EXPIRY_GRACE_HOURS: positiveInt(24),
  /**
   * Service supervision's deadlines, watched by the hourly safety sweep: days the seller has to upload the delivery
   * proofs of a round, days the buyer (or Huawei) has to decide on them (after that the other side may appeal an idle
   * counterpart, spec §8.3), and how many hours before either deadline the seller's people are told.
   */
  SUPERVISION_PROOF_DAYS: positiveInt(5),
  SUPERVISION_DECISION_DAYS: positiveInt(5),
  SUPERVISION_DEADLINE_NOTICE_HOURS: positiveInt(48),

  /** V1 answers encrypt appInfo.userName/password: "1" AES-256, "2" AES-128 (spec §7.6). */
  V1_ENCRYPT_TYPE: z._default(z.enum(['1', '2']), '1'),
  APP_FRONTEND_URL_TEMPLATE: textOr('https://app.example.com/t/{instanceId}'),
  APP_ADMIN_URL_TEMPLATE: optionalText,
  APP_USER_NAME_TEMPLATE: optionalText,
  APP_MEMO: optionalText,

  /** Usage metering (lib/usage/metering.ts): metered products (`id` or `id:daily`), metered and package charging modes. */
  USAGE_PRODUCTS: parsedBy(parseUsageProducts),
  USAGE_CHARGING_MODES: csvSetOr('ON_DEMAND,ON_DEMAND_PACKAGE'),
  USAGE_PACKAGE_CHARGING_MODES: csvSetOr('ON_DEMAND_PACKAGE'),
  /** Usage push: records per request (at most 100) and windows per run. */
  USAGE_PUSH_BATCH_SIZE: z.pipe(positiveInt(100), z.number().check(z.maximum(100, 'at most 100 records per request'))),
  USAGE_PUSH_MAX_WINDOWS: positiveInt(20_000),
  /** The marketplace's answer codes meaning "already have this record" (undocumented, spec §8.2): counted as accepted. */
  USAGE_DUPLICATE_CODES: z.pipe(
    z._default(z.string(), 'MKT.9005'),
    z.transform((v: string) => [...csvSet(v)]),
  ),
  /**
   * The public production address the availability probe calls twice a day (functions/probe.ts), e.g.
   * https://isv.example.com/koogallery/produce; unset, the probe does nothing.
   */
  PROBE_URL: z.optional(z.url({ protocol: /^https?$/ })),
  /** The seller API's largest request body (a usage request of 1000 records is about 200 KB). */
  SELLER_MAX_BODY_BYTES: positiveInt(1_048_576),

  /** Service supervision (spec §8.3): products whose orders need delivery proofs and acceptance before billing. */
  SUPERVISED_PRODUCTS: csvSetOr(''),
  /** Supervised products sold as enabling-cloud (赋能云) offers: acceptance passes a Huawei review first. */
  SUPERVISION_ENABLING_CLOUD_PRODUCTS: csvSetOr(''),
  /** Proof kinds that must be verified before supervision moves to PROOF_SUBMITTED. */
  SUPERVISION_REQUIRED_KINDS: parsedBy((v) => parseProofKinds(v ?? 'acceptance')),
  /** Largest delivery proof accepted (bytes), 50 MB by default. */
  PROOF_MAX_BYTES: positiveInt(50 * 1024 * 1024),

  /** Settlement (lib/settlement/, docs/settlement.md): the statement's time zone and per-product terms. */
  SETTLEMENT_TIME_ZONE: parsedBy((v) => parseTimeZone(v ?? 'Asia/Shanghai')),
  /** `productId=share,…`, e.g. `OFFI1=0.15`: the platform fee share per product; a product without one is reported. */
  SETTLEMENT_FEE_SHARES: parsedBy(parseFeeShares),
  /** Withholding tax rate on (gross − fee), e.g. `0.06`; `0` when none. */
  SETTLEMENT_TAX_RATE: z._default(z.string().check(z.regex(/^(0|0?\.\d{1,6}|1)$/, 'a fraction between 0 and 1, e.g. 0.06')), '0'),
  /** Pay-per-use price list: `productId=unitPrice:currency:unit,…`, e.g. `OFFI2=0.02:CNY:GB`. */
  SETTLEMENT_PRICES: parsedBy(parsePrices),
  /** Currency of order lines whose order does not name one. */
  SETTLEMENT_CURRENCY: z._default(z.string().check(z.regex(/^[A-Z]{3}$/, 'an ISO 4217 code, e.g. CNY')), 'CNY'),
  /** The marketplace bill export's column names: `orderId=…,orderLineId=…,amount=…[,instanceId=…,currency=…,type=…]`. */
  BILL_COLUMNS: parsedBy(parseBillColumns),

  /**
   * Single sign-on for the seller's product through the tenant's OneAccess (lib/sso, docs/sso.md). The sso function
   * needs SSO_CALLBACK_URL (ours, registered as the app credential's callback: https://<domain>/sso/callback),
   * SSO_PRODUCT_LOGIN_URL (where the product receives the signed assertion), the signing key and the product's secret.
   */
  SSO_CALLBACK_URL: z.optional(url()),
  SSO_PRODUCT_LOGIN_URL: z.optional(url()),
  /** `aud` of the assertion; unset: the origin of SSO_PRODUCT_LOGIN_URL. */
  SSO_AUDIENCE: optionalText,
  /** The app credential's App ID: the unified login page's `appId`, and the app of a login that names none. */
  SSO_APP_ID: optionalText,
  /** The unified login page (spec §5.2), `{appId}` replaced. */
  SSO_UNIFIED_LOGIN_URL: z._default(url(), DEFAULT_UNIFIED_LOGIN_URL),
  /** Where OneAccess sends the browser after a logout; unset: the origin of SSO_PRODUCT_LOGIN_URL. */
  SSO_LOGGED_OUT_URL: z.optional(url()),
  SSO_STATE_TTL_SECONDS: positiveInt(600),
  SSO_SESSION_TTL_SECONDS: positiveInt(28_800),
  SSO_ASSERTION_TTL_SECONDS: z.pipe(positiveInt(60), z.number().check(z.maximum(60, 'at most 60 seconds'))),
  /** A callback without `state` (unified login, enterprise workbench): start a login of our own, accept it, or refuse it. */
  SSO_UNSOLICITED_LOGIN: z._default(z.enum(['restart', 'accept', 'refuse']), 'restart'),
  /** Each call to a tenant's OneAccess (token, refresh, userinfo) gives up after this long. */
  SSO_TIMEOUT_MS: positiveInt(3_000),
  /** The assertion's signing key, EC P-256 PKCS#8 PEM: an SSM SecureString name on AWS, the value locally. */
  SSO_SIGNING_KEY_PARAMETER: optionalText,
  SSO_SIGNING_KEY: optionalText,
  /** The secret the product presents to POST /sso/session: an SSM SecureString name on AWS, the value locally. */
  SSO_PRODUCT_SECRET_PARAMETER: optionalText,
  SSO_PRODUCT_SECRET: optionalText,

  /**
   * Joint-operation Kit calls (lib/kit/, spec kit.md): the Kit access key (a key of its own, bound to the Kit paths
   * in the Seller Console) and its previous value during a rotation; the seller's RSA private key (PKCS#8 PEM) that
   * decrypts applicationSync's clientSecret. SSM SecureString names on AWS, the values locally.
   */
  KOOGALLERY_KIT_ACCESS_KEY_PARAMETER: optionalText,
  KOOGALLERY_KIT_ACCESS_KEY_PREVIOUS_PARAMETER: optionalText,
  KOOGALLERY_KIT_ACCESS_KEY: optionalText,
  KOOGALLERY_KIT_ACCESS_KEY_PREVIOUS: optionalText,
  KIT_RSA_PRIVATE_KEY_PARAMETER: optionalText,
  KIT_RSA_PRIVATE_KEY: optionalText,
  /** The largest Kit body: an authSync of 500 users with every field is about 300 KB. */
  KIT_MAX_BODY_BYTES: positiveInt(524_288),
  /** A binding (tenantSync, applicationSync) naming an instance newInstance never issued: stored, or refused with 000003. */
  KIT_UNKNOWN_INSTANCE: z._default(z.enum(['accept', 'refuse']), 'accept'),
  /** Departments a full org sync (allOrgSync) does not list: archived, deleted, or kept. */
  KIT_UNLISTED_ORGS: z._default(z.enum(['archive', 'delete', 'keep']), 'archive'),

  CHANGE_CHECK_POLICY: z._default(z.enum(['allow', 'deny']), 'allow'),
  /** What releaseInstance answers for an instance id we never issued: 000003 (documented) or success. */
  RELEASE_UNKNOWN_ANSWER: z._default(z.enum(['000003', 'success']), '000003'),
});

export type Config = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses an environment; throws ConfigError naming every bad setting. Pure: pass any record. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // An empty value means "not set" (serverless.yml passes unset settings through as '').
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(given);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const setting = i.path.join('.') || '(environment)';
      return i.message.startsWith(`${setting}: `) ? i.message : `${setting}: ${i.message}`;
    });
    throw new ConfigError(`Invalid configuration. ${problems.join('; ')}`);
  }
  const config = result.data;
  const missing: string[] = [];
  if (!config.KOOGALLERY_ACCESS_KEY_PARAMETER && !config.KOOGALLERY_ACCESS_KEY) {
    missing.push('KOOGALLERY_ACCESS_KEY_PARAMETER (an SSM SecureString name, on AWS) or KOOGALLERY_ACCESS_KEY (locally) must be set');
  }
  if (
    config.ORDER_QUERY &&
    !(config.KOOGALLERY_AK_PARAMETER && config.KOOGALLERY_SK_PARAMETER) &&
    !(config.KOOGALLERY_AK && config.KOOGALLERY_SK)
  ) {
    missing.push(
      'ORDER_QUERY is on: KOOGALLERY_AK_PARAMETER and KOOGALLERY_SK_PARAMETER (on AWS) or KOOGALLERY_AK and KOOGALLERY_SK (locally) must be set',
    );
  }
  if (config.PROVISIONING_MODE === 'webhook' && (!config.WEBHOOK_URL || !(config.WEBHOOK_SECRET_PARAMETER || config.WEBHOOK_SECRET))) {
    missing.push('PROVISIONING_MODE is webhook: WEBHOOK_URL and WEBHOOK_SECRET_PARAMETER (on AWS) or WEBHOOK_SECRET (locally) must be set');
  }
  const webhookUrlProblem =
    config.PROVISIONING_MODE === 'webhook' && config.WEBHOOK_URL ? problemOf(() => assertWebhookUrl(config.WEBHOOK_URL ?? '')) : undefined;
  if (webhookUrlProblem) missing.push(`WEBHOOK_URL: ${webhookUrlProblem}`);
  if (config.NOTIFY_WEBHOOK_URL) {
    const problem = problemOf(() => assertWebhookUrl(config.NOTIFY_WEBHOOK_URL ?? ''));
    if (problem) missing.push(`NOTIFY_WEBHOOK_URL: ${problem}`);
    if (!(config.NOTIFY_WEBHOOK_SECRET_PARAMETER || config.NOTIFY_WEBHOOK_SECRET)) {
      missing.push('NOTIFY_WEBHOOK_URL is set: NOTIFY_WEBHOOK_SECRET_PARAMETER (on AWS) or NOTIFY_WEBHOOK_SECRET (locally) must be set');
    }
    const secretProblem = config.NOTIFY_WEBHOOK_SECRET ? problemOf(() => secretBytes(config.NOTIFY_WEBHOOK_SECRET ?? '')) : undefined;
    if (secretProblem) missing.push(`NOTIFY_WEBHOOK_SECRET: ${secretProblem}`);
  }
  if (missing.length > 0) throw new ConfigError(`Invalid configuration. ${missing.join('; ')}`);
  return config;
}

/** What is wrong, in the check's own words, or undefined. */
function problemOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    return errorMessage(error);
  }
}

let cached: Config | undefined;

/** The process's configuration, parsed on first use. */
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

export function meteringSettings(config: Config): MeteringSettings {
  return {
    products: config.USAGE_PRODUCTS,
    chargingModes: config.USAGE_CHARGING_MODES,
    packageChargingModes: config.USAGE_PACKAGE_CHARGING_MODES,
  };
}

/** Provisioning runs in the worker, and new instances wait in PROVISIONING, whenever it has a step to take. */
export function asyncProvisioning(config: Config): boolean {
  return config.PROVISIONING_MODE === 'webhook' || config.ORDER_QUERY;
}

/**
 * A setting that is optional for the stack but required by one function (the settlement queue, the files bucket):
 * its value, or a ConfigError naming it and what needs it.
 */
export function requireSetting<K extends keyof Config>(config: Config, name: K, neededBy: string): NonNullable<Config[K]> {
  const value = config[name];
  if (value === undefined || value === '') throw new ConfigError(`Invalid configuration. ${name} must be set for ${neededBy}`);
  return value as NonNullable<Config[K]>;
}

/** Settlement's terms (docs/settlement.md). */
export function settlementSettings(config: Config): SettlementSettings {
  return {
    timeZone: config.SETTLEMENT_TIME_ZONE,
    feeShares: config.SETTLEMENT_FEE_SHARES,
    taxRate: config.SETTLEMENT_TAX_RATE,
    prices: config.SETTLEMENT_PRICES,
  };
}

/** Which products are supervised (spec §8.3), which of them are enabling-cloud offers, and the proofs each round needs. */
export function supervisionSettings(config: Config): SupervisionSettings {
  return {
    supervisedProducts: config.SUPERVISED_PRODUCTS,
    enablingCloudProducts: config.SUPERVISION_ENABLING_CLOUD_PRODUCTS,
    requiredKinds: config.SUPERVISION_REQUIRED_KINDS,
  };
}

/** Service supervision's deadlines, and how long before them the seller's people are told. */
export function supervisionDeadlines(config: Config): SupervisionDeadlines {
  return {
    proofDays: config.SUPERVISION_PROOF_DAYS,
    decisionDays: config.SUPERVISION_DECISION_DAYS,
    noticeHours: config.SUPERVISION_DEADLINE_NOTICE_HOURS,
  };
}
