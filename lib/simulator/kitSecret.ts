/**
 * The marketplace's side of applicationSync's `clientSecret` (spec kit.md §3.6): encrypted with the seller's public
 * key (bare base64 SPKI) as Java's `RSA/ECB/OAEPWithSHA-256AndMGF1Padding` does with its defaults (CT-B: SHA-256
 * label hash, MGF1 with SHA-1), the variant Node's `publicEncrypt` cannot produce. OAEP encoding per RFC 8017
 * §7.1.1, then the raw RSA operation.
 */
import { constants, createHash, createPublicKey, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';

const HASH = 'sha256';
const HASH_BYTES = 32;
const MGF1_HASH = 'sha1';
const MGF1_HASH_BYTES = 20;

/** MGF1 with SHA-1 (RFC 8017 B.2.1). */
function mgf1(seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * MGF1_HASH_BYTES < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash(MGF1_HASH).update(seed).update(c).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

const xor = (a: Buffer, b: Buffer): Buffer => Buffer.from(a.map((byte, i) => byte ^ (b[i] ?? 0)));

/** EME-OAEP encoding of `message` for a `k`-byte modulus, empty label (RFC 8017 §7.1.1 step 2). */
export function oaepEncode(message: Buffer, k: number, seed: Buffer = randomBytes(HASH_BYTES)): Buffer {
  if (message.length > k - 2 * HASH_BYTES - 2) throw new Error('the clientSecret is too long for the key');
  const lHash = createHash(HASH).update(Buffer.alloc(0)).digest();
  const padding = Buffer.alloc(k - message.length - 2 * HASH_BYTES - 2);
  const db = Buffer.concat([lHash, padding, Buffer.from([0x01]), message]);
  const maskedDb = xor(db, mgf1(seed, db.length));
  const maskedSeed = xor(seed, mgf1(maskedDb, HASH_BYTES));
  return Buffer.concat([Buffer.from([0x00]), maskedSeed, maskedDb]);
}

/** The RSA public key of a bare base64 SPKI (or a PEM). */
export function kitPublicKey(publicKey: string): KeyObject {
  const text = publicKey.trim();
  return text.startsWith('-----')
    ? createPublicKey(text)
    : createPublicKey({ key: Buffer.from(text.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
}

/** `secret` encrypted for the seller as KooGallery sends it: standard base64 of one RSA block. */
export function encryptClientSecret(publicKey: string, secret: string): string {
  const key = kitPublicKey(publicKey);
  const k = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  const em = oaepEncode(Buffer.from(secret, 'utf8'), k);
  return publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, em).toString('base64');
}
