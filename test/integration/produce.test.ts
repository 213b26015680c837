import { createHmac } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { handleProduceCall } from '#lib/instances/produceCall.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import { keys } from '#lib/store/keys.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { auditRecord, call, env, invokeRaw, produceDeps, store, uniqueId } from '../helpers/produce.ts';
import { signedQuery, TEST_KEY } from '../helpers/signing.ts';

/** The production interface end to end: the real handler, DynamoDB Local, fauxqs. */

async function newInstance(extra: Record<string, string> = {}) {
  const orderId = uniqueId('CS');
  const body = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: uniqueId('biz'), testFlag: '0', ...extra };
  const response = await call(body);
  return { body, response, instanceId: response.json.instanceId as string };
}

const renewal = (instanceId: string, orderId: string, expireTime = '20300101000000') => ({
  activity: 'refreshInstance',
  scene: 'RENEWAL',
  orderId,
  orderLineId: `${orderId}-000001`,
  instanceId,
  expireTime,
});

describe('answers', () => {
  it('are HTTP 200 JSON with a Body-Sign header over the exact bytes sent', async () => {
    const { response } = await newInstance();
    expect(response.status).toBe(200);
    expect(response.headers['Content-Type']).toBe('application/json;charset=UTF-8');
    const expected = createHmac('sha256', TEST_KEY).update(response.raw, 'utf8').digest('base64');
    expect(response.headers['Body-Sign']).toBe(`sign_type="HMAC-SHA256", signature= "${expected}"`);
  });

  const malformed: Array<[string, string]> = [
    ['an empty body', ''],
    ['malformed JSON', '{"activity":'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"newInstance"'],
    ['a body over 64 KB', JSON.stringify({ activity: 'queryInstance', instanceId: 'x', pad: 'y'.repeat(70_000) })],
  ];
  for (const [name, raw] of malformed) {
    it(`answer ${name} with 000002 and write only the message log`, async () => {
      const response = await invokeRaw(raw, signedQuery({}));
      expect(response.status).toBe(200);
      expect(response.json.resultCode).toBe('000002');
      expect(response.headers['Body-Sign']).toBeDefined();
      expect(await auditRecord(response.correlationId)).toMatchObject({ resultCode: '000002' });
    });
  }

  it('answer an unknown activity and a missing field with 000002', async () => {
    expect((await call({ activity: 'deleteEverything' })).json.resultCode).toBe('000002');
    const missing = await call({ activity: 'newInstance', orderId: 'o' });
    expect(missing.json).toMatchObject({ resultCode: '000002' });
    expect(missing.json.resultMsg).toMatch(/orderLineId is required/);
  });

  it('answer an internal failure with a generic 000005', async () => {
    // A table that does not exist makes every DynamoDB call fail.
    const errors: string[] = [];
    const body = { activity: 'queryInstance', instanceId: 'x' };
    const result = await handleProduceCall(
      { version: 'v2', rawBody: JSON.stringify(body), query: signedQuery(body), correlationId: 'c-1' },
      produceDeps({
        store: instanceStore(dynamoClient(), { main: 'no-such-table', audit: 'no-such-table' }),
        log: { info: () => {}, warn: () => {}, error: (m) => errors.push(m) },
      }),
    );
    expect(result.answer).toEqual({ resultCode: '000005', resultMsg: 'other inner error' });
    expect(errors).toContain('marketplace call failed');
  });
});

describe('authentication (spec §7.2)', () => {
  it('refuses a bad signature with 000001 and changes nothing', async () => {
    const orderId = uniqueId('CS');
    const body = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: uniqueId('biz') };
    const response = await call(body, { key: 'not-the-key' });
    expect(response.json.resultCode).toBe('000001');
    expect(await store().getOrderLineInstanceId(orderId, `${orderId}-000001`)).toBeUndefined();
    const record = await auditRecord(response.correlationId);
    expect(record).toMatchObject({ resultCode: '000001', reason: 'signature does not match', claimedActivity: 'newInstance' });
    expect(record).not.toHaveProperty('activity');
  });

  it('refuses a body with a __proto__ member appended after signing with 000001 and changes nothing', async () => {
    const orderId = uniqueId('CS');
    const body = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: uniqueId('biz') };
    const appended = `${JSON.stringify(body).slice(0, -1)},"__proto__":{"testFlag":"1"}}`;
    const response = await invokeRaw(appended, signedQuery(body));
    expect(response.json.resultCode).toBe('000001');
    expect(await store().getOrderLineInstanceId(orderId, `${orderId}-000001`)).toBeUndefined();
    expect(await auditRecord(response.correlationId)).toMatchObject({ resultCode: '000001', reason: 'signature does not match' });
  });

  it('accepts a body with a control character and a 1.0 signed the Jackson way (spec §7.2.3)', async () => {
    const orderId = uniqueId('CS');
    const businessId = uniqueId('biz');
    const raw = `{"activity":"newInstance","orderId":"${orderId}","orderLineId":"${orderId}-000001","businessId":"${businessId}","remark":"a\\u001fb","quantity":1.0}`;
    const jackson = `{"activity":"newInstance","businessId":"${businessId}","orderId":"${orderId}","orderLineId":"${orderId}-000001","quantity":"1.0","remark":"a\\u001Fb"}`;
    const nonce = uniqueId('n');
    const timestamp = String(Date.now());
    const hmac = (message: string) => createHmac('sha256', TEST_KEY).update(message, 'utf8').digest('hex');
    const signature = hmac(`${TEST_KEY}${nonce}${timestamp}${hmac(jackson)}`).toUpperCase();
    const response = await invokeRaw(raw, { signature, timestamp, nonce });
    expect(response.json).toMatchObject({ resultCode: '000000', instanceId: businessId });
    expect(await store().getOrderLineInstanceId(orderId, `${orderId}-000001`)).toBe(businessId);
    expect(await auditRecord(response.correlationId)).toMatchObject({ resultCode: '000000', signatureForm: 'jackson' });
  });

  it('refuses a replayed nonce with 000001', async () => {
    const body = { activity: 'queryInstance', instanceId: uniqueId('none') };
    const query = signedQuery(body);
    const first = await invokeRaw(JSON.stringify(body), query);
    expect(first.json.resultCode).toBe('000003');
    const replay = await invokeRaw(JSON.stringify(body), query);
    expect(replay.json.resultCode).toBe('000001');
    expect(await auditRecord(replay.correlationId)).toMatchObject({ resultCode: '000001', reason: 'replayed nonce' });
  });

  it('refuses a replayed state change without applying it twice', async () => {
    const { instanceId } = await newInstance();
    const body = { activity: 'updateInstanceStatus', instanceId, status: 'FREEZE' };
    const query = signedQuery(body);
    expect((await invokeRaw(JSON.stringify(body), query)).json.resultCode).toBe('000000');
    expect((await invokeRaw(JSON.stringify(body), query)).json.resultCode).toBe('000001');
    expect((await store().getHistory(instanceId)).map((h) => h.to)).toEqual(['ACTIVE', 'FROZEN']);
  });

  it('refuses a stale timestamp with 000002 and missing parts as the demo does', async () => {
    const body = { activity: 'queryInstance', instanceId: 'x' };
    expect((await call(body, { nowMs: Date.now() - 120_000 })).json.resultCode).toBe('000002');
    const q = signedQuery(body);
    expect((await invokeRaw(JSON.stringify(body), { ...q, signature: undefined })).json.resultCode).toBe('000001');
    expect((await invokeRaw(JSON.stringify(body), { ...q, nonce: undefined })).json.resultCode).toBe('000002');
    expect((await invokeRaw(JSON.stringify(body), { ...q, timestamp: undefined })).json.resultCode).toBe('000002');
  });

  it('logs no key, signature or nonce, for accepted and refused calls', async () => {
    const lines: unknown[] = [];
    const recording = {
      info: (m: string, e?: object) => lines.push([m, e]),
      warn: (m: string, e?: object) => lines.push([m, e]),
      error: (m: string, e?: object) => lines.push([m, e]),
    };
    const orderId = uniqueId('CS');
    const body = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: uniqueId('biz') };
    const queries = [signedQuery(body), signedQuery(body, { key: 'wrong-key' })];
    for (const query of queries) {
      await handleProduceCall(
        { version: 'v2', rawBody: JSON.stringify(body), query, correlationId: uniqueId('c') },
        produceDeps({ log: recording }),
      );
    }
    const text = JSON.stringify(lines);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(text).toContain('000001');
    for (const secret of [TEST_KEY, ...queries.flatMap((q) => [q.signature, q.signature.toLowerCase(), q.nonce])])
      expect(text).not.toContain(secret);
  });

  it('keeps no signature, key or body in the message log', async () => {
    const { response, body } = await newInstance();
    const record = await auditRecord(response.correlationId);
    expect(record).toMatchObject({
      activity: 'newInstance',
      orderId: body.orderId,
      instanceId: response.json.instanceId,
      resultCode: '000000',
      signatureForm: 'top-level-sorted',
    });
    expect(record?.bodySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof record?.latencyMs).toBe('number');
    const text = JSON.stringify(record);
    expect(text).not.toContain(TEST_KEY);
    expect(text).not.toMatch(/signature"/i);
  });
});

