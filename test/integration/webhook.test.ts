import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookClient, webhookSignatureHeader, type WebhookEvent, type WebhookOutcome } from '#lib/provisioning/webhook.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../scripts/local/webhook-receiver.ts';

/**
 * The webhook adapter against the reference receiver and odd servers, over real HTTP on 127.0.0.1 (a restricted
 * address: these clients allow private hosts, as the local stack does), and the refusal of restricted hosts.
 */

const SECRET = 'whsec-integration-0123456789';

function created(instanceId = `inst-${randomUUID()}`, version = 1): WebhookEvent {
  return {
    id: `${instanceId}:${version}`,
    type: 'instance.created',
    occurredAt: new Date().toISOString(),
    test: true,
    instance: { instanceId, state: 'PROVISIONING', orderId: 'CS1', orderLineId: 'CS1-000001', linearValue: 5 },
    order: { orderId: 'CS1', orderLineId: 'CS1-000001', amount: '10.00' },
  };
}

function next(event: WebhookEvent, type: WebhookEvent['type'], version: number, state: WebhookEvent['instance']['state']): WebhookEvent {
  const { order: _order, ...rest } = event;
  return { ...rest, id: `${event.instance.instanceId}:${version}`, type, instance: { ...event.instance, state } };
}

function failure(outcome: WebhookOutcome): { retry: boolean; reason: string; status?: number } {
  if (outcome.ok) throw new Error('expected a failure');
  return outcome;
}

