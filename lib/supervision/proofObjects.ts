import { createHash } from 'node:crypto';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { SupervisionDeps } from './ports.ts';
import { quarantineKey } from './proofs.ts';
import { SNIFF_HEAD_BYTES, sniffContentType } from './sniff.ts';

/** The proof objects in the files bucket: reading one for its check, and moving a refused one to `quarantine/`. */

const isNotFound = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || status === 404;
};

/** `CopySource`: bucket and key, each segment URI-encoded. */
const copySource = (bucket: string, key: string) => `${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;

/** Moves an object to `quarantine/…` (copy, then delete); false when it is no longer there. */
export async function quarantine(deps: SupervisionDeps, bucket: string, key: string): Promise<string | undefined> {
  const target = quarantineKey(key);
  try {
    await deps.s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: target, CopySource: copySource(bucket, key), MetadataDirective: 'COPY' }),
    );
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  await deps.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  return target;
}

export interface ReadObject {
  size: number;
  sha256Hex: string;
  sniffed: string | undefined;
}

/** The object's size, SHA-256 and sniffed type; stops reading past `limit` bytes. Undefined when it is gone. */
export async function readObject(
  deps: SupervisionDeps,
  bucket: string,
  key: string,
  declaredSize: number,
): Promise<ReadObject | undefined> {
  let size: number;
  try {
    const head = await deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    size = head.ContentLength ?? 0;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  // Not the declared size: refused without reading it.
  if (size !== declaredSize) return { size, sha256Hex: '', sniffed: undefined };
  let body: AsyncIterable<Uint8Array>;
  try {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = out.Body as AsyncIterable<Uint8Array>;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const hash = createHash('sha256');
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let read = 0;
  for await (const chunk of body) {
    read += chunk.length;
    if (read > declaredSize) {
      // Replaced by a larger object since the HEAD: no need to read the rest.
      (body as { destroy?: () => void }).destroy?.();
      return { size: read, sha256Hex: '', sniffed: undefined };
    }
    hash.update(chunk);
    if (headBytes < SNIFF_HEAD_BYTES) {
      const part = chunk.subarray(0, SNIFF_HEAD_BYTES - headBytes);
      head.push(part);
      headBytes += part.length;
    }
  }
  return { size: read, sha256Hex: hash.digest('hex'), sniffed: sniffContentType(Buffer.concat(head)) };
}
