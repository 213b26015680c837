/**
 * Query Order client (spec §8.1) against the fake KooGallery Open API over real HTTP on 127.0.0.1.
 * fetch is never mocked: network failures come from a closed local port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApigCredentials } from '#lib/koogallery/apig.ts';
import { signApigRequest } from '#lib/koogallery/apig.ts';
import { openApiClient } from '#lib/koogallery/openApi/client.ts';
import {
  OPEN_API_BASE_URL,
  OPEN_API_FALLBACK_URL,
  ORDER_QUERY_PATH,
  type OpenApiConfig,
  type QueryOrderOutcome,
} from '#lib/koogallery/openApi/contract.ts';
import { exactNumbers, plainDecimal } from '#lib/koogallery/openApi/exactNumbers.ts';
import { interpretQueryOrderAnswer } from '#lib/koogallery/openApi/queryOrder.ts';
import { isRetryable } from '#lib/koogallery/openApi/refusals.ts';
import type { Log } from '#lib/log.ts';
import { freePort } from '../../scripts/local/processes.ts';
import { MOCK_ORDER_IDS, startFakeOpenApi, type FakeOpenApi, type FakeOrder } from '../../scripts/local/fake-openapi.ts';

// Made-up keys, not Huawei's.
const CREDS: ApigCredentials = { ak: 'FAKEAK0123456789ABCD', sk: 'fake-sk-0123456789-abcdef' };
const PERSONAL = ['Mock Buyer Ltd', 'mock_buyer', '13800000000', 'buyer@example.com'];

let fake: FakeOpenApi;
let closedUrl: string;

function client(overrides: Partial<OpenApiConfig> = {}) {
  return openApiClient({ baseUrl: fake.url, credentials: async () => CREDS, ...overrides });
}

function expectOk(outcome: QueryOrderOutcome) {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.code}: ${outcome.reason}`);
  return outcome;
}

function expectFailure(outcome: QueryOrderOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome.order)}`);
  return outcome;
}

async function failed(outcome: Promise<QueryOrderOutcome>) {
  return expectFailure(await outcome);
}

/** Headers for a request signed as the client signs it (fetch sets Host itself). */
function signedGet(url: string, credentials: ApigCredentials = CREDS, at = new Date()): Record<string, string> {
  return withoutHost(signApigRequest({ method: 'GET', url }, credentials, at));
}

function withoutHost(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'Host'));
}

function recordingLog() {
  const lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  const log: Log = {
    info: (message, extra) => lines.push({ level: 'info', message, extra }),
    warn: (message, extra) => lines.push({ level: 'warn', message, extra }),
    error: (message, extra) => lines.push({ level: 'error', message, extra }),
  };
  return { log, lines };
}

beforeAll(async () => {
  fake = await startFakeOpenApi({ credentials: CREDS });
  closedUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  await fake?.close();
});

