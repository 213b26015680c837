import { randomBytes } from 'node:crypto';
import { SNIFFED_TYPES } from './sniff.ts';

/**
 * Delivery proofs (交付凭证, spec §8.3): the files a seller uploads for service supervision, what is accepted,
 * where they are stored, and the checks an uploaded object passes before it counts.
 */

/** requirement = requirement document / SOW; license-screenshot = software-authorization validity screenshot. */
export const PROOF_KINDS = ['requirement', 'acceptance', 'license-screenshot', 'deployment', 'appeal-evidence', 'other'] as const;
export type ProofKind = (typeof PROOF_KINDS)[number];

/** The content types a proof may have: documents, images and archives, nothing executable or scriptable. */
export const PROOF_CONTENT_TYPES = [
  SNIFFED_TYPES.pdf,
  SNIFFED_TYPES.png,
  SNIFFED_TYPES.jpeg,
  SNIFFED_TYPES.zip,
  SNIFFED_TYPES.docx,
  SNIFFED_TYPES.xlsx,
] as const;
export type ProofContentType = (typeof PROOF_CONTENT_TYPES)[number];

export function isProofContentType(value: string): value is ProofContentType {
  return (PROOF_CONTENT_TYPES as readonly string[]).includes(value);
}

/** Largest proof accepted unless configured otherwise (bytes). */
export const DEFAULT_PROOF_MAX_BYTES = 25 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// SHA-256 in either of the forms clients compute it.

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const SHA256_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Both forms of a SHA-256 digest given as 64 hex characters (either case) or 44 base64 characters (S3's
 * `x-amz-checksum-sha256` form); undefined for anything else, non-canonical base64 included.
 */