describe('newInstance (spec §3.1)', () => {
  it('creates an ACTIVE instance named after the first businessId, with template appInfo and history', async () => {
    const { body, response, instanceId } = await newInstance();
    expect(response.json).toEqual({ resultCode: '000000', resultMsg: 'success.', instanceId: body.businessId });
    const instance = await store().getInstance(instanceId);
    expect(instance).toMatchObject({ state: 'ACTIVE', orderId: body.orderId, test: false, version: 1 });
    expect(instance?.appInfo?.frontEndUrl).toContain(instanceId);
    expect(await store().getHistory(instanceId)).toMatchObject([
      { version: 1, activity: 'newInstance', to: 'ACTIVE', orderId: body.orderId },
    ]);
  });

  it('answers a retry (new businessId, new nonce) with the same instanceId and creates nothing', async () => {
    const { body, instanceId } = await newInstance();
    const retryBusinessId = uniqueId('biz');
    const retry = await call({ ...body, businessId: retryBusinessId });
    expect(retry.json).toMatchObject({ resultCode: '000000', instanceId });
    expect(await store().getInstance(retryBusinessId)).toBeUndefined();
    expect(await store().getHistory(instanceId)).toHaveLength(1);
  });

  it('creates exactly one instance for 50 concurrent duplicates', async () => {
    const orderId = uniqueId('CS');
    const businessIds = Array.from({ length: 50 }, () => uniqueId('biz'));
    const responses = await Promise.all(
      businessIds.map((businessId) => call({ activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId })),
    );
    const ids = new Set(responses.map((r) => r.json.instanceId));
    expect(responses.map((r) => r.json.resultCode)).toEqual(Array(50).fill('000000'));
    expect(ids.size).toBe(1);
    const [instanceId] = [...ids] as string[];
    expect(businessIds).toContain(instanceId);
    const existing = await store().getInstances(businessIds);
    expect([...existing.keys()]).toEqual([instanceId]);
    expect(await store().getHistory(instanceId!)).toHaveLength(1);
  });

  it('writes the lifecycle event to the outbox in the same transaction', async () => {
    const { instanceId } = await newInstance();
    const instance = await store().getInstance(instanceId);
    const outboxItem = await dynamoClient().send('GetItem', {
      TableName: env('MAIN_TABLE'),
      Key: marshall(keys.outbox(instance!.createdAt, `${instanceId}:1`)),
      ConsistentRead: true,
    });
    // Either still pending or already handled by a consumer; when present it is the created event.
    if (outboxItem.Item)
      expect(JSON.parse(outboxItem.Item.message!.S!)).toMatchObject({ type: 'instance.created', instanceId, version: 1 });
  });
});

