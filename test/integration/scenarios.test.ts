import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSBatchResponse, SQSEvent, SQSRecordAttributes } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bodySignHeader } from '#lib/koogallery/signature.ts';
import { formatSteps, SCENARIOS, type ScenarioOptions, type StepResult } from '../../scripts/sim/scenarios.ts';
import { dynamoClient, sqsReceivingClient } from '#lib/aws/clients.ts';
import { startFakeOpenApi, type FakeOpenApi } from '../../scripts/local/fake-openapi.ts';
import { licenseRegistry } from '#lib/licenses/deps.ts';
import { registerLicenseCode } from '#lib/licenses/registration.ts';
import { startHandlerServer, type HandlerServer } from '../helpers/httpServer.ts';
import { env, lambdaContext, uniqueId } from '../helpers/produce.ts';
import { sellerKey } from '../helpers/seller.ts';
import { TEST_KEY } from '../helpers/signing.ts';

/**
 * The simulator's scripted lifecycles against the real produce and seller handlers over HTTP on 127.0.0.1:
 * first in the tests' default setting (template provisioning at once, no Query Order), then with Query Order and
 * asynchronous provisioning (the fake Open API, a provisioning queue of this file's own and the real provision
 * function consuming it), where orders carry terms and a package instance reports usageInfo.
 */

const STEP_COUNTS: Record<string, number> = {
  period: 7,
  trial: 4,
  'pay-per-use': 4,
  upgrade: 4,
  license: 5,
  'retry-storm': 3,
  'out-of-order': 7,
  debugger: 5,
};

async function registeredLicense(): Promise<string> {
  const license = uniqueId('PL');
  const orderId = uniqueId('CS');
  const store = licenseRegistry(dynamoClient(), env('MAIN_TABLE'));
  const result = await registerLicenseCode(
    store,
    { license, orderId, orderLineId: `${orderId}-000001`, productId: 'P-1', expireTime: '20270101000000' },
    Date.now(),
  );
  expect(result.outcome).toBe('registered');
  return license;
}

/** Every step ok, and all of them ran; the printed steps on failure. */
function expectAllOk(name: string, results: StepResult[]): void {
  expect(
    results.filter((r) => !r.ok),
    formatSteps(results),
  ).toEqual([]);
  expect(results.map((r) => r.step)).toEqual(Array.from({ length: STEP_COUNTS[name]! }, (_, i) => i + 1));
  expect(results.every((r) => r.scenario === name)).toBe(true);
}

