import { writeStackFile, type LocalStack } from '../../scripts/local/stackFile.ts';
import { env } from './produce.ts';

/**
 * Writes a stack file (scripts/local/stackFile.ts) that points the operator CLI at the test emulators, with this
 * process's settings (and `overrides`) as the functions' environment; answers its path.
 */
export function testStackFile(file: string, overrides: { s3?: string; env?: Record<string, string> } = {}): string {
  const localEnv = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const stack: LocalStack = {
    version: 1,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    stage: 'local',
    region: env('AWS_REGION'),
    credentials: { accessKeyId: env('AWS_ACCESS_KEY_ID'), secretAccessKey: env('AWS_SECRET_ACCESS_KEY') },
    urls: {
      http: 'http://127.0.0.1:1',
      produce: 'http://127.0.0.1:1/koogallery/produce',
      seller: 'http://127.0.0.1:1/seller',
      lambda: 'http://127.0.0.1:2',
    },
    endpoints: {
      dynamodb: env('AWS_ENDPOINT_URL_DYNAMODB'),
      sqs: env('AWS_ENDPOINT_URL_SQS'),
      s3: overrides.s3 ?? env('AWS_ENDPOINT_URL_S3'),
    },
    env: { ...localEnv, ...overrides.env },
    accessKey: 'local-access-key',
    sellerKey: { keyId: 'k-local', secret: 'kgs_local' },
  };
  writeStackFile(stack, file);
  return file;
}