describe('queryInstance (spec §3.2)', () => {
  it('returns appInfo for each known id, in the order asked', async () => {
    const a = await newInstance();
    const b = await newInstance();
    const response = await call({ activity: 'queryInstance', instanceId: `${b.instanceId},${a.instanceId}` });
    expect(response.json.resultCode).toBe('000000');
    const info = response.json.info as Array<{ instanceId: string; appInfo: { frontEndUrl: string } }>;
    expect(info.map((i) => i.instanceId)).toEqual([b.instanceId, a.instanceId]);
    expect(info[0]?.appInfo.frontEndUrl).toContain(b.instanceId);
  });

  it('answers 000003 when no id is known and leaves unknown ids out otherwise', async () => {
    expect((await call({ activity: 'queryInstance', instanceId: uniqueId('none') })).json.resultCode).toBe('000003');
    const a = await newInstance();
    const mixed = await call({ activity: 'queryInstance', instanceId: `${uniqueId('none')},${a.instanceId}` });
    expect(mixed.json).toMatchObject({ resultCode: '000000', info: [{ instanceId: a.instanceId }] });
  });

  it('answers more than 100 ids, or none, with 000002', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `id${i}`).join(',');
    expect((await call({ activity: 'queryInstance', instanceId: many })).json.resultCode).toBe('000002');
    expect((await call({ activity: 'queryInstance', instanceId: '' })).json.resultCode).toBe('000002');
    const hundred = Array.from({ length: 100 }, (_, i) => `id${i}`).join(',');
    expect((await call({ activity: 'queryInstance', instanceId: hundred })).json.resultCode).toBe('000003');
  });
});

