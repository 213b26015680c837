/**
 * The local stack's single sign-on signing key: an EC P-256 private key (PKCS#8 PEM) generated once into
 * `.local/sso-signing-key.pem` (owner read/write only) and reused at every start, so assertions and sessions stay
 * valid across restarts. SSO_SIGNING_KEY in .env or the shell replaces it. Never used on AWS (SSM there).
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function localSsoSigningKey(root: string): { pem: string; file: string; created: boolean } {
  const file = join(root, '.local', 'sso-signing-key.pem');
  if (existsSync(file)) return { pem: readFileSync(file, 'utf8'), file, created: false };
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, pem, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { pem, file, created: true };
}
