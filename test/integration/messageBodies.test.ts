import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_KEPT_CHARS, PERSONAL_MARKER, SECRET_MARKER } from '#lib/audit/redact.ts';
import { parseConfig } from '#lib/config.ts';
import { handleProduceCall } from '#lib/instances/produceCall.ts';
import { encryptV1Field } from '#lib/koogallery/fieldCrypto.ts';
import { signV1Request } from '#lib/koogallery/v1Auth.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import { workerDeps } from '#lib/provisioning/deps.ts';
import { handleLifecycleEvent } from '#lib/provisioning/worker.ts';
import { startFakeOpenApi, type FakeOpenApi } from '../../scripts/local/fake-openapi.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../scripts/local/webhook-receiver.ts';
import { auditRecord, call, invokeRaw, produceAsync, produceDeps, uniqueId } from '../helpers/produce.ts';
import { seller, sellerKey } from '../helpers/seller.ts';
import { signedQuery, TEST_KEY } from '../helpers/signing.ts';

/**
 * The message log keeps each message's request and answer, redacted: marketplace calls through the real produce
 * handler (V2) or handleProduceCall (V1), and the provisioning worker as configured (Query Order on the fake Open
 * API, deliveries to the reference webhook receiver), against DynamoDB Local; read back through the seller API.
 */

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const credentials = { ak: 'bodies-ak-0123456789', sk: 'bodies-sk-0123456789abcdef' };
const webhookSecret = 'bodies-webhook-secret-0123456789';
let openApi: FakeOpenApi;
let receiver: WebhookReceiver;

beforeAll(async () => {
  [openApi, receiver] = await Promise.all([
    startFakeOpenApi({ credentials }),
    startWebhookReceiver({ secret: webhookSecret, frontEndBase: 'https://tenant.example.com' }),
  ]);
});
afterAll(async () => {
  await Promise.all([openApi?.close(), receiver?.close()]);
});

interface Kept {
  truncated: boolean;
  body?: unknown;
  text?: string;
}
interface Shown {
  messageId: string;
  resultCode: string;
  request?: Kept;
  answer?: Kept;
}

/** The record of one call as GET /seller/messages/{messageId} shows it. */
async function shown(correlationId: string): Promise<Shown> {
  const record = await auditRecord(correlationId);
  expect(record, correlationId).toBeDefined();
  const messageId = `${String(record!.at)}~${correlationId}`;
  const key = await sellerKey('messages:read');
  const answer = await seller('GET', `/seller/messages/${encodeURIComponent(messageId)}`, { key });
  expect(answer.status).toBe(200);
  return answer.json.message as Shown;
}

const mobile = '13800000000';
const email = 'buyer@example.com';

