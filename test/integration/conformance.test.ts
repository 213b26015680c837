import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { bodySignHeader } from '#lib/koogallery/signature.ts';
import { formatJson, formatTable } from '#lib/simulator/conformance/report.ts';
import { CONFORMANCE_CHECKS, runConformance } from '#lib/simulator/conformance/run.ts';
import type { CheckResult } from '#lib/simulator/conformance/trial.ts';
import { startHandlerServer, type HandlerServer } from '../helpers/httpServer.ts';
import { TEST_KEY } from '../helpers/signing.ts';
import { KIT_KEY, tenantItems } from '../helpers/kit.ts';
import { CT_PUBLIC_KEY_B64 } from '../helpers/kitVectors.ts';

const KIT = { key: KIT_KEY, publicKey: CT_PUBLIC_KEY_B64 };

/**
 * The conformance suite against the real production interface (served in-process over HTTP) and against stand-in
 * servers that each break one rule: the suite must pass the first and fail exactly the relevant checks of the others.
 */

let server: HandlerServer;
let produceUrl: string;
const standIns: Server[] = [];

beforeAll(async () => {
  server = await startHandlerServer();
  produceUrl = `${server.url}/koogallery/produce`;
});
afterAll(async () => {
  await Promise.all(standIns.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  await server.close();
});

// ── stand-in servers ──────────────────────────────────────────────────────────────────────────────────────────────

interface Reply {
  status: number;
  /** Raw header pairs, names as sent. */
  headers: [string, string][];
  body: string;
}

interface Received {
  method: string;
  url: URL;
  body: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A server on 127.0.0.1:0 answering every request with `answer`; the production address on it. */
async function standIn(answer: (received: Received) => Promise<Reply & { delayMs?: number }>): Promise<string> {
  const s = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const reply = await answer({ method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://127.0.0.1'), body });
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      res.writeHead(reply.status, reply.headers.flat());
      res.end(reply.body);
    })().catch((error: unknown) => res.writeHead(502).end(String(error)));
  });
  standIns.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/koogallery/produce`;
}

/** Sends a request on to the real server and gives its answer as sent (header names in their case). */
function forward(received: Received, search = received.url.search): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const target = new URL(`/koogallery/produce${search}`, server.url);
    const headers =
      received.method === 'GET'
        ? {}
        : { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(received.body) };
    const req = request(target, { method: received.method, headers }, (res) => {
      void readBody(res).then((body) => {
        const pairs: [string, string][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        // Framing headers are the stand-in's own.
        const kept = pairs.filter(
          ([n]) => !['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date'].includes(n.toLowerCase()),
        );
        resolve({ status: res.statusCode ?? 0, headers: kept, body });
      }, reject);
    });
    req.on('error', reject);
    req.end(received.method === 'GET' ? undefined : received.body);
  });
}

/** The real server behind a proxy that changes its answers. */
const proxy = (change: (reply: Reply, received: Received) => Reply & { delayMs?: number }) =>
  standIn(async (received) => change(await forward(received), received));

const withoutBodySign = (reply: Reply): Reply => ({ ...reply, headers: reply.headers.filter(([n]) => n !== 'Body-Sign') });

// ── helpers ───────────────────────────────────────────────────────────────────────────────────────────────────────

const failures = (results: readonly CheckResult[]) => results.filter((r) => !r.ok);
const failedIds = (results: readonly CheckResult[]) =>
  failures(results)
    .map((r) => r.id)
    .sort();
const idsOf = (group: string) =>
  CONFORMANCE_CHECKS.filter((c) => c.group === group)
    .map((c) => c.id)
    .sort();
const explain = (results: readonly CheckResult[]) =>
  failures(results)
    .map((r) => `${r.id}: ${r.detail}`)
    .join('\n');

// ── the real server ───────────────────────────────────────────────────────────────────────────────────────────────

describe('against the real production interface', () => {
  it('passes every check, reporting each as it comes', async () => {
    const seen: string[] = [];
    const results = await runConformance({ url: produceUrl, key: TEST_KEY, kit: KIT, onResult: (r) => seen.push(r.id) });
    expect(failures(results), explain(results)).toEqual([]);
    expect(results.map((r) => r.id)).toEqual(CONFORMANCE_CHECKS.map((c) => c.id));
    expect(seen).toEqual(results.map((r) => r.id));
    for (const r of results) {
      expect(r.latencyMs, r.id).toBeGreaterThanOrEqual(0);
      expect(r.resultCode, r.id).toMatch(/^\d{6}$/);
    }
    // Where the spec allows a choice, the detail says which one the server made.
    const byId = new Map(results.map((r) => [r.id, r]));
    expect(byId.get('sig.stale')?.detail).toBe('refused with 000002');
    expect(byId.get('sig.seconds')?.detail).toBe('accepted: read as seconds');
    expect(byId.get('lim.malformed-json')?.detail).toBe('refused with 000002');
  }, 60_000);

  it('runs the Kit checks only with a Kit key; a refused Kit call stores nothing of its tenant', async () => {
    const without = await runConformance({ url: produceUrl, key: TEST_KEY, only: ['sig.accepted'] });
    expect(without.map((r) => r.id)).toEqual(['sig.accepted']);

    const results = await runConformance({ url: produceUrl, key: TEST_KEY, kit: KIT, only: ['kit'] });
    expect(results.map((r) => r.id)).toEqual(CONFORMANCE_CHECKS.filter((c) => c.group === 'kit').map((c) => c.id));
    expect(failures(results), explain(results)).toEqual([]);
    const byId = new Map(results.map((r) => [r.id, r]));
    expect(byId.get('kit.sig.stale')?.detail).toMatch(/refused with 000002/);
    expect(byId.get('kit.decrypt')?.resultCode).toBe('000101');
    const tenantOf = (id: string) => /tenant (conf-\w+)/.exec(byId.get(id)?.detail ?? '')?.[1];
    for (const id of [
      'kit.sig.wrong-key',
      'kit.sig.tampered',
      'kit.sig.stale',
      'kit.decrypt',
      'kit.bad.missing-field',
      'kit.bad.too-long',
      'kit.bad.flag',
      'kit.bad.malformed-json',
    ]) {
      const tenant = tenantOf(id);
      expect(tenant, id).toBeDefined();
      expect([...(await tenantItems(tenant!)).keys()], id).toEqual([]);
    }
    // What the accepted ones stored: the tenant, and the repeat added nothing.
    expect([...(await tenantItems(tenantOf('kit.tenantSync')!)).keys()].filter((k) => !k.startsWith('HIST'))).not.toEqual([]);
    const users = [...(await tenantItems(tenantOf('kit.authSync')!)).keys()].filter((k) => k.startsWith('USER#'));
    expect(users).toHaveLength(2);
  }, 60_000);

  it('fails every Kit check against a server that does not serve the Kit calls', async () => {
    const url = await standIn(async () => ({
      status: 404,
      headers: [['Content-Type', 'application/json']],
      body: '{"message":"Not Found"}',
    }));
    const results = await runConformance({ url, key: TEST_KEY, kit: KIT, only: ['kit'] });
    expect(failedIds(results)).toEqual(idsOf('kit'));
    expect(results[0]?.detail).toMatch(/HTTP 404/);
  });

  it('runs only the groups or checks asked for, and refuses unknown names', async () => {
    const results = await runConformance({ url: produceUrl, key: TEST_KEY, only: ['signatures', 'act.new'] });
    expect(results.map((r) => r.id)).toEqual([...CONFORMANCE_CHECKS.filter((c) => c.group === 'signatures').map((c) => c.id), 'act.new']);
    expect(failures(results), explain(results)).toEqual([]);
    await expect(runConformance({ url: produceUrl, key: TEST_KEY, only: ['nonsense'] })).rejects.toThrow(
      /unknown conformance group or check: nonsense/,
    );
  });

  it('fails the checks on a wrong key without throwing', async () => {
    const results = await runConformance({ url: produceUrl, key: 'not-the-key', only: ['act.new', 'act.query-unknown'] });
    expect(failedIds(results)).toEqual(['act.new', 'act.query-unknown']);
    expect(results[1]?.detail).toMatch(/resultCode 000001.*expected 000003/);
  });
});

// ── broken servers ────────────────────────────────────────────────────────────────────────────────────────────────

describe('against broken servers', () => {
  it('a server without Body-Sign fails every check, or only the V1 ones when V2 signing is not required', async () => {
    const url = await proxy(withoutBodySign);
    const strict = await runConformance({ url, key: TEST_KEY, only: ['signatures'] });
    expect(failedIds(strict)).toEqual(idsOf('signatures'));
    for (const r of strict) expect(r.detail).toMatch(/no Body-Sign header/);

    const lenient = await runConformance({ url, key: TEST_KEY, only: ['activities'], requireBodySign: false });
    expect(failedIds(lenient), explain(lenient)).toEqual(['act.v1-new', 'act.v1-query-unknown']);
    expect(lenient.find((r) => r.id === 'act.v1-new')?.detail).toMatch(/V1 newInstance: no Body-Sign header/);
  });

  it('a server answering HTTP 500 fails every check, saying so', async () => {
    const url = await proxy((reply) => ({ ...reply, status: 500 }));
    const results = await runConformance({ url, key: TEST_KEY, only: ['signatures', 'act.query'] });
    expect(failedIds(results)).toEqual([...idsOf('signatures'), 'act.query'].sort());
    for (const r of results) expect(r.detail).toMatch(/HTTP 500/);
    expect(results.find((r) => r.id === 'act.query')?.detail).toMatch(/^newInstance: HTTP 500; queryInstance: HTTP 500$/);
  });

  it('a server sending body-sign in lower case fails on the header name', async () => {
    const url = await proxy((reply) => ({ ...reply, headers: reply.headers.map(([n, v]) => [n === 'Body-Sign' ? 'body-sign' : n, v]) }));
    const results = await runConformance({ url, key: TEST_KEY, only: ['sig.accepted', 'act.v1-query-unknown', 'lim.missing-field'] });
    expect(failedIds(results)).toEqual(['act.v1-query-unknown', 'lim.missing-field', 'sig.accepted']);
    for (const r of results) expect(r.detail).toMatch(/Body-Sign header sent under another case/);
  });

  it('a server signing the body wrongly fails on Body-Sign', async () => {
    const url = await proxy((reply) => ({
      ...reply,
      headers: reply.headers.map(([n, v]) => [n, n === 'Body-Sign' ? bodySignHeader('another-key', reply.body) : v]),
    }));
    for (const requireBodySign of [true, false]) {
      const [result] = await runConformance({ url, key: TEST_KEY, only: ['sig.accepted'], requireBodySign });
      expect(result).toMatchObject({ ok: false, detail: expect.stringMatching(/Body-Sign does not match/) });
    }
  });

  it('a server slower than the budget fails the checks whose calls are slow', async () => {
    // Only newInstance is slow: the checks that create instances fail, the others pass.
    const url = await proxy((reply, received) => ({ ...reply, delayMs: received.body.includes('"newInstance"') ? 400 : 0 }));
    const results = await runConformance({
      url,
      key: TEST_KEY,
      budgetMs: 200,
      only: ['act.new', 'act.query-unknown', 'act.unknown-activity', 'lim.id-65'],
    });
    expect(failedIds(results)).toEqual(['act.new', 'lim.id-65']);
    const slow = results.find((r) => r.id === 'act.new')!;
    expect(slow.detail).toMatch(/answered in \d+ ms, over the 200 ms budget/);
    expect(slow.latencyMs).toBeGreaterThanOrEqual(400);
  });

  it('a server that accepts every signature fails exactly the signature refusals', async () => {
    // The proxy re-signs every V2 call correctly: the real server behind it then accepts whatever was sent.
    const resigning = await standIn(async (received) => {
      if (received.method !== 'POST') return forward(received);
      let body: JsonObject | undefined;
      try {
        body = JSON.parse(received.body) as JsonObject;
      } catch {
        body = undefined;
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) return forward(received);
      const q = signRequest(TEST_KEY, body);
      return forward(received, `?${new URLSearchParams(q).toString()}`);
    });
    const results = await runConformance({ url: resigning, key: TEST_KEY, only: ['signatures', 'act.query', 'idem.resend'] });
    expect(failedIds(results), explain(results)).toEqual(
      [
        'sig.future',
        'sig.missing-nonce',
        'sig.missing-signature',
        'sig.missing-timestamp',
        'sig.replay',
        'sig.stale',
        'sig.tampered',
        'sig.wrong-key',
      ].sort(),
    );
    expect(results.find((r) => r.id === 'sig.replay')?.detail).toMatch(/same call again: resultCode 000003.*expected 000001/);
  });

  it('a server that answers 000000 to everything fails the refusals and the lookups', async () => {
    const url = await standIn(async () => {
      const body = JSON.stringify({ resultCode: '000000', resultMsg: 'success.', instanceId: randomUUID() });
      return {
        status: 200,
        headers: [
          ['Content-Type', 'application/json;charset=UTF-8'],
          ['Body-Sign', bodySignHeader(TEST_KEY, body)],
        ],
        body,
      };
    });
    const results = await runConformance({ url, key: TEST_KEY, only: ['signatures', 'act.new', 'act.query', 'idem.resend'] });
    const failed = failedIds(results);
    for (const id of ['sig.wrong-key', 'sig.tampered', 'sig.replay', 'sig.missing-signature', 'sig.stale', 'act.query', 'idem.resend'])
      expect(failed).toContain(id);
    expect(failed).not.toContain('act.new');
    expect(results.find((r) => r.id === 'act.query')?.detail).toMatch(/queryInstance answered without an info array/);
    expect(results.find((r) => r.id === 'idem.resend')?.detail).toMatch(/3 different instanceIds/);
  });

  it('a server answering 000004 for a while is polled until it is ready', async () => {
    /** A signed 000004 ("request is processing") answer. */
    const processingAnswer = (): Reply => {
      const body = JSON.stringify({ resultCode: '000004', resultMsg: 'request is processing' });
      return {
        status: 200,
        headers: [
          ['Content-Type', 'application/json;charset=UTF-8'],
          ['Body-Sign', bodySignHeader(TEST_KEY, body)],
        ],
        body,
      };
    };
    let queries = 0;
    const url = await proxy((reply, received) => {
      if (!received.body.includes('"queryInstance"') || ++queries > 2) return reply;
      return processingAnswer();
    });
    const [result] = await runConformance({ url, key: TEST_KEY, only: ['act.query'] });
    expect(result, result?.detail).toMatchObject({ ok: true, resultCode: '000000' });
    expect(queries).toBe(3);

    const stuck = await proxy((reply, received) => {
      if (!received.body.includes('"queryInstance"')) return reply;
      return processingAnswer();
    });
    const [late] = await runConformance({ url: stuck, key: TEST_KEY, only: ['act.query'], provisioningWaitMs: 1_200 });
    expect(late).toMatchObject({ ok: false, resultCode: '000004' });
    expect(late?.detail).toMatch(/still 000004/);
  });

  it('an address where nothing answers fails every check with the transport error', async () => {
    const results = await runConformance({
      url: 'http://127.0.0.1:9/koogallery/produce',
      key: TEST_KEY,
      only: ['limits'],
      timeoutMs: 1_000,
    });
    expect(failedIds(results)).toEqual(idsOf('limits'));
    for (const r of results) expect(r.detail).toMatch(/no answer \(.*(ECONNREFUSED|refused)/);
  });
});

// ── reports ───────────────────────────────────────────────────────────────────────────────────────────────────────

describe('reports', () => {
  const sample: CheckResult[] = [
    {
      id: 'sig.accepted',
      group: 'signatures',
      title: 'a correctly signed call is accepted',
      ok: true,
      latencyMs: 12,
      resultCode: '000003',
    },
    {
      id: 'lim.large-body',
      group: 'limits',
      title: 'a body over 64 KB is refused',
      ok: false,
      detail: 'signed body: resultCode 000003, expected 000002',
      latencyMs: 1234,
      resultCode: '000003',
    },
    { id: 'act.new', group: 'activities', title: 'newInstance', ok: false, detail: 'newInstance: no answer (ECONNREFUSED)' },
  ];

  it('formats an aligned table with details under failures and a summary line', () => {
    const lines = formatTable(sample).split('\n');
    expect(lines[0]).toMatch(/^\s+group\s+check\s+code\s+latency$/);
    expect(lines[1]).toMatch(/^ok\s+signatures\s+a correctly signed call is accepted\s+000003\s+12 ms$/);
    expect(lines[2]).toMatch(/^FAIL\s+limits\s+a body over 64 KB is refused\s+000003\s+1234 ms$/);
    expect(lines[3]).toMatch(/^\s+→ signed body: resultCode 000003, expected 000002$/);
    expect(lines[4]).toMatch(/^FAIL\s+activities\s+newInstance\s+-\s+-$/);
    // The columns line up: group, check, code start at the same offset on every row.
    const rows = [lines[0]!, lines[1]!, lines[2]!, lines[4]!];
    for (const word of ['group', 'check', 'code']) {
      const column = lines[0]!.indexOf(word);
      for (const row of rows.slice(1)) expect(row[column - 1]).toBe(' ');
    }
    expect(lines[1]!.length).toBe(lines[2]!.length);
    expect(lines.at(-1)).toBe('conformance: 1 of 3 checks passed, 2 failed');
  });

  it('formats JSON with the counts and every result', () => {
    const parsed = JSON.parse(formatJson(sample)) as { ok: boolean; passed: number; failed: number; results: CheckResult[] };
    expect(parsed).toEqual({ ok: false, passed: 1, failed: 2, results: sample });
    expect(JSON.parse(formatJson([sample[0]!]))).toMatchObject({ ok: true, passed: 1, failed: 0 });
  });
});