export function sha256Forms(value: string): { hex: string; base64: string } | undefined {
  if (SHA256_HEX.test(value)) {
    const hex = value.toLowerCase();
    return { hex, base64: Buffer.from(hex, 'hex').toString('base64') };
  }
  if (SHA256_BASE64.test(value)) {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length !== 32 || bytes.toString('base64') !== value) return undefined;
    return { hex: bytes.toString('hex'), base64: value };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The seller's upload request.

export const MAX_FILE_NAME_CHARS = 255;
// Control characters (C0, DEL, C1) and the bidirectional overrides and isolates that disguise an extension.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_FILE_NAME = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069/\\]/u;
/** A UTF-16 surrogate not part of a pair (a `\uD800` JSON escape): such text cannot be encoded into a header or URL. */
export const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Why a file name is refused, or undefined when it is fine. */
export function fileNameProblem(name: string): string | undefined {
  const chars = [...name].length;
  if (chars < 1) return 'fileName must not be empty';
  if (chars > MAX_FILE_NAME_CHARS) return `fileName must be at most ${MAX_FILE_NAME_CHARS} characters`;
  if (FORBIDDEN_IN_FILE_NAME.test(name)) return 'fileName must not contain path separators or control characters';
  if (LONE_SURROGATE.test(name)) return 'fileName must be well-formed Unicode (it has a lone surrogate)';
  if (name === '.' || name === '..') return 'fileName must name a file';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Proof ids and object keys.

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const PROOF_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * A new proof id: 26 characters of Crockford base32, 10 for the time in milliseconds and 16 random (80 bits),
 * so ids sort by creation time and are safe in URLs and object keys.
 */
export function newProofId(now: number = Date.now()): string {
  let time = '';
  let t = Math.max(0, Math.floor(now));
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const random = randomBytes(10);
  let rest = '';
  // 80 bits as 16 five-bit groups.
  let bits = 0;
  let value = 0;
  for (const byte of random) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      rest += CROCKFORD[(value >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return time + rest;
}

export function isProofId(value: string): boolean {
  return PROOF_ID.test(value);
}

/** When a proof id was made (epoch milliseconds). */
export function proofIdTime(id: string): number | undefined {
  if (!isProofId(id)) return undefined;
  let t = 0;
  for (const char of id.slice(0, 10)) t = t * 32 + CROCKFORD.indexOf(char);
  return t;
}

const PROOF_PREFIX = 'proofs/';
const QUARANTINE_PREFIX = 'quarantine/';

function segment(id: string, name: string): string {
  if (id === '') throw new RangeError(`${name} must not be empty`);
  return encodeURIComponent(id);
}

/** Where a proof is uploaded: `proofs/{orderId}/{orderLineId}/{proofId}`, each id URI-encoded. */
export function proofObjectKey(orderId: string, orderLineId: string, proofId: string): string {
  return `${PROOF_PREFIX}${segment(orderId, 'orderId')}/${segment(orderLineId, 'orderLineId')}/${segment(proofId, 'proofId')}`;
}

/**
 * The ids in a proof's object key, or undefined for any key proofObjectKey would not have made (another prefix,
 * missing or extra segments, `.`/`..`, or a segment not in its canonical encoding).
 */
export function parseProofObjectKey(key: string): { orderId: string; orderLineId: string; proofId: string } | undefined {
  if (!key.startsWith(PROOF_PREFIX)) return undefined;
  const parts = key.slice(PROOF_PREFIX.length).split('/');
  if (parts.length !== 3) return undefined;
  const ids: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') return undefined;
    let id: string;
    try {
      id = decodeURIComponent(part);
    } catch {
      return undefined;
    }
    if (id === '.' || id === '..' || encodeURIComponent(id) !== part) return undefined;
    ids.push(id);
  }
  const [orderId, orderLineId, proofId] = ids as [string, string, string];
  return { orderId, orderLineId, proofId };
}

/** Where a refused upload is moved for inspection: the same key under `quarantine/`. */
export function quarantineKey(key: string): string {
  return `${QUARANTINE_PREFIX}${key}`;
}

/**
 * An S3 event notification's object key as stored: events carry it form-encoded (`+` for a space, `%XX` for
 * the rest). Undefined when it is not validly encoded.
 */
export function decodeS3EventKey(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks on what arrived.

export type ReceivedObjectRefusal = 'TYPE_NOT_ALLOWED' | 'UPLOAD_EXPIRED' | 'SIZE_MISMATCH' | 'CHECKSUM_MISMATCH' | 'TYPE_MISMATCH';

export type ReceivedObjectCheck = { ok: true } | { ok: false; reason: ReceivedObjectRefusal; message: string };

/** A declared ZIP may turn out to be one of the Office formats, which are ZIP archives; the reverse does not hold. */
function typeMatches(declared: string, sniffed: string): boolean {
  if (declared === sniffed) return true;
  return declared === SNIFFED_TYPES.zip && (sniffed === SNIFFED_TYPES.docx || sniffed === SNIFFED_TYPES.xlsx);
}

/**
 * Whether an uploaded object is the proof the seller declared. Checks run in this order and the first failure
 * is the answer: the declared type is on the allow-list (TYPE_NOT_ALLOWED); the object arrived before the upload
 * expired (UPLOAD_EXPIRED, also when either time is unreadable); its size (SIZE_MISMATCH); its SHA-256
 * (CHECKSUM_MISMATCH); what its bytes are (TYPE_MISMATCH, also when they are no known format).
 */
export function checkReceivedObject(
  declared: { size: number; contentType: string; sha256Hex: string },
  received: { size: number; sha256Hex: string; sniffed: string | undefined; receivedAt: string; uploadExpiresAt: string },
): ReceivedObjectCheck {
  if (!isProofContentType(declared.contentType)) {
    return { ok: false, reason: 'TYPE_NOT_ALLOWED', message: `declared type ${declared.contentType} is not accepted for proofs` };
  }
  const receivedAt = Date.parse(received.receivedAt);
  const expiresAt = Date.parse(received.uploadExpiresAt);
  if (Number.isNaN(receivedAt) || Number.isNaN(expiresAt) || receivedAt > expiresAt) {
    return {
      ok: false,
      reason: 'UPLOAD_EXPIRED',
      message: `received at ${received.receivedAt}, the upload expired at ${received.uploadExpiresAt}`,
    };
  }
  if (received.size !== declared.size) {
    return { ok: false, reason: 'SIZE_MISMATCH', message: `received ${received.size} bytes, ${declared.size} were declared` };
  }
  if (received.sha256Hex.toLowerCase() !== declared.sha256Hex.toLowerCase()) {
    return { ok: false, reason: 'CHECKSUM_MISMATCH', message: 'the SHA-256 of the received bytes is not the one declared' };
  }
  if (received.sniffed === undefined || !typeMatches(declared.contentType, received.sniffed)) {
    return {
      ok: false,
      reason: 'TYPE_MISMATCH',
      message: `declared ${declared.contentType}, the content is ${received.sniffed ?? 'no accepted format'}`,
    };
  }
  return { ok: true };
}

/**
 * Whether the round's verified proofs cover the required kinds: at least one verified proof in `round`, and one
 * of each required kind. Proofs of other rounds do not count.
 */
export function requiredKindsPresent(
  required: readonly ProofKind[],
  verified: readonly { kind: ProofKind; round: number }[],
  round: number,
): boolean {
  const kinds = new Set(verified.filter((proof) => proof.round === round).map((proof) => proof.kind));
  return kinds.size > 0 && required.every((kind) => kinds.has(kind));
}
