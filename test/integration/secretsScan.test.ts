import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { type AttributeValue } from '@aws-sdk/client-dynamodb';
import { type Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as produce } from '../../functions/produce.ts';
import { handler as provision } from '../../functions/provision.ts';
import { config } from '#lib/config.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { deriveV1FieldKey, encryptV1Field } from '#lib/koogallery/fieldCrypto.ts';
import { openApiClient } from '#lib/koogallery/openApi/client.ts';
import { ORDER_QUERY_PATH, USAGE_DATA_PATH, type UsagePushRecord } from '#lib/koogallery/openApi/contract.ts';
import { javaUrlEncode, signV1Request } from '#lib/koogallery/v1Auth.ts';
import { log, logger } from '#lib/log.ts';
import { sqsClient } from '#lib/aws/clients.ts';
import { SCOPES } from '#lib/seller-api/apiKeys.ts';
import { auditLog } from '#lib/store/auditLog.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { usageStore } from '#lib/store/usageStore.ts';
import { type UsageLedger } from '#lib/usage/ports.ts';
import { pushUsage } from '#lib/usage/push.ts';
import { usageApiTime } from '#lib/usage/windows.ts';
import { startFakeOpenApi, type FakeOpenApi, type FakeOrder } from '../../scripts/local/fake-openapi.ts';
import { sqsEvent } from '../../scripts/local/sqs-bridge.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../scripts/local/webhook-receiver.ts';
import { env, httpEvent, invokeRaw, lambdaContext, store, uniqueId, type ProduceResponse } from '../helpers/produce.ts';
import { keys, seller } from '../helpers/seller.ts';
import { signedQuery, TEST_KEY } from '../helpers/signing.ts';

/**
 * Law 7 end to end: the main flows run with known secrets through the real handlers (produce, provision, seller)
 * against DynamoDB Local, a queue of this file's own on fauxqs, the fake Open API and the reference webhook receiver,
 * and then every log line written meanwhile, every item of the main and audit tables, every provisioning message and
 * every outbound request body is searched for those secrets (raw and in their hex, base64 and URL-encoded forms), for
 * the signatures sent and received, and for the buyer's personal data. The tables are shared with the other test
 * files; the needles are unique to this one (the access key aside, which must not be anywhere either).
 *
 * The functions read their settings once per process; this file runs in its own worker and sets them in beforeAll,
 * before any handler's first call: webhook provisioning with Query Order, so each newInstance goes through the
 * queue, the Open API (AK/SK) and the seller's webhook (shared secret).
 */

const RUN = randomBytes(6).toString('hex');
const HOUR = 3_600_000;
const PRODUCT = `SCAN-METERED-${RUN}`;

/** What must never be logged or stored, each under a label that names it in a failure. */
const SECRETS = {
  accessKey: TEST_KEY,
  previousAccessKey: `scan-previous-access-key-${RUN}`,
  /** A forger's key: the refused calls are signed with it. */
  forgerKey: `scan-forger-access-key-${RUN}`,
  ak: `SCANAK${RUN.toUpperCase()}`,
  sk: `scan-sk-${RUN}-0123456789abcdef`,
  webhookSecret: `scan-webhook-secret-${RUN}`,
  /** The buyer's contact, AES-encrypted in the V1 newInstance (spec §7.6). */
  v1Mobile: '13800138000',
  v1Email: 'buyer-secret@example.com',
  v1CustomerName: `Scan Customer ${RUN}`,
  v1UserName: `scan-buyer-user-${RUN}`,
  /** The buyer's contact as Query Order answers it (spec §8.1). */
  orderMobile: '13700137000',
  orderEmail: `order-buyer-${RUN}@example.com`,
  orderCustomerName: `Order Customer ${RUN}`,
};
/**
 * A field no schema knows, inside request bodies: bodies are never logged, queued or sent on, and stored only as
 * the message log's redacted `request` (an unknown field is kept there, its name being no secret's).
 */
