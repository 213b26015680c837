/**
 * What the single sign-on needs from the outside world, implemented by lib/store (the Kit sync's directory, login
 * states and sessions in the main table), lib/sso/oneAccess.ts (the tenant's OneAccess over HTTPS) and the key
 * settings (lib/sso/deps.ts). The flows take these and nothing else.
 */
import type { SellerActionInput } from '#lib/audit/sellerActions.ts';
import type { LoginState, OneAccessTokens, OneAccessUserInfo, SsoApp, SsoSession, SsoTenant, SsoUser } from './model.ts';

/** The tenants, applications and users the Kit sync stored (read only). */
export interface SsoDirectory {
  tenant(tenantId: string): Promise<SsoTenant | undefined>;
  /** Every application of the tenant, whatever its status. */
  apps(tenantId: string): Promise<SsoApp[]>;
  user(tenantId: string, appId: string, userName: string): Promise<SsoUser | undefined>;
}

/** Login states: stored once, consumed at most once, refused after they expire. */
export interface LoginStateStore {
  /** Stores the state (by its hash); a state that exists already is an error (it is random: it never does). */
  save(state: string, value: LoginState): Promise<void>;
  /** Removes and returns the state if it exists and has not expired at `nowSeconds`; undefined otherwise. */
  consume(state: string, nowSeconds: number): Promise<LoginState | undefined>;
}

/** Server-side sessions, by the hash of their id. */
export interface SessionStore {
  create(sessionId: string, session: SsoSession): Promise<void>;
  /** The session unless it is absent or ended at `nowSeconds`. */
  get(sessionId: string, nowSeconds: number): Promise<SsoSession | undefined>;
  /** Stores refreshed tokens if nobody did since `previousVersion`; false when somebody did. */
  replaceTokens(sessionId: string, previousVersion: number, update: { sealedTokens: string; accessExpiresAt: number }): Promise<boolean>;
  delete(sessionId: string): Promise<void>;
}

/** Why OneAccess refused or failed a call. */
export type OneAccessFailure =
  /** The code or refresh token is unknown, used or expired (`invalid_grant`): start again. */
  | { kind: 'invalid_grant' }
  /** Any other refusal (bad client credentials, 401 on userinfo): the configuration or the tenant is wrong. */
  | { kind: 'refused'; status: number; error?: string }
  /** Not reached, timed out, or answered something that is not OneAccess's answer. */
  | { kind: 'unavailable'; reason: string };

export type OneAccessResult<T> = { ok: true; value: T } | ({ ok: false } & OneAccessFailure);

/** The tenant's OneAccess (spec §5.3–5.5), at `domainName`. */
export interface OneAccess {
  exchangeCode(
    domainName: string,
    client: { clientId: string; clientSecret: string },
    code: string,
    redirectUri: string,
  ): Promise<OneAccessResult<OneAccessTokens>>;
  refresh(
    domainName: string,
    client: { clientId: string; clientSecret: string },
    refreshToken: string,
  ): Promise<OneAccessResult<OneAccessTokens>>;
  userInfo(domainName: string, accessToken: string): Promise<OneAccessResult<OneAccessUserInfo>>;
}

/** Decrypts an application's client secret (base64 RSA-OAEP ciphertext) with the seller's private key. */
export type RevealClientSecret = (ciphertextB64: string) => Promise<string>;

/** Signs the hand-off assertion and publishes the key that verifies it. */
export interface AssertionSigner {
  /** A compact JWS of `claims`. */
  sign(claims: Record<string, unknown>): Promise<string>;
  /** The public keys as a JWK Set (`GET /sso/jwks.json`). */
  jwks(): Promise<{ keys: Record<string, unknown>[] }>;
}

/** Seals and opens the OneAccess tokens stored with a session. */
export interface TokenSealer {
  seal(tokens: OneAccessTokens, sessionKey: string): Promise<string>;
  open(sealed: string, sessionKey: string): Promise<OneAccessTokens>;
}

/** Appends one audit record of a login, refusal or logout; never fails the caller. */
export type SsoAudit = (record: SellerActionInput) => Promise<void>;
