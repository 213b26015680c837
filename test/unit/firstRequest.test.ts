import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeStackFile, type LocalStack } from '../../scripts/local/stackFile.ts';
import { firstRequestTarget } from '../../scripts/first-request.ts';

/** `npm run first-request` finds the running local stack the way the other tools do: from `.local/stack.json`. */

const dir = mkdtempSync(join(tmpdir(), 'first-request-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stackOn(port: number): string {
  const file = join(dir, `stack-${port}.json`);
  const stack: LocalStack = {
    version: 1,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    stage: 'local',
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    urls: {
      http: `http://127.0.0.1:${port}`,
      produce: `http://127.0.0.1:${port}/koogallery/produce`,
      seller: `http://127.0.0.1:${port}/seller`,
      lambda: `http://127.0.0.1:${port + 2}`,
      fakeOpenApi: 'http://127.0.0.1:4120',
    },
    endpoints: { dynamodb: 'http://127.0.0.1:8100', sqs: 'http://127.0.0.1:4666', s3: 'http://127.0.0.1:4667' },
    env: {},
    accessKey: 'stack-access-key',
    sellerKey: { keyId: 'k', secret: 'kgs_x' },
  };
  writeStackFile(stack, file);
  return file;
}

describe('npm run first-request: where it sends', () => {
  it('to the running local stack on whatever ports it was started, with its access key and fake Open API', () => {
    expect(firstRequestTarget([], stackOn(3100), {})).toEqual({
      url: 'http://127.0.0.1:3100/koogallery/produce',
      key: 'stack-access-key',
      openApi: 'http://127.0.0.1:4120',
      test: false,
    });
  });

  it('to --url with --key (a deployment), without reading the local stack', () => {
    expect(firstRequestTarget(['--url', 'https://isv.example.com/koogallery/produce', '--key', 'k1', '--test'], stackOn(3200), {})).toEqual(
      {
        url: 'https://isv.example.com/koogallery/produce',
        key: 'k1',
        openApi: 'http://127.0.0.1:4020',
        test: true,
      },
    );
  });

  it('without a stack file, to the default local address and key (and says so when nothing answers there)', () => {
    expect(firstRequestTarget([], join(dir, 'missing.json'), { KOOGALLERY_ACCESS_KEY: 'env-key' })).toEqual({
      url: 'http://127.0.0.1:3000/koogallery/produce',
      key: 'env-key',
      openApi: 'http://127.0.0.1:4020',
      test: false,
    });
  });
});
