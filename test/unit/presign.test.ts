import { createHash, createHmac } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_PRESIGN_SECONDS, attachmentDisposition, downloadUrl, proofUploadForm } from '#lib/supervision/presign.ts';
import { presigningS3Client } from '#lib/aws/clients.ts';
import { proofObjectKey } from '#lib/supervision/proofs.ts';

const CREDENTIALS = { accessKeyId: 'AKIAEXAMPLEPROOFS', secretAccessKey: 'example/secret/key' };
const REGION = 'eu-west-1';
const BUCKET = 'seller-proofs';
const KEY = proofObjectKey('CS2211181819B4LVS', 'CS2211181819B4LVS-000001', '01KDZ8F0000000000000000000');
const SHA256 = createHash('sha256').update('%PDF-1.7 acceptance').digest('base64');
const PDF = 'application/pdf';
const MAX = 10 * 1024 * 1024;

interface Policy {
  expiration: string;
  conditions: unknown[];
}

function decodePolicy(policy: string | undefined): Policy {
  return JSON.parse(Buffer.from(policy ?? '', 'base64').toString('utf8')) as Policy;
}

/** SigV4's signature of a POST policy, computed independently of the SDK. */
function expectedSignature(policy: string, date: string, secret: string, region: string): string {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  return createHmac('sha256', signingKey).update(policy).digest('hex');
}

// The test stack points the SDK at its local S3 (AWS_ENDPOINT_URL_S3); these tests are about AWS's own URLs.
beforeAll(() => {
  vi.stubEnv('AWS_ENDPOINT_URL_S3', undefined);
  vi.stubEnv('AWS_ENDPOINT_URL', undefined);
});
afterAll(() => {
  vi.unstubAllEnvs();
});

const client = presigningS3Client({ region: REGION, credentials: CREDENTIALS });
const uploadInput = { bucket: BUCKET, key: KEY, contentType: PDF, sha256Base64: SHA256, maxBytes: MAX, expiresSeconds: 900 };

describe('presigningS3Client', () => {
  it('computes and validates checksums only when an operation requires them', async () => {
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(await client.config.region()).toBe(REGION);
  });

  it('takes an endpoint, path style and a session token', async () => {
    const local = presigningS3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:4566',
      forcePathStyle: true,
      credentials: { ...CREDENTIALS, sessionToken: 'token' },
    });
    expect(local.config.forcePathStyle).toBe(true);
    expect((await local.config.credentials()).sessionToken).toBe('token');
  });
});