describe('the message log keeps what was said, redacted', () => {
  it('keeps a V2 newInstance with the buyer contact and names redacted and no signature', async () => {
    const orderId = uniqueId('CS');
    const body = {
      activity: 'newInstance',
      orderId,
      orderLineId: `${orderId}-000001`,
      businessId: uniqueId('biz'),
      customerName: 'Zhang San',
      mobilePhone: encryptV1Field(TEST_KEY, mobile, '1'),
      email: encryptV1Field(TEST_KEY, email, '1'),
      testFlag: '0',
    };
    const query = signedQuery(body);
    const response = await invokeRaw(JSON.stringify(body), query);
    expect(response.json.resultCode).toBe('000000');

    const message = await shown(response.correlationId);
    expect(message.request).toEqual({
      truncated: false,
      body: {
        query: { signature: SECRET_MARKER, timestamp: query.timestamp, nonce: query.nonce },
        body: { ...body, customerName: PERSONAL_MARKER, mobilePhone: PERSONAL_MARKER, email: PERSONAL_MARKER },
      },
    });
    // The answer we sent: result code, message and the instance id.
    expect(message.answer).toEqual({ truncated: false, body: response.json });
    const text = JSON.stringify(message);
    for (const secret of [query.signature, body.mobilePhone, body.email, mobile, email, 'Zhang San']) expect(text).not.toContain(secret);
  });

  it("keeps a refused call's body, redacted the same way", async () => {
    const orderId = uniqueId('CS');
    const body = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: 'b-1', email, password: 'pw-123' };
    const query = signedQuery(body, { key: 'not-the-key' });
    const response = await invokeRaw(JSON.stringify(body), query);
    expect(response.json.resultCode).toBe('000001');

    const message = await shown(response.correlationId);
    expect(message.request?.body).toEqual({
      query: { signature: SECRET_MARKER, timestamp: query.timestamp, nonce: query.nonce },
      body: { ...body, email: PERSONAL_MARKER, password: SECRET_MARKER },
    });
    expect(message.answer?.body).toEqual(response.json);
    expect(JSON.stringify(message)).not.toContain(query.signature);
  });

  it('keeps only a note of a body that is not JSON', async () => {
    const response = await invokeRaw('{"activity":"newInstance","email":"buyer@example.com"', {
      signature: 'a'.repeat(64),
      timestamp: String(Date.now()),
      nonce: 'n-1',
    });
    expect(response.json.resultCode).toBe('000002');
    const message = await shown(response.correlationId);
    expect(message.request?.body).toEqual({
      query: { signature: SECRET_MARKER, timestamp: expect.any(String), nonce: 'n-1' },
      body: '[not kept: malformed JSON]',
    });
  });

  it('truncates a huge body at the cap and marks it', async () => {
    const orderId = uniqueId('CS');
    const extendParams = Array.from({ length: 200 }, (_, i) => ({ name: `param-${i}`, value: 'v'.repeat(100) }));
    const body = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: uniqueId('biz'), extendParams };
    const response = await call(body);
    expect(response.json.resultCode).toBe('000000');

    const message = await shown(response.correlationId);
    expect(message.request?.truncated).toBe(true);
    expect(message.request?.body).toBeUndefined();
    expect(message.request?.text).toHaveLength(MAX_KEPT_CHARS);
    expect(message.request?.text?.startsWith('{"query":{"signature":"[redacted: secret]"')).toBe(true);
    expect(message.answer).toEqual({ truncated: false, body: response.json });
  });

  it('keeps a V1 call as its query parameters, with the authToken and the contact redacted', async () => {
    const orderId = uniqueId('CS');
    const params = {
      activity: 'newInstance',
      orderId,
      businessId: uniqueId('biz'),
      customerId: 'cust-1',
      customerName: 'Li Si',
      userName: 'lisi',
      mobilePhone: encryptV1Field(TEST_KEY, mobile, '1'),
      email: encryptV1Field(TEST_KEY, email, '1'),
      productId: 'P-1',
      testFlag: '0',
    };
    const signed = signV1Request(TEST_KEY, params);
    const correlationId = randomUUID();
    const result = await handleProduceCall({ version: 'v1', rawQuery: signed.query, correlationId }, produceDeps());
    expect(result.answer.resultCode).toBe('000000');

    const message = await shown(correlationId);
    expect(message.request).toEqual({
      truncated: false,
      body: {
        query: {
          ...signed.params,
          authToken: SECRET_MARKER,
          customerName: PERSONAL_MARKER,
          userName: PERSONAL_MARKER,
          mobilePhone: PERSONAL_MARKER,
          email: PERSONAL_MARKER,
        },
      },
    });
    expect(message.answer?.body).toMatchObject({ resultCode: '000000', instanceId: result.answer.instanceId });
    const text = JSON.stringify(message);
    for (const secret of [signed.params.authToken!, params.mobilePhone, params.email, 'Li Si']) expect(text).not.toContain(secret);
  });

  it('lists records without their bodies', async () => {
    const orderId = uniqueId('CS');
    const body = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: uniqueId('biz') };
    const response = await call(body);
    const key = await sellerKey('messages:read');
    const listed = await seller('GET', '/seller/messages', { key, query: { orderId } });
    expect(listed.status).toBe(200);
    const [item] = listed.json.items as Record<string, unknown>[];
    expect(item).toMatchObject({ correlationId: response.correlationId, channel: 'produce', resultCode: '000000' });
    expect(item).not.toHaveProperty('request');
    expect(item).not.toHaveProperty('answer');
  });
});