describe('Query Order against the fake Open API', () => {
  interface Terms {
    orderType: string;
    chargingMode: string;
    amount: string;
    linearValue: number;
    periodType?: string;
    expireTime?: string;
    trialFlag: string;
  }
  const terms = (orderType: string, chargingMode: string, amount: string, linearValue: number, period?: string): Terms => {
    const [periodType, expireTime] = period?.split(' ') ?? [];
    return { orderType, chargingMode, amount, linearValue, periodType, expireTime, trialFlag: '0' };
  };
  const expected: Record<(typeof MOCK_ORDER_IDS)[number], Terms> = {
    MOCKPERIODYEARNEW: terms('NEW', 'PERIOD', '1200.00', 10, 'year 20260101080000'),
    MOCKONETIMENEW: terms('NEW', 'ONE_TIME', '19.90', 1),
    MOCKONDEMAND: terms('NEW', 'ON_DEMAND', '0.00', 1),
    MOCKONDEMANDPKG: terms('NEW', 'ON_DEMAND_PACKAGE', '300.00', 1000, 'month 20250201080000'),
    MOCKPERIODDAYTRIAL: { ...terms('NEW', 'PERIOD', '0.00', 5, 'day 20250102080000'), trialFlag: '1' },
    MOCKMONTYTRIALTOFORMAL: terms('TRIAL_TO_FORMAL', 'PERIOD', '100.00', 5, 'month 20250201080000'),
    MOCKMONTYUNSUBSCRIBE: terms('UNSUBSCRIBE', 'PERIOD', '100.00', 5, 'month 20250201080000'),
    MOCKMONTYRENEW: terms('RENEW', 'PERIOD', '100.00', 5, 'month 20250201080000'),
    MOCKMONTYCHANGE: terms('CHANGE', 'PERIOD', '55.50', 20, 'month 20250201080000'),
  };

  for (const id of MOCK_ORDER_IDS) {
    it(`answers and normalises the mock order ${id}`, async () => {
      const { order, unknownFields, via } = expectOk(await client().queryOrder(id, `${id}-000001`));
      const e = expected[id];
      expect(via).toBe('primary');
      expect(unknownFields).toEqual([]);
      expect(order).toMatchObject({
        orderId: id,
        orderLineId: `${id}-000001`,
        orderType: e.orderType,
        createTime: '20250101080000',
        chargingMode: e.chargingMode,
        amount: e.amount,
        trialFlag: e.trialFlag,
        linearValue: e.linearValue,
      });
      expect(order.productId).toMatch(/^OFFI\d{18}$/);
      expect(order.skuCode).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(order.customerId).toMatch(/^[0-9a-z]{32}$/);
      expect(order.userId).toMatch(/^[0-9a-z]{32}$/);
      expect(order.periodType).toBe(e.periodType);
      expect(order.periodNumber).toBe(e.periodType ? 1 : undefined);
      expect(order.expireTime).toBe(e.expireTime);
      expect(typeof order.amount).toBe('string');
      const text = JSON.stringify(order);
      for (const p of PERSONAL) expect(text).not.toContain(p);
    });
  }

  it('sends orderAmount as a JSON number with its exact digits, and the client keeps them', async () => {
    const url = `${fake.url}${ORDER_QUERY_PATH}?orderId=MOCKONETIMENEW`;
    const raw = await (await fetch(url, { headers: signedGet(url) })).text();
    expect(raw).toContain('"orderAmount":19.90');
    expect(expectOk(await client().queryOrder('MOCKONETIMENEW')).order.amount).toBe('19.90');
  });

  it('without an orderLineId answers the first line', async () => {
    const { order } = expectOk(await client().queryOrder('MOCKMONTYRENEW'));
    expect(order.orderLineId).toBe('MOCKMONTYRENEW-000001');
  });

  it('answers a registered order, line by line', async () => {
    const order: FakeOrder = {
      orderId: 'CS2501010800ABCDE',
      orderType: 'NEW',
      createTime: '20250301000000',
      buyerInfo: { customerId: 'cust-1', userId: 'user-1', email: 'someone@example.com' },
      orderLine: [
        {
          orderLineId: 'CS2501010800ABCDE-000001',
          chargingMode: 'PERIOD',
          periodType: 'month',
          periodNumber: 3,
          expireTime: '20250601000000',
          orderAmount: '0.10',
          currency: 'CNY',
          productInfo: [{ productId: 'OFFI000000000000000001', skuCode: 'sku-a', linearValue: 3 }],
        },
        {
          orderLineId: 'CS2501010800ABCDE-000002',
          chargingMode: 'ONE_TIME',
          orderAmount: '1234567890.99',
          productInfo: [{ productId: 'OFFI000000000000000002', skuCode: 'sku-b', productName: 'Setup' }],
        },
      ],
    };
    fake.registerOrder(order);
    const first = expectOk(await client().queryOrder(order.orderId, 'CS2501010800ABCDE-000001')).order;
    expect(first).toEqual({
      orderId: 'CS2501010800ABCDE',
      orderLineId: 'CS2501010800ABCDE-000001',
      orderType: 'NEW',
      createTime: '20250301000000',
      chargingMode: 'PERIOD',
      periodType: 'month',
      periodNumber: 3,
      expireTime: '20250601000000',
      productId: 'OFFI000000000000000001',
      skuCode: 'sku-a',
      linearValue: 3,
      amount: '0.10',
      currency: 'CNY',
      customerId: 'cust-1',
      userId: 'user-1',
    });
    const second = expectOk(await client().queryOrder(order.orderId, 'CS2501010800ABCDE-000002')).order;
    expect(second).toMatchObject({ chargingMode: 'ONE_TIME', amount: '1234567890.99', productName: 'Setup', skuCode: 'sku-b' });
    expect(JSON.stringify(second)).not.toContain('someone@example.com');
  });

  it('unknown order → MKT.9001, permanent although the answer is HTTP 500', async () => {
    const f = await failed(client().queryOrder('NO-SUCH-ORDER'));
    expect(f).toMatchObject({ retry: false, code: 'MKT.9001', httpStatus: 500 });
    expect(f.reason).toContain('MKT.9001');
  });

  it('unknown line of a known order → MKT.9001', async () => {
    expect(await failed(client().queryOrder('MOCKONDEMAND', 'MOCKONDEMAND-000009'))).toMatchObject({ retry: false, code: 'MKT.9001' });
  });

  it('a wrong SK → MKT.0154 (illegal token), permanent', async () => {
    const f = await failed(client({ credentials: async () => ({ ak: CREDS.ak, sk: 'wrong-sk' }) }).queryOrder('MOCKONDEMAND'));
    expect(f).toMatchObject({ retry: false, code: 'MKT.0154', httpStatus: 401 });
    expect(f.reason).toMatch(/^MKT\.0154 \(HTTP 401\): illegal token/);
    expect(f.reason).not.toContain('wrong-sk');
  });

  it('rate limit (406 MKT.0250) is transient; the next call succeeds', async () => {
    fake.injectFault({ status: 406, resultCode: 'MKT.0250', resultMsg: 'rate limited', times: 1 });
    expect(await failed(client().queryOrder('MOCKONDEMAND'))).toMatchObject({ retry: true, code: 'MKT.0250', httpStatus: 406 });
    expectOk(await client().queryOrder('MOCKONDEMAND'));
  });

  it('internal error (500 MKT.0999) is transient', async () => {
    fake.injectFault({ status: 500, resultCode: 'MKT.0999', times: 1 });
    expect(await failed(client().queryOrder('MOCKONDEMAND'))).toMatchObject({ retry: true, code: 'MKT.0999' });
  });

  it('the code decides before the status: 500 MKT.0100 is permanent, 503 with an unlisted code transient, 400 MKT.0101 permanent', async () => {
    fake.injectFault({ status: 500, resultCode: 'MKT.0100', times: 1 });
    expect(await failed(client().queryOrder('MOCKONDEMAND'))).toMatchObject({ retry: false, code: 'MKT.0100' });
    fake.injectFault({ status: 503, resultCode: 'MKT.0199', times: 1 });
    expect(await failed(client().queryOrder('MOCKONDEMAND'))).toMatchObject({ retry: true, code: 'MKT.0199' });
    fake.injectFault({ status: 400, resultCode: 'MKT.0101', times: 1 });
    expect(await failed(client().queryOrder('MOCKONDEMAND'))).toMatchObject({ retry: false, code: 'MKT.0101' });
  });

  it('trims a long resultMsg to 200 characters', async () => {
    fake.injectFault({ status: 401, resultCode: 'MKT.0150', resultMsg: 'x'.repeat(1000), times: 1 });
    const f = await failed(client().queryOrder('MOCKONDEMAND'));
    expect(f).toMatchObject({ retry: false, code: 'MKT.0150' });
    expect(f.reason.length).toBeLessThanOrEqual('MKT.0150 (HTTP 401): '.length + 200);
  });

  it('rejects bad ids without calling', async () => {
    const before = fake.calls().length;
    expect(await failed(client().queryOrder(''))).toMatchObject({ retry: false, code: 'INVALID_INPUT' });
    expect(await failed(client().queryOrder('A'.repeat(65)))).toMatchObject({ retry: false, code: 'INVALID_INPUT' });
    expect(await failed(client().queryOrder('A', ''))).toMatchObject({ retry: false, code: 'INVALID_INPUT' });
    expect(fake.calls().length).toBe(before);
  });

  it('AK/SK that cannot be loaded → transient, without details', async () => {
    const f = expectFailure(
      await client({
        credentials: async () => {
          throw new Error('ssm says no: secret-value-xyz');
        },
      }).queryOrder('MOCKONDEMAND'),
    );
    expect(f).toMatchObject({ retry: true, code: 'CREDENTIALS_UNAVAILABLE' });
    expect(f.reason).not.toContain('secret-value-xyz');
  });
});

