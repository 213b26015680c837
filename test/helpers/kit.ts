import { constants, createPrivateKey, publicEncrypt, randomUUID } from 'node:crypto';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { kitHandler } from '../../functions/kit.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { parseConfig } from '#lib/config.ts';
import { kitDeps } from '#lib/kit/deps.ts';
import type { KitDeps } from '#lib/kit/kitCall.ts';
import { MAX_JSON_DEPTH } from '#lib/koogallery/canonicalJson.ts';
import { parseJsonTree, type JsonMap } from '#lib/koogallery/jsonTree.ts';
import { signKitRequest } from '#lib/koogallery/kitSignature.ts';
import { queryPartition } from '#lib/store/dynamo.ts';
import { keys } from '#lib/store/keys.ts';
import { CT_PRIVATE_KEY_PEM } from './kitVectors.ts';
import { env, lambdaContext } from './produce.ts';

/** The Kit calls against DynamoDB Local through the real handler, with the spec's test Kit key and RSA test key. */
export const KIT_KEY = 'testKitKey-0123456789';

const silent = process.env.KIT_TEST_LOG
  ? { info: () => {}, warn: console.warn, error: (m: string, e?: unknown) => console.error(m, JSON.stringify(e)) }
  : { info: () => {}, warn: () => {}, error: () => {} };

export function testKitDeps(overrides: Record<string, string> = {}): KitDeps {
  const cfg = parseConfig({
    ...process.env,
    KOOGALLERY_KIT_ACCESS_KEY: KIT_KEY,
    KIT_RSA_PRIVATE_KEY: CT_PRIVATE_KEY_PEM,
    ...overrides,
  });
  return kitDeps(cfg, silent);
}

/** clientSecret as KooGallery sends it: encrypted with the seller's public key (OAEP SHA-256). */
export function encryptSecret(secret: string): string {
  const key = createPrivateKey(CT_PRIVATE_KEY_PEM);
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(secret)).toString('base64');
}

export function tree(raw: string): JsonMap {
  const reading = parseJsonTree(raw, MAX_JSON_DEPTH);
  if (!reading.ok || !(reading.value instanceof Map)) throw new Error('not a JSON object');
  return reading.value;
}

function event(path: string, name: string, rawBody: string, headers: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `POST ${path.replace(name, '{name}')}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    pathParameters: { name },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: `POST ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: rawBody,
    isBase64Encoded: false,
  };
}

export interface KitResponse {
  status: number;
  json: { resultCode: string; resultMsg: string };
  correlationId: string;
  headers: Record<string, string>;
}

export interface SendOptions {
  nonce?: string;
  nowMs?: number;
  headers?: Record<string, string>;
  /** The path without `v2` (the V1 form). */
  legacy?: boolean;
}

export function kitClient(deps: KitDeps = testKitDeps()) {
  const handler = kitHandler(() => deps);
  async function sendRaw(name: string, rawBody: string, headers: Record<string, string>, legacy = false): Promise<KitResponse> {
    const correlationId = randomUUID();
    const path = `/koogallery/produce/produceAPI/${legacy ? '' : 'v2/'}${name}`;
    const result = (await handler(event(path, name, rawBody, headers), lambdaContext(correlationId))) as APIGatewayProxyStructuredResultV2;
    return {
      status: result.statusCode ?? 0,
      json: JSON.parse(String(result.body)) as KitResponse['json'],
      correlationId,
      headers: (result.headers ?? {}) as Record<string, string>,
    };
  }
  /** Signs a body with the Kit key, as KooGallery does, and sends it. */
  function send(name: string, body: Record<string, unknown>, options: SendOptions = {}): Promise<KitResponse> {
    const raw = JSON.stringify(body);
    const signed = signKitRequest(KIT_KEY, tree(raw), {
      ...(options.nonce ? { nonce: options.nonce } : {}),
      ...(options.nowMs ? { nowMs: options.nowMs } : {}),
    });
    return sendRaw(name, raw, { ...signed, ...options.headers }, options.legacy);
  }
  return { send, sendRaw, deps };
}

/** Every item of a tenant's partition, by sort key, without keys. */
export async function tenantItems(tenantId: string): Promise<Map<string, Record<string, unknown>>> {
  const items = await queryPartition(dynamoClient(), env('MAIN_TABLE'), keys.tenantPartition(tenantId));
  return new Map(items.map((i) => unmarshall(i)).map((i) => [i.sk as string, i]));
}

export const uniqueTenant = () => `t-${randomUUID().slice(0, 12)}`;

/** `yyyyMMddHHmmssSSS`, `offsetMs` from now. */
export const kitTime = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString().replace(/\D/g, '').slice(0, 17);

export const tenantBody = (tenantId: string, extra: Record<string, unknown> = {}) => ({
  instanceId: 'inst-1',
  orderId: 'CS-1',
  tenantId,
  tenantCode: 'acme',
  name: 'Acme',
  domainName: 'acme.tenantaccount.example',
  flag: 1,
  testFlag: 0,
  timeStamp: kitTime(),
  ...extra,
});

export const appBody = (tenantId: string, extra: Record<string, unknown> = {}) => ({
  instanceId: 'inst-1',
  tenantId,
  appId: 'app-1',
  clientId: 'client-1',
  clientSecret: encryptSecret('the-secret'),
  flag: 1,
  testFlag: 0,
  timeStamp: kitTime(),
  ...extra,
});

export const user = (userName: string, extra: Record<string, unknown> = {}) => ({
  userName,
  name: `Name ${userName}`,
  orgCode: 'org-1',
  role: 'user',
  enable: 'true',
  ...extra,
});

export const authBody = (tenantId: string, userList: unknown, extra: Record<string, unknown> = {}) => ({
  instanceId: 'inst-1',
  tenantId,
  appId: 'app-1',
  userList,
  currentSyncTime: kitTime(),
  flag: 1,
  testFlag: 0,
  timeStamp: kitTime(),
  ...extra,
});

export const orgBody = (tenantId: string, orgCode: string, extra: Record<string, unknown> = {}) => ({
  instanceId: 'inst-1',
  tenantId,
  orgCode,
  orgName: `Dept ${orgCode}`,
  parentCode: '',
  flag: 1,
  testFlag: 0,
  timeStamp: kitTime(),
  ...extra,
});

export const allOrgBody = (tenantId: string, orgInfoList: unknown, extra: Record<string, unknown> = {}) => ({
  instanceId: 'inst-1',
  tenantId,
  orgInfoList,
  testFlag: 0,
  timeStamp: kitTime(),
  ...extra,
});
