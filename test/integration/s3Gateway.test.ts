/**
 * The local S3 front (scripts/local/s3-gateway.ts) in front of the test run's fauxqs: presigned POST uploads
 * checked as S3 checks them (signature, expiration, conditions, size range, checksum), every other S3 request
 * proxied, and the ObjectCreated events delivered for keys under the notification's prefix.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startFauxqs } from '../../scripts/local/emulators.ts';
import { offlineInvoker, s3EventKey, startS3Gateway, type S3Gateway } from '../../scripts/local/s3-gateway.ts';

const fauxqsEndpoint = inject('localStack').sqsEndpoint;
const bucket = `gateway-test-${randomUUID().slice(0, 8)}`;
const events: S3Event[] = [];
const logs: string[] = [];
let failNext = false;
let skewMs = 0;
/** The origin the bucket's CORS rule allows (the console's). */
const CONSOLE_ORIGIN = 'http://127.0.0.1:3200';
let gateway: S3Gateway;
let viaGateway: S3Client;
const direct = new S3Client({ endpoint: fauxqsEndpoint, forcePathStyle: true, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

beforeAll(async () => {
  await direct.send(new CreateBucketCommand({ Bucket: bucket }));
  gateway = await startS3Gateway({
    upstream: fauxqsEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    corsOrigins: () => [CONSOLE_ORIGIN],
    notifications: [
      {
        bucket,
        prefix: 'proofs/',
        id: 'proof-received',
        deliver: async (event) => {
          if (failNext) {
            failNext = false;
            throw new Error('proof check crashed');
          }
          events.push(event);
        },
      },
    ],
    now: () => Date.now() + skewMs,
    log: (line) => logs.push(line),
  });
  viaGateway = new S3Client({
    endpoint: gateway.endpoint,
    forcePathStyle: true,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  viaGateway?.destroy();
  direct.destroy();
  await gateway?.close();
});

beforeEach(async () => {
  await gateway.idle();
  events.length = 0;
  logs.length = 0;
  failNext = false;
  skewMs = 0;
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('base64');
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
const pdf = (size: number, seed = 1) => {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + seed) % 256;
  return data;
};
const errorCode = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
const errorMessage = (xml: string) => /<Message>([^<]*)<\/Message>/.exec(xml)?.[1];

/** A presigned POST as the proofs use it: size range, exact Content-Type, SHA-256 checksum. */
async function presign(
  key: string,
  body: Buffer,
  options: {
    max?: number;
    contentType?: string;
    expires?: number;
    checksumOf?: Buffer;
    fields?: Record<string, string>;
    client?: S3Client;
  } = {},
) {
  const contentType = options.contentType ?? 'application/pdf';
  return createPresignedPost(options.client ?? viaGateway, {
    Bucket: bucket,
    Key: key,
    Conditions: [
      ['content-length-range', 1, options.max ?? 1024 * 1024],
      ['eq', '$Content-Type', contentType],
    ],
    Fields: {
      'Content-Type': contentType,
      'x-amz-checksum-algorithm': 'SHA256',
      'x-amz-checksum-sha256': sha256(options.checksumOf ?? body),
      ...options.fields,
    },
    Expires: options.expires ?? 300,
  });
}

/** Uploads like a browser form: the fields first, the file last. */
async function upload(url: string, fields: Record<string, string>, file: Buffer, fileName = 'proof.pdf', extra: [string, string][] = []) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const [name, value] of extra) form.append(name, value);
  form.append('file', new Blob([file], { type: 'application/pdf' }), fileName);
  const response = await fetch(url, { method: 'POST', body: form });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function exists(key: string): Promise<boolean> {
  try {
    await direct.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

async function delivered(): Promise<S3EventRecord[]> {
  await gateway.idle();
  return events.flatMap((e) => e.Records);
}

describe('POST Object through the S3 front', () => {
  it('stores a good upload, answers 204, and delivers exactly one ObjectCreated:Post event', async () => {
    const body = pdf(3000);
    const key = `proofs/o1/${randomUUID()}`;
    const { url, fields } = await presign(key, body);
    expect(url).toBe(`${gateway.endpoint}/${bucket}`);
    const before = Date.now();
    const answer = await upload(url, fields, body);
    expect(answer.status).toBe(204);
    expect(answer.text).toBe('');
    expect(answer.headers.get('etag')).toBe(`"${md5(body)}"`);
    expect(answer.headers.get('x-amz-checksum-sha256')).toBe(sha256(body));

    const stored = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(Buffer.from(await stored.Body!.transformToByteArray())).toEqual(body);
    expect(stored.ContentType).toBe('application/pdf');

    const records = await delivered();
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: LOCAL_REGION,
      eventName: 'ObjectCreated:Post',
      userIdentity: { principalId: `AWS:${LOCAL_CREDENTIALS.accessKeyId}` },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': answer.headers.get('x-amz-request-id') },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'proof-received',
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
        object: { key, size: body.length, eTag: md5(body) },
      },
    });
    expect(record.s3.object.sequencer).toMatch(/^[0-9A-F]{16,}$/);
    expect(Date.parse(record.eventTime)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('refuses an expired policy with 403 AccessDenied, stores nothing and sends no event', async () => {
    const body = pdf(100);
    const key = `proofs/o1/${randomUUID()}`;
    const { url, fields } = await presign(key, body, { expires: 60 });
    skewMs = 2 * 60_000;
    const answer = await upload(url, fields, body);
    expect(answer.status).toBe(403);
    expect(answer.headers.get('content-type')).toBe('application/xml');
    expect(errorCode(answer.text)).toBe('AccessDenied');
    expect(errorMessage(answer.text)).toBe('Invalid according to Policy: Policy expired.');
    expect(await exists(key)).toBe(false);
    expect(await delivered()).toHaveLength(0);
  });

  it('refuses a file above the content-length-range with 400 EntityTooLarge, and one below with EntityTooSmall', async () => {
    const body = pdf(2048);
    const key = `proofs/o1/${randomUUID()}`;
    const { url, fields } = await presign(key, body, { max: 1024 });
    const answer = await upload(url, fields, body);
    expect(answer.status).toBe(400);
    expect(errorCode(answer.text)).toBe('EntityTooLarge');
    expect(answer.text).toContain('<MaxSizeAllowed>1024</MaxSizeAllowed>');

    const small = await createPresignedPost(viaGateway, {
      Bucket: bucket,
      Key: key,
      Conditions: [['content-length-range', 10, 100]],
    });
    const tooSmall = await upload(small.url, small.fields, pdf(5));
    expect(tooSmall.status).toBe(400);
    expect(errorCode(tooSmall.text)).toBe('EntityTooSmall');
    expect(await exists(key)).toBe(false);
    expect(await delivered()).toHaveLength(0);
  });

  it('refuses a file whose SHA-256 differs from the signed checksum with 400 BadDigest', async () => {
    const body = pdf(500, 1);
    const other = pdf(500, 2);
    const key = `proofs/o1/${randomUUID()}`;
    const { url, fields } = await presign(key, other, { checksumOf: body });
    const answer = await upload(url, fields, other);
    expect(answer.status).toBe(400);
    expect(errorCode(answer.text)).toBe('BadDigest');
    expect(errorMessage(answer.text)).toBe('The SHA256 you specified did not match the calculated checksum.');
    expect(await exists(key)).toBe(false);
  });

  it('refuses a key other than the signed one with 403', async () => {
    const body = pdf(200);
    const key = `proofs/o1/${randomUUID()}`;
    const { url, fields } = await presign(key, body);
    const answer = await upload(url, { ...fields, key: `proofs/other/${randomUUID()}` }, body);
    expect(answer.status).toBe(403);
    expect(errorCode(answer.text)).toBe('AccessDenied');
    expect(errorMessage(answer.text)).toContain('Policy Condition failed: ["eq", "$key"');
    expect(await exists(key)).toBe(false);
    expect(await delivered()).toHaveLength(0);
  });

  it('refuses a Content-Type other than the signed one with 403', async () => {
    const body = pdf(200);
    const { url, fields } = await presign(`proofs/o1/${randomUUID()}`, body);
    const answer = await upload(url, { ...fields, 'Content-Type': 'text/html' }, body);
    expect(answer.status).toBe(403);
    expect(errorCode(answer.text)).toBe('AccessDenied');
    expect(errorMessage(answer.text)).toContain('$Content-Type');
  });

  it('refuses a tampered policy or signature with 403 SignatureDoesNotMatch', async () => {
    const body = pdf(200);
    const key = `proofs/o1/${randomUUID()}`;
    const { url, fields } = await presign(key, body, { max: 100 });
    const policy = JSON.parse(Buffer.from(fields.Policy!, 'base64').toString('utf8')) as { conditions: unknown[] };
    policy.conditions = policy.conditions.map((c) =>
      Array.isArray(c) && c[0] === 'content-length-range' ? ['content-length-range', 1, 10_000] : c,
    );
    const tamperedPolicy = await upload(url, { ...fields, Policy: Buffer.from(JSON.stringify(policy)).toString('base64') }, body);
    expect(tamperedPolicy.status).toBe(403);
    expect(errorCode(tamperedPolicy.text)).toBe('SignatureDoesNotMatch');

    const signature = fields['X-Amz-Signature']!;
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
    const tamperedSignature = await upload(url, { ...fields, 'X-Amz-Signature': flipped }, pdf(50));
    expect(tamperedSignature.status).toBe(403);
    expect(errorCode(tamperedSignature.text)).toBe('SignatureDoesNotMatch');
    expect(await exists(key)).toBe(false);
  });

  it('refuses forms signed with an unknown access key or a wrong secret', async () => {
    const body = pdf(100);
    const signer = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
      new S3Client({ endpoint: gateway.endpoint, forcePathStyle: true, region: LOCAL_REGION, credentials });
    const unknown = signer({ accessKeyId: 'someone-else', secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey });
    const wrongSecret = signer({ accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' });
    const a = await presign(`proofs/o1/${randomUUID()}`, body, { client: unknown });
    const b = await presign(`proofs/o1/${randomUUID()}`, body, { client: wrongSecret });
    const answerA = await upload(a.url, a.fields, body);
    const answerB = await upload(b.url, b.fields, body);
    expect([answerA.status, errorCode(answerA.text)]).toEqual([403, 'InvalidAccessKeyId']);
    expect([answerB.status, errorCode(answerB.text)]).toEqual([403, 'SignatureDoesNotMatch']);
    unknown.destroy();
    wrongSecret.destroy();
  });

  it('refuses a form field that no policy condition covers with 403, but ignores x-ignore-* fields', async () => {
    const body = pdf(100);
    const key = `proofs/o1/${randomUUID()}`;
    const { url, fields } = await presign(key, body);
    const extra = await upload(url, fields, body, 'proof.pdf', [['x-amz-meta-note', 'sneaky']]);
    expect(extra.status).toBe(403);
    expect(errorCode(extra.text)).toBe('AccessDenied');
    expect(errorMessage(extra.text)).toBe('Invalid according to Policy: Extra input fields: x-amz-meta-note');
    expect(await exists(key)).toBe(false);

    const ignored = await upload(url, fields, body, 'proof.pdf', [['x-ignore-tracking', '42']]);
    expect(ignored.status).toBe(204);
    expect(await exists(key)).toBe(true);
  });

  it('encodes a key with spaces and non-ASCII characters in the event as S3 does', async () => {
    const body = pdf(64);
    const key = `proofs/o2/Lieferschein März (1) – 100%.pdf`;
    const { url, fields } = await presign(key, body);
    const answer = await upload(url, fields, body);
    expect(answer.status).toBe(204);
    expect(await exists(key)).toBe(true);
    const [record] = await delivered();
    expect(record?.s3.object.key).toBe('proofs/o2/Lieferschein+M%C3%A4rz+%281%29+%E2%80%93+100%25.pdf');
    expect(decodeURIComponent(record!.s3.object.key.replace(/\+/g, ' '))).toBe(key);
    expect(s3EventKey('a b/c+d*e~f.txt')).toBe('a+b/c%2Bd*e%7Ef.txt');
  });

  it('replaces ${filename} in the key and answers success_action_status 201 with a PostResponse', async () => {
    const body = pdf(80);
    const { url, fields } = await createPresignedPost(viaGateway, {
      Bucket: bucket,
      Key: 'proofs/o3/${filename}',
      Fields: { success_action_status: '201', 'Content-Type': 'image/png', 'x-amz-meta-order': 'o3' },
    });
    const answer = await upload(url, fields, body, 'scan 1.png');
    expect(answer.status).toBe(201);
    expect(answer.text).toContain('<Key>proofs/o3/scan 1.png</Key>');
    expect(answer.headers.get('location')).toBe(`${gateway.endpoint}/${bucket}/proofs/o3/scan%201.png`);
    expect(answer.text).toContain(`<ETag>"${md5(body)}"</ETag>`);
    const head = await direct.send(new HeadObjectCommand({ Bucket: bucket, Key: 'proofs/o3/scan 1.png' }));
    expect(head.ContentType).toBe('image/png');
    expect(head.Metadata).toEqual({ order: 'o3' });
    const [record] = await delivered();
    expect(record?.s3.object.key).toBe('proofs/o3/scan+1.png');
  });

  it('stores a POST upload larger than fauxqs accepts in one request', async () => {
    const body = pdf(12 * 1024 * 1024 + 5, 7);
    const key = `proofs/o4/${randomUUID()}`;
    const { url, fields } = await presign(key, body, { max: 20 * 1024 * 1024 });
    const answer = await upload(url, fields, body);
    expect(answer.status).toBe(204);
    const stored = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(md5(Buffer.from(await stored.Body!.transformToByteArray()))).toBe(md5(body));
    const [record] = await delivered();
    expect(record?.s3.object.size).toBe(body.length);
    expect(record?.s3.object.eTag).toBe(stored.ETag?.replace(/"/g, ''));
  });

  it('refuses a form body above the configured maximum without storing it', async () => {
    const small = await startS3Gateway({
      upstream: fauxqsEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      notifications: [],
      maxFileBytes: 1024,
      log: () => {},
    });
    const client = new S3Client({ endpoint: small.endpoint, forcePathStyle: true, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    try {
      const body = pdf(2 * 1024 * 1024);
      const key = `proofs/o5/${randomUUID()}`;
      const { url, fields } = await presign(key, body, { client, max: 10 * 1024 * 1024 });
      const answer = await upload(url, fields, body);
      expect(answer.status).toBe(400);
      expect(errorCode(answer.text)).toBe('EntityTooLarge');
      expect(await exists(key)).toBe(false);
    } finally {
      client.destroy();
      await small.close();
    }
  });

  it("passes on fauxqs's NoSuchBucket, and answers CORS as the bucket's rule does: POST from the console's origin only", async () => {
    const { url, fields } = await createPresignedPost(viaGateway, { Bucket: 'no-such-bucket-here', Key: 'proofs/x' });
    const answer = await upload(url, fields, pdf(10));
    expect([answer.status, errorCode(answer.text)]).toEqual([404, 'NoSuchBucket']);

    const preflight = (origin: string, method = 'POST', headers?: string) =>
      fetch(`${gateway.endpoint}/${bucket}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          ...(headers ? { 'access-control-request-headers': headers } : {}),
        },
      });
    const allowed = await preflight(CONSOLE_ORIGIN, 'POST', 'content-type');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toBe('POST');
    expect(allowed.headers.get('vary')).toContain('Origin');
    for (const refused of [
      await preflight('http://localhost:5173'),
      await preflight(CONSOLE_ORIGIN, 'PUT'),
      await preflight(CONSOLE_ORIGIN, 'POST', 'x-amz-meta-anything'),
    ]) {
      expect(refused.status).toBe(403);
      expect(errorCode(await refused.text())).toBe('AccessForbidden');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }

    const fromBrowser = async (origin: string) => {
      const body = pdf(10);
      const form = await presign(`proofs/cors/${randomUUID()}`, body);
      const formData = new FormData();
      for (const [name, value] of Object.entries(form.fields)) formData.append(name, value);
      formData.append('file', new Blob([body]), 'p.pdf');
      return fetch(form.url, { method: 'POST', body: formData, headers: { origin } });
    };
    const fromConsole = await fromBrowser(CONSOLE_ORIGIN);
    expect(fromConsole.status).toBe(204);
    expect(fromConsole.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
    expect(fromConsole.headers.get('access-control-expose-headers')).toContain('ETag');
    // Another origin's POST is stored (S3 does not refuse it) but answered without CORS headers: the page cannot read it.
    const fromElsewhere = await fromBrowser('http://localhost:5173');
    expect(fromElsewhere.status).toBe(204);
    expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();
    // A read from the console's origin is not covered by the rule (POST only).
    const read = await fetch(`${gateway.endpoint}/${bucket}/proofs/x`, { headers: { origin: CONSOLE_ORIGIN } });
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('keeps working after a failing delivery, which is logged', async () => {
    const first = pdf(100, 3);
    const firstKey = `proofs/o6/${randomUUID()}`;
    failNext = true;
    const a = await presign(firstKey, first);
    expect((await upload(a.url, a.fields, first)).status).toBe(204);
    expect(await delivered()).toHaveLength(0);
    expect(logs.some((l) => l.includes(firstKey) && l.includes('delivery failed: proof check crashed'))).toBe(true);

    const second = pdf(100, 4);
    const secondKey = `proofs/o6/${randomUUID()}`;
    const b = await presign(secondKey, second);
    expect((await upload(b.url, b.fields, second)).status).toBe(204);
    const records = await delivered();
    expect(records.map((r) => r.s3.object.key)).toEqual([secondKey]);
  });
});

describe('other S3 requests through the S3 front', () => {
  it('delivers ObjectCreated:Put for a PUT under the prefix', async () => {
    const body = Buffer.from('hello proof');
    const key = `proofs/put/${randomUUID()}.txt`;
    const answer = await viaGateway.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain' }));
    expect(answer.ETag).toBe(`"${md5(body)}"`);
    const records = await delivered();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: `AWS:${LOCAL_CREDENTIALS.accessKeyId}` },
      s3: { object: { key, size: body.length, eTag: md5(body) } },
    });
  });

  it('reports the decoded size of an aws-chunked PUT with a trailing checksum', async () => {
    const client = new S3Client({ endpoint: gateway.endpoint, forcePathStyle: true, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    try {
      const body = pdf(70_000);
      const key = `proofs/put/${randomUUID()}`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Readable.from([body]), ContentLength: body.length }));
      const stored = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(Buffer.from(await stored.Body!.transformToByteArray())).toEqual(body);
      const [record] = await delivered();
      expect(record?.s3.object.size).toBe(body.length);
    } finally {
      client.destroy();
    }
  });

  it('sends no event for a PUT outside the prefix', async () => {
    await viaGateway.send(new PutObjectCommand({ Bucket: bucket, Key: `statements/${randomUUID()}`, Body: 'x' }));
    expect(await delivered()).toHaveLength(0);
  });

  it('serves GET, HEAD, list and DeleteObjects through the proxy', async () => {
    const body = pdf(5000, 9);
    const key = `statements/get/${randomUUID()}.bin`;
    await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream' }));
    const got = await viaGateway.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);
    const head = await viaGateway.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ContentLength).toBe(body.length);
    const list = await viaGateway.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'statements/get/' }));
    expect(list.Contents?.map((o) => o.Key)).toContain(key);
    await viaGateway.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: key }] } }));
    expect(await exists(key)).toBe(false);
  });

  it('serves a presigned GET URL made against the gateway', async () => {
    const body = pdf(1234, 5);
    const key = `proofs/get/${randomUUID()} copy (2).pdf`;
    await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/pdf' }));
    const url = await getSignedUrl(viaGateway, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 60 });
    expect(url.startsWith(`${gateway.endpoint}/${bucket}/`)).toBe(true);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(body);
  });

  it('serves a presigned PUT URL made against the gateway, with its event', async () => {
    const key = `proofs/presigned-put/${randomUUID()}`;
    const url = await getSignedUrl(viaGateway, new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: 'application/pdf' }), {
      expiresIn: 60,
    });
    const body = pdf(321);
    const response = await fetch(url, { method: 'PUT', body, headers: { 'content-type': 'application/pdf' } });
    expect(response.status).toBe(200);
    const [record] = await delivered();
    expect(record).toMatchObject({ eventName: 'ObjectCreated:Put', s3: { object: { key, size: 321, eTag: md5(body) } } });
  });

  it('delivers ObjectCreated:CompleteMultipartUpload and ObjectCreated:Copy', async () => {
    const key = `proofs/mpu/${randomUUID()}`;
    const { UploadId } = await viaGateway.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/pdf' }),
    );
    const parts = [pdf(5 * 1024 * 1024, 1), pdf(1000, 2)];
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const answer = await viaGateway.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: part }));
      etags.push(answer.ETag!);
    }
    expect(await delivered()).toHaveLength(0);
    const done = await viaGateway.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    let records = await delivered();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      eventName: 'ObjectCreated:CompleteMultipartUpload',
      s3: { object: { key, size: parts[0]!.length + parts[1]!.length, eTag: done.ETag?.replace(/"/g, '') } },
    });
    expect(records[0]?.s3.object.eTag).toMatch(/-2$/);
    const completedSequencer = records[0]!.s3.object.sequencer;

    events.length = 0;
    const copy = `proofs/copies/${randomUUID()}`;
    await viaGateway.send(new CopyObjectCommand({ Bucket: bucket, Key: copy, CopySource: `${bucket}/${key}` }));
    records = await delivered();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      eventName: 'ObjectCreated:Copy',
      s3: { object: { key: copy, size: parts[0]!.length + parts[1]!.length } },
    });
    expect(records[0]!.s3.object.sequencer > completedSequencer).toBe(true);
  });

  it('refuses notifications that overlap, as S3 does', async () => {
    const deliver = async () => {};
    await expect(
      startS3Gateway({
        upstream: fauxqsEndpoint,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        notifications: [
          { prefix: 'proofs/', deliver },
          { bucket, prefix: 'proofs/a/', deliver },
        ],
      }),
    ).rejects.toThrow(/overlap/);
  });
});

describe('offlineInvoker', () => {
  let server: Server;
  let endpoint: string;
  let mode: 'ok' | 'function-error' | 'missing' = 'ok';
  const calls: { url: string; invocationType: string | undefined; body: unknown }[] = [];

  beforeAll(async () => {
    // Answers like serverless-offline's Lambda invoke API.
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString('utf8')));
      req.on('end', () => {
        calls.push({
          url: req.url ?? '',
          invocationType: req.headers['x-amz-invocation-type'] as string | undefined,
          body: JSON.parse(text),
        });
        if (mode === 'missing') {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ Message: 'Function not found' }));
        } else if (mode === 'function-error') {
          res
            .writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' })
            .end(JSON.stringify({ errorType: 'Error', errorMessage: 'not a PDF' }));
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end('null');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const event: S3Event = { Records: [] };

  it('posts the event to the function and resolves when it succeeds', async () => {
    mode = 'ok';
    await offlineInvoker(`${endpoint}/`, 'koogallery-isv-local-proofReceived')(event);
    expect(calls.at(-1)).toEqual({
      url: '/2015-03-31/functions/koogallery-isv-local-proofReceived/invocations',
      invocationType: 'RequestResponse',
      body: event,
    });
  });

  it('throws on a function error and on a failed invocation', async () => {
    mode = 'function-error';
    await expect(offlineInvoker(endpoint, 'fn')(event)).rejects.toThrow(/fn: function error: Error: not a PDF/);
    mode = 'missing';
    await expect(offlineInvoker(endpoint, 'fn')(event)).rejects.toThrow(/HTTP 404/);
  });
});

describe('the S3 front with a data folder: objects outlive fauxqs', () => {
  const kept = `kept-${randomUUID().slice(0, 8)}`;

  /** A fresh fauxqs (empty, as after a restart) with a gateway keeping its objects in `dir`. */
  async function restartedStack(dir: string) {
    const emulator = await startFauxqs({ port: 0 });
    const front = await startS3Gateway({
      upstream: emulator.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      notifications: [],
      dataDir: dir,
      log: (line) => logs.push(line),
    });
    const client = new S3Client({
      endpoint: front.endpoint,
      forcePathStyle: true,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const stop = async () => {
      client.destroy();
      await front.close();
      await emulator.stop();
    };
    return { client, front, stop };
  }

  const text = async (client: S3Client, key: string) => {
    const got = await client.send(new GetObjectCommand({ Bucket: kept, Key: key }));
    return { body: await got.Body!.transformToString(), contentType: got.ContentType, metadata: got.Metadata };
  };

  it('keeps what was put, posted, copied and not deleted, with its headers, across a restart of fauxqs and the front', async () => {
    const dir = mkdtempSync(join(tmpdir(), 's3-data-'));
    const first = await restartedStack(dir);
    try {
      await first.client.send(new CreateBucketCommand({ Bucket: kept }));
      const put = (Key: string, Body: string) =>
        first.client.send(new PutObjectCommand({ Bucket: kept, Key, Body, ContentType: 'text/csv', Metadata: { run: '7' } }));
      await put('statements/2026-11/statement.csv', 'line,amount\n1,100.00\n');
      await put('odd key/ü €.txt', 'odd');
      await put('gone.txt', 'deleted later');
      await put('gone-too.txt', 'deleted in a batch');
      await first.client.send(
        new CopyObjectCommand({ Bucket: kept, Key: 'copy.csv', CopySource: `${kept}/statements/2026-11/statement.csv` }),
      );
      await first.client.send(new DeleteObjectCommand({ Bucket: kept, Key: 'gone.txt' }));
      await first.client.send(new DeleteObjectsCommand({ Bucket: kept, Delete: { Objects: [{ Key: 'gone-too.txt' }] } }));
      const proof = pdf(2048);
      const form = await createPresignedPost(first.client, {
        Bucket: kept,
        Key: 'proofs/o1/l1/p1',
        Conditions: [['eq', '$Content-Type', 'application/pdf']],
        Fields: { 'Content-Type': 'application/pdf' },
      });
      expect((await upload(form.url, form.fields, proof)).status).toBe(204);
    } finally {
      await first.stop();
    }
    expect(statSync(dir).mode & 0o777).toBe(0o700);

    const second = await restartedStack(dir);
    try {
      expect(logs).toContain(`[s3-gateway] 4 objects restored from ${dir}`);
      expect(await text(second.client, 'statements/2026-11/statement.csv')).toEqual({
        body: 'line,amount\n1,100.00\n',
        contentType: 'text/csv',
        metadata: { run: '7' },
      });
      expect((await text(second.client, 'copy.csv')).body).toBe('line,amount\n1,100.00\n');
      expect((await text(second.client, 'odd key/ü €.txt')).body).toBe('odd');
      const proof = await second.client.send(new GetObjectCommand({ Bucket: kept, Key: 'proofs/o1/l1/p1' }));
      expect(proof.ContentType).toBe('application/pdf');
      expect(md5(Buffer.from(await proof.Body!.transformToByteArray()))).toBe(md5(pdf(2048)));
      const listed = await second.client.send(new ListObjectsV2Command({ Bucket: kept }));
      expect(listed.Contents?.map((o) => o.Key).sort()).toEqual([
        'copy.csv',
        'odd key/ü €.txt',
        'proofs/o1/l1/p1',
        'statements/2026-11/statement.csv',
      ]);
    } finally {
      await second.stop();
    }
  });

  it('skips a kept description it cannot read, saying which', async () => {
    const dir = mkdtempSync(join(tmpdir(), 's3-data-'));
    mkdirSync(join(dir, kept), { recursive: true });
    writeFileSync(join(dir, kept, 'broken.json'), 'not json');
    const stack = await restartedStack(dir);
    await stack.stop();
    expect(logs.some((l) => l.includes('broken.json not restored'))).toBe(true);
    expect(logs).toContain(`[s3-gateway] 0 objects restored from ${dir}`);
  });
});
