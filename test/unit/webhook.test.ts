import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appInfoResponseSchema,
  verifyWebhookSignature,
  webhookClient,
  webhookEventSchema,
  webhookSignatureHeader,
  type WebhookEvent,
} from '#lib/provisioning/webhook.ts';
import { assertWebhookUrl } from '#lib/provisioning/webhookUrl.ts';

const SECRET = 'whsec-test-0123456789abcdef';
const T = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const BODY = '{"id":"inst-1:1","type":"instance.created"}';
const expectedHex = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');

function event(overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    id: 'inst-1:1',
    type: 'instance.created',
    occurredAt: '2026-01-01T00:00:00.000Z',
    test: false,
    instance: { instanceId: 'inst-1', state: 'PROVISIONING', orderId: 'CS1', orderLineId: 'CS1-000001' },
    ...overrides,
  };
}

describe('webhook signature header', () => {
  it('is t=<ms>,v1=<hex HMAC-SHA256(secret, t.body)>', () => {
    const header = webhookSignatureHeader(SECRET, BODY, T);
    expect(header).toBe(`t=${T},v1=${expectedHex}`);
    expect(header).toMatch(/^t=\d{13},v1=[0-9a-f]{64}$/);
  });

  it('verifies the header it makes, within ±5 minutes', () => {
    const header = webhookSignatureHeader(SECRET, BODY, T);
    expect(verifyWebhookSignature(SECRET, header, BODY, T)).toEqual({ ok: true });
    expect(verifyWebhookSignature(SECRET, header, BODY, T + 300_000)).toEqual({ ok: true });
    expect(verifyWebhookSignature(SECRET, header, BODY, T - 300_000)).toEqual({ ok: true });
    expect(
      verifyWebhookSignature(
        SECRET,
        header.replace(/v1=(\w+)/, (_m, h: string) => `v1=${h.toUpperCase()}`),
        BODY,
        T,
      ),
    ).toEqual({ ok: true });
  });

  it('refuses a tampered body, a wrong secret, a stale or future time', () => {
    const header = webhookSignatureHeader(SECRET, BODY, T);
    expect(verifyWebhookSignature(SECRET, header, `${BODY} `, T)).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifyWebhookSignature(`${SECRET}x`, header, BODY, T)).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifyWebhookSignature(SECRET, header, BODY, T + 300_001)).toEqual({ ok: false, reason: 'timestamp outside the tolerance' });
    expect(verifyWebhookSignature(SECRET, header, BODY, T - 300_001)).toEqual({ ok: false, reason: 'timestamp outside the tolerance' });
    expect(verifyWebhookSignature(SECRET, header, BODY, T + 10_000, 5_000).ok).toBe(false);
    // A signature for another time does not verify with the header's time changed.
    expect(verifyWebhookSignature(SECRET, header.replace(`t=${T}`, `t=${T + 1}`), BODY, T).ok).toBe(false);
  });

  it('refuses a missing or malformed header', () => {
    const hex = expectedHex;
    for (const header of [undefined, '']) {
      expect(verifyWebhookSignature(SECRET, header, BODY, T)).toEqual({ ok: false, reason: 'missing signature header' });
    }
    for (const header of [
      `v1=${hex}`,
      `t=${T}`,
      `t=${T},v1=`,
      `t=${T},v1=${hex.slice(1)}`,
      `t=${T},v1=${hex}zz`,
      `t=abc,v1=${hex}`,
      `t=${T},t=${T},v1=${hex}`,
      `t=${T};v1=${hex}`,
      `t=-${T},v1=${hex}`,
      `t=${T},v1=${hex},${'x'.repeat(3000)}=1`,
    ]) {
      expect(verifyWebhookSignature(SECRET, header, BODY, T), header).toEqual({ ok: false, reason: 'malformed signature header' });
    }
  });

  it('accepts any matching v1 and ignores unknown keys (room for rotation and new schemes)', () => {
    const other = 'f'.repeat(64);
    expect(verifyWebhookSignature(SECRET, `t=${T}, v1=${other}, v1=${expectedHex}, v2=whatever`, BODY, T)).toEqual({ ok: true });
    expect(verifyWebhookSignature(SECRET, `t=${T},v1=${other}`, BODY, T)).toEqual({ ok: false, reason: 'signature mismatch' });
  });
});

