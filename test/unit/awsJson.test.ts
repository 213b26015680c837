import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  AwsServiceError,
  awsEndpoint,
  awsJsonClient,
  backoffMs,
  isRetryable,
  TimeoutError,
  type ClientTimeouts,
} from '#lib/aws/awsJson.ts';
import { cancellationReasons, dynamoDb, failedCondition, type DynamoDb } from '#lib/aws/dynamoDb.ts';
import { sqs } from '#lib/aws/sqs.ts';
import { budget } from '#lib/shared/budget.ts';

/**
 * Our AWS JSON client (lib/aws/awsJson.ts) against a scripted HTTP server on 127.0.0.1: what it sends, how it reads
 * answers and refusals, when it retries, and how its timeouts and cancellation end an attempt. The same client
 * against DynamoDB Local and fauxqs is what every integration test runs on.
 */

interface Seen {
  headers: IncomingMessage['headers'];
  body: string;
}

type Script = (seen: Seen, res: ServerResponse, n: number) => void;

let server: Server;
let endpoint: string;
let script: Script;
const seen: Seen[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const one = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(one);
      script(one, res, seen.length);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  for (const socket of sockets) socket.destroy();
  server.close();
});
afterEach(() => {
  seen.length = 0;
  vi.unstubAllEnvs();
});

const LIMITS: ClientTimeouts = { maxAttempts: 3, connectionTimeout: 500, requestTimeout: 300, socketTimeout: 300 };
const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', sessionToken: 'token' };