describe('proofUploadForm', () => {
  it('signs a policy that admits exactly this file, for 15 minutes', async () => {
    const before = Date.now();
    const form = await proofUploadForm(client, uploadInput);
    const after = Date.now();
    const policy = decodePolicy(form.fields.Policy);

    const expires = Date.parse(policy.expiration);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
    expect(expires).toBeLessThanOrEqual(after + 900_000);
    expect(form.expiresAt).toBe(policy.expiration);

    const conditions = policy.conditions.map((condition) => JSON.stringify(condition));
    expect(new Set(conditions).size).toBe(conditions.length);
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['content-length-range', 1, MAX],
        { 'Content-Type': PDF },
        { 'x-amz-checksum-algorithm': 'SHA256' },
        { 'x-amz-checksum-sha256': SHA256 },
        { key: KEY },
        { bucket: BUCKET },
        { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' },
      ]),
    );
    // Nothing but exact matches and the size range: no starts-with that would let another key or type in.
    for (const condition of policy.conditions) {
      if (Array.isArray(condition)) expect(condition[0]).toBe('content-length-range');
    }
    // Every form field but the policy and the signature is covered by a condition.
    for (const [name, value] of Object.entries(form.fields)) {
      if (name === 'Policy' || name === 'X-Amz-Signature') continue;
      expect(policy.conditions, name).toContainEqual({ [name]: value });
    }
  });

  it('returns the fields the form must send, and no CRC32 checksum anywhere', async () => {
    const form = await proofUploadForm(client, uploadInput);
    expect(form.url).toBe(`https://${BUCKET}.s3.${REGION}.amazonaws.com/`);
    expect(form.fields).toMatchObject({
      key: KEY,
      bucket: BUCKET,
      'Content-Type': PDF,
      'x-amz-checksum-algorithm': 'SHA256',
      'x-amz-checksum-sha256': SHA256,
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    });
    expect(Object.keys(form.fields).sort()).toEqual(
      [
        'Content-Type',
        'Policy',
        'X-Amz-Algorithm',
        'X-Amz-Credential',
        'X-Amz-Date',
        'X-Amz-Signature',
        'bucket',
        'key',
        'x-amz-checksum-algorithm',
        'x-amz-checksum-sha256',
      ].sort(),
    );
    const everything =
      `${form.url} ${JSON.stringify(form.fields)} ${Buffer.from(form.fields.Policy ?? '', 'base64').toString('utf8')}`.toLowerCase();
    expect(everything).not.toContain('crc32');
    expect(form.url).not.toContain('?');
  });

  it('signs the policy with SigV4 for the client’s region and credentials', async () => {
    const form = await proofUploadForm(client, uploadInput);
    const date = (form.fields['X-Amz-Date'] ?? '').slice(0, 8);
    expect(form.fields['X-Amz-Credential']).toBe(`${CREDENTIALS.accessKeyId}/${date}/${REGION}/s3/aws4_request`);
    expect(form.fields['X-Amz-Signature']).toBe(expectedSignature(form.fields.Policy ?? '', date, CREDENTIALS.secretAccessKey, REGION));
  });

  it('uses a path-style endpoint and carries a session token when given', async () => {
    const local = presigningS3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:4566',
      forcePathStyle: true,
      credentials: { ...CREDENTIALS, sessionToken: 'session-token' },
    });
    const form = await proofUploadForm(local, uploadInput);
    expect(form.url).toBe(`http://127.0.0.1:4566/${BUCKET}`);
    expect(form.fields['X-Amz-Security-Token']).toBe('session-token');
    expect(decodePolicy(form.fields.Policy).conditions).toContainEqual({ 'X-Amz-Security-Token': 'session-token' });
  });

  it('refuses inputs that would make a looser or broken policy', async () => {
    await expect(proofUploadForm(client, { ...uploadInput, sha256Base64: createHash('sha256').update('x').digest('hex') })).rejects.toThrow(
      RangeError,
    );
    await expect(proofUploadForm(client, { ...uploadInput, expiresSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(proofUploadForm(client, { ...uploadInput, expiresSeconds: MAX_PRESIGN_SECONDS + 1 })).rejects.toThrow(RangeError);
    await expect(proofUploadForm(client, { ...uploadInput, maxBytes: 0 })).rejects.toThrow(RangeError);
    await expect(proofUploadForm(client, { ...uploadInput, key: 'proofs/o/l/${filename}' })).rejects.toThrow(RangeError);
  });
});

describe('downloadUrl', () => {
  it('presigns a GET with an expiry and no checksum parameter', async () => {
    const url = new URL(await downloadUrl(client, { bucket: BUCKET, key: KEY, expiresSeconds: 300 }));
    expect(url.origin).toBe(`https://${BUCKET}.s3.${REGION}.amazonaws.com`);
    expect(url.pathname).toBe(`/${KEY}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.has('X-Amz-Signature')).toBe(true);
    expect(url.searchParams.has('response-content-disposition')).toBe(false);
    expect(url.search.toLowerCase()).not.toContain('x-amz-checksum');
  });

  it('asks S3 to answer with an attachment disposition under the file’s name', async () => {
    const url = new URL(await downloadUrl(client, { bucket: BUCKET, key: KEY, expiresSeconds: 60, fileName: '验收 报告(1).pdf' }));
    expect(url.searchParams.get('response-content-disposition')).toBe(
      `attachment; filename="__ __(1).pdf"; filename*=UTF-8''%E9%AA%8C%E6%94%B6%20%E6%8A%A5%E5%91%8A%281%29.pdf`,
    );
    expect(url.search.toLowerCase()).not.toContain('x-amz-checksum');
  });

  it('refuses an expiry SigV4 would not honour', async () => {
    await expect(downloadUrl(client, { bucket: BUCKET, key: KEY, expiresSeconds: MAX_PRESIGN_SECONDS + 1 })).rejects.toThrow(RangeError);
    await expect(downloadUrl(client, { bucket: BUCKET, key: KEY, expiresSeconds: 1.5 })).rejects.toThrow(RangeError);
  });

  it('(why the client matters) a default client would add checksum parameters to presigned URLs', async () => {
    const defaults = new S3Client({ region: REGION, credentials: CREDENTIALS });
    const get = await downloadUrl(defaults, { bucket: BUCKET, key: KEY, expiresSeconds: 60 });
    expect(get.toLowerCase()).toContain('x-amz-checksum-mode');
    const put = await getSignedUrl(defaults, new PutObjectCommand({ Bucket: BUCKET, Key: KEY }), { expiresIn: 60 });
    expect(put.toLowerCase()).toContain('x-amz-checksum-crc32');
    const ours = await getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: KEY }), { expiresIn: 60 });
    expect(ours.toLowerCase()).not.toContain('x-amz-checksum');
  });
});

describe('attachmentDisposition', () => {
  it('quotes a safe ASCII fallback and encodes the UTF-8 name per RFC 8187', () => {
    expect(attachmentDisposition('report.pdf')).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    expect(attachmentDisposition(`a"b\\c'd*.pdf`)).toBe(`attachment; filename="a_b_c'd*.pdf"; filename*=UTF-8''a%22b%5Cc%27d%2A.pdf`);
    expect(attachmentDisposition('x;y=z.pdf')).toBe(`attachment; filename="x;y=z.pdf"; filename*=UTF-8''x%3By%3Dz.pdf`);
  });
});
