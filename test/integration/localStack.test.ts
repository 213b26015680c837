/**
 * The local stack itself: tables and queues derived from the YAML, fauxqs's redrive to the DLQ, the SQS bridge's
 * partial-batch semantics (against a stand-in for serverless-offline's Lambda invoke API), how `npm start` wires the
 * fake Open API and the webhook receiver into the functions' settings, and the whole asynchronous flow end to end:
 * serverless offline + SQS bridge + fake Open API + reference webhook receiver, over real HTTP.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { createResources, type StackResources } from '../../scripts/local/emulators.ts';
import { apiKeyStore } from '#lib/store/apiKeyStore.ts';
import {
  LOCAL_DEFAULT_OPENAPI_CREDENTIALS,
  LOCAL_DEFAULT_WEBHOOK_SECRET,
  functionEnv,
  functionEnvProblem,
  integrationEnv,
  planLocalIntegrations,
  resourceEnv,
} from '../../scripts/local/env.ts';
import { mockOrder, startFakeOpenApi, type FakeOpenApi, type FakeOrder } from '../../scripts/local/fake-openapi.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../scripts/local/webhook-receiver.ts';
import { dynamoClient, sqsReceivingClient } from '#lib/aws/clients.ts';
import { request as httpRequest } from 'node:http';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { bodySignHeader } from '#lib/koogallery/signature.ts';
import { signV1Request } from '#lib/koogallery/v1Auth.ts';
import { signedQuery, TEST_KEY } from '../helpers/signing.ts';
import { interpretResult, startOffline, startSqsBridge, type SqsBridge } from '../helpers/localStack.ts';

const stack = inject('localStack');
const dynamo = new DynamoDBClient({});
const sqs = sqsReceivingClient();
const created: string[] = [];

afterAll(async () => {
  for (const url of created) await sqs.send('DeleteQueue', { QueueUrl: url }).catch(() => {});
  dynamo.destroy();
  sqs.destroy();
});

async function queue(prefix: string, attributes: Record<string, string> = {}) {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  const { QueueUrl } = await sqs.send('CreateQueue', { QueueName: name, Attributes: attributes });
  created.push(QueueUrl!);
  const { Attributes } = await sqs.send('GetQueueAttributes', { QueueUrl, AttributeNames: ['QueueArn'] });
  return { name, url: QueueUrl!, arn: Attributes!.QueueArn! };
}

async function attributes(url: string) {
  const { Attributes } = await sqs.send('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['All'] });
  return Attributes ?? {};
}

describe('globalSetup environment', () => {
  it('reaches the test worker through process.env and inject()', () => {
    expect(process.env.STAGE).toBe('test');
    expect(process.env.MAIN_TABLE).toBe('koogallery-isv-test-main');
    expect(process.env.AUDIT_TABLE).toBe('koogallery-isv-test-audit');
    expect(process.env.PROVISIONING_QUEUE_URL).toMatch(/\/000000000000\/koogallery-isv-test-provisioning$/);
    expect(process.env.KOOGALLERY_ACCESS_KEY).toBe('testAccessKey-0123456789');
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(process.env.AWS_ENDPOINT_URL_SQS).toBe(process.env.AWS_ENDPOINT_URL_S3);
    expect(process.env.AWS_REGION).toBe('us-east-1');
    expect(stack.env.MAIN_TABLE).toBe(process.env.MAIN_TABLE);
  });
});

describe('resources derived from resources/*.yml', () => {
  it('creates both tables with pk/sk keys and TTL on expiresAt for the main table', async () => {
    for (const table of [process.env.MAIN_TABLE!, process.env.AUDIT_TABLE!]) {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: table }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
    }
    const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: process.env.MAIN_TABLE! }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
  });

  it('creates the provisioning queue with its redrive to the DLQ after 5 receives', async () => {
    const dlq = stack.queues.ProvisioningDeadLetterQueue!;
    expect(dlq.name).toBe('koogallery-isv-test-provisioning-dlq');
    const a = await attributes(process.env.PROVISIONING_QUEUE_URL!);
    expect(a.VisibilityTimeout).toBe('180');
    expect(a.MessageRetentionPeriod).toBe('1209600');
    expect(JSON.parse(a.RedrivePolicy!)).toMatchObject({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 });
  });

  it('is idempotent: creating again keeps the same tables and queue URLs', async () => {
    const again = await createResources({
      stage: 'test',
      dynamoEndpoint: stack.dynamoEndpoint,
      sqsEndpoint: stack.sqsEndpoint,
    });
    expect(again.tables).toEqual(stack.tables);
    expect(again.queues).toEqual(stack.queues);
    expect(again.buckets).toEqual({ FilesBucket: 'koogallery-isv-test-filesbucket' });
    expect(again.topics.NotificationsTopic).toMatchObject({
      arn: process.env.NOTIFY_TOPIC_ARN,
      subscriber: { name: 'koogallery-isv-test-notifications-local' },
    });
    expect(again.consumers.map((c) => [c.functionName, c.queue?.name, c.reportBatchItemFailures])).toEqual([
      ['koogallery-isv-test-provision', 'koogallery-isv-test-provisioning', true],
      ['koogallery-isv-test-settlementWorker', 'koogallery-isv-test-settlement', true],
    ]);
  });
});

describe('redrive on fauxqs', () => {
  it('moves a message received 5 times without delete to the DLQ', async () => {
    const dlq = await queue('redrive-dlq');
    // Same redrive as the provisioning queue (read from it), on a queue of our own whose visibility timeout is 0.
    const { RedrivePolicy } = await attributes(process.env.PROVISIONING_QUEUE_URL!);
    const maxReceiveCount = Number(JSON.parse(RedrivePolicy!).maxReceiveCount);
    const source = await queue('redrive-src');
    await sqs.send('SetQueueAttributes', {
      QueueUrl: source.url,
      Attributes: {
        VisibilityTimeout: '0',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
      },
    });
    await sqs.send('SendMessage', { QueueUrl: source.url, MessageBody: 'poison' });

    const counts: string[] = [];
    for (let i = 0; i < maxReceiveCount; i++) {
      const { Messages } = await sqs.send('ReceiveMessage', {
        QueueUrl: source.url,
        WaitTimeSeconds: 3,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      });
      expect(Messages).toHaveLength(1);
      counts.push(Messages![0]!.Attributes!.ApproximateReceiveCount!);
    }
    expect(counts).toEqual(['1', '2', '3', '4', '5']);
    // The 6th receive finds it over the limit and moves it.
    const sixth = await sqs.send('ReceiveMessage', { QueueUrl: source.url, WaitTimeSeconds: 0 });
    expect(sixth.Messages ?? []).toHaveLength(0);
    const { Messages } = await sqs.send('ReceiveMessage', { QueueUrl: dlq.url, WaitTimeSeconds: 1 });
    expect(Messages?.map((m) => m.Body)).toEqual(['poison']);
  });
});

describe('SQS bridge', () => {
  let server: Server;
  let lambdaEndpoint: string;
  const events: SQSEvent[] = [];
  /** What the stand-in function answers: by default, a failure for every record whose body contains "fail". */
  let answer: (event: SQSEvent) => { status?: number; headers?: Record<string, string>; body: unknown } = (event) => ({
    body: {
      batchItemFailures: event.Records.filter((r) => r.body.includes('fail')).map((r) => ({ itemIdentifier: r.messageId })),
    } satisfies SQSBatchResponse,
  });
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        paths.push(req.url ?? '');
        const event = JSON.parse(raw) as SQSEvent;
        events.push(event);
        const { status = 200, headers = {}, body } = answer(event);
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    lambdaEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function untilInvoked(n: number, ms = 10_000) {
    const until = Date.now() + ms;
    while (events.length < n) {
      if (Date.now() > until) throw new Error(`bridge invoked ${events.length} times, expected ${n}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function bridgeOver(url: string, reportBatchItemFailures = true) {
    const lines: string[] = [];
    const bridge = await startSqsBridge({
      queueUrl: url,
      sqsEndpoint: stack.sqsEndpoint,
      lambdaEndpoint,
      functionName: 'koogallery-isv-test-provision',
      waitTimeSeconds: 1,
      reportBatchItemFailures,
      log: (line) => lines.push(line),
    });
    return { bridge, lines };
  }

  it('sends a real SQS event, deletes the successes and keeps the reported failures', async () => {
    events.length = 0;
    const q = await queue('bridge', { VisibilityTimeout: '60' });
    for (const body of ['ok-1', 'fail-2', 'ok-3']) {
      await sqs.send('SendMessage', {
        QueueUrl: q.url,
        MessageBody: body,
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'lifecycle' } },
      });
    }
    const { bridge, lines } = await bridgeOver(q.url);
    await untilInvoked(1);
    // Wait until the three messages have been handled (one or more batches).
    const until = Date.now() + 10_000;
    while (events.flatMap((e) => e.Records).length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200)); // let the deletes land
    await bridge.stop();

    expect(paths[0]).toBe('/2015-03-31/functions/koogallery-isv-test-provision/invocations');
    const records = events.flatMap((e) => e.Records);
    expect(records.map((r) => r.body).sort()).toEqual(['fail-2', 'ok-1', 'ok-3']);
    const record = records[0]!;
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: q.arn,
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: { kind: { dataType: 'String', stringValue: 'lifecycle' } },
    });
    expect(record.messageId).toBeTruthy();
    expect(record.receiptHandle).toBeTruthy();
    expect(record.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(lines.join('\n')).toMatch(/done, 1 kept for retry/);

    // Only the failed message is left, in flight until its visibility timeout ends.
    const a = await attributes(q.url);
    expect(Number(a.ApproximateNumberOfMessages)).toBe(0);
    expect(Number(a.ApproximateNumberOfMessagesNotVisible)).toBe(1);
    const inspect = (await (await fetch(`${stack.sqsEndpoint}/_fauxqs/queues/${q.name}`)).json()) as {
      messages: { ready: { body: string }[]; inflight: { message: { body: string } }[] };
    };
    const left = [...inspect.messages.ready.map((m) => m.body), ...inspect.messages.inflight.map((m) => m.message.body)];
    expect(left).toEqual(['fail-2']);
  });

  it('keeps the whole batch when the function fails', async () => {
    events.length = 0;
    answer = () => ({ headers: { 'X-Amz-Function-Error': 'Unhandled' }, body: { errorType: 'Error', errorMessage: 'boom' } });
    const q = await queue('bridge-error', { VisibilityTimeout: '60' });
    await sqs.send('SendMessage', { QueueUrl: q.url, MessageBody: 'ok' });
    const { bridge, lines } = await bridgeOver(q.url);
    await untilInvoked(1);
    await new Promise((r) => setTimeout(r, 200));
    await bridge.stop();
    expect(lines.join('\n')).toMatch(/0 done, 1 kept for retry .*function error: Error: boom/);
    const a = await attributes(q.url);
    expect(Number(a.ApproximateNumberOfMessagesNotVisible)).toBe(1);
  });

  it('with retryDelaySeconds, brings a failed message back after that delay instead of the visibility timeout', async () => {
    events.length = 0;
    let calls = 0;
    // The first delivery fails, the second succeeds.
    answer = (event) => ({
      body: { batchItemFailures: calls++ === 0 ? event.Records.map((r) => ({ itemIdentifier: r.messageId })) : [] },
    });
    const q = await queue('bridge-retry', { VisibilityTimeout: '180' });
    await sqs.send('SendMessage', { QueueUrl: q.url, MessageBody: 'flaky' });
    const lines: string[] = [];
    const bridge = await startSqsBridge({
      queueUrl: q.url,
      sqsEndpoint: stack.sqsEndpoint,
      lambdaEndpoint,
      functionName: 'koogallery-isv-test-provision',
      waitTimeSeconds: 1,
      retryDelaySeconds: 1,
      log: (line) => lines.push(line),
    });
    const started = Date.now();
    await untilInvoked(2, 8_000);
    const retriedAfterMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, 200)); // let the delete land
    await bridge.stop();
    expect(events.map((e) => e.Records[0]?.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(retriedAfterMs).toBeLessThan(8_000); // not 180 s
    expect(lines[0]).toMatch(/0 done, 1 kept for retry .*; retry in 1 s$/);
    expect(lines[1]).toMatch(/1 done, 0 kept for retry \(receive counts 2,/);
    const a = await attributes(q.url);
    expect(Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible)).toBe(0);
    await expect(
      startSqsBridge({ queueUrl: q.url, sqsEndpoint: stack.sqsEndpoint, lambdaEndpoint, functionName: 'x', retryDelaySeconds: -1 }),
    ).rejects.toThrow(/retryDelaySeconds/);
  });

  it('interprets answers like Lambda does', () => {
    const ids = ['a', 'b', 'c'];
    const ok = { status: 200, functionError: null };
    expect(interpretResult(ids, { ...ok, payload: null }, true)).toMatchObject({ deleted: ids, kept: [] });
    expect(interpretResult(ids, { ...ok, payload: { batchItemFailures: [] } }, true)).toMatchObject({ deleted: ids });
    expect(interpretResult(ids, { ...ok, payload: { batchItemFailures: [{ itemIdentifier: 'b' }] } }, true)).toMatchObject({
      deleted: ['a', 'c'],
      kept: ['b'],
    });
    // An identifier that is not in the batch (or empty) fails the whole batch.
    expect(interpretResult(ids, { ...ok, payload: { batchItemFailures: [{ itemIdentifier: 'x' }] } }, true)).toMatchObject({
      deleted: [],
      kept: ids,
    });
    expect(interpretResult(ids, { ...ok, payload: { batchItemFailures: [{ itemIdentifier: '' }] } }, true).deleted).toEqual([]);
    // Without ReportBatchItemFailures a successful return deletes everything.
    expect(interpretResult(ids, { ...ok, payload: { batchItemFailures: [{ itemIdentifier: 'b' }] } }, false).deleted).toEqual(ids);
    expect(interpretResult(ids, { status: 500, functionError: null, payload: null }, true).deleted).toEqual([]);
  });
});

describe('serverless offline (test helper)', () => {
  let offline: Awaited<ReturnType<typeof startOffline>> | undefined;
  beforeAll(async () => {
    offline = await startOffline();
  });
  afterAll(async () => {
    await offline?.stop();
  });

  /** POSTs over real HTTP and keeps the raw header names, so the exact case of Body-Sign is checked. */
  function post(body: Record<string, unknown>, query = signedQuery(body as JsonObject)) {
    const url = new URL(`${offline!.url}/koogallery/produce?${new URLSearchParams(query)}`);
    return new Promise<{ status: number; rawHeaders: string[]; raw: string }>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'Content-Type': 'application/json;charset=utf8' } }, (res) => {
        let raw = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (raw += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, raw }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  it('serves the production interface over HTTP: signed lifecycle, exact Body-Sign, state in DynamoDB', async () => {
    const orderId = `CS-HTTP-${randomUUID().slice(0, 8)}`;
    const businessId = randomUUID();
    const created = await post({ activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId });
    expect(created.status).toBe(200);
    expect(JSON.parse(created.raw)).toEqual({ resultCode: '000000', resultMsg: 'success.', instanceId: businessId });
    // The handler emits `Body-Sign` in exact case (produce.test.ts); serverless-offline's HTTP server (hapi) lowers
    // every response header name, so here the name is matched case-insensitively (docs/decisions.md).
    const header = (name: string) => created.rawHeaders[created.rawHeaders.findIndex((h) => h.toLowerCase() === name) + 1];
    expect(header('body-sign')).toBe(bodySignHeader(TEST_KEY, created.raw));
    expect(header('content-type')).toBe('application/json;charset=UTF-8');

    const queried = await post({ activity: 'queryInstance', instanceId: businessId });
    expect(JSON.parse(queried.raw)).toMatchObject({ resultCode: '000000', info: [{ instanceId: businessId }] });
    const { Item } = await dynamo.send(
      new GetItemCommand({
        TableName: process.env.MAIN_TABLE!,
        Key: { pk: { S: `INSTANCE#${businessId}` }, sk: { S: '#INSTANCE' } },
        ConsistentRead: true,
      }),
    );
    expect(Item?.state?.S).toBe('ACTIVE');

    const refused = await post({ activity: 'queryInstance', instanceId: businessId }, { ...signedQuery({ activity: 'x' }) });
    expect(JSON.parse(refused.raw).resultCode).toBe('000001');
    const malformed = await post({} as Record<string, unknown>);
    expect(JSON.parse(malformed.raw).resultCode).toBe('000002');
  });

  it('answers 10 concurrent copies of a newInstance within the budget from the one loaded copy of the function', async () => {
    // The marketplace resends concurrently (the simulator's conformance suite sends 10 copies at once). Serverless
    // offline loads each function once (useInProcess, scripts/local/offline-in-process.ts): a burst adds no thread
    // and no load per call, where worker threads started one thread per concurrent call, each loading the bundle.
    const threads = () => Number(/^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${offline!.pid}/status`, 'utf8'))?.[1]);
    await post({ activity: 'queryInstance', instanceId: randomUUID() });
    const before = threads();
    const orderId = `CS-BURST-${randomUUID().slice(0, 8)}`;
    const body = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: randomUUID() };
    const answers = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const started = Date.now();
        const answer = await post(body);
        return { ...answer, ms: Date.now() - started };
      }),
    );
    const grown = threads() - before;

    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => JSON.parse(a.raw).instanceId)).size).toBe(1);
    expect(answers.map((a) => JSON.parse(a.raw).resultCode)).toEqual(Array(10).fill('000000'));
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(5_000);
    // A worker thread per concurrent call would add at least 9 threads.
    expect(grown).toBeLessThan(5);
  });

  it('runs the real provision function behind the SQS bridge', async () => {
    const q = await queue('offline-bridge', { VisibilityTimeout: '60' });
    await sqs.send('SendMessage', { QueueUrl: q.url, MessageBody: JSON.stringify({ not: 'a lifecycle event' }) });
    const lines: string[] = [];
    const bridge = await startSqsBridge({
      queueUrl: q.url,
      sqsEndpoint: stack.sqsEndpoint,
      lambdaEndpoint: offline!.lambdaUrl,
      functionName: 'koogallery-isv-local-provision',
      waitTimeSeconds: 1,
      log: (line) => lines.push(line),
    });
    const until = Date.now() + 15_000;
    while (lines.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    await bridge.stop();
    // Whatever the function decides about this message, the bridge got a Lambda answer (not a transport error).
    expect(lines[0]).toMatch(/1 message\(s\), [01] done, [01] kept for retry/);
    expect(lines[0]).not.toMatch(/invoke failed|HTTP \d{3}/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// npm start's stand-ins for the outside world, and the asynchronous flow through them.

/** A request over real HTTP that keeps the raw header names (hapi lowers them; see docs/decisions.md). */
function httpCall(method: 'GET' | 'POST', url: string, body?: string) {
  return new Promise<{ status: number; rawHeaders: string[]; raw: string }>((resolve, reject) => {
    const headers = body === undefined ? {} : { 'Content-Type': 'application/json;charset=utf8' };
    const req = httpRequest(new URL(url), { method, headers }, (res) => {
      let raw = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (raw += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, raw }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The value of a response header, by exact (raw) name. */
const rawHeader = (rawHeaders: string[], name: string) => {
  const i = rawHeaders.findIndex((h, n) => n % 2 === 0 && h === name);
  return i === -1 ? undefined : rawHeaders[i + 1];
};

/** Polls `probe` every 200 ms until it returns a value; fails after `ms` (at most 30 s) naming `what`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + Math.min(ms, 30_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('npm start: the settings of the fake Open API and the webhook receiver', () => {
  const ports = { fakeOpenApi: 4020, webhookReceiver: 4010 };
  const resources: StackResources = {
    service: 'koogallery-isv',
    stage: 'test',
    tables: stack.tables,
    queues: stack.queues,
    buckets: { FilesBucket: 'koogallery-isv-test-filesbucket' },
    topics: {},
    consumers: [],
  };
  const endpoints = { dynamo: stack.dynamoEndpoint, sqs: stack.sqsEndpoint };
  const running = {
    fakeOpenApi: { url: 'http://127.0.0.1:4020', credentials: LOCAL_DEFAULT_OPENAPI_CREDENTIALS },
    webhookReceiver: { url: 'http://127.0.0.1:4010/webhook', secret: LOCAL_DEFAULT_WEBHOOK_SECRET },
  };

  it('starts both by default, with the local credentials, in webhook mode with Query Order on', () => {
    const plan = planLocalIntegrations({}, ports);
    expect(plan).toMatchObject({
      provisioningMode: 'webhook',
      orderQuery: true,
      fakeOpenApi: { port: 4020, credentials: LOCAL_DEFAULT_OPENAPI_CREDENTIALS },
      webhookReceiver: { port: 4010, secret: LOCAL_DEFAULT_WEBHOOK_SECRET },
    });
    expect(LOCAL_DEFAULT_WEBHOOK_SECRET.length).toBeGreaterThanOrEqual(16);
    const env = functionEnv({ base: {}, resources, endpoints, integrations: running });
    expect(env).toMatchObject({
      PROVISIONING_MODE: 'webhook',
      ORDER_QUERY: 'true',
      OPENAPI_BASE_URL: 'http://127.0.0.1:4020',
      OPENAPI_FALLBACK_URL: 'none',
      KOOGALLERY_AK: LOCAL_DEFAULT_OPENAPI_CREDENTIALS.ak,
      KOOGALLERY_SK: LOCAL_DEFAULT_OPENAPI_CREDENTIALS.sk,
      WEBHOOK_URL: 'http://127.0.0.1:4010/webhook',
      WEBHOOK_SECRET: LOCAL_DEFAULT_WEBHOOK_SECRET,
      // The receiver is on the loopback, which the webhook may reach only when allowed.
      WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true',
    });
    expect(functionEnvProblem(env)).toBeUndefined();
  });

  it("keeps .env/shell settings over the local defaults (empty counts as unset), and the stand-ins' URLs over both", () => {
    const base = {
      PROVISIONING_MODE: 'template',
      KOOGALLERY_AK: 'my-ak',
      KOOGALLERY_SK: 'my-sk',
      OPENAPI_FALLBACK_URL: '',
      WEBHOOK_SECRET: 'my-own-webhook-secret-123',
    };
    const plan = planLocalIntegrations(base, ports);
    expect(plan.fakeOpenApi?.credentials).toEqual({ ak: 'my-ak', sk: 'my-sk' });
    expect(plan.webhookReceiver).toBeUndefined();
    expect(plan.skipped.webhookReceiver).toBe('PROVISIONING_MODE is template');
    const env = functionEnv({
      base,
      resources,
      endpoints,
      integrations: { fakeOpenApi: { url: 'http://127.0.0.1:4020', credentials: plan.fakeOpenApi!.credentials } },
    });
    expect(env).toMatchObject({ PROVISIONING_MODE: 'template', KOOGALLERY_AK: 'my-ak', OPENAPI_FALLBACK_URL: 'none' });
    expect(env.WEBHOOK_URL).toBeUndefined();
    expect(functionEnvProblem(env)).toBeUndefined();
  });

  it('starts neither when OPENAPI_BASE_URL and WEBHOOK_URL point elsewhere, and says what the functions would refuse', () => {
    const base = { OPENAPI_BASE_URL: 'https://mkt.example.com', WEBHOOK_URL: 'https://product.example.com/hook' };
    const plan = planLocalIntegrations(base, ports);
    expect(plan.fakeOpenApi).toBeUndefined();
    expect(plan.webhookReceiver).toBeUndefined();
    expect(plan.skipped).toEqual({
      fakeOpenApi: 'OPENAPI_BASE_URL points elsewhere',
      webhookReceiver: 'WEBHOOK_URL points at your own product',
    });
    const env = functionEnv({ base, resources, endpoints, integrations: {} });
    expect(env.OPENAPI_BASE_URL).toBe('https://mkt.example.com');
    expect(env.KOOGALLERY_AK).toBeUndefined(); // local credentials are never sent anywhere but the fake
    expect(functionEnvProblem(env)).toMatch(/KOOGALLERY_AK.*must be set.*WEBHOOK_SECRET/);
    // Their own addresses still mean the stand-ins; Query Order off means no fake.
    expect(planLocalIntegrations({ OPENAPI_BASE_URL: 'http://localhost:4020/' }, ports).fakeOpenApi).toBeDefined();
    expect(planLocalIntegrations({ WEBHOOK_URL: 'http://127.0.0.1:4010/webhook' }, ports).webhookReceiver).toBeDefined();
    expect(planLocalIntegrations({ ORDER_QUERY: 'false' }, ports).skipped.fakeOpenApi).toBe('ORDER_QUERY is off');
    expect(
      functionEnvProblem({
        ...functionEnv({ base: {}, resources, endpoints, integrations: running }),
        WEBHOOK_URL: 'http://10.0.0.1/hook',
      }),
    ).toMatch(/^WEBHOOK_URL: .*https/);
  });

  it('.env.example documents every setting of lib/config.ts and the local ports', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const source = readFileSync(new URL('../../lib/config.ts', import.meta.url), 'utf8');
    const schema = source.slice(source.indexOf('const envSchema'), source.indexOf('export type Config'));
    const settings = [...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
    expect(settings).toContain('PROVISIONING_MODE');
    const local = [
      'DYNAMODB_PORT',
      'FAUXQS_PORT',
      'S3_PORT',
      'HTTP_PORT',
      'LAMBDA_PORT',
      'FAKE_OPENAPI_PORT',
      'WEBHOOK_RECEIVER_PORT',
      'SQS_RETRY_DELAY_SECONDS',
    ];
    const missing = [...settings, ...local].filter(
      (name) => !new RegExp(`^# ${name}=`, 'm').test(example) && !example.includes(`# ${name}=`),
    );
    expect(missing).toEqual([]);
  });
});

