/**
 * The seller's Kit RSA key pair (spec kit.md §3.6): KooGallery encrypts applicationSync's `clientSecret` with the
 * public half the seller uploads with its app credential, and the kit function decrypts it with the private half
 * (`KIT_RSA_PRIVATE_KEY`). The public key is given in the form the Seller Console asks for: bare base64 DER
 * SubjectPublicKeyInfo (the body of a `PUBLIC KEY` PEM, no header). Pure: node:crypto only, no I/O.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';

/** The size the Seller Console asks for (at least 3072 bits). */
export const KIT_RSA_BITS = 3072;

export interface KitKeyPair {
  /** PKCS#8 PEM: what KIT_RSA_PRIVATE_KEY holds. */
  privateKeyPem: string;
  /** Bare base64 DER SubjectPublicKeyInfo: what the Seller Console's 公钥 field takes. */
  publicKey: string;
}

/** A new 3072-bit key pair. */
export function generateKitKeyPair(): KitKeyPair {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: KIT_RSA_BITS });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { privateKeyPem, publicKey: kitPublicKeyOf(privateKeyPem) };
}

/** The public half of a PKCS#8 PEM private key as bare base64 SPKI; throws (without key material) for anything else. */
export function kitPublicKeyOf(privateKeyPem: string): string {
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new Error('not a private key in PEM form');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA private key');
  return createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');
}