const BODY_CONTENT = `scan-body-content-${RUN}`;
/** Secrets made during the flows (seller API keys, ciphertexts of the buyer's contact). */
const MADE: Record<string, string> = {};
const ACCESS_KEY = SECRETS.accessKey;
const PREVIOUS_ACCESS_KEY = SECRETS.previousAccessKey;
const FORGER_KEY = SECRETS.forgerKey;
const CREDENTIALS = { ak: SECRETS.ak, sk: SECRETS.sk };
const WEBHOOK_SECRET = SECRETS.webhookSecret;

/**
 * Values that must not be logged, queued or sent on, but that are kept by design or are in an answer: appInfo's
 * password (stored on the instance, which queryInstance answers with), the ciphertexts of a V1 answer.
 */
const logOnly: { label: string; value: string }[] = [];
/** Signatures sent or received: never logged, never stored. */
const signatures: { label: string; value: string }[] = [];
/** V1 authTokens: never logged or stored (the replay-protection claim holds the nonce's hash). */
const v1Tokens: string[] = [];

let fake: FakeOpenApi;
let receiver: WebhookReceiver;
let front: { url: string; close: () => Promise<void> };
let queue: { url: string; arn: string };
const queued: string[] = [];
const outboundBodies: { url: string; body: string }[] = [];
let capture: OutputCapture;
let realFetch: typeof fetch;

// ── capturing what the process writes ────────────────────────────────────────────────────────────────────────────

interface OutputCapture {
  lines(): string[];
  stop(): void;
}

/**
 * Collects everything written to stdout, stderr and the console (the Powertools logger writes JSON lines to
 * process.stdout; vitest replaces the console), and keeps it off the test report. stop() restores all of it.
 */
function captureOutput(): OutputCapture {
  const chunks: string[] = [];
  const restore: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      callback?.();
      return true;
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = original;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      chunks.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 20 }))).join(' ') + '\n');
    };
    restore.push(() => {
      console[method] = original;
    });
  }
  const previousLevel = logger.getLevelName();
  logger.setLogLevel('DEBUG');
  restore.push(() => logger.setLogLevel(previousLevel));
  let stopped = false;
  return {
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== ''),
    stop: () => {
      if (stopped) return;
      stopped = true;
      for (const undo of restore.reverse()) undo();
    },
  };
}

/** Keeps an outbound request's signature headers and body. */
function recordRequest(url: string, headers: Headers, body: unknown): void {
  const apig = /Signature=([0-9a-fA-F]{64})/.exec(headers.get('authorization') ?? '')?.[1];
  if (apig) signatures.push({ label: `APIG signature to ${new URL(url).pathname}`, value: apig });
  const usage = headers.get('signature');
  if (usage) signatures.push({ label: 'usage push business signature', value: usage });
  for (const v1 of (headers.get('x-koogallery-signature') ?? '').matchAll(/v1=([0-9a-fA-F]{64})/g)) {
    signatures.push({ label: 'webhook signature', value: v1[1]! });
  }
  if (typeof body === 'string') outboundBodies.push({ url, body });
}

/** Records every outbound request's signature headers and body, then sends it. */
function recordingFetch(original: typeof fetch): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    recordRequest(url, new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)), init?.body);
    return original(input, init);
  };
}

/**
 * A front of the webhook receiver on 127.0.0.1 that records each request as recordingFetch does (the webhook's own
 * transport is node:http, not fetch), then passes it on and relays the answer.
 */
async function recordingFront(target: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = new Headers();
      for (const name of ['content-type', 'user-agent', 'x-koogallery-event-id', 'x-koogallery-signature']) {
        const value = request.headers[name];
        if (typeof value === 'string') headers.set(name, value);
      }
      recordRequest(target, headers, body);
      const answer = await realFetch(target, { method: request.method ?? 'POST', headers, body });
      response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' }).end(await answer.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${new URL(target).pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ── calling the functions ────────────────────────────────────────────────────────────────────────────────────────

/** Signs `body` (with `key`) as the marketplace does, sends it to the produce function, and keeps the signatures. */
async function v2(
  body: JsonObject,
  options: { key?: string; label?: string; nowMs?: number } = {},
): Promise<ProduceResponse & { query: Record<string, string> }> {
  const query = signedQuery(body, { ...(options.key ? { key: options.key } : {}), ...(options.nowMs ? { nowMs: options.nowMs } : {}) });
  signatures.push({ label: `V2 signature of ${options.label ?? String(body.activity)}`, value: query.signature });
  const response = await invokeRaw(JSON.stringify(body), query);
  keepBodySign(response);
  return { ...response, query };
}

function keepBodySign(response: ProduceResponse): void {
  const header = response.headers['Body-Sign'];
  const value = header ? /signature= "([^"]+)"/.exec(header)?.[1] : undefined;
  if (value) signatures.push({ label: 'Body-Sign of an answer', value });
}