describe('scenarios: template provisioning at once, no Query Order', () => {
  let server: HandlerServer;
  let options: ScenarioOptions;
  let license: string;

  beforeAll(async () => {
    server = await startHandlerServer();
    const key = await sellerKey('usage:write', 'usage:read', 'instances:read');
    options = { url: `${server.url}/koogallery/produce`, key: TEST_KEY, sellerKey: key, concurrency: 10 };
    license = await registeredLicense();
  });
  afterAll(() => server?.close());

  it('supervision needs a seller key and a fake Open API, and says so', async () => {
    const results = await SCENARIOS.supervision!.run({ ...options, sellerKey: undefined });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, detail: expect.stringContaining('--seller-key') });
  });

  it.each(['period', 'trial', 'upgrade', 'retry-storm', 'out-of-order', 'debugger'])('%s: every step ok', async (name) => {
    const results = await SCENARIOS[name]!.run(options);
    expectAllOk(name, results);
  });

  it('confirms states on the seller API with a key that can read instances, and says so when it cannot', async () => {
    const confirmed = await SCENARIOS.period!.run(options);
    expectAllOk('period', confirmed);
    expect(confirmed.filter((r) => r.detail === 'confirmed on the seller API').map((r) => r.title)).toEqual([
      expect.stringMatching(/^refreshInstance RENEWAL \(expireTime \d{14} → \d{14}\)$/),
      'updateInstanceStatus FREEZE',
      'updateInstanceStatus UNFREEZE',
      'releaseInstance',
    ]);

    const usageOnly = await sellerKey('usage:write');
    const unconfirmed = await SCENARIOS.period!.run({ ...options, sellerKey: usageOnly });
    expectAllOk('period', unconfirmed);
    expect(unconfirmed[3]!.detail).toBe('not confirmed on the seller API (HTTP 403, the key lacks instances:read)');
    const keyless = await SCENARIOS['out-of-order']!.run({ ...options, sellerKey: undefined });
    expectAllOk('out-of-order', keyless);
    expect(keyless[2]!.detail).toBe('not confirmed on the seller API (no seller key)');
  });

  it('license with a registered code: renewal, freeze, unfreeze, release and a late freeze all 000000', async () => {
    const results = await SCENARIOS.license!.run({ ...options, license });
    expectAllOk('license', results);
    expect(results.map((r) => r.resultCode)).toEqual(['000000', '000000', '000000', '000000', '000000']);
  });

  it('license without a code: an unknown code answers 000003, and the other steps are listed as skipped with the reason', async () => {
    const results = await SCENARIOS.license!.run(options);
    expect(results[0]).toMatchObject({
      step: 1,
      ok: true,
      resultCode: '000003',
      title: 'refreshLicenseCode for an unknown code answers 000003',
    });
    expect(results.slice(1)).toHaveLength(5);
    for (const skipped of results.slice(1)) {
      expect(skipped).toMatchObject({
        ok: true,
        skipped: true,
        detail: expect.stringMatching(/^skipped: no License code given \(--license\)/),
      });
    }
    expect(
      formatSteps(results)
        .split('\n')
        .filter((l) => l.startsWith('–')),
    ).toHaveLength(5);
  });

  it('pay-per-use without a seller key fails its first step, sending nothing', async () => {
    const results = await SCENARIOS['pay-per-use']!.run({ ...options, sellerKey: undefined });
    expect(results).toEqual([
      {
        scenario: 'pay-per-use',
        step: 1,
        title: 'newInstance (pay-per-use package order)',
        ok: false,
        detail: expect.stringContaining('needs --seller-key'),
      },
    ]);
  });

  it('pay-per-use without Query Order: the usage report is refused (the instance has no order terms) and the scenario stops there', async () => {
    const results = await SCENARIOS['pay-per-use']!.run(options);
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(results[2]!.title).toMatch(/^POST \/seller\/usage: 12\.5 for \d{4}-\d{2}-\d{2}T\d{2}:00:00Z – \d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/);
    expect(results[2]!.detail).toMatch(/^the usage record was rejected \(notMetered: the instance is not pay-per-use\)/);
  });

  it('retry-storm refuses a concurrency out of range', async () => {
    const results = await SCENARIOS['retry-storm']!.run({ ...options, concurrency: 0 });
    expect(results).toEqual([
      expect.objectContaining({ step: 1, ok: false, detail: 'concurrency must be a whole number from 1 to 500, got 0' }),
    ]);
  });

  it('reports each step through onStep as it happens, and prints them one a line', async () => {
    const seen: StepResult[] = [];
    const results = await SCENARIOS.debugger!.run({ ...options, onStep: (r) => seen.push(r) });
    expect(seen).toEqual(results);
    const lines = formatSteps(results).split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^✓ debugger #1 newInstance testFlag=1 {2}000000 {2}\d+ ms$/);
  });
});

/** A stand-in production interface: every call 000000 (queryInstance: 000004 the first `processing` times), signed with `signKey`. */
async function standIn(options: { processing: number; signKey: string }): Promise<{ url: string; close: () => Promise<void> }> {
  let queries = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
      let answer: Record<string, unknown> = { resultCode: '000000', resultMsg: 'success.' };
      if (body.activity === 'newInstance') answer.instanceId = body.businessId;
      if (body.activity === 'queryInstance') {
        queries += 1;
        answer =
          queries <= options.processing
            ? { resultCode: '000004', resultMsg: 'request is processing' }
            : { ...answer, info: [{ instanceId: body.instanceId, appInfo: { frontEndUrl: 'https://app.example.com/t/1' } }] };
      }
      const raw = JSON.stringify(answer);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Body-Sign': bodySignHeader(options.signKey, raw) }).end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/koogallery/produce`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('scenarios against stand-in servers', () => {
  it('polls queryInstance through 000004 until appInfo, as the marketplace does', async () => {
    const server = await standIn({ processing: 2, signKey: TEST_KEY });
    try {
      const results = await SCENARIOS.debugger!.run({ url: server.url, key: TEST_KEY });
      expectAllOk('debugger', results);
      expect(results[1]).toMatchObject({
        title: 'queryInstance testFlag=1',
        resultCode: '000000',
        detail: expect.stringMatching(/^appInfo after 3 queries \(2 answered 000004\), \d+ ms$/),
      });
    } finally {
      await server.close();
    }
  });

  it('fails a step whose Body-Sign does not match the answer', async () => {
    const server = await standIn({ processing: 0, signKey: 'not-the-access-key' });
    try {
      const results = await SCENARIOS.upgrade!.run({ url: server.url, key: TEST_KEY });
      expect(results).toEqual([
        expect.objectContaining({
          step: 1,
          ok: false,
          resultCode: '000000',
          detail: expect.stringMatching(/^Body-Sign does not match the answer — answer: HTTP 200 /),
        }),
      ]);
    } finally {
      await server.close();
    }
  });
});

