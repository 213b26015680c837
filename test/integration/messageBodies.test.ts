import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_KEPT_CHARS, PERSONAL_MARKER, SECRET_MARKER } from '#lib/audit/redact.ts';
import { handleProduceCall } from '#lib/instances/produceCall.ts';
import { encryptV1Field } from '#lib/koogallery/fieldCrypto.ts';
import { signV1Request } from '#lib/koogallery/v1Auth.ts';
import { auditRecord, call, invokeRaw, produceDeps, uniqueId } from '../helpers/produce.ts';
import { seller, sellerKey } from '../helpers/seller.ts';
import { signedQuery, TEST_KEY } from '../helpers/signing.ts';

/**
 * The message log keeps each marketplace call's request and answer, redacted: through the real produce handler
 * (V2) or handleProduceCall (V1) against DynamoDB Local, read back through GET /seller/messages/{messageId}.
 */

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