/** A V1 GET (spec §6) through the produce function: the raw query string, signed with the access key. */
let lastV1Ms = 0;
async function v1(params: Record<string, string>): Promise<ProduceResponse> {
  // A distinct millisecond per call: the same parameters then make a fresh timeStamp and authToken.
  lastV1Ms = Math.max(Date.now(), lastV1Ms + 1);
  const signed = signV1Request(TEST_KEY, params, lastV1Ms);
  v1Tokens.push(signed.params.authToken!);
  const base = httpEvent('', {});
  const { body: _body, ...withoutBody } = base;
  const event: APIGatewayProxyEventV2 = {
    ...withoutBody,
    routeKey: 'GET /koogallery/produce',
    rawQueryString: signed.query,
    headers: { accept: '*/*' },
    queryStringParameters: Object.fromEntries(new URLSearchParams(signed.query)),
    requestContext: { ...base.requestContext, routeKey: 'GET /koogallery/produce', http: { ...base.requestContext.http, method: 'GET' } },
  };
  const correlationId = randomUUID();
  const result = (await produce(event, lambdaContext(correlationId))) as APIGatewayProxyStructuredResultV2;
  const raw = String(result.body);
  const response = {
    status: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, string>,
    raw,
    json: JSON.parse(raw) as Record<string, unknown>,
    correlationId,
  };
  keepBodySign(response);
  return response;
}

/**
 * Delivers what is on this file's provisioning queue to the provision function, as Lambda's SQS trigger would; a
 * record the function gives back is delivered again (at most 3 times), then the messages are deleted.
 */
async function drainQueue(): Promise<number> {
  const sqs = sqsClient();
  const region = process.env.AWS_REGION ?? 'us-east-1';
  let handled = 0;
  for (let round = 0; round < 10; round++) {
    const out = await sqs.send('ReceiveMessage', {
      QueueUrl: queue.url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 60,
    });
    const messages = out.Messages ?? [];
    if (messages.length === 0) return handled;
    queued.push(...messages.map((m) => m.Body ?? ''));
    let pending: Message[] = messages;
    for (let delivery = 1; delivery <= 3 && pending.length > 0; delivery++) {
      const result = (await provision(sqsEvent(pending, queue.arn, region), lambdaContext(randomUUID()))) as SQSBatchResponse;
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      pending = pending.filter((m) => failed.has(m.MessageId!));
    }
    expect(pending.map((m) => m.Body)).toEqual([]);
    await sqs.send('DeleteMessageBatch', {
      QueueUrl: queue.url,
      Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
    });
    handled += messages.length;
  }
  return handled;
}

/** An order the fake Open API answers Query Order for, with the buyer's contact in it. */
function order(orderId: string, productId = PRODUCT): FakeOrder {
  return {
    orderId,
    orderType: 'NEW',
    createTime: '20261101080000',
    buyerInfo: {
      customerId: `cust-${RUN}`,
      userId: `user-${RUN}`,
      customerName: SECRETS.orderCustomerName,
      userName: `order-user-${RUN}`,
      mobilePhone: SECRETS.orderMobile,
      email: SECRETS.orderEmail,
    },
    orderLine: [
      {
        orderLineId: `${orderId}-000001`,
        chargingMode: 'ON_DEMAND',
        periodType: 'month',
        periodNumber: 1,
        expireTime: '20271201080000',
        orderAmount: '19.90',
        productInfo: [{ productId, skuCode: 'sku-basic', linearValue: 1 }],
      },
    ],
  };
}

const hourStart = (now = Date.now()) => new Date(now - (now % HOUR)).toISOString();

// ── setup ────────────────────────────────────────────────────────────────────────────────────────────────────────

