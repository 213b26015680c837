import { randomUUID } from 'node:crypto';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { handler } from '../../functions/produce.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { handleProduceCall, type ProduceDeps, type ProduceResult } from '#lib/instances/produceCall.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import { licenseStore } from '#lib/store/licenseStore.ts';
import { signedQuery, TEST_KEY } from './signing.ts';

export const store = () => instanceStore(dynamoClient(), { main: env('MAIN_TABLE'), audit: env('AUDIT_TABLE') });

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: is the vitest globalSetup running?`);
  return value;
}

export interface ProduceResponse {
  status: number;
  headers: Record<string, string>;
  raw: string;
  json: Record<string, unknown>;
  correlationId: string;
}

export function httpEvent(rawBody: string, query: Record<string, string | undefined>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /koogallery/produce',
    rawPath: '/koogallery/produce',
    rawQueryString: new URLSearchParams(query as Record<string, string>).toString(),
    headers: { 'content-type': 'application/json;charset=utf8' },
    queryStringParameters: query,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: { method: 'POST', path: '/koogallery/produce', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: 'POST /koogallery/produce',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: rawBody,
    isBase64Encoded: false,
  };
}

export function lambdaContext(correlationId: string): Context {
  return {
    awsRequestId: correlationId,
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'produce',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:produce',
    logGroupName: '/aws/lambda/produce',
    logStreamName: 'test',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => 6_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Invokes the real produce handler with an HTTP API event. */
export function invokeRaw(rawBody: string, query: Record<string, string | undefined>): Promise<ProduceResponse> {
  return invokeEvent(httpEvent(rawBody, query));
}

/** Invokes the real produce handler with this event, under a fresh correlation id. */
export async function invokeEvent(event: APIGatewayProxyEventV2): Promise<ProduceResponse> {
  const correlationId = randomUUID();
  const result = (await handler(event, lambdaContext(correlationId))) as APIGatewayProxyStructuredResultV2;
  const raw = String(result.body);
  return {
    status: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, string>,
    raw,
    json: JSON.parse(raw) as Record<string, unknown>,
    correlationId,
  };
}

/** Signs and sends a body, as the marketplace does. */
export function call(body: Record<string, unknown>, options: Parameters<typeof signedQuery>[1] = {}): Promise<ProduceResponse> {
  return invokeRaw(JSON.stringify(body), signedQuery(body as JsonObject, options));
}

export const uniqueId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 13)}`;

/** The message-log record of one call. */
export async function auditRecord(correlationId: string): Promise<Record<string, unknown> | undefined> {
  const day = new Date().toISOString().slice(0, 10);
  const out = await dynamoClient().send('Query', {
    TableName: env('AUDIT_TABLE'),
    KeyConditionExpression: 'pk = :pk',
    FilterExpression: 'correlationId = :c',
    ExpressionAttributeValues: { ':pk': { S: `MSG#${day}` }, ':c': { S: correlationId } },
    ConsistentRead: true,
  });
  const item = out.Items?.[0];
  return item ? unmarshall(item) : undefined;
}

const silent = { info: () => {}, warn: () => {}, error: () => {} };

/** The production interface's settings with lib/config.ts's defaults, and provisioning synchronous (template appInfo). */
export const PRODUCE_SETTINGS: ProduceDeps['settings'] = {
  maxBodyBytes: 65536,
  signatureWindowSeconds: 60,
  nonceTtlSeconds: 300,
  testTtlDays: 7,
  releaseUnknownAnswer: '000003',
  appInfo: { frontEndUrl: 'https://app.example.com/t/{instanceId}' },
  provisioning: { async: false, inProgressAnswer: '000004' },
  v1EncryptType: '1',
};

/** Dependencies of handleProduceCall against the test stack, for tests that swap one part (a failing publisher, a recording log). */
export function produceDeps(overrides: Partial<ProduceDeps> = {}): ProduceDeps {
  return {
    accessKeys: async () => [{ id: 'test-key', secret: TEST_KEY }],
    store: store(),
    licenses: licenseStore(dynamoClient(), env('MAIN_TABLE')),
    publisher: { publish: async () => [] },
    changePolicy: { check: async () => ({ allowed: true }) },
    settings: PRODUCE_SETTINGS,
    now: Date.now,
    log: silent,
    ...overrides,
  };
}

/**
 * A signed V2 call through handleProduceCall in asynchronous provisioning mode: the lifecycle events it would
 * publish are appended to `published` (the provisioning worker's input in the tests that drive it).
 */
export async function produceAsync(body: JsonObject, published: LifecycleEvent[]): Promise<ProduceResult['answer']> {
  const result = await handleProduceCall(
    { version: 'v2', rawBody: JSON.stringify(body), query: signedQuery(body), correlationId: uniqueId('c') },
    produceDeps({
      publisher: {
        publish: async (events) => {
          published.push(...events);
          return [];
        },
      },
      settings: { ...PRODUCE_SETTINGS, provisioning: { async: true, inProgressAnswer: '000004' } },
    }),
  );
  return result.answer;
}
