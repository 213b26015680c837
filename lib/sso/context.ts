/** What the SSO flows are given: their settings and their ports (wired in lib/sso/deps.ts, faked in tests). */
import type { Log } from '#lib/log.ts';
import type {
  AssertionSigner,
  LoginStateStore,
  OneAccess,
  RevealClientSecret,
  SessionStore,
  SsoAudit,
  SsoDirectory,
  TokenSealer,
} from './ports.ts';

/** How a callback without `state` (a login started at the unified login page or the enterprise workbench) is taken. */
export type UnsolicitedLogin = 'restart' | 'accept' | 'refuse';

export interface SsoSettings {
  /** Our callback, registered with OneAccess as the app's redirect URI. */
  callbackUrl: string;
  /** Where the product receives the assertion (a POST with the form field `assertion`). */
  productLoginUrl: string;
  /** `iss` of the assertion: our SSO's base URL (…/sso). */
  issuer: string;
  /** `aud` of the assertion: the product. */
  audience: string;
  /** The unified login page, with `{appId}`. */
  unifiedLoginUrl: string;
  /** The app credential's App ID used when the login does not name one. */
  defaultAppId?: string | undefined;
  /** Where OneAccess sends the browser after a logout. */
  loggedOutUrl: string;
  stateTtlSeconds: number;
  sessionTtlSeconds: number;
  assertionTtlSeconds: number;
  unsolicitedLogin: UnsolicitedLogin;
  /** Cookies carry Secure (the SSO is served over https). */
  secureCookies: boolean;
}

export interface SsoContext {
  settings: SsoSettings;
  directory: SsoDirectory;
  states: LoginStateStore;
  sessions: SessionStore;
  oneAccess: OneAccess;
  revealClientSecret: RevealClientSecret;
  signer: AssertionSigner;
  sealer: TokenSealer;
  audit: SsoAudit;
  /** The secret the product presents to `POST /sso/session`. */
  productSecret: () => Promise<string>;
  now: () => number;
  log: Log;
}
