/**
 * The per-tenant OAuth `clientSecret` of applicationSync (spec kit.md §3.6): KooGallery encrypts it with the seller's
 * RSA public key (≥ 3072 bits, OAEP). Which OAEP digests it uses is not documented, and Java's common choice
 * (SHA-256 label hash with MGF1-SHA-1) cannot be decrypted by `privateDecrypt`'s single `oaepHash`, so the padding
 * is removed here: the raw RSA operation, then RFC 8017 §7.1.2 decoding with each supported (hash, MGF1 hash) pair.
 *
 * The ciphertext is what is stored (it is encrypted under the seller's key); the plaintext exists only in memory,
 * when the single sign-on flow needs it (`revealClientSecret`). Neither is ever logged.
 */
import { constants, createHash, createPrivateKey, privateDecrypt, timingSafeEqual, type KeyObject } from 'node:crypto';

type Digest = 'sha1' | 'sha256';

/** The (label hash, MGF1 hash) pairs tried, in order (spec §3.6 step 4). */
export const OAEP_VARIANTS: ReadonlyArray<{ name: OaepVariant; hash: Digest; mgf1: Digest }> = [
  { name: 'sha256/mgf1-sha1', hash: 'sha256', mgf1: 'sha1' },
  { name: 'sha1/mgf1-sha1', hash: 'sha1', mgf1: 'sha1' },
  { name: 'sha256/mgf1-sha256', hash: 'sha256', mgf1: 'sha256' },
];

export type OaepVariant = 'sha256/mgf1-sha1' | 'sha1/mgf1-sha1' | 'sha256/mgf1-sha256';

/** The one message every decryption failure carries: it says nothing about why. */
export const CLIENT_SECRET_PROBLEM = 'clientSecret cannot be decrypted';

/** A clientSecret that could not be decrypted. */
export class ClientSecretError extends Error {
  override readonly name = 'ClientSecretError';
  constructor() {
    super(CLIENT_SECRET_PROBLEM);
  }
}

const digestLength = (hash: Digest): number => (hash === 'sha1' ? 20 : 32);

/** MGF1 (RFC 8017 B.2.1): `length` bytes of mask from `seed`. */
function mgf1(seed: Buffer, length: number, hash: Digest): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * digestLength(hash) < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** EME-OAEP decoding (RFC 8017 §7.1.2 step 3) with an empty label: the message, or undefined if the padding does not check. */
export function oaepDecode(em: Buffer, hash: Digest, mgf1Hash: Digest): Buffer | undefined {
  const hLen = digestLength(hash);
  const k = em.length;
  if (k < 2 * hLen + 2 || em[0] !== 0) return undefined;
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seed = xor(maskedSeed, mgf1(maskedDb, hLen, mgf1Hash));
  const db = xor(maskedDb, mgf1(seed, k - hLen - 1, mgf1Hash));
  const lHash = createHash(hash).update(Buffer.alloc(0)).digest();
  if (!timingSafeEqual(db.subarray(0, hLen), lHash)) return undefined;
  let i = hLen;
  while (i < db.length && db[i] === 0) i++;
  if (db[i] !== 0x01) return undefined;
  return db.subarray(i + 1);
}

/** Standard or URL-safe base64, whitespace tolerated; undefined if it is neither. */
function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/** The private key of a PKCS#8 PEM, or a ClientSecretError-free failure: throws a plain Error naming the problem (no key material). */
export function readPrivateKey(pem: string): KeyObject {
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA key');
    return key;
  } catch {
    throw new Error('KIT_RSA_PRIVATE_KEY is not an RSA private key in PEM form');
  }
}

/** Decrypts a clientSecret ciphertext: the plaintext and the OAEP variant that decoded it, or undefined. */
export function decryptClientSecret(ciphertextB64: string, privateKey: KeyObject): { plaintext: string; variant: OaepVariant } | undefined {
  const ciphertext = decodeBase64(ciphertextB64);
  const modulusBytes = Math.ceil((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  if (!ciphertext || ciphertext.length !== modulusBytes) return undefined;
  let em: Buffer;
  try {
    em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);
  } catch {
    return undefined;
  }
  for (const variant of OAEP_VARIANTS) {
    const message = oaepDecode(em, variant.hash, variant.mgf1);
    if (message) return { plaintext: message.toString('utf8'), variant: variant.name };
  }
  return undefined;
}

/** The plaintext clientSecret for the single sign-on flow; throws ClientSecretError (a fixed message) if it cannot be decrypted. */
export function revealClientSecret(ciphertextB64: string, privateKeyPem: string): string {
  const decrypted = decryptClientSecret(ciphertextB64, readPrivateKey(privateKeyPem));
  if (!decrypted) throw new ClientSecretError();
  return decrypted.plaintext;
}