function client(limits: ClientTimeouts = LIMITS): DynamoDb {
  return dynamoDb({ endpoint, region: 'cn-north-4', limits, credentials: async () => CREDENTIALS });
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

const KEY = { pk: { S: 'INSTANCE#1' }, sk: { S: '#INSTANCE' } };

describe('the AWS JSON client', () => {
  it('sends a signed POST with the operation as X-Amz-Target and reads the answer, binary values included', async () => {
    // Prepare
    script = (_, res) => json(200, { Item: { pk: { S: 'INSTANCE#1' }, blob: { B: 'AAEC/w==' }, set: { BS: ['AQ=='] } } })(res);
    const db = client();

    // Act
    const out = await db.send('GetItem', { TableName: 'main', Key: { ...KEY, blob: { B: new Uint8Array([0, 1, 2, 255]) } } });

    // Assess
    const [request] = seen;
    expect(request?.headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(request?.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request?.headers['x-amz-security-token']).toBe('token');
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/cn-north-4\/dynamodb\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    expect(JSON.parse(request!.body)).toEqual({ TableName: 'main', Key: { ...KEY, blob: { B: 'AAEC/w==' } } });
    expect(out.Item?.pk).toEqual({ S: 'INSTANCE#1' });
    expect(out.Item?.blob?.B).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(out.Item?.set?.BS).toEqual([Buffer.from([1])]);
    db.destroy();
  });

  it('throws a refusal named as the service names it, with its fields, and does not retry it', async () => {
    // Prepare
    script = (_, res) =>
      json(400, {
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        Message: 'The conditional request failed',
        Item: { pk: { S: 'INSTANCE#1' }, version: { N: '3' } },
      })(res);
    const db = client();

    // Act
    const error = await db.send('PutItem', { TableName: 'main', Item: KEY }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toMatchObject({
      name: 'ConditionalCheckFailedException',
      message: 'The conditional request failed',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
    expect(failedCondition(error)).toEqual({ item: { pk: { S: 'INSTANCE#1' }, version: { N: '3' } } });
    expect(cancellationReasons(error)).toBeUndefined();
    expect(seen).toHaveLength(1);
    db.destroy();
  });

  it('reads the reasons of a cancelled transaction', async () => {
    script = (_, res) =>
      json(400, {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        Message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]',
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }],
      })(res);
    const db = client();

    const error = await db.send('TransactWriteItems', { TransactItems: [] }).catch((e: unknown) => e);

    expect(cancellationReasons(error)?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(failedCondition(error)).toBeUndefined();
    db.destroy();
  });

  it('retries a 500 and a throttled answer, then succeeds', async () => {
    script = (_, res, n) => {
      if (n === 1) return json(500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'oops' })(res);
      if (n === 2) return json(400, { __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'slow down' })(res);
      return json(200, {})(res);
    };
    const db = client();

    await expect(db.send('GetItem', { TableName: 'main', Key: KEY })).resolves.toEqual({});

    expect(seen).toHaveLength(3);
    // Each attempt is signed again.
    expect(seen[0]?.headers.authorization).toBeDefined();
    db.destroy();
  }, 10_000);

  it('gives up after maxAttempts, with the last refusal and how many attempts it took', async () => {
    script = (_, res) => json(503, 'Service Unavailable', { 'x-amzn-requestid': 'REQ1' })(res);
    const db = client({ ...LIMITS, maxAttempts: 2 });

    const error = await db.send('GetItem', { TableName: 'main', Key: KEY }).catch((e: unknown) => e);

    expect(error).toMatchObject({
      name: 'UnknownError',
      $fault: 'server',
      $metadata: { httpStatusCode: 503, requestId: 'REQ1', attempts: 2 },
    });
    expect(seen).toHaveLength(2);
    db.destroy();
  });

  it('ends an attempt whose answer does not come with a TimeoutError, closes its connection, and retries it', async () => {
    script = () => {};
    const db = client({ ...LIMITS, maxAttempts: 2, requestTimeout: 150 });
    const started = performance.now();

    const error = await db.send('GetItem', { TableName: 'main', Key: KEY }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TimeoutError);
    expect(seen).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(300 - 20);
    await expect.poll(() => sockets.size, { timeout: 1_000 }).toBe(0);
    db.destroy();
  });

  it('ends an attempt whose answer stops halfway with a TimeoutError', async () => {
    script = (_, res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.write('{"Item":');
    };
    const db = client({ ...LIMITS, maxAttempts: 1, socketTimeout: 150 });

    await expect(db.send('GetItem', { TableName: 'main', Key: KEY })).rejects.toBeInstanceOf(TimeoutError);
    await expect.poll(() => sockets.size, { timeout: 1_000 }).toBe(0);
    db.destroy();
  });

  it('stops at once when its call is cancelled, without retrying', async () => {
    script = () => {};
    const db = client({ ...LIMITS, requestTimeout: 5_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();

    await expect(db.send('GetItem', { TableName: 'main', Key: KEY }, { abortSignal: controller.signal })).rejects.toBeInstanceOf(
      AbortError,
    );

    expect(performance.now() - started).toBeLessThan(1_000);
    expect(seen).toHaveLength(1);
    await expect.poll(() => sockets.size, { timeout: 1_000 }).toBe(0);
    db.destroy();
  });

  it('is cancelled by the budget step it runs in', async () => {
    script = () => {};
    const db = client({ ...LIMITS, requestTimeout: 5_000 });

    await expect(budget(5_000).step({ atMost: 100 }, () => db.send('GetItem', { TableName: 'main', Key: KEY }))).rejects.toMatchObject({
      name: 'TimeoutError',
    });

    await expect.poll(() => sockets.size, { timeout: 1_000 }).toBe(0);
    expect(seen).toHaveLength(1);
    db.destroy();
  });

  it('retries a dropped connection', async () => {
    script = (_, res, n) => (n === 1 ? res.socket?.destroy() : json(200, {})(res));
    const db = client();

    await expect(db.send('GetItem', { TableName: 'main', Key: KEY })).resolves.toEqual({});
    expect(seen).toHaveLength(2);
    db.destroy();
  });

  it('takes its region and endpoint from the environment at the first call, and says when the region is missing', async () => {
    script = (_, res) => json(200, {})(res);
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');
    const noRegion = dynamoDb({ limits: LIMITS, credentials: async () => CREDENTIALS });
    await expect(noRegion.send('GetItem', { TableName: 'main', Key: KEY })).rejects.toThrow('no AWS region for dynamodb: set AWS_REGION');

    vi.stubEnv('AWS_REGION', 'ap-southeast-1');
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', endpoint);
    const fromEnv = dynamoDb({ limits: LIMITS, credentials: async () => CREDENTIALS });
    await fromEnv.send('GetItem', { TableName: 'main', Key: KEY });
    expect(seen[0]?.headers.authorization).toContain('/ap-southeast-1/dynamodb/aws4_request');
    fromEnv.destroy();
  });

  it('asks for credentials again when they are about to expire', async () => {
    script = (_, res) => json(200, {})(res);
    const provider = vi
      .fn<() => Promise<{ accessKeyId: string; secretAccessKey: string; expiration: Date }>>()
      .mockResolvedValueOnce({ accessKeyId: 'OLD', secretAccessKey: 's', expiration: new Date(Date.now() + 60_000) })
      .mockResolvedValue({ accessKeyId: 'NEW', secretAccessKey: 's', expiration: new Date(Date.now() + 3_600_000) });
    const db = dynamoDb({ endpoint, region: 'r', limits: LIMITS, credentials: provider });

    await db.send('GetItem', { TableName: 'main', Key: KEY });
    await db.send('GetItem', { TableName: 'main', Key: KEY });
    await db.send('GetItem', { TableName: 'main', Key: KEY });

    expect(seen.map((s) => /Credential=(\w+)\//.exec(String(s.headers.authorization))?.[1])).toEqual(['OLD', 'NEW', 'NEW']);
    expect(provider).toHaveBeenCalledTimes(2);
    db.destroy();
  });

  it('lets a test or a fault run put its own attempt in front of the real one', async () => {
    script = (_, res) => json(200, {})(res);
    const targets: string[] = [];
    const db = awsJsonClient<{ GetItem: { input: object; output: object } }>(
      { name: 'dynamodb', targetPrefix: 'DynamoDB_20120810', endpointVariable: 'X', binaryKeys: [] },
      {
        endpoint,
        region: 'r',
        limits: LIMITS,
        credentials: async () => CREDENTIALS,
        sendAttempt: (own) => (attempt, limits, signal) => {
          targets.push(attempt.headers['x-amz-target']!);
          if (targets.length === 1) return Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
          return own(attempt, limits, signal);
        },
      },
    );

    await expect(db.send('GetItem', {})).resolves.toEqual({});
    expect(targets).toEqual(['DynamoDB_20120810.GetItem', 'DynamoDB_20120810.GetItem']);
    expect(seen).toHaveLength(1);
    db.destroy();
  });
});

describe('the retry policy', () => {
  it('retries throttling, 5xx, timeouts and dropped connections; never a refusal or a cancelled call', () => {
    const refusal = (name: string, status: number) => new AwsServiceError(name, name, status, undefined, 1);
    expect(isRetryable(refusal('ProvisionedThroughputExceededException', 400))).toBe(true);
    expect(isRetryable(refusal('Anything', 429))).toBe(true);
    expect(isRetryable(refusal('InternalServerError', 500))).toBe(true);
    expect(isRetryable(new TimeoutError('no answer'))).toBe(true);
    expect(isRetryable(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(refusal('ValidationException', 400))).toBe(false);
    expect(isRetryable(refusal('TransactionCanceledException', 400))).toBe(false);
    expect(isRetryable(new AbortError('cancelled'))).toBe(false);
    expect(isRetryable(new Error('bug'))).toBe(false);
  });

  it('waits a random time under an exponential ceiling, longer when throttled, at most 20 s', () => {
    expect(backoffMs(1, false, () => 1)).toBe(100);
    expect(backoffMs(3, false, () => 1)).toBe(400);
    expect(backoffMs(2, true, () => 1)).toBe(1_000);
    expect(backoffMs(30, true, () => 1)).toBe(20_000);
    expect(backoffMs(3, false, () => 0.5)).toBe(200);
  });

  it('addresses AWS, China regions included', () => {
    expect(awsEndpoint('dynamodb', 'ap-southeast-1')).toBe('https://dynamodb.ap-southeast-1.amazonaws.com');
    expect(awsEndpoint('sqs', 'cn-north-1')).toBe('https://sqs.cn-north-1.amazonaws.com.cn');
  });
});

describe('idempotency tokens', () => {
  it('gives a transaction one ClientRequestToken, the same on every attempt, unless the caller gave one', async () => {
    script = (_, res, n) => (n === 1 ? res.socket?.destroy() : json(200, {})(res));
    const db = client();

    await db.send('TransactWriteItems', { TransactItems: [{ Put: { TableName: 'main', Item: KEY } }] });
    await db.send('TransactWriteItems', { TransactItems: [], ClientRequestToken: 'mine' });

    const tokens = seen.map((s) => (JSON.parse(s.body) as { ClientRequestToken?: string }).ClientRequestToken);
    expect(tokens).toHaveLength(3);
    expect(tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).toBe('mine');
    db.destroy();
  });
});

describe('shared work', () => {
  it('asks for credentials once for calls that start together', async () => {
    script = (_, res) => json(200, {})(res);
    const provider = vi.fn(async () => CREDENTIALS);
    const db = dynamoDb({ endpoint, region: 'r', limits: LIMITS, credentials: provider });

    await Promise.all(Array.from({ length: 5 }, () => db.send('GetItem', { TableName: 'main', Key: KEY })));

    expect(provider).toHaveBeenCalledTimes(1);
    expect(seen).toHaveLength(5);
    db.destroy();
  });

  it("keeps SQS's Query-protocol name of an error as its Code", async () => {
    script = (_, res) =>
      json(
        400,
        { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' },
        {
          'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender',
        },
      )(res);
    const queue = sqs({ endpoint, region: 'r', limits: LIMITS, credentials: async () => CREDENTIALS });

    const error = await queue.send('GetQueueUrl', { QueueName: 'missing' }).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'QueueDoesNotExist', Code: 'AWS.SimpleQueueService.NonExistentQueue' });
    expect(seen[0]?.headers['x-amz-target']).toBe('AmazonSQS.GetQueueUrl');
    queue.destroy();
  });
});