describe('lifecycle (spec §3.3–3.7)', () => {
  it('renews once per order, even when the renewal is replayed after a later one', async () => {
    const { instanceId } = await newInstance();
    const first = uniqueId('CS');
    const second = uniqueId('CS');
    expect((await call(renewal(instanceId, first, '20300101000000'))).json.resultCode).toBe('000000');
    expect((await call(renewal(instanceId, second, '20310101000000'))).json.resultCode).toBe('000000');
    expect((await call(renewal(instanceId, first, '20300101000000'))).json.resultCode).toBe('000000');
    const instance = await store().getInstance(instanceId);
    expect(instance).toMatchObject({ expireTime: '20310101000000', version: 3 });
    expect((await store().getHistory(instanceId)).map((h) => h.orderId)).toHaveLength(3);
  });

  it('applies an unknown scene and a new productId', async () => {
    const { instanceId } = await newInstance();
    const body = { ...renewal(instanceId, uniqueId('CS')), scene: 'RENEWAL_CHANGE', productId: 'OFFI-NEW' };
    expect((await call(body)).json.resultCode).toBe('000000');
    expect(await store().getInstance(instanceId)).toMatchObject({ productId: 'OFFI-NEW', expireTime: '20300101000000' });
  });

  it('freezes and unfreezes idempotently', async () => {
    const { instanceId } = await newInstance();
    const status = (s: string) => call({ activity: 'updateInstanceStatus', instanceId, status: s });
    for (const s of ['FREEZE', 'FREEZE', 'UNFREEZE', 'UNFREEZE', 'FREEZE']) expect((await status(s)).json.resultCode).toBe('000000');
    expect((await store().getHistory(instanceId)).map((h) => h.to)).toEqual(['ACTIVE', 'FROZEN', 'ACTIVE', 'FROZEN']);
  });

  it('never moves a released instance: late freeze, renewal and upgrade answer success and change nothing', async () => {
    const { instanceId } = await newInstance();
    expect((await call({ activity: 'releaseInstance', instanceId, orderId: uniqueId('CS') })).json.resultCode).toBe('000000');
    const released = await store().getInstance(instanceId);
    expect(released?.state).toBe('RELEASED');
    for (const late of [
      { activity: 'updateInstanceStatus', instanceId, status: 'FREEZE' },
      { activity: 'updateInstanceStatus', instanceId, status: 'UNFREEZE' },
      renewal(instanceId, uniqueId('CS')),
      { activity: 'upgradeInstance', instanceId, orderId: uniqueId('CS'), orderLineId: 'l' },
      { activity: 'releaseInstance', instanceId },
    ]) {
      expect((await call(late)).json.resultCode).toBe('000000');
    }
    expect(await store().getInstance(instanceId)).toEqual(released);
  });

  it('answers 000003 for changes to an unknown instance', async () => {
    const ghost = uniqueId('ghost');
    for (const body of [
      renewal(ghost, uniqueId('CS')),
      { activity: 'updateInstanceStatus', instanceId: ghost, status: 'FREEZE' },
      { activity: 'releaseInstance', instanceId: ghost },
      { activity: 'upgradeInstance', instanceId: ghost, orderId: 'o', orderLineId: 'l' },
      { activity: 'changeInstanceCheck', instanceId: ghost, productInfo: { productId: 'p' } },
    ]) {
      expect((await call(body)).json.resultCode, body.activity).toBe('000003');
    }
  });

  it('upgrades once per upgrade order', async () => {
    const { instanceId } = await newInstance();
    const body = { activity: 'upgradeInstance', instanceId, orderId: uniqueId('CS'), orderLineId: 'l-1' };
    expect((await call(body)).json.resultCode).toBe('000000');
    expect((await call(body)).json.resultCode).toBe('000000');
    const history = await store().getHistory(instanceId);
    expect(history.filter((h) => h.activity === 'upgradeInstance')).toHaveLength(1);
  });

  it('checks a change on renewal, with a nested productInfo signed either way', async () => {
    const { instanceId } = await newInstance();
    const body = { activity: 'changeInstanceCheck', instanceId, productInfo: { skuCode: 'sku-2', productId: 'OFFI-2' } };
    expect((await call(body)).json.resultCode).toBe('000000');
    const deepSorted = `{"activity":"changeInstanceCheck","instanceId":"${instanceId}","productInfo":{"productId":"OFFI-2","skuCode":"sku-2"}}`;
    const response = await call(body, { payload: deepSorted });
    expect(response.json.resultCode).toBe('000000');
    expect(await auditRecord(response.correlationId)).toMatchObject({ signatureForm: 'deep-sorted' });
    expect((await call({ ...body, productInfo: JSON.stringify(body.productInfo) })).json.resultCode).toBe('000000');
  });

  it('keeps history consistent under a storm of interleaved lifecycle calls', async () => {
    const { instanceId } = await newInstance();
    const bodies = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0
        ? { activity: 'updateInstanceStatus', instanceId, status: 'FREEZE' }
        : i % 3 === 1
          ? { activity: 'updateInstanceStatus', instanceId, status: 'UNFREEZE' }
          : renewal(instanceId, `CS-STORM-${instanceId}-${i % 4}`),
    );
    const responses = await Promise.all(bodies.map((b) => call(b)));
    expect(responses.map((r) => r.json.resultCode)).toEqual(Array(30).fill('000000'));
    const history = await store().getHistory(instanceId);
    const instance = await store().getInstance(instanceId);
    expect(history.map((h) => h.version)).toEqual(history.map((_, i) => i + 1));
    expect(instance?.version).toBe(history.length);
    for (let i = 1; i < history.length; i++) expect(history[i]?.from).toBe(history[i - 1]?.to);
    // Two distinct renewal orders (i % 4 over even steps), each applied exactly once.
    expect(history.filter((h) => h.activity === 'refreshInstance')).toHaveLength(
      new Set(bodies.filter((b) => b.activity === 'refreshInstance').map((b) => (b as { orderId: string }).orderId)).size,
    );
  });
});