describe('asynchronous provisioning end to end: serverless offline + SQS bridge + fake Open API + webhook receiver', () => {
  const SECRET = 'whsec-localstack-e2e-0123456789';
  const CREDENTIALS = { ak: 'e2e-ak-0123456789', sk: 'e2e-sk-0123456789abcdef' };
  const FRONTEND = 'https://app.localstack.test';
  const PROVISION = 'koogallery-isv-local-provision';
  let fake: FakeOpenApi;
  let receiver: WebhookReceiver;
  let offline: Awaited<ReturnType<typeof startOffline>> | undefined;
  let bridge: SqsBridge | undefined;
  const bridgeLines: string[] = [];
  /** The instance of the first test, for the V1 round trip. */
  let provisioned: { instanceId: string; appInfo: Record<string, string> } | undefined;

  beforeAll(async () => {
    const started = Date.now();
    [fake, receiver] = await Promise.all([
      startFakeOpenApi({ port: 0, credentials: CREDENTIALS }),
      startWebhookReceiver({ port: 0, secret: SECRET, frontEndBase: FRONTEND }),
    ]);
    // A provisioning queue of this test's own (the shared one belongs to the other test files), with the deployed
    // queue's visibility timeout and redrive (resources/sqs.yml): 180 s, 5 receives.
    const deployed = await attributes(process.env.PROVISIONING_QUEUE_URL!);
    const dlq = await queue('e2e-provisioning-dlq');
    const q = await queue('e2e-provisioning', {
      VisibilityTimeout: deployed.VisibilityTimeout!,
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: JSON.parse(deployed.RedrivePolicy!).maxReceiveCount }),
    });
    // What npm start hands the functions (scripts/local/env.ts), pointed at this test's stand-ins.
    const { defaults, dictated } = integrationEnv({
      fakeOpenApi: { url: fake.url, credentials: CREDENTIALS },
      webhookReceiver: { url: receiver.url, secret: SECRET },
    });
    expect({ ...defaults, ...dictated }).toMatchObject({ PROVISIONING_MODE: 'webhook', ORDER_QUERY: 'true', OPENAPI_FALLBACK_URL: 'none' });
    offline = await startOffline({ env: { ...defaults, ...dictated, PROVISIONING_QUEUE_URL: q.url } });
    // 180 s of visibility before each retry is what AWS does; the bridge's local retry delay makes it 1 s here.
    bridge = await startSqsBridge({
      queueUrl: q.url,
      sqsEndpoint: stack.sqsEndpoint,
      lambdaEndpoint: offline.lambdaUrl,
      functionName: PROVISION,
      waitTimeSeconds: 1,
      retryDelaySeconds: 1,
      log: (line) => bridgeLines.push(line),
    });
    console.log(`[e2e] stack (serverless offline + bridge + fake + receiver) up in ${Date.now() - started} ms`);
  });

  afterAll(async () => {
    await bridge?.stop();
    await offline?.stop();
    await Promise.all([receiver?.close(), fake?.close()]);
  });

  async function produce(body: JsonObject) {
    const response = await httpCall(
      'POST',
      `${offline!.url}/koogallery/produce?${new URLSearchParams(signedQuery(body))}`,
      JSON.stringify(body),
    );
    expect(response.status).toBe(200);
    return JSON.parse(response.raw) as {
      resultCode: string;
      instanceId?: string;
      info?: { instanceId: string; appInfo?: Record<string, string> }[];
    };
  }

  async function item(instanceId: string) {
    const { Item } = await dynamo.send(
      new GetItemCommand({
        TableName: process.env.MAIN_TABLE!,
        Key: { pk: { S: `INSTANCE#${instanceId}` }, sk: { S: '#INSTANCE' } },
        ConsistentRead: true,
      }),
    );
    return Item ? unmarshall(Item) : undefined;
  }

  /** An order of its own on the fake, with MOCKPERIODYEARNEW's terms: registered in process or over HTTP. */
  async function freshOrder(over: 'process' | 'http'): Promise<FakeOrder> {
    const orderId = `E2E${Date.now()}${randomUUID().slice(0, 8)}`;
    const mock = mockOrder('MOCKPERIODYEARNEW', 1);
    const order: FakeOrder = { ...mock, orderId, orderLine: [{ ...mock.orderLine[0]!, orderLineId: `${orderId}-000001` }] };
    if (over === 'process') fake.registerOrder(order);
    else expect((await fetch(`${fake.url}/fake/orders`, { method: 'POST', body: JSON.stringify(order) })).status).toBe(201);
    return order;
  }

  /** queryInstance until it answers 000000 with appInfo (at most 30 s). */
  function provisionedAnswer(instanceId: string) {
    return until(`queryInstance ${instanceId} answers 000000 with appInfo`, async () => {
      const answer = await produce({ activity: 'queryInstance', instanceId });
      return answer.resultCode === '000000' && answer.info?.[0]?.appInfo ? answer : undefined;
    });
  }

  const deliveriesOf = (instanceId: string) => receiver.deliveries().filter((d) => d.id.startsWith(`${instanceId}:`));

  it(
    "newInstance MOCKPERIODYEARNEW → 000004 while provisioning → Query Order + webhook → 000000 with the tenant's appInfo",
    { timeout: 45_000 },
    async () => {
      // The webhook answers 1.5 s late, so the PROVISIONING window is long enough to be seen.
      receiver.delayNext(1, 1_500);
      let orderId: string = 'MOCKPERIODYEARNEW';
      let businessId = randomUUID();
      const t0 = Date.now();
      let created = await produce({ activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId });
      if (created.resultCode === '000000' && created.instanceId !== businessId) {
        // Another test claimed the mock order line first (the table is shared): an order of our own, same terms.
        orderId = (await freshOrder('process')).orderId;
        businessId = randomUUID();
        created = await produce({ activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId });
      }
      const answeredMs = Date.now() - t0;
      expect(created).toEqual({ resultCode: '000000', resultMsg: 'success.', instanceId: businessId });
      const instanceId = businessId;

      const during = await produce({ activity: 'queryInstance', instanceId });
      expect(during).toMatchObject({ resultCode: '000004' });
      expect((await item(instanceId))?.state).toBe('PROVISIONING');

      const done = await provisionedAnswer(instanceId);
      const provisionedMs = Date.now() - t0;
      const appInfo = done.info![0]!.appInfo!;
      expect(done.info).toEqual([{ instanceId, appInfo }]);
      expect(appInfo).toMatchObject({
        frontEndUrl: `${FRONTEND}/t/${instanceId}`,
        userName: expect.stringMatching(/^admin-/),
        memo: 'Tenant ready',
      });
      expect(appInfo.password).toMatch(/^[\w-]{16}$/);

      // The bridge delivered the event to the provision function, which asked the fake (signed) and the receiver. The
      // bridge reports a delivery once the function has returned and the message is deleted: on a busy machine, after
      // the instance already answers as provisioned.
      await vi.waitFor(() => expect(bridgeLines.join('\n')).toMatch(/→ koogallery-isv-local-provision: \d+ message\(s\), [1-9]\d* done/), {
        timeout: 15_000,
        interval: 100,
      });
      const queried = fake.calls().filter((c) => c.query.orderId === orderId);
      expect(queried).toEqual([
        expect.objectContaining({
          akVerified: true,
          status: 200,
          resultCode: 'MKT.0000',
          query: { orderId, orderLineId: `${orderId}-000001` },
        }),
      ]);
      // Exactly one tenant for the instance, provisioned once, with the appInfo the marketplace now sees.
      const tenant = receiver.tenants().get(instanceId);
      expect(tenant).toMatchObject({ state: 'ACTIVE', provisions: 1, provisionedBy: `${instanceId}:1`, appInfo });
      expect(deliveriesOf(instanceId).map((d) => [d.type, d.status, d.replayed])).toEqual([['instance.created', 200, false]]);

      // The instance carries the order's terms from the fake.
      const stored = await item(instanceId);
      expect(stored).toMatchObject({
        state: 'ACTIVE',
        appInfo,
        order: {
          orderId,
          orderLineId: `${orderId}-000001`,
          productId: 'OFFI758576253042421760',
          skuCode: '5f2c1a4e-8b3d-4c6a-9e1f-0a7b2c3d4e51',
          amount: '1200.00',
        },
      });
      provisioned = { instanceId, appInfo };
      console.log(
        `[e2e] newInstance answered in ${answeredMs} ms; queryInstance had appInfo ${provisionedMs} ms after newInstance was sent`,
      );
    },
  );

  it(
    'a webhook that fails twice: the queue retries through the bridge, and the tenant is provisioned exactly once',
    { timeout: 45_000 },
    async () => {
      const order = await freshOrder('http');
      const businessId = randomUUID();
      const before = receiver.deliveries().length;
      receiver.failNext(2);
      const t0 = Date.now();
      const created = await produce({
        activity: 'newInstance',
        orderId: order.orderId,
        orderLineId: `${order.orderId}-000001`,
        businessId,
      });
      expect(created).toMatchObject({ resultCode: '000000', instanceId: businessId });

      const done = await provisionedAnswer(businessId);
      const provisionedMs = Date.now() - t0;
      expect(done.info![0]!.appInfo!.frontEndUrl).toBe(`${FRONTEND}/t/${businessId}`);
      const mine = deliveriesOf(businessId);
      // The two injected failures went to this instance's event (unless a stray event took one), then it went through.
      expect(
        receiver
          .deliveries()
          .slice(before)
          .filter((d) => d.status === 503),
      ).toHaveLength(2);
      expect(mine.at(-1)).toMatchObject({ type: 'instance.created', status: 200, replayed: false });
      expect(mine.slice(0, -1).every((d) => d.status === 503)).toBe(true);
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(receiver.tenants().get(businessId)).toMatchObject({ state: 'ACTIVE', provisions: 1 });
      expect(bridgeLines.join('\n')).toMatch(/kept for retry \(receive counts 1,.*retry in 1 s/);
      expect((await item(businessId))?.state).toBe('ACTIVE');
      console.log(`[e2e] webhook failing twice: appInfo ${provisionedMs} ms after newInstance (${mine.length} deliveries)`);
    },
  );

  it('answers a signed legacy V1 GET queryInstance through serverless offline, with a Body-Sign header', async () => {
    expect(provisioned).toBeDefined();
    const { instanceId, appInfo } = provisioned!;
    const { query } = signV1Request(TEST_KEY, { activity: 'queryInstance', instanceId });
    const response = await httpCall('GET', `${offline!.url}/koogallery/produce?${query}`);
    expect(response.status).toBe(200);
    const body = JSON.parse(response.raw) as {
      resultCode: string;
      encryptType?: string;
      info?: { instanceId: string; appInfo: Record<string, string> }[];
    };
    expect(body).toMatchObject({
      resultCode: '000000',
      encryptType: '1',
      info: [{ instanceId, appInfo: { frontEndUrl: appInfo.frontEndUrl } }],
    });
    // userName and password travel encrypted (spec §7.6).
    expect(body.info![0]!.appInfo.userName).not.toBe(appInfo.userName);
    expect(body.info![0]!.appInfo.password).not.toBe(appInfo.password);
    // hapi lowers the header name (docs/decisions.md); the value signs the exact bytes sent.
    expect(rawHeader(response.rawHeaders, 'body-sign')).toBe(bodySignHeader(TEST_KEY, response.raw));
    const tampered = signV1Request('another-key', { activity: 'queryInstance', instanceId });
    expect(JSON.parse((await httpCall('GET', `${offline!.url}/koogallery/produce?${tampered.query}`)).raw)).toMatchObject({
      resultCode: '000001',
    });
  });
});

