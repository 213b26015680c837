/**
 * The SSO's wiring: settings from lib/config.ts, the Kit sync's directory and our states and sessions in the main
 * table, the audit table, OneAccess over HTTPS, and the keys (SSM SecureStrings on AWS, plain values locally).
 */
import { dynamoClient } from '#lib/aws/clients.ts';
import { recordSellerActionOrLog } from '#lib/audit/sellerActions.ts';
import { requireSetting, type Config } from '#lib/config.ts';
import type { Log } from '#lib/log.ts';
import { revealClientSecret } from '#lib/kit/clientSecret.ts';
import { secretLoader } from '#lib/secrets.ts';
import { sellerActionLog } from '#lib/store/sellerActionLog.ts';
import { ssoDirectory } from '#lib/store/ssoDirectory.ts';
import { loginStateStore, sessionStore } from '#lib/store/ssoSessions.ts';
import { es256Signer } from './assertion.ts';
import type { SsoContext, SsoSettings } from './context.ts';
import { oneAccessClient } from './oneAccess.ts';
import { tokenSealer } from './tokenSeal.ts';

/** The SSO's settings; a ConfigError names a missing one. */
export function ssoSettings(cfg: Config): SsoSettings {
  const callbackUrl = requireSetting(cfg, 'SSO_CALLBACK_URL', 'the single sign-on');
  const productLoginUrl = requireSetting(cfg, 'SSO_PRODUCT_LOGIN_URL', 'the single sign-on');
  const productOrigin = new URL(productLoginUrl).origin;
  return {
    callbackUrl,
    productLoginUrl,
    issuer: new URL('.', callbackUrl).href.replace(/\/$/, ''),
    audience: cfg.SSO_AUDIENCE ?? productOrigin,
    unifiedLoginUrl: cfg.SSO_UNIFIED_LOGIN_URL,
    defaultAppId: cfg.SSO_APP_ID,
    loggedOutUrl: cfg.SSO_LOGGED_OUT_URL ?? productOrigin,
    stateTtlSeconds: cfg.SSO_STATE_TTL_SECONDS,
    sessionTtlSeconds: cfg.SSO_SESSION_TTL_SECONDS,
    assertionTtlSeconds: cfg.SSO_ASSERTION_TTL_SECONDS,
    unsolicitedLogin: cfg.SSO_UNSOLICITED_LOGIN,
    secureCookies: new URL(callbackUrl).protocol === 'https:',
  };
}

export function ssoContext(cfg: Config, log: Log): SsoContext {
  const dynamo = dynamoClient();
  const signingKey = secretLoader('SSO_SIGNING_KEY', { parameter: cfg.SSO_SIGNING_KEY_PARAMETER, value: cfg.SSO_SIGNING_KEY });
  const rsaKey = secretLoader('KIT_RSA_PRIVATE_KEY', { parameter: cfg.KIT_RSA_PRIVATE_KEY_PARAMETER, value: cfg.KIT_RSA_PRIVATE_KEY });
  const actions = sellerActionLog(dynamo, cfg.AUDIT_TABLE);
  return {
    settings: ssoSettings(cfg),
    directory: ssoDirectory(dynamo, cfg.MAIN_TABLE),
    states: loginStateStore(dynamo, cfg.MAIN_TABLE),
    sessions: sessionStore(dynamo, cfg.MAIN_TABLE),
    oneAccess: oneAccessClient({ timeoutMs: cfg.SSO_TIMEOUT_MS }),
    revealClientSecret: async (ciphertext) => revealClientSecret(ciphertext, await rsaKey()),
    signer: es256Signer(signingKey),
    sealer: tokenSealer(signingKey),
    audit: (record) => recordSellerActionOrLog({ actions, now: Date.now, log }, record),
    productSecret: secretLoader('SSO_PRODUCT_SECRET', { parameter: cfg.SSO_PRODUCT_SECRET_PARAMETER, value: cfg.SSO_PRODUCT_SECRET }),
    now: Date.now,
    log,
  };
}
