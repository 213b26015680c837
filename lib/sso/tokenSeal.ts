/**
 * The OneAccess tokens of a session are stored sealed: AES-256-GCM under a key derived (HKDF-SHA-256) from the SSO
 * signing key, bound to the session (the session's storage key is the additional data, so a sealed blob copied to
 * another session does not open). A reader of the table alone learns no token.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { OneAccessTokens } from './model.ts';
import type { TokenSealer } from './ports.ts';

const VERSION = 'v1';

function deriveKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'koogallery-sso', 'session-tokens', 32));
}

/** A sealer whose key is derived from the secret `loadSecret` gives (read once). */
export function tokenSealer(loadSecret: () => Promise<string>): TokenSealer {
  let key: Promise<Buffer> | undefined;
  const load = () =>
    (key ??= loadSecret().then(deriveKey)).catch((error: unknown) => {
      key = undefined;
      throw error;
    });
  return {
    async seal(tokens, sessionKey) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', await load(), iv);
      cipher.setAAD(Buffer.from(sessionKey, 'utf8'));
      const body = Buffer.concat([cipher.update(JSON.stringify(tokens), 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    async open(sealed, sessionKey) {
      const [version, iv, body, tag] = sealed.split('.');
      if (version !== VERSION || !iv || body === undefined || !tag) throw new Error('sealed tokens are not in the v1 form');
      const decipher = createDecipheriv('aes-256-gcm', await load(), Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(sessionKey, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      return JSON.parse(text) as OneAccessTokens;
    },
  };
}