describe('scenarios against a broken server', () => {
  let broken: Server;
  let url: string;
  beforeAll(async () => {
    broken = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"resultCode":"000005","resultMsg":"other inner error"}'),
      );
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/koogallery/produce`;
  });
  afterAll(() => new Promise<void>((resolve) => broken.close(() => resolve())));

  it('period fails at step 1 and stops', async () => {
    const results = await SCENARIOS.period!.run({ url, key: TEST_KEY });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ scenario: 'period', step: 1, ok: false, resultCode: '000005' });
    expect(results[0]!.detail).toMatch(
      /^resultCode "000005" "other inner error" \(expected 000000\); no Body-Sign header — answer: HTTP 200 /,
    );
    expect(formatSteps(results)).toMatch(/^✗ period #1 newInstance \(yearly order\) {2}000005 {2}\d+ ms\n {4}resultCode "000005"/);
  });

  it('a server that does not answer is a failed step', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const results = await SCENARIOS.debugger!.run({ url: `http://127.0.0.1:${port}/koogallery/produce`, key: TEST_KEY, timeoutMs: 2_000 });
    expect(results).toEqual([expect.objectContaining({ step: 1, ok: false, detail: expect.stringMatching(/^no answer: .*ECONNREFUSED/) })]);
  });
});

describe('scenarios with Query Order on the fake Open API and asynchronous provisioning', () => {
  const credentials = { ak: 'scenario-test-ak-0123456789', sk: 'scenario-test-sk-0123456789' };
  const sqs = sqsReceivingClient();
  let fake: FakeOpenApi;
  let server: HandlerServer;
  let queueUrl: string;
  let options: ScenarioOptions;
  let stopping = false;
  let worker: Promise<void> | undefined;
  const handled: string[] = [];

  /** Stands in for Lambda's SQS event source: the real provision function, messages it reports as failed left alone. */
  async function consume(
    handler: (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>,
  ): Promise<void> {
    while (!stopping) {
      const out = await sqs.send('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 });
      const messages = out.Messages ?? [];
      if (messages.length === 0) continue;
      const event: SQSEvent = {
        Records: messages.map((m) => ({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body ?? '',
          attributes: {} as SQSRecordAttributes,
          messageAttributes: {},
          md5OfBody: m.MD5OfBody ?? '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:scenarios',
          awsRegion: 'us-east-1',
        })),
      };
      const response = await handler(event, lambdaContext(randomUUID()));
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const done = messages.filter((m) => !failed.has(m.MessageId!));
      handled.push(...done.map((m) => m.MessageId!));
      if (done.length > 0) {
        await sqs.send('DeleteMessageBatch', {
          QueueUrl: queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        });
      }
    }
  }

  beforeAll(async () => {
    fake = await startFakeOpenApi({ credentials, accessKey: TEST_KEY });
    queueUrl = (await sqs.send('CreateQueue', { QueueName: `scenarios-${randomUUID().slice(0, 8)}` })).QueueUrl!;
    // A fresh copy of the functions (and of lib/config.ts's cached settings) reads these.
    Object.assign(process.env, {
      ORDER_QUERY: 'true',
      KOOGALLERY_AK: credentials.ak,
      KOOGALLERY_SK: credentials.sk,
      OPENAPI_BASE_URL: fake.url,
      OPENAPI_FALLBACK_URL: 'none',
      PROVISIONING_QUEUE_URL: queueUrl,
    });
    vi.resetModules();
    const http = await import('../helpers/httpServer.ts');
    const provision = await import('../../functions/provision.ts');
    server = await http.startHandlerServer();
    worker = consume(provision.handler);
    // A failing consumer surfaces in afterAll (and as scenarios that never see appInfo).
    worker.catch(() => {});
    const key = await sellerKey('usage:write', 'usage:read', 'instances:read');
    options = {
      url: `${server.url}/koogallery/produce`,
      key: TEST_KEY,
      sellerKey: key,
      openApiUrl: fake.url,
      license: await registeredLicense(),
    };
  });
  afterAll(async () => {
    stopping = true;
    await worker;
    await server?.close();
    await fake?.close();
    if (queueUrl) await sqs.send('DeleteQueue', { QueueUrl: queueUrl });
  });

  it.each(Object.keys(STEP_COUNTS))('%s: every step ok', async (name) => {
    const results = await SCENARIOS[name]!.run(options);
    expectAllOk(name, results);
  });

  it('registers the orders on the fake Open API, which the server queries; the package reports its usage', async () => {
    const results = await SCENARIOS['pay-per-use']!.run(options);
    expectAllOk('pay-per-use', results);
    const instanceId = /^instanceId (.+)$/.exec(results[0]!.detail ?? '')?.[1];
    expect(instanceId).toBeDefined();
    expect(handled.length).toBeGreaterThan(0);
    const queried = fake.calls().filter((c) => c.path.endsWith('/order/query') && c.resultCode === 'MKT.0000');
    expect(queried.length).toBeGreaterThan(0);
    expect(results[3]!.title).toBe('queryInstance: usageInfo shows 12.5');
  });
});