describe('fallback host, timeouts and TLS policy', () => {
  it('a network failure on the primary host → the fallback answers', async () => {
    const { log, lines } = recordingLog();
    const before = fake.calls().length;
    const outcome = expectOk(await client({ baseUrl: closedUrl, fallbackUrl: fake.url, log }).queryOrder('MOCKPERIODYEARNEW'));
    expect(outcome.via).toBe('fallback');
    expect(outcome.order.chargingMode).toBe('PERIOD');
    expect(fake.calls().length).toBe(before + 1);
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'Open API primary host unreachable, trying the fallback',
        extra: { host: new URL(closedUrl).host, error: 'ECONNREFUSED' },
      },
    ]);
  });

  it('a network failure on both hosts → transient', async () => {
    const f = await failed(client({ baseUrl: closedUrl, fallbackUrl: closedUrl }).queryOrder('MOCKPERIODYEARNEW'));
    expect(f).toMatchObject({ retry: true, code: 'NETWORK_ERROR' });
    expect(f.reason).toMatch(/primary host .* unreachable \(ECONNREFUSED\); fallback host .* unreachable \(ECONNREFUSED\)/);
  });

  it('a network failure without a fallback → transient', async () => {
    expect(await failed(client({ baseUrl: closedUrl }).queryOrder('MOCKPERIODYEARNEW'))).toMatchObject({
      retry: true,
      code: 'NETWORK_ERROR',
    });
  });

  it('an HTTP answer is never retried on the fallback', async () => {
    const other = await startFakeOpenApi({ credentials: CREDS });
    try {
      fake.injectFault({ status: 500, resultCode: 'MKT.0999', times: 1 });
      const f = await failed(client({ fallbackUrl: other.url }).queryOrder('MOCKONDEMAND'));
      expect(f).toMatchObject({ retry: true, code: 'MKT.0999' });
      expect(other.calls()).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('a slow answer times out → transient', async () => {
    fake.injectFault({ delayMs: 2_000, times: 1 });
    const started = Date.now();
    const f = await failed(client({ timeoutMs: 300 }).queryOrder('MOCKONDEMAND'));
    expect(f).toMatchObject({ retry: true, code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a timeout on the primary host is retried on the fallback', async () => {
    fake.injectFault({ delayMs: 2_000, times: 1 });
    const outcome = expectOk(await client({ timeoutMs: 300, fallbackUrl: fake.url }).queryOrder('MOCKONDEMAND'));
    expect(outcome.via).toBe('fallback');
  });

  it('a delay shorter than the timeout is just slow', async () => {
    fake.injectFault({ delayMs: 100, times: 1 });
    expectOk(await client({ timeoutMs: 2_000 }).queryOrder('MOCKONDEMAND'));
  });

  it('allows https anywhere and plain http only to loopback', () => {
    const credentials = async () => CREDS;
    expect(() => openApiClient({ baseUrl: OPEN_API_BASE_URL, fallbackUrl: OPEN_API_FALLBACK_URL, credentials })).not.toThrow();
    for (const baseUrl of ['http://127.0.0.1:1', 'http://localhost:8080', 'http://[::1]:9000/prefix/']) {
      expect(() => openApiClient({ baseUrl, credentials })).not.toThrow();
    }
    expect(() => openApiClient({ baseUrl: 'http://mkt.myhuaweicloud.com', credentials })).toThrow(/baseUrl must use https/);
    expect(() => openApiClient({ baseUrl: 'http://10.0.0.1', credentials })).toThrow(/must use https/);
    expect(() => openApiClient({ baseUrl: 'http://127.0.0.1.example.com', credentials })).toThrow(/must use https/);
    expect(() => openApiClient({ baseUrl: OPEN_API_BASE_URL, fallbackUrl: 'http://mkt.myhuaweicloud.cn', credentials })).toThrow(
      /fallbackUrl must use https/,
    );
    expect(() => openApiClient({ baseUrl: 'ftp://mkt.myhuaweicloud.com', credentials })).toThrow(/must use https/);
    expect(() => openApiClient({ baseUrl: 'not a url', credentials })).toThrow(/not a URL/);
    expect(() => openApiClient({ baseUrl: 'https://u:p@mkt.myhuaweicloud.com', credentials })).toThrow(/credentials/);
    expect(() => openApiClient({ baseUrl: OPEN_API_BASE_URL, timeoutMs: 0, credentials })).toThrow(/Invalid Open API configuration/);
  });

  it('refuses https when certificate checks are turned off for the process', () => {
    const credentials = async () => CREDS;
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      expect(() => openApiClient({ baseUrl: OPEN_API_BASE_URL, credentials })).toThrow(/certificate checks/);
      expect(() => openApiClient({ baseUrl: fake.url, credentials })).not.toThrow();
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    }
  });

  it('a base URL with a path prefix and a trailing slash', async () => {
    const f = await failed(client({ baseUrl: `${fake.url}/prefix/` }).queryOrder('MOCKONDEMAND'));
    expect(f).toMatchObject({ retry: false, code: 'HTTP_404' });
  });
});

describe('the fake Open API itself', () => {
  const queryUrl = (query: string) => `${fake.url}${ORDER_QUERY_PATH}?${query}`;

  it('rejects unsigned requests with MKT.0154 and records them', async () => {
    const res = await fetch(queryUrl('orderId=MOCKONDEMAND'));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ resultCode: 'MKT.0154', resultMsg: 'illegal token: Authorization header is missing' });
    expect(fake.calls().at(-1)).toMatchObject({
      method: 'GET',
      path: ORDER_QUERY_PATH,
      query: { orderId: 'MOCKONDEMAND' },
      akVerified: false,
      status: 401,
      resultCode: 'MKT.0154',
    });
  });

  it('rejects a tampered query, an unknown AK and a stale date', async () => {
    const signed = signedGet(queryUrl('orderId=MOCKONDEMAND'));
    const tampered = await fetch(queryUrl('orderId=MOCKONETIMENEW'), { headers: signed });
    expect(tampered.status).toBe(401);
    expect(((await tampered.json()) as { resultMsg: string }).resultMsg).toContain('signature does not match');

    const otherAk = signedGet(queryUrl('orderId=MOCKONDEMAND'), { ak: 'OTHER', sk: CREDS.sk });
    expect((await fetch(queryUrl('orderId=MOCKONDEMAND'), { headers: otherAk })).status).toBe(401);

    const stale = signedGet(queryUrl('orderId=MOCKONDEMAND'), CREDS, new Date(Date.now() - 20 * 60_000));
    const res = await fetch(queryUrl('orderId=MOCKONDEMAND'), { headers: stale });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { resultMsg: string }).resultMsg).toContain('outside the allowed window');

    const good = await fetch(queryUrl('orderId=MOCKONDEMAND'), { headers: signed });
    expect(good.status).toBe(200);
    expect(fake.calls().at(-1)).toMatchObject({ akVerified: true, status: 200, resultCode: 'MKT.0000' });
  });

  it('missing orderId → MKT.0101 400; unknown parameter → MKT.0101; over-long id → MKT.0100 500', async () => {
    const call = async (query: string) => {
      const res = await fetch(queryUrl(query), { headers: signedGet(queryUrl(query)) });
      return { status: res.status, body: (await res.json()) as { resultCode: string } };
    };
    expect(await call('orderLineId=X')).toMatchObject({ status: 400, body: { resultCode: 'MKT.0101' } });
    expect(await call('orderId=MOCKONDEMAND&foo=1')).toMatchObject({ status: 400, body: { resultCode: 'MKT.0101' } });
    expect(await call(`orderId=${'A'.repeat(65)}`)).toMatchObject({ status: 500, body: { resultCode: 'MKT.0100' } });
  });

  it('POST /fake/orders validates, and a rejected order changes nothing', async () => {
    const post = (body: string) =>
      fetch(`${fake.url}/fake/orders`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    const bad = [
      '{not json',
      JSON.stringify({ orderId: 'BAD-1' }),
      JSON.stringify({
        orderId: 'BAD-1',
        orderLine: [{ orderLineId: 'BAD-1-000001', orderAmount: 19.9, productInfo: [{ productId: 'P', skuCode: 'S' }] }],
      }),
      JSON.stringify({ orderId: 'BAD-1', orderLine: [{ orderLineId: 'BAD-1-000001', productInfo: [] }] }),
      JSON.stringify({
        orderId: 'BAD-1',
        extra: true,
        orderLine: [{ orderLineId: 'BAD-1-000001', productInfo: [{ productId: 'P', skuCode: 'S' }] }],
      }),
    ];
    for (const body of bad) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBeTruthy();
    }
    expect(await failed(client().queryOrder('BAD-1'))).toMatchObject({ code: 'MKT.9001' });

    const good = await post(
      JSON.stringify({
        orderId: 'GOOD-1',
        orderLine: [{ orderLineId: 'GOOD-1-000001', orderAmount: '7.00', productInfo: [{ productId: 'P', skuCode: 'S' }] }],
      }),
    );
    expect(good.status).toBe(201);
    expect(expectOk(await client().queryOrder('GOOD-1')).order).toEqual({
      orderId: 'GOOD-1',
      orderLineId: 'GOOD-1-000001',
      productId: 'P',
      skuCode: 'S',
      amount: '7.00',
    });
    expect(() => fake.registerOrder({ orderId: '', orderLine: [] })).toThrow();
  });

  it('POST /fake/faults injects a fault from another process', async () => {
    const bad = await fetch(`${fake.url}/fake/faults`, { method: 'POST', body: JSON.stringify({ times: 1 }) });
    expect(bad.status).toBe(400);
    const res = await fetch(`${fake.url}/fake/faults`, {
      method: 'POST',
      body: JSON.stringify({ status: 406, resultCode: 'MKT.0250', times: 2 }),
    });
    expect(res.status).toBe(201);
    expect(await failed(client().queryOrder('MOCKONDEMAND'))).toMatchObject({ code: 'MKT.0250', retry: true });
    expect(await failed(client().queryOrder('MOCKONDEMAND'))).toMatchObject({ code: 'MKT.0250', retry: true });
    expectOk(await client().queryOrder('MOCKONDEMAND'));
    const calls = (await (await fetch(`${fake.url}/fake/calls`)).json()) as { resultCode: string }[];
    expect(calls.slice(-3).map((c) => c.resultCode)).toEqual(['MKT.0250', 'MKT.0250', 'MKT.0000']);
  });

  it('caps bodies (413) and answers other paths with 404 JSON', async () => {
    const big = await fetch(`${fake.url}/fake/orders`, { method: 'POST', body: 'x'.repeat(65 * 1024) });
    expect(big.status).toBe(413);
    const other = await fetch(`${fake.url}/api/other`);
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: 'not found' });
    expect((await fetch(`${fake.url}/fake/nothing`)).status).toBe(404);
  });

  it('listens on 127.0.0.1 only', () => {
    expect(new URL(fake.url).hostname).toBe('127.0.0.1');
  });
});