beforeAll(async () => {
  [fake, receiver] = await Promise.all([
    startFakeOpenApi({ credentials: CREDENTIALS, accessKey: ACCESS_KEY }),
    startWebhookReceiver({ secret: WEBHOOK_SECRET, frontEndBase: 'https://tenant.example.com' }),
  ]);
  front = await recordingFront(receiver.url);
  const sqs = sqsClient();
  const created = await sqs.send('CreateQueue', { QueueName: `secrets-scan-${RUN}` });
  const attributes = await sqs.send('GetQueueAttributes', { QueueUrl: created.QueueUrl!, AttributeNames: ['QueueArn'] });
  queue = { url: created.QueueUrl!, arn: attributes.Attributes!.QueueArn! };

  Object.assign(process.env, {
    KOOGALLERY_ACCESS_KEY: ACCESS_KEY,
    KOOGALLERY_PREVIOUS_ACCESS_KEY: PREVIOUS_ACCESS_KEY,
    PROVISIONING_MODE: 'webhook',
    WEBHOOK_URL: front.url,
    WEBHOOK_SECRET: WEBHOOK_SECRET,
    WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true',
    ORDER_QUERY: 'true',
    KOOGALLERY_AK: CREDENTIALS.ak,
    KOOGALLERY_SK: CREDENTIALS.sk,
    OPENAPI_BASE_URL: fake.url,
    OPENAPI_FALLBACK_URL: 'none',
    PROVISIONING_QUEUE_URL: queue.url,
    USAGE_PRODUCTS: PRODUCT,
  });
  // The functions parse these on their first call; nothing may have parsed them before.
  expect(config()).toMatchObject({ PROVISIONING_MODE: 'webhook', ORDER_QUERY: true, PROVISIONING_QUEUE_URL: queue.url });

  realFetch = globalThis.fetch;
  globalThis.fetch = recordingFetch(realFetch);
  capture = captureOutput();
});

afterAll(async () => {
  capture?.stop();
  if (realFetch) globalThis.fetch = realFetch;
  await Promise.all([fake?.close(), receiver?.close(), front?.close()]);
  if (queue)
    await sqsClient()
      .send('DeleteQueue', { QueueUrl: queue.url })
      .catch(() => undefined);
});

// ── the flows ────────────────────────────────────────────────────────────────────────────────────────────────────

/** The V2 instance the later flows use (usage, seller API, release). */
let instanceId = '';

