import { createCipheriv, createDecipheriv, createHash, randomInt } from 'node:crypto';

// Encryption of sensitive V1 response fields (spec §7.6): `appInfo.userName` / `password`, mobile, email.
// A value is `iv + base64(AES-CBC-PKCS5(K, UTF8(iv), UTF8(plain)))`, where `K` is what Java's
// `KeyGenerator("AES")` yields from a `SHA1PRNG` seeded with the access key.

/** `encryptType` of a V1 response: `'1'` is AES-256 (the marketplace default), `'2'` is AES-128. */
export type EncryptType = '1' | '2';

export type AesKeyBits = 128 | 256;

const IV_LENGTH = 16;
const IV_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const IV_PATTERN = /^[A-Za-z0-9]{16}$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const AES_BLOCK = 16;

/** Derived keys are cached per (access key, bits); a deployment uses one or two keys at a time. */
const MAX_CACHED_KEYS = 8;
const keyCache = new Map<string, Buffer>();

/** AES key size for an `encryptType`. */
export function encryptTypeBits(encryptType: EncryptType): AesKeyBits {
  if (encryptType === '1') return 256;
  if (encryptType === '2') return 128;
  throw new RangeError(`unknown encryptType ${JSON.stringify(encryptType)}`);
}

/** Narrows an untrusted value (configuration, stored record) to an `EncryptType`. */
export function isEncryptType(value: unknown): value is EncryptType {
  return value === '1' || value === '2';
}

const sha1 = (data: Buffer): Buffer => createHash('sha1').update(data).digest();

/** Sign-extends a byte, as Java reads a `byte`. */
const signed = (b: number): number => (b << 24) >> 24;

/**
 * The first `n` bytes of OpenJDK's `SecureRandom.getInstance("SHA1PRNG")` after `setSeed(seed)` and
 * before any other use: `state = SHA1(seed)`, each block is `SHA1(state)`, then `state += block + 1`
 * byte by byte from index 0 with Java signed-byte arithmetic (and `state[0]++` if no byte changed).
 */
export function javaSha1PrngBytes(seed: Buffer, n: number): Buffer {
  if (!Number.isInteger(n) || n < 0) throw new RangeError('n must be a non-negative integer');
  let state = sha1(seed);
  const out = Buffer.alloc(n);
  let offset = 0;
  while (offset < n) {
    const block = sha1(state);
    const next = Buffer.from(state);
    let carry = 1;
    let changed = false;
    for (let i = 0; i < next.length; i++) {
      const v = signed(next[i] ?? 0) + signed(block[i] ?? 0) + carry;
      const t = v & 0xff;
      if (next[i] !== t) changed = true;
      next[i] = t;
      carry = v >> 8;
    }
    if (!changed) next[0] = ((next[0] ?? 0) + 1) & 0xff;
    state = next;
    const take = Math.min(block.length, n - offset);
    block.copy(out, offset, 0, take);
    offset += take;
  }
  return out;
}

/** The AES key Huawei's Java code derives from an access key (spec §7.6); a copy the caller may keep. */
export function deriveV1FieldKey(accessKey: string, bits: AesKeyBits): Buffer {
  return Buffer.from(cachedKey(accessKey, bits));
}

function cachedKey(accessKey: string, bits: AesKeyBits): Buffer {
  const cacheKey = `${bits}:${accessKey}`;
  const cached = keyCache.get(cacheKey);
  if (cached) return cached;
  const key = javaSha1PrngBytes(Buffer.from(accessKey, 'utf8'), bits / 8);
  if (keyCache.size >= MAX_CACHED_KEYS) {
    const oldest = keyCache.keys().next();
    if (!oldest.done) keyCache.delete(oldest.value);
  }
  keyCache.set(cacheKey, key);
  return key;
}

/** 16 random characters from `[A-Za-z0-9]`, as the marketplace's IVs are. */
export function randomV1Iv(): string {
  let iv = '';
  for (let i = 0; i < IV_LENGTH; i++) iv += IV_ALPHABET[randomInt(IV_ALPHABET.length)];
  return iv;
}

/**
 * Encrypts a V1 response field: `iv + base64(ciphertext)`. `iv`, when given, must be exactly 16
 * characters from `[A-Za-z0-9]`; by default a fresh random one is used.
 */
export function encryptV1Field(accessKey: string, plain: string, encryptType: EncryptType, iv?: string): string {
  const bits = encryptTypeBits(encryptType);
  const usedIv = iv ?? randomV1Iv();
  if (!IV_PATTERN.test(usedIv)) throw new RangeError('iv must be 16 characters from [A-Za-z0-9]');
  const cipher = createCipheriv(`aes-${bits}-cbc`, cachedKey(accessKey, bits), Buffer.from(usedIv, 'ascii'));
  return usedIv + Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

/**
 * Decrypts a value made by {@link encryptV1Field}. Undefined when the value is malformed or does not
 * decrypt under this key (short, bad base64, bad padding, plaintext that is not UTF-8); never throws.
 */
export function decryptV1Field(accessKey: string, value: string, encryptType: EncryptType): string | undefined {
  if (!isEncryptType(encryptType) || typeof value !== 'string') return undefined;
  const iv = Buffer.from(value.slice(0, IV_LENGTH), 'utf8');
  const encoded = value.slice(IV_LENGTH);
  if (iv.length !== IV_LENGTH || encoded.length === 0 || !BASE64_PATTERN.test(encoded)) return undefined;
  const ciphertext = Buffer.from(encoded, 'base64');
  if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK !== 0) return undefined;
  const bits = encryptTypeBits(encryptType);
  try {
    const decipher = createDecipheriv(`aes-${bits}-cbc`, cachedKey(accessKey, bits), iv);
    const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(plain);
  } catch {
    return undefined;
  }
}