describe('seller API and usage push end to end: serverless offline + fake Open API, on tables of their own', () => {
  const CREDENTIALS = { ak: 'usage-e2e-ak-0123456789', sk: 'usage-e2e-sk-0123456789abcdef' };
  const PRODUCT = 'E2E-METERED';
  const HOUR = 3_600_000;
  let fake: FakeOpenApi;
  let offline: Awaited<ReturnType<typeof startOffline>> | undefined;
  let mainTable: string;

  beforeAll(async () => {
    // Own tables: the usage push takes every due window of its table, and other test files meter usage too.
    const resources = await createResources({
      stage: `usage${randomUUID().slice(0, 6)}`,
      dynamoEndpoint: stack.dynamoEndpoint,
      sqsEndpoint: stack.sqsEndpoint,
    });
    mainTable = resources.tables.MainTable!;
    fake = await startFakeOpenApi({ port: 0, credentials: CREDENTIALS, accessKey: TEST_KEY });
    const { defaults, dictated } = integrationEnv({ fakeOpenApi: { url: fake.url, credentials: CREDENTIALS } });
    offline = await startOffline({
      env: {
        ...defaults,
        ...dictated,
        ...resourceEnv(resources),
        ORDER_QUERY: 'false',
        PROVISIONING_MODE: 'template',
        USAGE_PRODUCTS: PRODUCT,
      },
    });
  });

  afterAll(async () => {
    await offline?.stop();
    await fake?.close();
  });

  async function sellerCall(method: 'GET' | 'POST', path: string, key: string | undefined, body?: unknown) {
    const response = await fetch(`${offline!.url}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it(
    'reports usage over HTTP with a seller key, and the scheduled function pushes it to the marketplace once',
    { timeout: 45_000 },
    async () => {
      const { secret } = await apiKeyStore(dynamoClient(), mainTable).create({
        name: 'e2e',
        scopes: ['usage:write', 'usage:read'],
        now: Date.now(),
      });
      // newInstance carries no product; a renewal names it.
      const orderId = `E2E${Date.now()}`;
      const produce = async (body: JsonObject) => {
        const response = await httpCall(
          'POST',
          `${offline!.url}/koogallery/produce?${new URLSearchParams(signedQuery(body))}`,
          JSON.stringify(body),
        );
        return JSON.parse(response.raw) as { resultCode: string; instanceId?: string };
      };
      const created = await produce({ activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: `biz-${orderId}` });
      expect(created.resultCode).toBe('000000');
      const instanceId = created.instanceId!;
      const renewal = {
        activity: 'refreshInstance',
        scene: 'RENEWAL',
        orderId: `${orderId}R`,
        orderLineId: `${orderId}R-000001`,
        instanceId,
        expireTime: '20300101000000',
        productId: PRODUCT,
      };
      expect((await produce(renewal)).resultCode).toBe('000000');

      const now = Date.now();
      const begin = new Date(now - (now % HOUR) - HOUR).toISOString();
      const end = new Date(Date.parse(begin) + HOUR).toISOString();
      expect((await sellerCall('POST', '/seller/usage', undefined, { records: [] })).status).toBe(401);
      const reported = await sellerCall('POST', '/seller/usage', secret, {
        records: [
          { instanceId, beginTime: begin, endTime: end, value: '2.5', clientRef: 'e2e-1' },
          { instanceId, beginTime: begin, endTime: end, value: '0.25' },
          { instanceId, beginTime: begin, endTime: end, value: '2.5', clientRef: 'e2e-1' },
        ],
      });
      expect(reported).toMatchObject({ status: 200, json: { accepted: 2, duplicates: 1, rejected: 0 } });

      // What the schedule runs at minute 5, invoked through the Lambda API.
      const invoke = async () => {
        const response = await fetch(`${offline!.lambdaUrl}/2015-03-31/functions/koogallery-isv-local-usagePush/invocations`, {
          method: 'POST',
          body: '{}',
        });
        expect(response.status).toBe(200);
        return (await response.json()) as Record<string, unknown>;
      };
      expect(await invoke()).toMatchObject({ requests: 1, accepted: 1 });
      expect(await invoke()).toMatchObject({ due: 0, requests: 0 });
      expect(
        fake
          .usage()
          .filter((u) => u.instance_id === instanceId)
          .map((u) => u.usage_value),
      ).toEqual(['2.75']);

      const ledger = await sellerCall('GET', `/seller/usage?instanceId=${encodeURIComponent(instanceId)}`, secret);
      expect(ledger.json).toMatchObject({ total: '2.75', windows: [{ beginTime: begin, state: 'ACCEPTED', value: '2.75' }] });
      const doc = await sellerCall('GET', '/seller/openapi.json', undefined);
      expect(doc.json).toMatchObject({ openapi: '3.1.0' });
    },
  );
});