describe('docs/webhook.md verification snippet', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-doc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('agrees with verifyWebhookSignature on every case', async () => {
    const doc = readFileSync(new URL('../../docs/webhook.md', import.meta.url), 'utf8');
    const block = /<!-- verify\.mjs -->\s*```js\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block, 'the doc has a verify.mjs block').toBeDefined();
    const file = join(dir, 'verify.mjs');
    writeFileSync(file, block!);
    const mod = (await import(pathToFileURL(file).href)) as {
      verifySignature: (secret: string, header: string | undefined, rawBody: string, nowMs?: number) => boolean;
    };
    const header = webhookSignatureHeader(SECRET, BODY, T);
    const cases: [string, string | undefined, string, number][] = [
      [SECRET, header, BODY, T],
      [SECRET, header, BODY, T + 300_000],
      [SECRET, header, BODY, T + 300_001],
      [SECRET, header, BODY, T - 300_001],
      [SECRET, header, `${BODY} `, T],
      [`${SECRET}x`, header, BODY, T],
      [SECRET, undefined, BODY, T],
      [SECRET, `t=${T}`, BODY, T],
      [SECRET, `t=${T},t=${T},v1=${expectedHex}`, BODY, T],
      [SECRET, `t=${T}, v1=${'0'.repeat(64)}, v1=${expectedHex.toUpperCase()}, v9=x`, BODY, T],
      [SECRET, `t=${T},v1=${expectedHex};`, BODY, T],
      [SECRET, 'garbage', BODY, T],
    ];
    for (const [secret, h, body, now] of cases) {
      expect(mod.verifySignature(secret, h, body, now), String(h)).toBe(verifyWebhookSignature(secret, h, body, now).ok);
    }
  });
});

describe('webhookEventSchema', () => {
  it('accepts a full event and drops unknown fields', () => {
    const full = {
      ...event({
        order: {
          orderId: 'CS1',
          orderLineId: 'CS1-000001',
          orderType: 'NEW',
          chargingMode: 'PERIOD',
          periodType: 'month',
          periodNumber: 1,
          productId: 'OFFI1',
          skuCode: 'sku-1',
          linearValue: 10,
          expireTime: '20270101000000',
          amount: '99.00',
          customerId: 'cust-1',
          userId: 'user-1',
        },
      }),
      instance: {
        instanceId: 'inst-1',
        state: 'PROVISIONING_FAILED',
        orderId: 'CS1',
        orderLineId: 'CS1-000001',
        expireTime: '20270101000000',
        linearValue: 2.5,
        periodNumber: 12,
      },
      extra: 'dropped',
    };
    const parsed = webhookEventSchema.parse(full);
    expect(parsed).not.toHaveProperty('extra');
    expect(parsed.order?.amount).toBe('99.00');
  });

  it.each([
    ['an id without a version', { id: 'inst-1' }],
    ['an id for another instance', { id: 'inst-2:1' }],
    ['version 0', { id: 'inst-1:0' }],
    ['an unknown type', { type: 'instance.deleted' }],
    ['a non-ISO time', { occurredAt: 'yesterday' }],
    ['test as a string', { test: '1' }],
    ['an unknown state', { instance: { instanceId: 'inst-1', state: 'GONE', orderId: 'CS1', orderLineId: 'L1' } }],
    ['no orderLineId', { instance: { instanceId: 'inst-1', state: 'ACTIVE', orderId: 'CS1' } }],
    [
      'linearValue as a string',
      { instance: { instanceId: 'inst-1', state: 'ACTIVE', orderId: 'CS1', orderLineId: 'L1', linearValue: '10' } },
    ],
    ['a float amount', { order: { orderId: 'CS1', orderLineId: 'L1', amount: 99.5 } }],
    ['a non-decimal amount', { order: { orderId: 'CS1', orderLineId: 'L1', amount: '1e3' } }],
    ['a fractional periodNumber', { order: { orderId: 'CS1', orderLineId: 'L1', periodNumber: 1.5 } }],
  ])('rejects %s', (_name, patch) => {
    expect(webhookEventSchema.safeParse({ ...event(), ...patch }).success).toBe(false);
  });
});

describe('appInfoResponseSchema', () => {
  it('keeps the known fields, treats null and "" as absent', () => {
    expect(
      appInfoResponseSchema.parse({ frontEndUrl: 'https://a.example/t/1', adminUrl: null, userName: 'u', memo: '', other: 1 }),
    ).toEqual({ frontEndUrl: 'https://a.example/t/1', userName: 'u' });
    expect(appInfoResponseSchema.parse({ frontEndUrl: 'https://a.example', adminUrl: '', password: 'p' })).toEqual({
      frontEndUrl: 'https://a.example',
      password: 'p',
    });
  });

  it.each([
    ['no frontEndUrl', { userName: 'u' }],
    ['a relative frontEndUrl', { frontEndUrl: '/t/1' }],
    ['a javascript: frontEndUrl', { frontEndUrl: 'javascript:alert(1)' }],
    ['an empty frontEndUrl', { frontEndUrl: '' }],
    ['a non-URL adminUrl', { frontEndUrl: 'https://a.example', adminUrl: 'admin' }],
    ['a frontEndUrl over 512', { frontEndUrl: `https://a.example/${'x'.repeat(500)}` }],
    ['a userName over 128', { frontEndUrl: 'https://a.example', userName: 'u'.repeat(129) }],
    ['a password over 128', { frontEndUrl: 'https://a.example', password: 'p'.repeat(129) }],
    ['a memo over 255', { frontEndUrl: 'https://a.example', memo: 'm'.repeat(256) }],
  ])('rejects %s', (_name, body) => {
    expect(appInfoResponseSchema.safeParse(body).success).toBe(false);
  });
});