describe('flows run with known secrets', () => {
  it('V2: newInstance, provisioning (Query Order + webhook), queryInstance, refresh, freeze, unfreeze under the previous key, refusals', async () => {
    const orderId = uniqueId('CS-scan');
    fake.registerOrder(order(orderId));
    instanceId = uniqueId('scan');

    const created = await v2({
      activity: 'newInstance',
      orderId,
      orderLineId: `${orderId}-000001`,
      businessId: instanceId,
      note: BODY_CONTENT,
    });
    expect(created.json).toMatchObject({ resultCode: '000000', instanceId });
    expect((await v2({ activity: 'queryInstance', instanceId })).json.resultCode).toBe('000004');
    expect(await drainQueue()).toBe(1);
    const query = await v2({ activity: 'queryInstance', instanceId });
    expect(query.json).toMatchObject({ resultCode: '000000', info: [{ instanceId, appInfo: { frontEndUrl: expect.any(String) } }] });
    const password = receiver.tenants().get(instanceId)?.appInfo.password;
    expect(password).toEqual(expect.any(String));
    logOnly.push({ label: "the tenant's appInfo password", value: password! });

    // A renewal: its order is queried (the first attempt fails and is retried by the queue), the webhook told.
    const renewal = uniqueId('CS-scan-renew');
    fake.registerOrder(order(renewal));
    fake.injectFault({ path: ORDER_QUERY_PATH, status: 500, resultCode: 'MKT.0999', resultMsg: 'injected', times: 1 });
    const refreshed = await v2({
      activity: 'refreshInstance',
      scene: 'RENEWAL',
      orderId: renewal,
      orderLineId: `${renewal}-000001`,
      instanceId,
      expireTime: '20281201080000',
    });
    expect(refreshed.json.resultCode).toBe('000000');
    expect(await drainQueue()).toBe(1);

    // A freeze whose first webhook delivery fails, then an unfreeze signed with the previous key (rotation).
    receiver.failNext(1, 503);
    expect((await v2({ activity: 'updateInstanceStatus', instanceId, status: 'FREEZE' })).json.resultCode).toBe('000000');
    expect(await drainQueue()).toBe(1);
    const unfrozen = await v2(
      { activity: 'updateInstanceStatus', instanceId, status: 'UNFREEZE' },
      { key: PREVIOUS_ACCESS_KEY, label: 'UNFREEZE under the previous key' },
    );
    expect(unfrozen.json.resultCode).toBe('000000');
    expect(await drainQueue()).toBe(1);
    expect(receiver.tenants().get(instanceId)?.state).toBe('ACTIVE');
    expect(
      receiver
        .deliveries()
        .filter((d) => d.id.startsWith(`${instanceId}:`))
        .map((d) => d.status),
    ).toEqual([200, 200, 503, 200, 200]);

    // Refusals: a forged signature, a replayed nonce, a stale timestamp, a malformed body, a too-deep body.
    const forged = await v2(
      { activity: 'releaseInstance', instanceId, note: BODY_CONTENT },
      { key: FORGER_KEY, label: 'a forged releaseInstance' },
    );
    expect(forged.json.resultCode).toBe('000001');
    const replay = await invokeRaw(JSON.stringify({ activity: 'queryInstance', instanceId }), query.query);
    expect(replay.json.resultCode).toBe('000001');
    const stale = await v2({ activity: 'queryInstance', instanceId }, { nowMs: Date.now() - 10 * 60_000, label: 'a stale queryInstance' });
    expect(stale.json.resultCode).not.toBe('000000');
    const malformedBody = `{"activity":"queryInstance","instanceId":"${instanceId}","note":"${BODY_CONTENT}",`;
    const malformedQuery = signedQuery({}, { payload: malformedBody });
    signatures.push({ label: 'V2 signature of a malformed body', value: malformedQuery.signature });
    expect((await invokeRaw(malformedBody, malformedQuery)).json.resultCode).toBe('000002');
    const deepBody = `{"note":"${BODY_CONTENT}","a":${'['.repeat(40)}${']'.repeat(40)}}`;
    const deepQuery = signedQuery({}, { payload: deepBody });
    signatures.push({ label: 'V2 signature of a too-deep body', value: deepQuery.signature });
    expect((await invokeRaw(deepBody, deepQuery)).json.resultCode).toBe('000002');
    const invalid = await v2(
      { activity: 'updateInstanceStatus', instanceId, status: 'MELT', note: BODY_CONTENT },
      { label: 'an invalid updateInstanceStatus' },
    );
    expect(invalid.json.resultCode).toBe('000002');

    expect((await store().getInstance(instanceId))?.state).toBe('ACTIVE');
  }, 60_000);

  it('V1: newInstance with the buyer’s mobile and email AES-encrypted, provisioned, then answered with encrypted appInfo', async () => {
    const orderId = uniqueId('CS-scan-v1');
    fake.registerOrder(order(orderId, `SCAN-V1-${RUN}`));
    const businessId = uniqueId('scan-v1');
    const mobile = encryptV1Field(TEST_KEY, SECRETS.v1Mobile, '1');
    const email = encryptV1Field(TEST_KEY, SECRETS.v1Email, '1');
    MADE.v1EncryptedMobile = mobile;
    MADE.v1EncryptedEmail = email;
    const params = {
      activity: 'newInstance',
      orderId,
      businessId,
      customerId: `cust-${RUN}`,
      customerName: SECRETS.v1CustomerName,
      userName: SECRETS.v1UserName,
      mobilePhone: mobile,
      email,
      productId: `SCAN-V1-${RUN}`,
      testFlag: '0',
    };

    const first = await v1(params);
    expect(first.json).toMatchObject({ resultCode: '000004', instanceId: businessId });
    expect(await drainQueue()).toBe(1);
    const retried = await v1(params);
    expect(retried.json).toMatchObject({
      resultCode: '000000',
      instanceId: businessId,
      encryptType: '1',
      appInfo: { frontEndUrl: expect.any(String) },
    });
    const password = receiver.tenants().get(businessId)?.appInfo.password;
    logOnly.push({ label: "the V1 tenant's appInfo password", value: password! });
    const encryptedPassword = (retried.json.appInfo as { password?: string }).password;
    expect(encryptedPassword).toEqual(expect.any(String));
    logOnly.push({ label: 'the encrypted appInfo password of a V1 answer', value: encryptedPassword! });
  }, 60_000);

  it('seller API: usage report, ledger, instance listing and view, messages, refused keys', async () => {
    const { secret, key } = await keys().create({ name: `scan-${RUN}`, scopes: [...SCOPES], now: Date.now() });
    MADE.sellerKey = secret;
    const revoked = await keys().create({ name: `scan-revoked-${RUN}`, scopes: ['usage:read'], now: Date.now() });
    MADE.revokedSellerKey = revoked.secret;
    await keys().revoke(revoked.key.keyId, Date.now());
    const unknown = `kgs_${randomBytes(32).toString('base64url')}`;
    MADE.unknownSellerKey = unknown;

    const begin = hourStart();
    const end = new Date(Date.parse(begin) + HOUR).toISOString();
    const reported = await seller('POST', '/seller/usage', {
      key: secret,
      body: { records: [{ instanceId, beginTime: begin, endTime: end, value: '2.5', clientRef: `scan-ref-${RUN}` }] },
    });
    expect(reported.json).toMatchObject({ accepted: 1 });
    expect((await seller('GET', '/seller/usage', { key: secret, query: { instanceId } })).status).toBe(200);
    expect((await seller('GET', '/seller/instances', { key: secret, query: { productId: PRODUCT } })).json).toMatchObject({
      items: [{ instanceId }],
    });
    const one = await seller('GET', `/seller/instances/${encodeURIComponent(instanceId)}`, { key: secret });
    expect(one.status).toBe(200);
    expect(JSON.stringify(one.json)).not.toContain('password');
    expect((await seller('GET', '/seller/messages', { key: secret, query: { limit: '50' } })).status).toBe(200);

    expect((await seller('GET', '/seller/instances', { key: unknown })).status).toBe(401);
    expect((await seller('GET', '/seller/usage', { key: revoked.secret, query: { instanceId } })).status).toBe(401);
    expect((await seller('GET', '/seller/instances', { headers: { authorization: `Bearer ${ACCESS_KEY}` } })).status).toBe(401);
    expect(
      (await seller('GET', '/seller/instances', { headers: { authorization: `Basic ${Buffer.from(`x:${secret}`).toString('base64')}` } }))
        .status,
    ).toBe(401);
    const malformed = await seller('POST', '/seller/usage', { key: secret, rawBody: `{"records":[],"note":"${BODY_CONTENT}",` });
    expect(malformed.status).toBe(400);
    expect(key.keyId).toMatch(/^[0-9a-f]{12}$/);
  });

  it('usage push to the Open API, signed with the AK/SK and the access key', async () => {
    const ledger = usageStore(dynamoClient(), env('MAIN_TABLE'));
    // Only this file's window: the ledger is shared, and other files' windows are theirs to push.
    const mine: UsageLedger = {
      ...ledger,
      dueWindows: async (at, limit) => (await ledger.dueWindows(at, limit)).filter((w) => w.instanceId === instanceId),
    };
    const client = openApiClient({ baseUrl: fake.url, credentials: async () => CREDENTIALS, accessKey: async () => ACCESS_KEY, log });
    const closesAt = Date.parse(hourStart()) + HOUR;
    const summary = await pushUsage(
      {
        ledger: mine,
        pushUsage: (records) => client.pushUsage(records),
        audit: auditLog(dynamoClient(), env('AUDIT_TABLE')),
        now: () => closesAt + 5 * 60_000,
        log,
      },
      { batchSize: 100, maxWindows: 100_000 },
    );
    if (!fake.usage().some((u) => u.instance_id === instanceId)) {
      // Another file's push run (they push every due window of the shared ledger) took the window first:
      // the signed request is still made, with this file's keys.
      const record: UsagePushRecord = {
        instance_id: instanceId,
        record_time: usageApiTime(Date.now()),
        begin_time: usageApiTime(closesAt - HOUR),
        end_time: usageApiTime(closesAt),
        usage_value: '2.5',
        metering_sn: `scan-${RUN}`,
      };
      expect(await client.pushUsage([record])).toMatchObject({ ok: true });
    } else {
      expect(summary).toMatchObject({ requests: 1, accepted: 1 });
    }
    expect(fake.usage().filter((u) => u.instance_id === instanceId)).toHaveLength(1);
    expect(fake.calls().some((c) => c.path === USAGE_DATA_PATH && c.akVerified)).toBe(true);
  });

  it('V2: releaseInstance, the webhook told', async () => {
    expect((await v2({ activity: 'releaseInstance', instanceId })).json.resultCode).toBe('000000');
    expect(await drainQueue()).toBe(1);
    expect(receiver.tenants().get(instanceId)?.state).toBe('DELETED');
  });
});