describe('answer parsing', () => {
  const interpret = (status: number, body: string, orderId = 'O', orderLineId?: string) =>
    interpretQueryOrderAnswer(status, body, orderId, orderLineId, 'primary');

  it('keeps the exact digits of amounts and numeric ids', () => {
    const text =
      '{"orderAmount": 19.90, "note":"\\"orderAmount\\":1.50", "n":{"amount":-1.5e2,"linearValue":10}, "orderId":12345678901234567890, "list":[{"orderAmount":0.10}]}';
    expect(JSON.parse(exactNumbers(text))).toEqual({
      orderAmount: '19.90',
      note: '"orderAmount":1.50',
      n: { amount: '-1.5e2', linearValue: 10 },
      orderId: '12345678901234567890',
      list: [{ orderAmount: '0.10' }],
    });
    expect(plainDecimal('19.90')).toBe('19.90');
    expect(plainDecimal('1.990e1')).toBe('19.90');
    expect(plainDecimal('-1.5e2')).toBe('-150');
    expect(plainDecimal('5E-3')).toBe('0.005');
    expect(plainDecimal('abc')).toBeUndefined();
  });

  it('accepts the push-style shape, drops wrong types, reports unknown fields, strips personal data', () => {
    const body = JSON.stringify({
      resultCode: 'MKT.0000',
      resultMsg: 'ok',
      newTopLevel: 1,
      orderInfo: [
        {
          businessId: 'b-1',
          orderId: 'O-1',
          orderLineId: 'O-1-000001',
          trialFlag: '1',
          chargingMode: 'PERIOD',
          periodType: 'month',
          periodNumber: '2',
          provisionType: 1,
          createTime: '20250101000000',
          expireTime: '20250301000000',
          productInfo: [{ productId: 'OFFI1', skuCode: 'sku', linearValue: '7' }],
          extendParams: [{ name: 'a', value: 'b' }],
          surprise: { x: 1 },
          buyerInfo: { customerId: 'c', customerName: 'Jane Doe', mobilePhone: '13900000000', email: 'jane@example.com' },
        },
      ],
    }).replace('"periodType":"month"', '"periodType":"month","orderAmount":99.50');
    const outcome = interpretQueryOrderAnswer(200, body, 'O-1', undefined, 'primary');
    expect(outcome).toEqual({
      ok: true,
      via: 'primary',
      unknownFields: ['orderInfo.surprise'],
      order: {
        orderId: 'O-1',
        orderLineId: 'O-1-000001',
        createTime: '20250101000000',
        chargingMode: 'PERIOD',
        periodType: 'month',
        periodNumber: 2,
        expireTime: '20250301000000',
        productId: 'OFFI1',
        skuCode: 'sku',
        linearValue: 7,
        amount: '99.50',
        trialFlag: '1',
        customerId: 'c',
      },
    });
    const wrongTypes =
      '{"resultCode":"MKT.0000","orderInfo":{"orderId":"O","orderType":["x"],"orderLine":[{"orderLineId":"L","periodNumber":"many","orderAmount":"lots","novel":1},7]}}';
    const o = interpret(200, wrongTypes, 'O', 'L');
    expect(o).toEqual({ ok: true, via: 'primary', unknownFields: ['orderLine.novel'], order: { orderId: 'O', orderLineId: 'L' } });
  });

  it('an answer without the order, for another order, or without the line → not found', () => {
    const notFound = { ok: false, retry: false, code: 'ORDER_LINE_NOT_FOUND', reason: 'order line not found in the order' };
    expect(interpret(200, '{"resultCode":"MKT.0000","resultMsg":"ok"}')).toMatchObject(notFound);
    const other = '{"resultCode":"MKT.0000","orderInfo":{"orderId":"OTHER","orderLine":[{"orderLineId":"L"}]}}';
    expect(interpret(200, other, 'O', 'L')).toMatchObject(notFound);
    const noLine = '{"resultCode":"MKT.0000","orderInfo":{"orderId":"O","orderLine":[{"orderLineId":"L1"}]}}';
    expect(interpret(200, noLine, 'O', 'L2')).toMatchObject(notFound);
    expect(interpret(200, noLine)).toMatchObject({ ok: true, order: { orderLineId: 'L1' } });
  });

  it('unparseable bodies and gateway errors', () => {
    expect(interpret(502, '<html>Bad gateway</html>')).toMatchObject({ ok: false, retry: true, code: 'HTTP_502' });
    expect(interpret(404, '<html>no</html>')).toMatchObject({ ok: false, retry: false, code: 'HTTP_404' });
    expect(interpret(200, 'garbage')).toMatchObject({ ok: false, retry: true, code: 'BAD_RESPONSE' });
    expect(interpret(200, '{}')).toMatchObject({ ok: false, retry: true, code: 'BAD_RESPONSE' });
    expect(interpret(429, '{"error_code":"APIG.0308","error_msg":"throttled"}')).toMatchObject({
      ok: false,
      retry: true,
      code: 'APIG.0308',
    });
    expect(interpret(401, '{"error_code":"APIG.0301","error_msg":"Incorrect IAM authentication information"}')).toMatchObject({
      ok: false,
      retry: false,
      code: 'APIG.0301',
      reason: 'APIG.0301 (HTTP 401): Incorrect IAM authentication information',
    });
  });

  it('classifies codes first, status second', () => {
    expect(isRetryable('MKT.0250', 406)).toBe(true);
    expect(isRetryable('MKT.0999', 500)).toBe(true);
    expect(isRetryable('MKT.0999', 200)).toBe(true);
    expect(isRetryable('MKT.0100', 500)).toBe(false);
    expect(isRetryable('MKT.9001', 500)).toBe(false);
    expect(isRetryable('CBC.9001', 500)).toBe(false);
    expect(isRetryable('MKT.0154', 401)).toBe(false);
    expect(isRetryable('MKT.0151', 401)).toBe(false);
    expect(isRetryable('MKT.0199', 400)).toBe(false);
    expect(isRetryable('MKT.0199', 503)).toBe(true);
    expect(isRetryable(undefined, 503)).toBe(true);
    expect(isRetryable(undefined, 400)).toBe(false);
  });
});
