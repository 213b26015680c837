import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStackFile, removeStackFile, writeStackFile, type LocalStack } from '../../scripts/local/stackFile.ts';

/** The settings `npm start` publishes for the tools (.local/stack.json). */

const stack = (pid: number): LocalStack => ({
  version: 1,
  pid,
  startedAt: '2026-12-06T20:00:00.000Z',
  stage: 'local',
  region: 'ap-southeast-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  urls: {
    http: 'http://127.0.0.1:3000',
    produce: 'http://127.0.0.1:3000/koogallery/produce',
    seller: 'http://127.0.0.1:3000',
    lambda: 'http://127.0.0.1:3002',
  },
  endpoints: { dynamodb: 'http://127.0.0.1:8000', sqs: 'http://127.0.0.1:4566', s3: 'http://127.0.0.1:4567' },
  env: { MAIN_TABLE: 'koogallery-isv-local-main' },
  accessKey: 'local-access-key',
  sellerKey: { keyId: 'k1', secret: 'kgs_secret' },
});

const file = () => join(mkdtempSync(join(tmpdir(), 'stack-file-')), 'stack.json');

describe('the local stack file', () => {
  it('is written for its owner only and read back while its process lives', () => {
    const path = file();
    writeStackFile(stack(process.pid), path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readStackFile(path)).toEqual({ ok: true, stack: stack(process.pid) });
  });

  it('says the stack is not running when there is no file, and how to start it', () => {
    expect(readStackFile(join(tmpdir(), 'no-such-dir', 'stack.json'))).toEqual({
      ok: false,
      reason: expect.stringContaining('npm start'),
    });
  });

  it('says the stack stopped when its process is gone', () => {
    const path = file();
    writeStackFile(stack(2 ** 22 + 12_345), path);
    expect(readStackFile(path)).toMatchObject({ ok: false, reason: expect.stringContaining('has stopped') });
  });

  it('refuses a file it cannot read, saying to restart', () => {
    const path = file();
    writeFileSync(path, '{"version": 2}');
    expect(readStackFile(path)).toMatchObject({ ok: false, reason: expect.stringContaining('restart') });
    writeFileSync(path, 'not json');
    expect(readStackFile(path)).toMatchObject({ ok: false, reason: expect.stringContaining('not JSON') });
  });

  it('is removed by the process that wrote it, not by another one', () => {
    const path = file();
    writeStackFile(stack(process.pid), path);
    removeStackFile(process.pid + 1, path);
    expect(readStackFile(path).ok).toBe(true);
    removeStackFile(process.pid, path);
    expect(readStackFile(path).ok).toBe(false);
  });
});
