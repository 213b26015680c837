import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSim } from '../../scripts/sim/cli.ts';
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

async function sim(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSim(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
  return { code, out: out.join('\n'), err: err.join('\n') };
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