describe('the provisioning worker writes its Open API calls and webhook deliveries to the message log', () => {
  /** The worker as the provision function configures it, against the fake Open API and the reference receiver. */
  const configured = () =>
    workerDeps(
      parseConfig({
        ...process.env,
        PROVISIONING_MODE: 'webhook',
        ORDER_QUERY: 'true',
        OPENAPI_BASE_URL: openApi.url,
        OPENAPI_FALLBACK_URL: 'none',
        KOOGALLERY_AK: credentials.ak,
        KOOGALLERY_SK: credentials.sk,
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: webhookSecret,
        WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true',
      }),
      quiet,
    );

  it('keeps Query Order with the buyer redacted, and the delivery with the appInfo password redacted; both filterable', async () => {
    const orderId = uniqueId('CS');
    openApi.registerOrder({
      orderId,
      orderType: 'NEW',
      createTime: '20261101080000',
      buyerInfo: { customerId: 'cust-9', customerName: 'Wang Wu', userId: 'user-9', email, mobilePhone: mobile },
      orderLine: [
        {
          orderLineId: `${orderId}-000001`,
          chargingMode: 'PERIOD',
          periodType: 'month',
          periodNumber: 1,
          expireTime: '20261201080000',
          orderAmount: '19.90',
          productInfo: [{ productId: 'OFFI-BODIES-1', skuCode: 'sku-basic', linearValue: 10 }],
        },
      ],
    });
    const published: LifecycleEvent[] = [];
    const instanceId = uniqueId('biz');
    const given = await produceAsync(
      { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: instanceId },
      published,
    );
    expect(given.resultCode).toBe('000000');
    expect(await handleLifecycleEvent(published[0]!, configured())).toBe('provisioned');

    const key = await sellerKey('messages:read');
    const list = async (channel: string) => {
      const answer = await seller('GET', '/seller/messages', { key, query: { instanceId, channel } });
      expect(answer.status).toBe(200);
      return answer.json.items as (Shown & { channel: string; activity: string; httpStatus?: number })[];
    };
    const [queried] = await list('openApi');
    expect(queried).toMatchObject({ channel: 'openApi', activity: 'queryOrder', resultCode: 'MKT.0000', httpStatus: 200, orderId });
    const [delivered] = await list('webhook');
    expect(delivered).toMatchObject({ channel: 'webhook', activity: 'instance.created', resultCode: '200', httpStatus: 200, orderId });
    expect((await list('marketplace')).map((m) => m.channel)).toEqual(['produce']);

    const detail = async (messageId: string) => {
      const answer = await seller('GET', `/seller/messages/${encodeURIComponent(messageId)}`, { key });
      expect(answer.status).toBe(200);
      return answer.json.message as Shown;
    };
    const query = await detail(queried!.messageId);
    expect(query.request?.body).toEqual({ query: { orderId, orderLineId: `${orderId}-000001` } });
    expect(query.answer?.body).toMatchObject({
      resultCode: 'MKT.0000',
      // Amounts keep their digits (as strings): the log shows what the marketplace sent, not a float.
      orderInfo: { orderId, orderLine: [{ orderAmount: '19.90' }] },
      buyerInfo: { customerId: 'cust-9', customerName: PERSONAL_MARKER, email: PERSONAL_MARKER, mobilePhone: PERSONAL_MARKER },
    });
    const delivery = await detail(delivered!.messageId);
    expect(delivery.request?.body).toMatchObject({
      type: 'instance.created',
      instance: { instanceId, orderId },
      order: { skuCode: 'sku-basic' },
    });
    const tenant = receiver.tenants().get(instanceId)!;
    expect(delivery.answer?.body).toEqual({
      appInfo: { frontEndUrl: tenant.appInfo.frontEndUrl, userName: PERSONAL_MARKER, password: SECRET_MARKER, memo: tenant.appInfo.memo },
    });
    const text = JSON.stringify([query, delivery]);
    for (const secret of [email, mobile, 'Wang Wu', credentials.sk, webhookSecret, tenant.appInfo.password!])
      expect(text).not.toContain(secret);
  });

  it('keeps a failed delivery with its status and reason, and never fails the flow when the log cannot be written', async () => {
    const published: LifecycleEvent[] = [];
    const instanceId = uniqueId('biz');
    const orderId = uniqueId('CS');
    await produceAsync(
      { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: instanceId, testFlag: '1' },
      published,
    );
    receiver.failNext(1, 503);
    const deps = configured();
    expect(await handleLifecycleEvent(published[0]!, deps).catch((error: Error) => error.name)).toBe('RetryLater');
    const key = await sellerKey('messages:read');
    const answer = await seller('GET', '/seller/messages', { key, query: { instanceId, channel: 'webhook' } });
    expect((answer.json.items as Record<string, unknown>[])[0]).toMatchObject({ resultCode: '503', httpStatus: 503, test: true });

    // A message log that cannot be written: the worker provisions all the same, and warns.
    const warnings: string[] = [];
    const broken = workerDeps(
      parseConfig({
        ...process.env,
        AUDIT_TABLE: 'no-such-table',
        PROVISIONING_MODE: 'webhook',
        ORDER_QUERY: 'false',
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: webhookSecret,
        WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true',
      }),
      { ...quiet, warn: (message: string) => void warnings.push(message) },
    );
    expect(await handleLifecycleEvent(published[0]!, broken)).toBe('provisioned');
    expect(warnings).toContain('message log write failed');
  });
});