// ── the scan ─────────────────────────────────────────────────────────────────────────────────────────────────────

interface Needle {
  label: string;
  value: string;
}

/** A value and the encodings it could be written in. */
function forms(label: string, value: string): Needle[] {
  const bytes = Buffer.from(value, 'utf8');
  const out: Needle[] = [
    { label, value },
    { label: `${label} (base64)`, value: bytes.toString('base64') },
    { label: `${label} (base64url)`, value: bytes.toString('base64url') },
    { label: `${label} (hex)`, value: bytes.toString('hex') },
    { label: `${label} (URL-encoded)`, value: encodeURIComponent(value) },
    { label: `${label} (Java URL-encoded)`, value: javaUrlEncode(value) },
    { label: `${label} (JSON-escaped)`, value: JSON.stringify(value).slice(1, -1) },
  ];
  if (/^[0-9a-fA-F]+$/.test(value))
    out.push(
      { label: `${label} (lower case)`, value: value.toLowerCase() },
      { label: `${label} (upper case)`, value: value.toUpperCase() },
    );
  const seen = new Set<string>();
  return out.filter((n) => n.value.length >= 8 && !seen.has(n.value) && seen.add(n.value));
}

/** Every string of a DynamoDB item (attribute names included), with where it is. */
function strings(value: AttributeValue, path: string, out: [string, string][]): void {
  if (value.S !== undefined) out.push([path, value.S]);
  else if (value.N !== undefined) out.push([path, value.N]);
  else if (value.B !== undefined)
    out.push([path, Buffer.from(value.B).toString('utf8')], [`${path} (as base64)`, Buffer.from(value.B).toString('base64')]);
  else if (value.SS) value.SS.forEach((s, i) => out.push([`${path}[${i}]`, s]));
  else if (value.NS) value.NS.forEach((s, i) => out.push([`${path}[${i}]`, s]));
  else if (value.BS) value.BS.forEach((b, i) => out.push([`${path}[${i}]`, Buffer.from(b).toString('utf8')]));
  else if (value.L) value.L.forEach((v, i) => strings(v, `${path}[${i}]`, out));
  else if (value.M) {
    for (const [k, v] of Object.entries(value.M)) {
      out.push([`${path}.${k} (name)`, k]);
      strings(v, `${path}.${k}`, out);
    }
  }
}