describe('webhook URL policy', () => {
  it.each(['https://hooks.example.com/koogallery', 'http://127.0.0.1:4010/webhook', 'http://localhost/x', 'http://[::1]:8080/'])(
    'accepts %s',
    (url) => {
      expect(() => webhookClient({ url, secret: SECRET })).not.toThrow();
    },
  );

  it.each([
    ['http://hooks.example.com/x', /must use https/],
    ['http://10.0.0.1/x', /must use https/],
    ['ftp://hooks.example.com/x', /must use https/],
    ['hooks.example.com/x', /not a valid absolute URL/],
    ['https://user:pw@hooks.example.com/x', /must not contain credentials/],
  ])('refuses %s', (url, message) => {
    expect(() => webhookClient({ url, secret: SECRET })).toThrow(message);
  });

  it('never echoes the path or query (they may carry a token)', () => {
    expect(() => assertWebhookUrl('http://hooks.example.com/secret-path?token=abc')).toThrow(
      'webhook URL must use https: (http: is allowed only for 127.0.0.1, ::1 and localhost), got http://hooks.example.com',
    );
  });

  it('refuses a short secret and a silly timeout', () => {
    expect(() => webhookClient({ url: 'https://h.example', secret: 'short' })).toThrow(/at least 16 characters/);
    expect(() => webhookClient({ url: 'https://h.example', secret: SECRET, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe('webhook client (fake fetch)', () => {
  const answering = (status: number, body = '', headers: Record<string, string> = {}) => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fake: typeof fetch = async (url, init) => {
      calls.push({ url: String(url), init: init ?? {} });
      return new Response(status === 204 || status === 304 ? null : body, { status, headers });
    };
    return { calls, client: webhookClient({ url: 'https://h.example/hook', secret: SECRET, fetch: fake, now: () => T }) };
  };

  it('signs and sends the exact bytes it serialised, with the event id header, without following redirects', async () => {
    const { calls, client } = answering(200, JSON.stringify({ frontEndUrl: 'https://a.example/t/1' }));
    const outcome = await client.deliver({ ...event(), extra: 'dropped' } as WebhookEvent);
    expect(outcome).toEqual({ ok: true, status: 200, appInfo: { frontEndUrl: 'https://a.example/t/1' } });
    const init = calls[0]!.init;
    const headers = init.headers as Record<string, string>;
    const body = init.body as string;
    expect(init.method).toBe('POST');
    expect(init.redirect).toBe('manual');
    expect(JSON.parse(body)).toEqual(event());
    expect(headers['content-type']).toBe('application/json');
    expect(headers['X-KooGallery-Event-Id']).toBe('inst-1:1');
    expect(headers['X-KooGallery-Signature']).toBe(`t=${T},v1=${createHmac('sha256', SECRET).update(`${T}.${body}`).digest('hex')}`);
  });

  it.each([408, 429, 500, 502, 503, 504])('retries on HTTP %i', async (status) => {
    const { client } = answering(status, 'busy');
    expect(await client.deliver(event())).toEqual({ ok: false, retry: true, reason: `webhook answered HTTP ${status}: busy`, status });
  });

  it.each([400, 401, 403, 404, 409, 410, 422])('fails for good on HTTP %i', async (status) => {
    const { client } = answering(status);
    expect(await client.deliver(event())).toEqual({ ok: false, retry: false, reason: `webhook answered HTTP ${status}`, status });
  });

  it('puts the first 200 characters of the answer, on one line, in the reason', async () => {
    const { client } = answering(400, `bad\r\n\tinput\u0000 ${'x'.repeat(300)}`);
    const outcome = await client.deliver(event());
    expect(outcome.ok).toBe(false);
    const reason = outcome.ok ? '' : outcome.reason;
    expect(reason.startsWith('webhook answered HTTP 400: bad input xxx')).toBe(true);
    expect(reason).not.toMatch(/\p{Cc}/u);
    expect(reason.length).toBe('webhook answered HTTP 400: '.length + 200 + 1);
  });

  it('ignores the body of a 2xx for events other than instance.created', async () => {
    const { client } = answering(204);
    expect(await client.deliver(event({ id: 'inst-1:2', type: 'instance.frozen' }))).toEqual({ ok: true, status: 204 });
  });

  it('fails for good, with the field, when instance.created gets no valid appInfo', async () => {
    const cases: [number, string, string][] = [
      [204, '', 'empty body'],
      [200, 'OK', 'body is not JSON'],
      [200, '[]', 'body is not a JSON object'],
      [200, '{"userName":"u"}', 'frontEndUrl is missing'],
      [200, '{"frontEndUrl":"not a url"}', 'frontEndUrl must be an http(s) URL'],
      [201, '{"frontEndUrl":"https://a.example","memo":7}', 'memo '],
    ];
    for (const [status, body, expected] of cases) {
      const { client } = answering(status, body);
      const outcome = await client.deliver(event());
      expect(outcome).toMatchObject({ ok: false, retry: false, status });
      expect(outcome.ok ? '' : outcome.reason).toContain(`webhook answered without a valid appInfo: ${expected}`);
    }
  });

  it('refuses to send an event that breaks the contract, without calling the hook', async () => {
    const { calls, client } = answering(200);
    const outcome = await client.deliver(event({ id: 'other:1' }));
    expect(outcome).toMatchObject({ ok: false, retry: false });
    expect(outcome.ok ? '' : outcome.reason).toMatch(/^event does not match the webhook contract: id/);
    expect(calls).toHaveLength(0);
  });

  it('maps a thrown fetch to a retry naming the cause code', async () => {
    const fake: typeof fetch = async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }) });
    };
    const client = webhookClient({ url: 'https://h.example', secret: SECRET, fetch: fake });
    expect(await client.deliver(event())).toEqual({ ok: false, retry: true, reason: 'webhook request failed: ENOTFOUND' });
  });
});
