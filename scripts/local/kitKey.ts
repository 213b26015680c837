/**
 * The local stack's Kit RSA key (the seller's key that opens applicationSync's `clientSecret`): a 3072-bit PKCS#8 PEM
 * generated once into `.local/kit-rsa.pem` (owner read/write only) and reused at every start, so secrets stored by
 * an earlier run still decrypt. KIT_RSA_PRIVATE_KEY in .env or the shell replaces it. Never used on AWS (SSM there).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateKitKeyPair, kitPublicKeyOf } from '#lib/kit/rsaKeyPair.ts';

export interface LocalKitKey {
  pem: string;
  /** Bare base64 SPKI, what the simulator encrypts with. */
  publicKey: string;
  file: string;
  created: boolean;
}

export function localKitRsaKey(root: string): LocalKitKey {
  const file = join(root, '.local', 'kit-rsa.pem');
  if (existsSync(file)) {
    const pem = readFileSync(file, 'utf8');
    return { pem, publicKey: kitPublicKeyOf(pem), file, created: false };
  }
  const pair = generateKitKeyPair();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, pair.privateKeyPem, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { pem: pair.privateKeyPem, publicKey: pair.publicKey, file, created: true };
}