/** A one-route server that answers however the test says. */
async function oddServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('webhook adapter ↔ reference receiver', () => {
  let receiver: WebhookReceiver;
  let client: ReturnType<typeof webhookClient>;

  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secret: SECRET, frontEndBase: 'https://app.example.test/' });
    client = webhookClient({ url: receiver.url, secret: SECRET, allowPrivateHosts: true });
  });
  afterAll(() => receiver.close());

  it('listens on 127.0.0.1 only', () => {
    expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhook$/);
  });

  it('instance.created → ok with the tenant appInfo', async () => {
    const event = created();
    const outcome = await client.deliver(event);
    expect(outcome.ok).toBe(true);
    const appInfo = outcome.ok ? outcome.appInfo : undefined;
    expect(appInfo?.frontEndUrl).toBe(`https://app.example.test/t/${event.instance.instanceId}`);
    expect(appInfo?.userName).toMatch(/^admin-/);
    expect(appInfo?.password).toMatch(/^[\w-]{16}$/);
    const tenant = receiver.tenants().get(event.instance.instanceId);
    expect(tenant).toMatchObject({ state: 'ACTIVE', provisionedBy: event.id, provisions: 1, appInfo });
  });

  it('the same event delivered twice → the same appInfo, one tenant, provisions stays 1', async () => {
    const event = created();
    const first = await client.deliver(event);
    const second = await client.deliver(event);
    const [a, b] = await Promise.all([client.deliver(event), client.deliver(event)]);
    expect(first.ok && second.ok && a.ok && b.ok).toBe(true);
    for (const outcome of [second, a, b]) expect(outcome).toEqual(first);
    expect(receiver.tenants().get(event.instance.instanceId)?.provisions).toBe(1);
    const mine = receiver.deliveries().filter((d) => d.id === event.id);
    expect(mine.map((d) => [d.status, d.replayed])).toEqual([
      [200, false],
      [200, true],
      [200, true],
      [200, true],
    ]);
  });

  it('failNext(2) → two retries, then ok; provisions 1', async () => {
    const event = created();
    receiver.failNext(2);
    const outcomes = [await client.deliver(event), await client.deliver(event), await client.deliver(event)];
    expect(failure(outcomes[0]!)).toMatchObject({ retry: true, status: 503 });
    expect(failure(outcomes[1]!).reason).toMatch(/^webhook answered HTTP 503: .*injected failure/);
    expect(outcomes[2]).toMatchObject({ ok: true, appInfo: { frontEndUrl: expect.stringContaining(event.instance.instanceId) } });
    expect(receiver.tenants().get(event.instance.instanceId)?.provisions).toBe(1);
  });

  it('failure injection over HTTP: POST /_control/fail, GET /_control/tenants', async () => {
    const base = new URL(receiver.url).origin;
    const event = created();
    const set = await fetch(`${base}/_control/fail`, { method: 'POST', body: JSON.stringify({ times: 1, status: 500 }) });
    expect(set.status).toBe(200);
    expect(failure(await client.deliver(event))).toMatchObject({ retry: true, status: 500 });
    expect((await client.deliver(event)).ok).toBe(true);
    const tenants = (await (await fetch(`${base}/_control/tenants`)).json()) as Record<string, { state: string; appInfo: object }>;
    expect(tenants[event.instance.instanceId]?.state).toBe('ACTIVE');
    expect(tenants[event.instance.instanceId]?.appInfo).not.toHaveProperty('password');
    expect((await fetch(`${base}/_control/fail`, { method: 'POST', body: '{"times":-1}' })).status).toBe(400);
  });

  it('an answer slower than timeoutMs → retry "timed out"; the redelivery gets the same appInfo', async () => {
    const event = created();
    const quick = webhookClient({ url: receiver.url, secret: SECRET, timeoutMs: 200, allowPrivateHosts: true });
    receiver.delayNext(1, 1_000);
    const started = Date.now();
    const late = failure(await quick.deliver(event));
    expect(Date.now() - started).toBeLessThan(900);
    expect(late).toEqual({ ok: false, retry: true, reason: 'webhook timed out after 200 ms' });
    const again = await quick.deliver(event);
    expect(again.ok).toBe(true);
    expect(receiver.tenants().get(event.instance.instanceId)).toMatchObject({ provisions: 1, appInfo: again.ok ? again.appInfo : {} });
  });

  it('frozen / unfrozen / released change the tenant; stale and repeated events change nothing', async () => {
    const event = created();
    const id = event.instance.instanceId;
    expect((await client.deliver(event)).ok).toBe(true);
    expect(await client.deliver(next(event, 'instance.frozen', 2, 'FROZEN'))).toEqual({ ok: true, status: 200 });
    expect(receiver.tenants().get(id)?.state).toBe('FROZEN');
    expect(await client.deliver(next(event, 'instance.unfrozen', 3, 'ACTIVE'))).toEqual({ ok: true, status: 200 });
    expect(receiver.tenants().get(id)?.state).toBe('ACTIVE');
    // A late redelivery of the freeze: acknowledged, the tenant stays active.
    expect(await client.deliver(next(event, 'instance.frozen', 2, 'FROZEN'))).toEqual({ ok: true, status: 200 });
    expect(receiver.tenants().get(id)?.state).toBe('ACTIVE');
    expect(await client.deliver(next(event, 'instance.renewed', 4, 'ACTIVE'))).toEqual({ ok: true, status: 200 });
    expect(await client.deliver(next(event, 'instance.released', 5, 'RELEASED'))).toEqual({ ok: true, status: 200 });
    expect(receiver.tenants().get(id)?.state).toBe('DELETED');
    // Released is final.
    expect(await client.deliver(next(event, 'instance.unfrozen', 6, 'ACTIVE'))).toEqual({ ok: true, status: 200 });
    expect(receiver.tenants().get(id)).toMatchObject({ state: 'DELETED', provisions: 1 });
  });

  it('an event for a tenant not created yet is retried', async () => {
    const event = created();
    const early = failure(await client.deliver(next(event, 'instance.frozen', 2, 'FROZEN')));
    expect(early).toMatchObject({ retry: true, status: 503 });
    expect((await client.deliver(event)).ok).toBe(true);
    expect(await client.deliver(next(event, 'instance.frozen', 2, 'FROZEN'))).toEqual({ ok: true, status: 200 });
    expect(receiver.tenants().get(event.instance.instanceId)?.state).toBe('FROZEN');
  });

  it('a release of a tenant never created is acknowledged, and a late instance.created then creates nothing', async () => {
    const event = created();
    const id = event.instance.instanceId;
    expect(await client.deliver(next(event, 'instance.released', 3, 'RELEASED'))).toEqual({ ok: true, status: 200 });
    expect(failure(await client.deliver(event))).toMatchObject({ retry: false, status: 410 });
    expect(receiver.tenants().has(id)).toBe(false);
  });

  it('a wrong secret → the receiver answers 401 and the client fails for good', async () => {
    const event = created();
    const wrong = webhookClient({ url: receiver.url, secret: 'another-secret-0123456789', allowPrivateHosts: true });
    expect(failure(await wrong.deliver(event))).toEqual({
      ok: false,
      retry: false,
      status: 401,
      reason: 'webhook answered HTTP 401: {"error":"signature mismatch"}',
    });
    expect(receiver.tenants().has(event.instance.instanceId)).toBe(false);
  });

  it('refuses unsigned, stale, tampered, invalid and oversized requests', async () => {
    const event = created();
    const body = JSON.stringify(event);
    const post = (headers: Record<string, string>, payload = body) =>
      fetch(receiver.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-koogallery-event-id': event.id, ...headers },
        body: payload,
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ 'x-koogallery-signature': webhookSignatureHeader(SECRET, body, Date.now() - 301_000) })).status).toBe(401);
    expect((await post({ 'x-koogallery-signature': webhookSignatureHeader(SECRET, body, Date.now()) }, `${body} `)).status).toBe(401);
    const invalid = JSON.stringify({ ...event, type: 'instance.exploded' });
    const bad = await post({ 'x-koogallery-signature': webhookSignatureHeader(SECRET, invalid, Date.now()) }, invalid);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^invalid event: type/);
    const huge = 'x'.repeat(70_000);
    expect((await post({ 'x-koogallery-signature': webhookSignatureHeader(SECRET, huge, Date.now()) }, huge)).status).toBe(413);
    expect(receiver.tenants().has(event.instance.instanceId)).toBe(false);
  });
});

