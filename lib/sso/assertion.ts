/**
 * The hand-off to the seller's product: a short-lived JWT (ES256, RFC 7519) saying who logged in, signed with the
 * SSO signing key (an EC P-256 private key, PKCS#8 PEM), and the JWK Set that verifies it (`GET /sso/jwks.json`).
 * The claims are built purely; signing uses node:crypto only.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { AssertionSigner } from './ports.ts';

/** The longest an assertion lives: the product must redeem it at once. */
export const MAX_ASSERTION_SECONDS = 60;

export interface AssertionInput {
  issuer: string;
  audience: string;
  tenantId: string;
  tenantCode: string;
  userName: string;
  name?: string | undefined;
  role: 'admin' | 'user';
  appId: string;
  /** Our session id: what the product passes to `POST /sso/session` to check the session is still valid. */
  sessionId: string;
  returnTo?: string | undefined;
  nowSeconds: number;
  lifetimeSeconds: number;
}

/**
 * The assertion's claims: `sub` = `userName@tenantCode` (the user's unique key, spec §3.1), `tenant` = tenantId,
 * `iat`/`exp` at most MAX_ASSERTION_SECONDS apart, a fresh `jti` the product remembers to refuse a replay.
 */
export function assertionClaims(input: AssertionInput): Record<string, unknown> {
  const lifetime = Math.min(Math.max(1, Math.floor(input.lifetimeSeconds)), MAX_ASSERTION_SECONDS);
  return {
    iss: input.issuer,
    aud: input.audience,
    sub: `${input.userName}@${input.tenantCode}`,
    tenant: input.tenantId,
    tenantCode: input.tenantCode,
    userName: input.userName,
    ...(input.name ? { name: input.name } : {}),
    role: input.role,
    appId: input.appId,
    sid: input.sessionId,
    ...(input.returnTo ? { ret: input.returnTo } : {}),
    iat: input.nowSeconds,
    exp: input.nowSeconds + lifetime,
    jti: randomUUID(),
  };
}

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** The RFC 7638 thumbprint of an EC public key: its `kid`. */
function thumbprint(jwk: { crv?: string; kty?: string; x?: string; y?: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The EC P-256 private key of a PKCS#8 PEM; any other key is refused with a message that shows no key material. */
export function signingKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error('SSO_SIGNING_KEY is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('SSO_SIGNING_KEY must be an EC P-256 private key (ES256)');
  }
  return key;
}

/** An ES256 signer over the key `loadPem` gives (read once). */
export function es256Signer(loadPem: () => Promise<string>): AssertionSigner {
  let keys: Promise<{ privateKey: KeyObject; jwk: Record<string, unknown> }> | undefined;
  const load = () =>
    (keys ??= loadPem().then((pem) => {
      const privateKey = signingKey(pem);
      const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' });
      return { privateKey, jwk: { ...publicJwk, kid: thumbprint(publicJwk), use: 'sig', alg: 'ES256' } };
    })).catch((error: unknown) => {
      keys = undefined;
      throw error;
    });
  return {
    async sign(claims) {
      const { privateKey, jwk } = await load();
      const header = { alg: 'ES256', typ: 'JWT', kid: jwk.kid };
      const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
      const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return `${input}.${b64url(signature)}`;
    },
    async jwks() {
      return { keys: [(await load()).jwk] };
    },
  };
}
