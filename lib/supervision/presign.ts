import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { sha256Forms } from './proofs.ts';

/**
 * Presigned S3 requests for delivery proofs: a browser-style POST form that uploads exactly the declared file
 * (size range, content type and SHA-256 are in the signed policy, so S3 refuses anything else), and a
 * short-lived GET URL to download a proof. Presigning is local computation: no call to S3 is made.
 */

/** SigV4 allows presigned requests for at most 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

function checkExpiry(expiresSeconds: number): void {
  if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGN_SECONDS) {
    throw new RangeError(`expiresSeconds must be an integer in 1..${MAX_PRESIGN_SECONDS}`);
  }
}

export interface ProofUploadFormInput {
  bucket: string;
  key: string;
  contentType: string;
  /** The file's SHA-256 in base64 (44 characters), as S3's `x-amz-checksum-sha256`. */
  sha256Base64: string;
  maxBytes: number;
  expiresSeconds: number;
}

export interface ProofUploadForm {
  /** Where to POST the multipart form. */
  url: string;
  /** Form fields to send as they are, before the `file` field (which must come last). */
  fields: Record<string, string>;
  /** When the signed policy expires (ISO instant, as in the policy). */
  expiresAt: string;
}

/**
 * A presigned POST for one proof. The signed policy admits only this bucket and key, a body of 1..maxBytes bytes,
 * this Content-Type, and a SHA-256 checksum equal to the declared one, which S3 verifies against what it receives.
 */
export async function proofUploadForm(client: S3Client, input: ProofUploadFormInput): Promise<ProofUploadForm> {
  checkExpiry(input.expiresSeconds);
  if (!Number.isInteger(input.maxBytes) || input.maxBytes < 1) throw new RangeError('maxBytes must be a positive integer');
  const forms = sha256Forms(input.sha256Base64);
  if (!forms || forms.base64 !== input.sha256Base64)
    throw new RangeError('sha256Base64 must be a SHA-256 digest in base64 (44 characters)');
  if (input.key === '' || input.key.endsWith('${filename}')) throw new RangeError('key must be an exact object key');
  const checksumFields = {
    'Content-Type': input.contentType,
    'x-amz-checksum-algorithm': 'SHA256',
    'x-amz-checksum-sha256': input.sha256Base64,
  };
  const { url, fields } = await createPresignedPost(client, {
    Bucket: input.bucket,
    Key: input.key,
    // createPresignedPost adds an exact-match condition for every field and for the key itself.
    Conditions: [
      ['content-length-range', 1, input.maxBytes],
      { 'Content-Type': input.contentType },
      { 'x-amz-checksum-algorithm': 'SHA256' },
      { 'x-amz-checksum-sha256': input.sha256Base64 },
    ],
    Fields: checksumFields,
    Expires: input.expiresSeconds,
  });
  return { url, fields, expiresAt: policyExpiration(fields.Policy) };
}

/** The expiration written in a presigned POST's policy (base64 JSON). */
export function policyExpiration(policy: string | undefined): string {
  const parsed: unknown = JSON.parse(Buffer.from(policy ?? '', 'base64').toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null || !('expiration' in parsed) || typeof parsed.expiration !== 'string') {
    throw new Error('presigned POST policy has no expiration');
  }
  return parsed.expiration;
}

/** RFC 8187 `value-chars`: UTF-8, percent-encoded except for attr-char. */
function rfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `attachment` with the file's name: `filename*` in UTF-8 for current clients, and a plain ASCII `filename`
 * (other characters replaced by `_`) for old ones.
 */
export function attachmentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${rfc8187(fileName)}`;
}

export interface DownloadUrlInput {
  bucket: string;
  key: string;
  expiresSeconds: number;
  /** Makes the browser save the file under this name. */
  fileName?: string | undefined;
}

/** A presigned GET for one object, valid for expiresSeconds (or less, if the signing credentials expire first). */
export async function downloadUrl(client: S3Client, input: DownloadUrlInput): Promise<string> {
  checkExpiry(input.expiresSeconds);
  const command = new GetObjectCommand({
    Bucket: input.bucket,
    Key: input.key,
    ...(input.fileName !== undefined ? { ResponseContentDisposition: attachmentDisposition(input.fileName) } : {}),
  });
  return getSignedUrl(client, command, { expiresIn: input.expiresSeconds });
}
