import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { amzDate, signRequest, type AwsCredentials, type RequestToSign } from '#lib/aws/sigV4.ts';

/**
 * Our SigV4 signer (lib/aws/sigV4.ts) against the AWS SDK's own (@smithy/signature-v4), signing the same request at
 * the same time: the Authorization headers must be identical.
 */

/** The SDK signer's hash: SHA-256, or HMAC-SHA-256 with a secret, over node:crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

const bytes = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

const AT = new Date('2026-12-06T08:30:05.123Z');
const KEYS: AwsCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

async function sdkAuthorization(request: RequestToSign, host: string, service: string, region: string, credentials: AwsCredentials) {
  const signer = new SignatureV4({ service, region, credentials, sha256: Sha256, uriEscapePath: true, applyChecksum: false });
  const signed = await signer.sign(
    { method: request.method, protocol: 'https:', hostname: host, path: request.path, headers: { ...request.headers }, body: request.body },
    { signingDate: AT },
  );
  return signed.headers.authorization;
}

const request = (path: string, host: string, body: string): RequestToSign => ({
  method: 'POST',
  path,
  headers: { host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' },
  body,
});

describe('the SigV4 signer', () => {
  it.each([
    ['a DynamoDB call', '/', 'dynamodb.cn-north-4.amazonaws.com.cn', 'dynamodb', 'cn-north-4', KEYS],
    [
      'temporary credentials (session token signed too)',
      '/',
      'dynamodb.us-east-1.amazonaws.com',
      'dynamodb',
      'us-east-1',
      { ...KEYS, sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE==' },
    ],
    ['a local endpoint with a port', '/', '127.0.0.1:8000', 'dynamodb', 'ap-southeast-1', KEYS],
    ['an SQS call under a path that needs escaping', '/queue/a b(1)', 'sqs.eu-west-1.amazonaws.com', 'sqs', 'eu-west-1', KEYS],
  ])('signs %s exactly as the SDK does', async (_, path, host, service, region, credentials) => {
    // Prepare
    const body = JSON.stringify({ TableName: 'main', Key: { pk: { S: 'INSTANCE#中文 1' }, sk: { S: '#INSTANCE' } } });
    const toSign = request(path, host, body);

    // Act
    const ours = signRequest(toSign, { service, region, credentials, at: AT });

    // Assess
    expect(ours.authorization).toBe(await sdkAuthorization(toSign, host, service, region, credentials));
    expect(ours['x-amz-date']).toBe('20261206T083005Z');
    if (credentials.sessionToken) expect(ours['x-amz-security-token']).toBe(credentials.sessionToken);
    else expect(ours).not.toHaveProperty('x-amz-security-token');
  });

  it('gives another signature for another body, day or secret', () => {
    const base = signRequest(request('/', 'h', '{}'), { service: 'dynamodb', region: 'r', credentials: KEYS, at: AT }).authorization;
    const otherBody = signRequest(request('/', 'h', '{ }'), { service: 'dynamodb', region: 'r', credentials: KEYS, at: AT }).authorization;
    const otherDay = signRequest(request('/', 'h', '{}'), {
      service: 'dynamodb',
      region: 'r',
      credentials: KEYS,
      at: new Date('2026-12-07T08:30:05Z'),
    }).authorization;
    const otherSecret = signRequest(request('/', 'h', '{}'), {
      service: 'dynamodb',
      region: 'r',
      credentials: { ...KEYS, secretAccessKey: 'other' },
      at: AT,
    }).authorization;
    expect(new Set([base, otherBody, otherDay, otherSecret]).size).toBe(4);
  });

  it('writes the signing time as AWS does', () => {
    expect(amzDate(new Date('2015-08-30T12:36:00.999Z'))).toBe('20150830T123600Z');
  });
});
