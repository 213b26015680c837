import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodySignHeader } from '#lib/koogallery/signature.ts';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeOpenApiPort, runSim } from '../../scripts/sim/cli.ts';
import { KIT_KEY } from '../helpers/kit.ts';
import { CT_PUBLIC_KEY_B64 } from '../helpers/kitVectors.ts';
import { readStackFile, writeStackFile, type LocalStack } from '../../scripts/local/stackFile.ts';
import { startHandlerServer, type HandlerServer } from '../helpers/httpServer.ts';
import { TEST_KEY } from '../helpers/signing.ts';

/** koogallery-sim's command line against the real handlers over HTTP. */

let server: HandlerServer;
let url: string;
beforeAll(async () => {
  server = await startHandlerServer();
  url = `${server.url}/koogallery/produce`;
});
afterAll(() => server.close());

/** The simulator with no local stack running (the stack file is absent). */
const noStack = () => readStackFile(join(tmpdir(), 'no-such-stack-dir', 'stack.json'));

async function simWith(stack: typeof noStack, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSim(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {}, { readStack: stack });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const sim = (...argv: string[]) => simWith(noStack, argv);

/** A production interface that answers every call 000004 ("request is processing"), signed with TEST_KEY. */
async function processingServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const stand = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const raw = JSON.stringify({ resultCode: '000004', resultMsg: 'request is processing' });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Body-Sign': bodySignHeader(TEST_KEY, raw) }).end(raw);
    });
  });
  await new Promise<void>((resolve) => stand.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(stand.address() as AddressInfo).port}/koogallery/produce`,
    close: () => new Promise<void>((resolve) => stand.close(() => resolve())),
  };
}

/** A stack file as `npm start` writes it, pointing at the test's server. */
function stackFileFor(serverUrl: string): () => ReturnType<typeof readStackFile> {
  const file = join(mkdtempSync(join(tmpdir(), 'sim-stack-')), 'stack.json');
  const stack: LocalStack = {
    version: 1,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    stage: 'local',
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    urls: { http: serverUrl, produce: `${serverUrl}/koogallery/produce`, seller: serverUrl, lambda: serverUrl },
    endpoints: { dynamodb: serverUrl, sqs: serverUrl, s3: serverUrl },
    env: {},
    accessKey: TEST_KEY,
    sellerKey: { keyId: 'k1', secret: 'kgs_not-a-real-key' },
  };
  writeStackFile(stack, file);
  return () => readStackFile(file);
}

describe('koogallery-sim', () => {
  it('send newInstance just works: generated ids, signed, answer printed, Body-Sign checked', async () => {
    const result = await sim('send', 'newInstance', '--url', url, '--key', TEST_KEY);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/→ POST .*"activity":"newInstance"/);
    expect(result.out).toMatch(/← HTTP 200 in \d+ ms: \{"resultCode":"000000"/);
    expect(result.out).toContain('✓ 000000 with a valid Body-Sign');
  });

  it('send checks the expected code, sends V1 and debug calls, and fails on a wrong key', async () => {
    expect((await sim('send', 'queryInstance', '--field', 'instanceId=nope', '--url', url, '--key', TEST_KEY)).code).toBe(1);
    expect(
      (await sim('send', 'queryInstance', '--field', 'instanceId=nope', '--expect', '000003', '--url', url, '--key', TEST_KEY)).code,
    ).toBe(0);
    expect(
      (await sim('send', 'queryInstance', '--v1', '--field', 'instanceId=nope', '--expect', '000003', '--url', url, '--key', TEST_KEY))
        .code,
    ).toBe(0);
    expect((await sim('send', 'newInstance', '--test', '--url', url, '--key', TEST_KEY)).out).toContain('"testFlag":"1"');
    const wrongKey = await sim('send', 'newInstance', '--url', url, '--key', 'not-the-key');
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.err).toContain('expected resultCode 000000, got 000001');
  });

  it('answers bad arguments with the usage and exit code 2', async () => {
    for (const argv of [
      [],
      ['fly'],
      ['send'],
      ['send', 'queryInstance'],
      ['send', 'deleteEverything'],
      ['send', 'newInstance', '--field', 'novalue'],
      ['scenario', 'nope'],
      ['send', 'newInstance', '--bogus'],
    ]) {
      const result = await sim(...argv, '--url', url);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err, argv.join(' ')).toContain('Usage: koogallery-sim');
    }
    expect((await sim('--help')).code).toBe(0);
  });

  it('send --v1 newInstance sends the generated expireTime', async () => {
    const result = await sim('send', 'newInstance', '--v1', '--url', url, '--key', TEST_KEY);
    expect(result.out).toMatch(/→ GET \(V1\) .*"expireTime":"\d{14}"/);
    expect(result.code).toBe(0);
  });

  it('send --v1 newInstance passes on 000004 (provisioning under way), unless --expect asks for another code', async () => {
    const processing = await processingServer();
    try {
      const result = await sim('send', 'newInstance', '--v1', '--url', processing.url, '--key', TEST_KEY);
      expect(result.out).toContain('✓ 000004 with a valid Body-Sign');
      expect(result.code).toBe(0);
      const strict = await sim('send', 'newInstance', '--v1', '--expect', '000000', '--url', processing.url, '--key', TEST_KEY);
      expect(strict.err).toContain('expected resultCode 000000, got 000004');
      expect(strict.code).toBe(1);
      // V2's newInstance answers at once: 000004 is not a pass there.
      expect((await sim('send', 'newInstance', '--url', processing.url, '--key', TEST_KEY)).code).toBe(1);
    } finally {
      await processing.close();
    }
  });

  it('scenario prints a summary line: passed, failed, skipped', async () => {
    const result = await sim('scenario', 'debugger', '--url', url, '--key', TEST_KEY);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^5 passed, 0 failed, 0 skipped \(1 scenario\)$/m);
    const license = await sim('scenario', 'license', '--url', url, '--key', TEST_KEY);
    expect(license.out).toMatch(/^\d+ passed, 0 failed, [1-9]\d* skipped \(1 scenario\)$/m);
  });

  it('serve listens on FAKE_OPENAPI_PORT, else on 4020, as documented; --port wins', () => {
    expect(fakeOpenApiPort(undefined, {})).toBe(4020);
    expect(fakeOpenApiPort(undefined, { FAKE_OPENAPI_PORT: '4555' })).toBe(4555);
    expect(fakeOpenApiPort('0', { FAKE_OPENAPI_PORT: '4555' })).toBe(0);
    expect(() => fakeOpenApiPort('70000', {})).toThrow(/--port must be 0 to 65535/);
    expect(() => fakeOpenApiPort(undefined, { FAKE_OPENAPI_PORT: 'x' })).toThrow(/FAKE_OPENAPI_PORT/);
  });

  it('with no --url, runs against the local stack of .local/stack.json: its address, access key and header rule', async () => {
    const result = await simWith(stackFileFor(server.url), ['probe']);
    expect(result.err).toContain(`the local stack (.local/stack.json): ${url}`);
    expect(result.out).toMatch(/✓ debug newInstance\s+000000/);
    expect(result.code).toBe(0);
  });

  it('with no --url and no local stack, says how to start one or what to give instead, and exits 2', async () => {
    const result = await sim('probe');
    expect(result.code).toBe(2);
    expect(result.err).toContain('npm start');
    expect(result.err).toContain('give --url and --key');
    expect(result.err).not.toContain('--stage');
  });

  it('probe passes against the real server', async () => {
    const result = await sim('probe', '--url', url, '--key', TEST_KEY);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/✓ debug newInstance\s+000000/);
  });

  it('serve runs the fake Open API through the package bin until stopped', { timeout: 20_000 }, async () => {
    const child = spawn(process.execPath, ['scripts/sim/koogallery-sim.mjs', 'serve', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let seen = '';
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${seen}`)), 15_000);
        child.stdout.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const calls = await fetch(`${url}/fake/calls`);
      expect(calls.status).toBe(200);
      expect(await calls.json()).toEqual([]);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('koogallery-sim kit', () => {
  const kitKeyArgs = ['--kit-key', KIT_KEY, '--kit-public-key', CT_PUBLIC_KEY_B64];

  it('sends each interface signed with the Kit key (applicationSync with an encrypted clientSecret): 000000', async () => {
    for (const name of ['tenantSync', 'applicationSync', 'authSync', 'singleOrgSync', 'allOrgSync']) {
      const result = await sim('kit', name, '--url', url, ...kitKeyArgs);
      expect(result.code, `${name}: ${result.err}`).toBe(0);
      expect(result.out).toMatch(/✓ 000000 \(tenant sim-\w+\)/);
    }
  });

  it('takes --field (numbers and JSON lists), checks --expect, and needs a Kit key and an interface', async () => {
    const bad = await sim('kit', 'authSync', ...kitKeyArgs, '--url', url, '--field', 'flag=9');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/expected resultCode 000000, got 000002/);
    const refused = await sim(
      'kit',
      'authSync',
      '--url',
      url,
      '--kit-key',
      KIT_KEY,
      '--kit-public-key',
      CT_PUBLIC_KEY_B64,
      '--field',
      'flag=9',
      '--expect',
      '000002',
    );
    expect(refused.code).toBe(0);
    const list = await sim(
      'kit',
      'authSync',
      '--url',
      url,
      '--kit-key',
      KIT_KEY,
      '--kit-public-key',
      CT_PUBLIC_KEY_B64,
      '--field',
      'userList=[{"userName":"u1","name":"U","orgCode":"o","role":"user","enable":"true"}]',
    );
    expect(list.code, list.err).toBe(0);
    expect(
      (await sim('kit', 'authSync', '--url', url, '--kit-key', KIT_KEY, '--kit-public-key', CT_PUBLIC_KEY_B64, '--field', 'userList=['))
        .code,
    ).toBe(2);
    expect((await sim('kit', 'nope', '--url', url, '--kit-key', KIT_KEY, '--kit-public-key', CT_PUBLIC_KEY_B64)).code).toBe(2);
    const keyless = await sim('kit', 'tenantSync', '--url', url);
    expect(keyless.code).toBe(2);
    expect(keyless.err).toContain('--kit-key');
  });
});