describe('webhook adapter ↔ odd servers', () => {
  const servers: { close: () => Promise<void> }[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  const clientFor = async (handler: (req: IncomingMessage, res: ServerResponse) => void, timeoutMs?: number) => {
    const server = await oddServer(handler);
    servers.push(server);
    return webhookClient({ url: server.url, secret: SECRET, allowPrivateHosts: true, ...(timeoutMs ? { timeoutMs } : {}) });
  };

  it.each([400, 404])('HTTP %i → failed for good, with the status and the start of the body', async (status) => {
    const client = await clientFor((_req, res) =>
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`no such hook\nline 2 ${'y'.repeat(400)}`),
    );
    const outcome = failure(await client.deliver(created()));
    expect(outcome).toMatchObject({ retry: false, status });
    expect(outcome.reason.startsWith(`webhook answered HTTP ${status}: no such hook line 2 yyy`)).toBe(true);
    expect(outcome.reason).not.toContain('\n');
    expect(outcome.reason.length).toBeLessThanOrEqual(`webhook answered HTTP ${status}: `.length + 201);
  });

  it('a redirect is not followed and fails for good', async () => {
    let followed = false;
    const target = await oddServer((_req, res) => {
      followed = true;
      res.writeHead(200).end('{"frontEndUrl":"https://evil.example"}');
    });
    servers.push(target);
    const client = await clientFor((_req, res) => res.writeHead(307, { location: target.url }).end());
    const outcome = failure(await client.deliver(created()));
    expect(outcome).toMatchObject({ retry: false, status: 307 });
    expect(outcome.reason).toMatch(/redirect/);
    expect(followed).toBe(false);
  });

  it('2xx without an appInfo, or with a frontEndUrl that is no URL → failed for good naming the field', async () => {
    const empty = await clientFor((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    expect(failure(await empty.deliver(created()))).toEqual({
      ok: false,
      retry: false,
      status: 200,
      reason: 'webhook answered without a valid appInfo: frontEndUrl is missing',
    });
    const notUrl = await clientFor((_req, res) => res.writeHead(201).end('{"frontEndUrl":"our app"}'));
    expect(failure(await notUrl.deliver(created()))).toMatchObject({
      retry: false,
      reason: 'webhook answered without a valid appInfo: frontEndUrl must be an http(s) URL',
    });
    // Other types ignore the body of a 2xx.
    const event = created();
    expect(await empty.deliver(next(event, 'instance.renewed', 2, 'ACTIVE'))).toEqual({ ok: true, status: 200 });
  });

  it('a huge body is not read past 64 KB', async () => {
    const MAX_WRITTEN = 100_000_000;
    let written = 0;
    const client = await clientFor((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"frontEndUrl":"https://a.example/${'a'.repeat(100)}","memo":"`);
      const chunk = 'm'.repeat(16_384);
      // Up to 100 MB, more than the kernel's socket buffers can hold (a receive buffer may grow to 32 MB), so the
      // server can only finish if the client reads on; it stops as soon as the client goes away.
      const pump = () => {
        while (written < MAX_WRITTEN && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('"}');
      };
      res.on('error', () => {});
      pump();
    });
    const outcome = failure(await client.deliver(created()));
    expect(outcome).toMatchObject({ retry: false, reason: 'webhook answered without a valid appInfo: body larger than 65536 bytes' });
    expect(written).toBeLessThan(MAX_WRITTEN);
  });

  it('no answer within timeoutMs → retry, timed out', async () => {
    const client = await clientFor((_req, res) => setTimeout(() => res.writeHead(200).end('{}'), 2_000).unref(), 150);
    expect(failure(await client.deliver(created()))).toEqual({ ok: false, retry: true, reason: 'webhook timed out after 150 ms' });
  });

  it('connection refused → retry', async () => {
    const gone = await oddServer(() => {});
    await gone.close();
    const client = webhookClient({ url: gone.url, secret: SECRET, allowPrivateHosts: true });
    expect(failure(await client.deliver(created()))).toEqual({ ok: false, retry: true, reason: 'webhook request failed: ECONNREFUSED' });
  });

  it('a status that is no final HTTP answer → retry, naming it', async () => {
    const server = createNetServer((socket) => {
      socket.on('data', () => socket.end('HTTP/1.1 999 Odd\r\ncontent-length: 2\r\n\r\nno'));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const { port } = server.address() as AddressInfo;
    const client = webhookClient({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET, allowPrivateHosts: true });
    expect(failure(await client.deliver(created()))).toEqual({
      ok: false,
      retry: true,
      reason: 'webhook request failed: webhook answered HTTP status 999, which is not a final answer',
    });
  });

  it.each([408, 429, 502])('HTTP %i → retry', async (status) => {
    const client = await clientFor((_req, res) => res.writeHead(status).end());
    expect(failure(await client.deliver(created()))).toEqual({ ok: false, retry: true, status, reason: `webhook answered HTTP ${status}` });
  });
});

describe('webhook adapter ↔ hosts on restricted addresses', () => {
  const frozen = () => next(created(), 'instance.frozen', 2, 'FROZEN');

  it('refuses for good a host that resolves to the loopback, without connecting; delivers to it when allowed', async () => {
    let requests = 0;
    const server = await oddServer((_req, res) => {
      requests += 1;
      res.writeHead(204).end();
    });
    try {
      const url = `${server.url.replace('127.0.0.1', 'localhost')}?token=abc`;
      const refused = failure(await webhookClient({ url, secret: SECRET }).deliver(frozen()));
      expect(refused).toEqual({ ok: false, retry: false, reason: expect.any(String) });
      expect(refused.reason).toMatch(
        /^webhook host localhost resolves to (127\.0\.0\.1|::1), a loopback address: refused \(set WEBHOOK_ALLOW_PRIVATE_HOSTS=true to allow private hosts\)$/,
      );
      expect(requests).toBe(0);
      expect(await webhookClient({ url, secret: SECRET, allowPrivateHosts: true }).deliver(frozen())).toEqual({ ok: true, status: 204 });
      expect(requests).toBe(1);
    } finally {
      await server.close();
    }
  });

  it.each([
    ['http://127.0.0.1:9/hook', 'webhook host 127.0.0.1 is a loopback address'],
    ['http://[::1]:9/hook', 'webhook host ::1 is a loopback address'],
    ['https://169.254.169.254/latest/meta-data/', 'webhook host 169.254.169.254 is a link-local address'],
    ['https://[fd00:ec2::254]/latest/meta-data/', 'webhook host fd00:ec2::254 is a private address'],
    ['https://[::ffff:169.254.169.254]/', 'webhook host ::ffff:a9fe:a9fe is a link-local address'],
    ['https://10.0.0.8/hook', 'webhook host 10.0.0.8 is a private address'],
    ['https://100.64.1.1/hook', 'webhook host 100.64.1.1 is a shared (CGNAT) address'],
    ['https://0.0.0.0/hook', 'webhook host 0.0.0.0 is an unspecified address'],
    ['https://224.0.0.1/hook', 'webhook host 224.0.0.1 is a multicast address'],
  ])('refuses %s for good, at once', async (url, reason) => {
    const started = Date.now();
    const refused = failure(await webhookClient({ url, secret: SECRET, timeoutMs: 2_000 }).deliver(frozen()));
    expect(refused).toEqual({
      ok: false,
      retry: false,
      reason: `${reason}: refused (set WEBHOOK_ALLOW_PRIVATE_HOSTS=true to allow private hosts)`,
    });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('does not follow a redirect to the metadata address', async () => {
    const client = webhookClient({
      url: (await redirecting('http://169.254.169.254/latest/meta-data/')).url,
      secret: SECRET,
      allowPrivateHosts: true,
    });
    expect(failure(await client.deliver(frozen()))).toMatchObject({
      retry: false,
      status: 302,
      reason: expect.stringMatching(/redirects are not followed/),
    });
  });

  const opened: { close: () => Promise<void> }[] = [];
  afterAll(async () => {
    for (const server of opened) await server.close();
  });
  async function redirecting(location: string) {
    const server = await oddServer((_req, res) => res.writeHead(302, { location }).end());
    opened.push(server);
    return server;
  }
});
