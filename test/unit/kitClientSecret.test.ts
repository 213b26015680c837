import { constants, createPrivateKey, createPublicKey, publicEncrypt, privateDecrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_SECRET_PROBLEM,
  ClientSecretError,
  decryptClientSecret,
  oaepDecode,
  readPrivateKey,
  revealClientSecret,
} from '#lib/kit/clientSecret.ts';
import { CT_A, CT_B, CT_C, CT_PLAINTEXT, CT_PRIVATE_KEY_PEM, CT_PUBLIC_KEY_B64 } from '../helpers/kitVectors.ts';

/** The clientSecret decoder (spec kit.md §3.6): the three Java OAEP variants CT-A, CT-B, CT-C of the spec's test key. */

const privateKey = createPrivateKey(CT_PRIVATE_KEY_PEM);

describe('decrypting clientSecret', () => {
  it('CT-A (SHA-1 / MGF1-SHA-1), CT-B (SHA-256 / MGF1-SHA-1) and CT-C (SHA-256 / MGF1-SHA-256) all decrypt', () => {
    expect(decryptClientSecret(CT_A, privateKey)).toEqual({ plaintext: CT_PLAINTEXT, variant: 'sha1/mgf1-sha1' });
    expect(decryptClientSecret(CT_B, privateKey)).toEqual({ plaintext: CT_PLAINTEXT, variant: 'sha256/mgf1-sha1' });
    expect(decryptClientSecret(CT_C, privateKey)).toEqual({ plaintext: CT_PLAINTEXT, variant: 'sha256/mgf1-sha256' });
  });

  it('CT-B is the variant Node cannot decrypt with oaepHash alone', () => {
    const ct = Buffer.from(CT_B, 'base64');
    expect(() => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, ct)).toThrow();
  });

  it('the spec public key is the private key’s, and a fresh Node encryption round-trips', () => {
    const publicDer = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
    expect(publicDer).toBe(CT_PUBLIC_KEY_B64);
    const ct = publicEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('s3cret'));
    expect(revealClientSecret(ct.toString('base64url'), CT_PRIVATE_KEY_PEM)).toBe('s3cret');
  });

  it('a tampered, truncated, non-base64 or empty ciphertext does not decrypt, with one fixed message', () => {
    const bytes = Buffer.from(CT_B, 'base64');
    bytes[100] = (bytes[100] ?? 0) ^ 1;
    for (const bad of [bytes.toString('base64'), CT_B.slice(0, 300), 'not base64 !', '']) {
      expect(decryptClientSecret(bad, privateKey)).toBeUndefined();
      expect(() => revealClientSecret(bad, CT_PRIVATE_KEY_PEM)).toThrow(ClientSecretError);
    }
    expect(new ClientSecretError().message).toBe(CLIENT_SECRET_PROBLEM);
  });

  it('OAEP decoding refuses an encoded message with a non-zero first byte or no 0x01 separator', () => {
    expect(oaepDecode(Buffer.alloc(384, 1), 'sha256', 'sha1')).toBeUndefined();
    expect(oaepDecode(Buffer.alloc(40), 'sha256', 'sha1')).toBeUndefined();
  });

  it('a key that is not an RSA PEM is refused without quoting it', () => {
    expect(() => readPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----')).toThrow(
      /KIT_RSA_PRIVATE_KEY is not an RSA/,
    );
  });
});
