/**
 * The local S3 front's copy of the buckets on disk (`.local/s3/` under `npm start`), so stored objects survive a
 * restart of the in-memory emulator behind it: every object the front sees created is written here with the headers
 * a GET answers (Content-Type, Content-Disposition, x-amz-meta-*, …), every object it sees deleted is removed, and at
 * start the front uploads what is kept back into the emulator.
 *
 * Layout: `<dir>/<bucket>/<sha256 of the key>.bin` holds the bytes and `….json` the key and headers (a key may hold
 * characters, or be longer than, a file name cannot). Each file is written to a temporary name, then renamed, and the
 * description last, so an object is kept whole or not at all. Only the owner may read the folder.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';

/** Object headers kept with the bytes: the ones S3 stores and answers on GET. */
const KEPT_HEADER = /^(content-type|content-disposition|content-encoding|content-language|cache-control|expires|x-amz-meta-.+)$/;

const Description = z.object({ key: z.string().min(1), headers: z.record(z.string(), z.string()) });

export interface KeptObject {
  bucket: string;
  key: string;
  headers: Record<string, string>;
  /** Reads the bytes (one object at a time in memory). */
  read(): Buffer;
}

export interface DiskBuckets {
  /** Keeps an object's bytes and the headers among `headers` that S3 stores with it. */
  write(bucket: string, key: string, data: Buffer, headers: Headers): void;
  remove(bucket: string, key: string): void;
  /** Every kept object, bucket by bucket; a file that cannot be read is reported through `onUnreadable` and skipped. */
  objects(onUnreadable?: (file: string, why: string) => void): KeptObject[];
}

const fileOf = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

/** Writes `data` to `file` whole: to a temporary name first, then renamed over it. */
function writeWhole(file: string, data: Buffer | string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, data, { mode: 0o600 });
  renameSync(temporary, file);
}

/** The copy of the buckets kept under `dir` (created owner-only when missing). */
export function diskBuckets(dir: string): DiskBuckets {
  const bucketDir = (bucket: string) => join(dir, encodeURIComponent(bucket));
  return {
    write(bucket, key, data, headers) {
      const folder = bucketDir(bucket);
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      const kept: Record<string, string> = {};
      headers.forEach((value, name) => {
        if (KEPT_HEADER.test(name)) kept[name] = value;
      });
      const base = join(folder, fileOf(key));
      writeWhole(`${base}.bin`, data);
      writeWhole(`${base}.json`, JSON.stringify({ key, headers: kept }));
    },
    remove(bucket, key) {
      const base = join(bucketDir(bucket), fileOf(key));
      rmSync(`${base}.json`, { force: true });
      rmSync(`${base}.bin`, { force: true });
    },
    objects(onUnreadable = () => {}) {
      const found: KeptObject[] = [];
      let buckets: string[];
      try {
        buckets = readdirSync(dir);
      } catch {
        return found;
      }
      for (const folder of buckets) {
        const bucket = decodeURIComponent(folder);
        for (const name of readdirSync(join(dir, folder)).filter((n) => n.endsWith('.json'))) {
          const file = join(dir, folder, name);
          try {
            const description = Description.parse(JSON.parse(readFileSync(file, 'utf8')));
            const bytes = file.replace(/\.json$/, '.bin');
            found.push({ bucket, key: description.key, headers: description.headers, read: () => readFileSync(bytes) });
          } catch (error) {
            onUnreadable(file, (error as Error).message);
          }
        }
      }
      return found;
    },
  };
}
