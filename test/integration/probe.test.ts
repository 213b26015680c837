import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/probe.ts';
import { marketplaceClient } from '#lib/simulator/client.ts';
import { probe } from '#lib/simulator/probe.ts';
import { startHandlerServer, type HandlerServer } from '../helpers/httpServer.ts';
import { TEST_KEY } from '../helpers/signing.ts';

/** The availability probe: the scheduled function against the real handlers over HTTP, and against broken servers. */

let server: HandlerServer;
beforeAll(async () => {
  server = await startHandlerServer();
  // Read by lib/config.ts at the function's first call.
  process.env.PROBE_URL = `${server.url}/koogallery/produce`;
});
afterAll(() => server.close());

async function standIn(
  answer: (body: string) => { status: number; headers: Record<string, string>; body: string; delayMs?: number },
): Promise<{ url: string; server: Server }> {
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const a = answer(body);
      setTimeout(() => res.writeHead(a.status, a.headers).end(a.body), a.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/koogallery/produce`, server: s };
}

describe('availability probe', () => {
  it('passes against the real server: a debug newInstance and its query, signed answers within 5 s', async () => {
    const result = await handler();
    expect(result).toMatchObject({
      ok: true,
      checks: [
        { title: 'debug newInstance', ok: true, resultCode: '000000' },
        { title: 'debug queryInstance', ok: true },
      ],
    });
  });

  it('fails, saying why, when answers are unsigned, errors, slow, or missing', async () => {
    const unsigned = await standIn(() => ({
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: '{"resultCode":"000000","resultMsg":"ok","instanceId":"i-1"}',
    }));
    const failing = await standIn(() => ({ status: 500, headers: {}, body: 'Internal Server Error' }));
    const slow = await standIn(() => ({ status: 200, headers: {}, body: '{}', delayMs: 400 }));
    try {
      const a = await probe(marketplaceClient(unsigned.url, TEST_KEY));
      expect(a.ok).toBe(false);
      expect(a.checks[0]!.detail).toBe('Body-Sign absent');
      const b = await probe(marketplaceClient(failing.url, TEST_KEY));
      expect(b.checks[0]!.detail).toMatch(/HTTP 500/);
      const c = await probe(marketplaceClient(slow.url, TEST_KEY), { budgetMs: 200 });
      expect(c.checks[0]!.detail).toMatch(/over 200 ms/);
      const d = await probe(marketplaceClient('http://127.0.0.1:9/koogallery/produce', TEST_KEY), { budgetMs: 500 });
      expect(d.checks[0]!.detail).toMatch(/^no answer/);
    } finally {
      for (const s of [unsigned, failing, slow]) s.server.close();
    }
  });
});