interface Hit {
  where: string;
  needle: string;
  excerpt: string;
}

function excerpt(text: string, value: string): string {
  const at = text.indexOf(value);
  return text.slice(Math.max(0, at - 80), at + value.length + 80);
}

/** Every item of a table (all pages) holding a needle: table, keys, attribute, which needle. */
async function scanTable(
  table: string,
  needles: Needle[],
  allowed: (item: Record<string, AttributeValue>, needle: Needle) => boolean = () => false,
): Promise<{ hits: Hit[]; items: number }> {
  const hits: Hit[] = [];
  let items = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await dynamoClient().send('Scan', { TableName: table, ExclusiveStartKey: start, ConsistentRead: true });
    for (const item of out.Items ?? []) {
      items++;
      const found: [string, string][] = [];
      strings({ M: item }, '', found);
      const all = found.map(([, s]) => s).join('\n');
      for (const needle of needles) {
        if (!all.includes(needle.value) || allowed(item, needle)) continue;
        for (const [path, s] of found) {
          if (s.includes(needle.value))
            hits.push({
              where: `${table} pk=${item.pk?.S} sk=${item.sk?.S} attribute ${path.slice(1)}`,
              needle: needle.label,
              excerpt: excerpt(s, needle.value),
            });
        }
      }
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return { hits, items };
}

function scanTexts(where: string, texts: string[], needles: Needle[]): Hit[] {
  const hits: Hit[] = [];
  texts.forEach((text, i) => {
    for (const needle of needles)
      if (text.includes(needle.value))
        hits.push({ where: `${where} #${i + 1}`, needle: needle.label, excerpt: excerpt(text, needle.value) });
  });
  return hits;
}

describe('the scan', () => {
  it('finds no secret, signature or personal data in any log line, stored item, queued message or outbound body', async () => {
    capture.stop();
    const logLines = capture.lines();
    // The capture saw the real handlers' logs.
    const expected = [
      'marketplace call',
      'seller API request',
      'lifecycle event handled',
      'provisioning message failed; the queue will retry it',
      'usage push run',
    ];
    for (const message of expected) {
      expect(
        logLines.some((l) => l.includes(`"message":"${message}"`)),
        `no "${message}" log line was captured`,
      ).toBe(true);
    }
    expect(signatures.filter((s) => s.label.startsWith('V2 signature')).length).toBeGreaterThanOrEqual(12);
    expect(signatures.some((s) => s.label.startsWith('APIG'))).toBe(true);
    expect(signatures.some((s) => s.label === 'webhook signature')).toBe(true);
    expect(signatures.some((s) => s.label === 'usage push business signature')).toBe(true);
    expect(v1Tokens).toHaveLength(2);

    const secretNeedles = Object.entries({ ...SECRETS, ...MADE }).flatMap(([label, value]) => forms(label, value));
    for (const bits of [128, 256] as const) {
      const aes = deriveV1FieldKey(ACCESS_KEY, bits);
      secretNeedles.push(
        { label: `V1 AES-${bits} key (hex)`, value: aes.toString('hex') },
        { label: `V1 AES-${bits} key (base64)`, value: aes.toString('base64') },
      );
    }
    const signatureNeedles = signatures.flatMap((s) => forms(s.label, s.value));
    const tokenNeedles = v1Tokens.flatMap((t) => forms('V1 authToken', t));
    const logNeedles = [...secretNeedles, ...signatureNeedles, ...tokenNeedles, ...logOnly.flatMap((n) => forms(n.label, n.value))];
    const storeNeedles = [...secretNeedles, ...signatureNeedles, ...tokenNeedles];
    const bodyNeedles = forms('bodyContent', BODY_CONTENT);
    logNeedles.push(...bodyNeedles);

    // Nonce claims are keyed by the nonce's SHA-256, so not even a V1 authToken (the call's nonce) is stored.
    const main = await scanTable(env('MAIN_TABLE'), [...storeNeedles, ...bodyNeedles]);
    const audit = await scanTable(env('AUDIT_TABLE'), [...storeNeedles, ...bodyNeedles]);
    // The message log keeps request bodies redacted: the unknown field is there, and nowhere else.
    const keptBody = (h: { needle: string; where: string }) =>
      h.needle.startsWith('bodyContent') && h.where.endsWith('attribute request.json');
    expect(audit.hits.filter(keptBody).length).toBeGreaterThanOrEqual(3);
    const hits = [
      ...scanTexts('log line', logLines, logNeedles),
      ...main.hits,
      ...audit.hits.filter((h) => !keptBody(h)),
      // Lifecycle events and the webhook's events carry ids and terms, never appInfo.
      ...scanTexts('provisioning queue message', queued, logNeedles),
      ...scanTexts(
        'outbound request',
        outboundBodies.map((b) => `${b.url} ${b.body}`),
        logNeedles,
      ),
    ];
    if (hits.length > 0) console.error(`secrets found:\n${hits.map((h) => `  ${h.needle} in ${h.where}: …${h.excerpt}…`).join('\n')}`);
    expect(hits).toEqual([]);
    expect(logLines.length).toBeGreaterThan(20);
    expect(main.items).toBeGreaterThan(0);
    expect(audit.items).toBeGreaterThan(0);
    expect(queued).toHaveLength(6);
  }, 60_000);
});