describe('debug traffic (testFlag=1)', () => {
  it('is processed fully, marked test and set to expire in 7 days', async () => {
    const { instanceId } = await newInstance({ testFlag: '1' });
    const instance = await store().getInstance(instanceId);
    expect(instance?.test).toBe(true);
    const item = await dynamoClient().send('GetItem', {
      TableName: env('MAIN_TABLE'),
      Key: marshall(keys.instance(instanceId)),
      ConsistentRead: true,
    });
    const expiresAt = Number(item.Item?.expiresAt?.N);
    expect(expiresAt).toBeGreaterThan(Date.now() / 1000 + 7 * 86400 - 120);
    expect(expiresAt).toBeLessThan(Date.now() / 1000 + 7 * 86400 + 120);
    const query = await call({ activity: 'queryInstance', instanceId, testFlag: '1' });
    expect(query.json).toMatchObject({ resultCode: '000000', info: [{ instanceId }] });
    expect((await call({ activity: 'updateInstanceStatus', instanceId, status: 'FREEZE', testFlag: '1' })).json.resultCode).toBe('000000');
  });

  it('never changes a real instance', async () => {
    const { instanceId } = await newInstance();
    const response = await call({ activity: 'updateInstanceStatus', instanceId, status: 'FREEZE', testFlag: '1' });
    expect(response.json.resultCode).toBe('000003');
    expect((await store().getInstance(instanceId))?.state).toBe('ACTIVE');
  });
});
