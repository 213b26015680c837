import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';

/**
 * Statement files in the private bucket, streamed both ways so a month of any size passes through a bounded
 * amount of memory: an object is written through a buffer of at most one part (8 MiB), with one PutObject
 * when it fits, otherwise as a multipart upload of 8 MiB parts, and read back as batches of lines from the
 * GetObject body.
 * Everything is stored with server-side encryption (SSE-S3, AES256).
 */

/** Multipart parts are this size (S3's minimum is 5 MiB, except for the last part). */
export const PART_BYTES = 8 * 1024 * 1024;

export interface WrittenObject {
  key: string;
  bytes: number;
  /** SHA-256 of the content, lowercase hex. */
  sha256: string;
}

/** Where text goes: an S3 object, or only a hash (to know a file's digest without writing it). */
export interface TextSink {
  write(text: string): Promise<void>;
  close(): Promise<WrittenObject>;
  /** Gives up: a multipart upload under way is aborted, nothing is stored. */
  abort(): Promise<void>;
}

/** A sink that only measures what would be written. */
export function hashSink(key = ''): TextSink {
  const hash = createHash('sha256');
  let bytes = 0;
  return {
    async write(text) {
      hash.update(text, 'utf8');
      bytes += Buffer.byteLength(text, 'utf8');
    },
    async close() {
      return { key, bytes, sha256: hash.digest('hex') };
    },
    async abort() {},
  };
}

export interface StatementFiles {
  readonly bucket: string;
  /** A streaming writer of one object (replaces the object when closed); `sizeHint`: the bytes expected, if known. */
  writer(key: string, contentType: string, sizeHint?: number): TextSink;
  /** The object's lines (without their LF), in batches as they arrive; empty lines are skipped. */
  lines(key: string): AsyncGenerator<string[]>;
  /** Deletes every object under the prefix (best effort for cleanup). */
  removePrefix(prefix: string): Promise<number>;
}

export function statementFiles(s3: S3Client, bucket: string): StatementFiles {
  function writer(key: string, contentType: string, sizeHint = 0): TextSink {
    const hash = createHash('sha256');
    // Grows by doubling up to one part: a small file never takes more memory than about its size.
    let buffer = Buffer.allocUnsafe(Math.min(PART_BYTES, Math.max(64 * 1024, sizeHint)));
    let used = 0;
    let bytes = 0;
    let uploadId: string | undefined;
    const parts: { PartNumber: number; ETag: string }[] = [];

    function room(needed: number): void {
      if (used + needed <= buffer.length || buffer.length >= PART_BYTES) return;
      let size = buffer.length;
      while (size < used + needed && size < PART_BYTES) size *= 2;
      const grown = Buffer.allocUnsafe(Math.min(size, PART_BYTES));
      buffer.copy(grown, 0, 0, used);
      buffer = grown;
    }

    async function flushPart(): Promise<void> {
      if (uploadId === undefined) {
        const created = await s3.send(
          new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType, ServerSideEncryption: 'AES256' }),
        );
        if (!created.UploadId) throw new Error(`S3 gave no upload id for ${key}`);
        uploadId = created.UploadId;
      }
      const PartNumber = parts.length + 1;
      // The buffer is reused once the part is stored: the upload is awaited before anything else is written.
      const out = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: buffer.subarray(0, used) }),
      );
      if (!out.ETag) throw new Error(`S3 gave no ETag for part ${PartNumber} of ${key}`);
      parts.push({ PartNumber, ETag: out.ETag });
      used = 0;
    }

    async function abort(): Promise<void> {
      used = 0;
      if (uploadId === undefined) return;
      const id = uploadId;
      uploadId = undefined;
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id })).catch(() => undefined);
    }

    return {
      async write(text) {
        hash.update(text, 'utf8');
        const length = Buffer.byteLength(text, 'utf8');
        bytes += length;
        room(length);
        if (length <= buffer.length - used) {
          used += buffer.write(text, used, 'utf8');
          if (used === PART_BYTES) await flushPart();
          return;
        }
        // Only when the buffer is a whole part: fill it, store it, go on.
        const data = Buffer.from(text, 'utf8');
        for (let at = 0; at < data.length;) {
          const n = Math.min(buffer.length - used, data.length - at);
          data.copy(buffer, used, at, at + n);
          used += n;
          at += n;
          if (used === PART_BYTES) await flushPart();
        }
      },
      async close() {
        try {
          if (uploadId === undefined) {
            await s3.send(
              new PutObjectCommand({
                Bucket: bucket,
                Key: key,
                Body: buffer.subarray(0, used),
                ContentType: contentType,
                ServerSideEncryption: 'AES256',
              }),
            );
          } else {
            if (used > 0) await flushPart();
            await s3.send(
              new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
            );
          }
        } catch (error) {
          await abort();
          throw error;
        }
        return { key, bytes, sha256: hash.digest('hex') };
      },
      abort,
    };
  }

  async function* lines(key: string): AsyncGenerator<string[]> {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = out.Body as unknown;
    if (!body || typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] !== 'function') {
      throw new Error(`S3 object ${key} has no readable body`);
    }
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      const text = rest + decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      const split = text.split('\n');
      rest = split.pop() ?? '';
      const batch = split.filter((line) => line !== '');
      if (batch.length > 0) yield batch;
    }
    rest += decoder.end();
    if (rest !== '') yield [rest];
  }

  async function removePrefix(prefix: string): Promise<number> {
    let removed = 0;
    let token: string | undefined;
    do {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      const objects = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (objects.length > 0) {
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
        removed += objects.length;
      }
      token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
    } while (token);
    return removed;
  }

  return { bucket, writer, lines, removePrefix };
}
