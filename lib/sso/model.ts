/**
 * The single sign-on's data: what the Kit sync stored about a tenant, its OAuth client (application) and its
 * authorised users, what OneAccess answers (tokens, userinfo), and our own login state and sessions.
 */

/** A buyer enterprise (tenantSync): its OneAccess base URL is `domainName`, always with a scheme. */
export interface SsoTenant {
  tenantId: string;
  tenantCode: string;
  name: string;
  domainName: string;
  status: 'ACTIVE' | 'DELETED';
  test: boolean;
}

/** The tenant's OAuth client for one app credential (applicationSync); the secret stays encrypted here. */
export interface SsoApp {
  appId: string;
  clientId: string;
  /** base64 RSA-OAEP ciphertext made with the seller's public key, as the marketplace sent it. */
  clientSecretCiphertext: string;
  status: 'ACTIVE' | 'DELETED';
}

/** A user the enterprise authorised for the app (authSync). */
export interface SsoUser {
  userName: string;
  name: string;
  orgCode: string;
  role: 'admin' | 'user';
  enabled: boolean;
  status: 'AUTHORISED' | 'REVOKED' | 'DELETED';
}

/** What OneAccess's token endpoint gives for a code or a refresh token (spec §5.3, §5.4). */
export interface OneAccessTokens {
  accessToken: string;
  /** Seconds the access token lives. */
  expiresIn: number;
  refreshToken?: string;
}

/** OneAccess's userinfo (spec §5.5): every field optional but the user name we match on. */
export interface OneAccessUserInfo {
  userName: string;
  name?: string;
  tenant?: string;
}

/** A login in progress: what the `state` parameter stands for until the callback consumes it. */
export interface LoginState {
  tenantId: string;
  appId: string;
  /** A path on the product the user asked for, handed on in the assertion. */
  returnTo?: string;
  /** Epoch seconds after which the state is refused (the table's TTL removes it later). */
  expiresAt: number;
}

/** A signed-in user's session, kept server-side: the browser holds only its opaque id. */
export interface SsoSession {
  tenantId: string;
  tenantCode: string;
  appId: string;
  userName: string;
  role: 'admin' | 'user';
  /** The OneAccess tokens, sealed (lib/sso/tokenSeal.ts): never stored or sent in clear. */
  sealedTokens: string;
  /** Epoch seconds when the access token expires. */
  accessExpiresAt: number;
  /** Epoch seconds when the session ends whatever happens (SSO_SESSION_TTL_SECONDS after login). */
  expiresAt: number;
  /** Bumped on every refresh, so two concurrent refreshes cannot both store tokens. */
  version: number;
  createdAt: string;
}
