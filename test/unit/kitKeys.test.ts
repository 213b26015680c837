import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decryptClientSecret } from '#lib/kit/clientSecret.ts';
import { generateKitKeyPair, KIT_RSA_BITS, kitPublicKeyOf } from '#lib/kit/rsaKeyPair.ts';
import { encryptClientSecret, kitPublicKey, oaepEncode } from '#lib/simulator/kitSecret.ts';
import { localKitRsaKey } from '../../scripts/local/kitKey.ts';
import { CT_PLAINTEXT, CT_PRIVATE_KEY_PEM, CT_PUBLIC_KEY_B64 } from '../helpers/kitVectors.ts';

/** The seller's Kit RSA key pair, the local stack's copy of it, and the simulator's encryption of clientSecret. */

describe('the Kit RSA key pair', () => {
  it('is 3072 bits, PKCS#8, with the public half as bare base64 SPKI', () => {
    const pair = generateKitKeyPair();
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(createPrivateKey(pair.privateKeyPem).asymmetricKeyDetails?.modulusLength).toBe(KIT_RSA_BITS);
    expect(pair.publicKey).toMatch(/^MIIB[A-Za-z0-9+/]+=*$/);
    expect(kitPublicKeyOf(pair.privateKeyPem)).toBe(pair.publicKey);
  });

  it('gives the spec’s public key for the spec’s private key, and refuses what is not an RSA private key', () => {
    expect(kitPublicKeyOf(CT_PRIVATE_KEY_PEM)).toBe(CT_PUBLIC_KEY_B64);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => kitPublicKeyOf(ec)).toThrow('not an RSA private key');
    expect(() => kitPublicKeyOf('nonsense')).toThrow('not a private key in PEM form');
  });
});

describe('the simulator’s clientSecret', () => {
  it('is encrypted like Java’s OAEPWithSHA-256AndMGF1Padding (CT-B) and opens with the server’s decoder', () => {
    const ct = encryptClientSecret(CT_PUBLIC_KEY_B64, CT_PLAINTEXT);
    expect(Buffer.from(ct, 'base64')).toHaveLength(384);
    expect(decryptClientSecret(ct, createPrivateKey(CT_PRIVATE_KEY_PEM))).toEqual({ plaintext: CT_PLAINTEXT, variant: 'sha256/mgf1-sha1' });
    // Fresh randomness each time, as OAEP requires.
    expect(encryptClientSecret(CT_PUBLIC_KEY_B64, CT_PLAINTEXT)).not.toBe(ct);
  });

  it('takes the public key as a PEM too, and refuses a secret longer than one block holds', () => {
    const pem = kitPublicKey(CT_PUBLIC_KEY_B64).export({ type: 'spki', format: 'pem' }).toString();
    expect(kitPublicKey(pem).asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(() => oaepEncode(Buffer.alloc(384 - 2 * 32 - 1), 384)).toThrow('too long');
  });
});

describe('the local stack’s Kit key', () => {
  it('is generated once into .local/kit-rsa.pem, owner-only, and reused', () => {
    const root = mkdtempSync(join(tmpdir(), 'kit-key-'));
    const first = localKitRsaKey(root);
    expect(first.created).toBe(true);
    expect(first.file).toBe(join(root, '.local', 'kit-rsa.pem'));
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(readFileSync(first.file, 'utf8')).toBe(first.pem);
    const again = localKitRsaKey(root);
    expect(again).toEqual({ ...first, created: false });
  });
});
