/**
 * The local stack itself: tables and queues derived from the YAML, fauxqs's redrive to the DLQ, and the SQS bridge's
 * partial-batch semantics (against a stand-in for serverless-offline's Lambda invoke API).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createResources } from '../../scripts/local/emulators.ts';
import { sqsClient } from '../../lib/outbox/sqsClient.ts';
import { request as httpRequest } from 'node:http';
import type { JsonObject } from '../../lib/koogallery/canonicalJson.ts';
import { bodySignHeader } from '../../lib/koogallery/signature.ts';
import { signedQuery, TEST_KEY } from '../helpers/signing.ts';
import { interpretResult, startOffline, startSqsBridge } from '../helpers/localStack.ts';

const stack = inject('localStack');
const dynamo = new DynamoDBClient({});
const sqs = sqsClient();
const created: string[] = [];

afterAll(async () => {
  for (const url of created) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {});
  dynamo.destroy();
  sqs.destroy();
});

async function queue(prefix: string, attributes: Record<string, string> = {}) {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  created.push(QueueUrl!);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { name, url: QueueUrl!, arn: Attributes!.QueueArn! };
}

async function attributes(url: string) {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
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
    expect(again.consumers.map((c) => [c.functionName, c.queue?.name, c.reportBatchItemFailures])).toEqual([
      ['koogallery-isv-test-provision', 'koogallery-isv-test-provisioning', true],
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
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: source.url,
        Attributes: {
          VisibilityTimeout: '0',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
        },
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'poison' }));

    const counts: string[] = [];
    for (let i = 0; i < maxReceiveCount; i++) {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: source.url, WaitTimeSeconds: 3, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
      );
      expect(Messages).toHaveLength(1);
      counts.push(Messages![0]!.Attributes!.ApproximateReceiveCount!);
    }
    expect(counts).toEqual(['1', '2', '3', '4', '5']);
    // The 6th receive finds it over the limit and moves it.
    const sixth = await sqs.send(new ReceiveMessageCommand({ QueueUrl: source.url, WaitTimeSeconds: 0 }));
    expect(sixth.Messages ?? []).toHaveLength(0);
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, WaitTimeSeconds: 1 }));
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
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: q.url,
          MessageBody: body,
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'lifecycle' } },
        }),
      );
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
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'ok' }));
    const { bridge, lines } = await bridgeOver(q.url);
    await untilInvoked(1);
    await new Promise((r) => setTimeout(r, 200));
    await bridge.stop();
    expect(lines.join('\n')).toMatch(/0 done, 1 kept for retry .*function error: Error: boom/);
    const a = await attributes(q.url);
    expect(Number(a.ApproximateNumberOfMessagesNotVisible)).toBe(1);
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
      new GetItemCommand({ TableName: process.env.MAIN_TABLE!, Key: { pk: { S: `INSTANCE#${businessId}` }, sk: { S: '#INSTANCE' } }, ConsistentRead: true }),
    );
    expect(Item?.state?.S).toBe('ACTIVE');

    const refused = await post({ activity: 'queryInstance', instanceId: businessId }, { ...signedQuery({ activity: 'x' }) });
    expect(JSON.parse(refused.raw).resultCode).toBe('000001');
    const malformed = await post({} as Record<string, unknown>);
    expect(JSON.parse(malformed.raw).resultCode).toBe('000002');
  });

  it('runs the real provision function behind the SQS bridge', async () => {
    const q = await queue('offline-bridge', { VisibilityTimeout: '60' });
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: JSON.stringify({ not: 'a lifecycle event' }) }));
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
