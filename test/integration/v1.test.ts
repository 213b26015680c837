import { randomUUID } from 'node:crypto';
import { type AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/produce.ts';
import type { AppInfo } from '#lib/instances/model.ts';
import { handleProduceCall, type ProduceDeps } from '#lib/instances/produceCall.ts';
import { provisioned } from '#lib/instances/stateMachine.ts';
import { decryptV1Field, encryptV1Field, type EncryptType } from '#lib/koogallery/fieldCrypto.ts';
import { bodySignHeader } from '#lib/koogallery/signature.ts';
import { javaUrlEncode, signV1Request } from '#lib/koogallery/v1Auth.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { keys } from '#lib/store/keys.ts';
import {
  auditRecord,
  call,
  env,
  httpEvent,
  invokeEvent,
  lambdaContext,
  produceDeps,
  store,
  uniqueId,
  type ProduceResponse,
} from '../helpers/produce.ts';
import { TEST_KEY } from '../helpers/signing.ts';

/**
 * The legacy V1 interface (spec §6, §7.4–§7.6) end to end: GET events through the real produce handler (and
 * handleProduceCall where a setting must differ), DynamoDB Local.
 *
 * BODY_SIGN is off in this file: V1 answers must carry Body-Sign anyway (spec §7.4), V2 answers then carry none.
 * It is set before lib/config.ts parses the environment (on the handler's first call; each test file runs in its
 * own worker).
 */
vi.hoisted(() => {
  process.env.BODY_SIGN = 'false';
});

// ── helpers ───────────────────────────────────────────────────────────────────────────────────────────────────────

/** An HTTP API GET event as API Gateway gives it: the raw query string, no body. */
function v1Event(rawQueryString: string): APIGatewayProxyEventV2 {
  const base = httpEvent('', {});
  let decoded: Record<string, string> | undefined;
  try {
    decoded = Object.fromEntries(new URLSearchParams(rawQueryString));
  } catch {
    decoded = undefined;
  }
  const { body: _body, ...withoutBody } = base;
  return {
    ...withoutBody,
    routeKey: 'GET /koogallery/produce',
    rawQueryString,
    headers: { accept: '*/*' },
    queryStringParameters: decoded,
    requestContext: { ...base.requestContext, routeKey: 'GET /koogallery/produce', http: { ...base.requestContext.http, method: 'GET' } },
    isBase64Encoded: false,
  };
}

/** Sends a raw V1 query string to the real handler. */
const invokeV1 = (rawQuery: string): Promise<ProduceResponse> => invokeEvent(v1Event(rawQuery));

/** A distinct millisecond per call, so identical parameters still make a fresh timeStamp (and authToken). */
let lastMs = 0;
const freshMs = () => (lastMs = Math.max(Date.now(), lastMs + 1));

/** The query string the marketplace would send for these parameters (Java URLEncoder, timeStamp + authToken). */
const signedV1 = (params: Record<string, string>, nowMs = freshMs(), key = TEST_KEY) => signV1Request(key, params, nowMs).query;

/** Signs and sends V1 parameters, and checks the answer is HTTP 200 JSON with a valid Body-Sign. */
async function v1(params: Record<string, string>, nowMs?: number): Promise<ProduceResponse> {
  const response = await invokeV1(signedV1(params, nowMs));
  expectSignedV1(response);
  return response;
}

function expectSignedV1(response: ProduceResponse): void {
  expect(response.status).toBe(200);
  expect(response.headers['Content-Type']).toBe('application/json;charset=UTF-8');
  expect(response.headers['Body-Sign']).toBe(bodySignHeader(TEST_KEY, response.raw));
}

/** handleProduceCall with a V1 query, for settings the handler's environment does not have. */
async function v1Direct(params: Record<string, string>, deps: ProduceDeps) {
  const correlationId = randomUUID();
  const result = await handleProduceCall({ version: 'v1', rawQuery: signedV1(params), correlationId }, deps);
  return { json: result.answer as Record<string, unknown>, correlationId };
}

/** Every item under a partition key of the main table, for "nothing changed" checks. */
async function itemsUnder(pk: string): Promise<Record<string, unknown>[]> {
  const out = await dynamoClient().send('Query', {
    TableName: env('MAIN_TABLE'),
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: marshall({ ':pk': pk }),
    ConsistentRead: true,
  });
  return (out.Items ?? []).map((item) => unmarshall(item));
}

const instanceItems = (instanceId: string) => itemsUnder(keys.instance(instanceId).pk);
const orderLineItems = (orderId: string, orderLineId = `${orderId}-000001`) => itemsUnder(keys.orderLine(orderId, orderLineId).pk);

/** Everything stored for an order line and the instance it would have: both partitions. */
const footprint = async (orderId: string, instanceId: string) => ({
  orderLine: await orderLineItems(orderId),
  instance: await instanceItems(instanceId),
});

/** Every item of a table whose JSON contains one of `needles`. */
async function itemsContaining(table: string, needles: string[]): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await dynamoClient().send('Scan', { TableName: table, ExclusiveStartKey: start });
    for (const item of out.Items ?? []) {
      const value = unmarshall(item);
      const text = JSON.stringify(value);
      if (needles.some((n) => text.includes(n))) found.push(value);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return found;
}

function newInstanceParams(extra: Record<string, string> = {}) {
  const orderId = uniqueId('CS');
  const businessId = uniqueId('biz');
  return {
    orderId,
    businessId,
    params: { activity: 'newInstance', orderId, businessId, customerId: 'cust-1', productId: 'P-1', testFlag: '0', ...extra },
  };
}

/** A V1 newInstance through the handler; the instance is ACTIVE (template provisioning in the test env). */
async function created(extra: Record<string, string> = {}) {
  const made = newInstanceParams(extra);
  const response = await v1(made.params);
  expect(response.json.resultCode).toBe('000000');
  return { ...made, instanceId: response.json.instanceId as string };
}

const history = (instanceId: string) => store().getHistory(instanceId);
const instance = async (instanceId: string) => (await store().getInstance(instanceId))!;

// ── newInstance ───────────────────────────────────────────────────────────────────────────────────────────────────

describe('V1 newInstance', () => {
  it('answers 000000 with instanceId, encryptType "1" and appInfo, signed over the exact body although BODY_SIGN is off', async () => {
    // Prepare
    const { orderId, businessId, params } = newInstanceParams();

    // Act
    const response = await v1(params);
    const v2 = await call({ activity: 'queryInstance', instanceId: businessId });

    // Assess
    expect(response.json).toEqual({
      resultCode: '000000',
      resultMsg: 'success.',
      instanceId: businessId,
      appInfo: { frontEndUrl: `https://app.example.com/t/${businessId}` },
      encryptType: '1',
    });
    // The same process answers V2 unsigned: BODY_SIGN is really off, V1 is signed regardless.
    expect(v2.json.resultCode).toBe('000000');
    expect(v2.headers['Body-Sign']).toBeUndefined();
    expect(await instance(businessId)).toMatchObject({
      state: 'ACTIVE',
      orderId,
      orderLineId: `${orderId}-000001`,
      businessId,
      test: false,
    });
    expect(await auditRecord(response.correlationId)).toMatchObject({
      channel: 'produceV1',
      activity: 'newInstance',
      resultCode: '000000',
      orderId,
      orderLineId: `${orderId}-000001`,
      instanceId: businessId,
      signatureForm: 'v1-form',
    });
  });

  const encryptTypes: EncryptType[] = ['1', '2'];
  for (const encryptType of encryptTypes) {
    it(`encrypts appInfo.userName (encryptType "${encryptType}") so that the marketplace decrypts the clear value`, async () => {
      // Prepare
      const deps = produceDeps({
        settings: {
          ...produceDeps().settings,
          v1EncryptType: encryptType,
          appInfo: { frontEndUrl: 'https://app.example.com/t/{instanceId}', userName: 'admin-{instanceId}' },
        },
      });
      const { businessId, params } = newInstanceParams();

      // Act
      const first = await v1Direct(params, deps);
      const again = await v1Direct(params, deps);

      // Assess
      const appInfo = first.json.appInfo as AppInfo;
      expect(first.json).toMatchObject({ resultCode: '000000', instanceId: businessId, encryptType });
      expect(appInfo.frontEndUrl).toBe(`https://app.example.com/t/${businessId}`);
      expect(appInfo.userName).not.toContain('admin-');
      expect(decryptV1Field(TEST_KEY, appInfo.userName!, encryptType)).toBe(`admin-${businessId}`);
      // A fresh IV each time, the same clear value.
      const again2 = (again.json.appInfo as AppInfo).userName!;
      expect(again2).not.toBe(appInfo.userName);
      expect(decryptV1Field(TEST_KEY, again2, encryptType)).toBe(`admin-${businessId}`);
      // Another key cannot read it.
      expect(decryptV1Field('another-key', appInfo.userName!, encryptType)).not.toBe(`admin-${businessId}`);
      // Stored once, in clear (the answer's encryption is per call).
      expect((await instance(businessId)).appInfo).toEqual({
        frontEndUrl: `https://app.example.com/t/${businessId}`,
        userName: `admin-${businessId}`,
      });
    });
  }

  it('meets a V2 newInstance for the same order on one instance (V1 first)', async () => {
    // Prepare
    const { orderId, businessId, params } = newInstanceParams();

    // Act
    const fromV1 = await v1(params);
    const fromV2 = await call({ activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: uniqueId('biz-v2') });

    // Assess
    expect(fromV1.json.instanceId).toBe(businessId);
    expect(fromV2.json).toMatchObject({ resultCode: '000000', instanceId: businessId });
    expect(await history(businessId)).toHaveLength(1);
    expect((await orderLineItems(orderId)).map((i) => i.instanceId)).toEqual([businessId]);
  });

  it('meets a V2 newInstance for the same order on one instance (V2 first)', async () => {
    const orderId = uniqueId('CS');
    const v2Business = uniqueId('biz-v2');
    const v1Business = uniqueId('biz-v1');

    const fromV2 = await call({ activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: v2Business });
    const fromV1 = await v1({ activity: 'newInstance', orderId, businessId: v1Business });

    expect(fromV2.json.instanceId).toBe(v2Business);
    expect(fromV1.json).toMatchObject({
      resultCode: '000000',
      instanceId: v2Business,
      encryptType: '1',
      appInfo: { frontEndUrl: `https://app.example.com/t/${v2Business}` },
    });
    expect(await history(v2Business)).toHaveLength(1);
    expect(await instanceItems(v1Business)).toEqual([]);
  });

  it('answers repeated calls (a fresh timeStamp each) with the same instance and changes nothing', async () => {
    const { orderId, businessId, params } = await created();
    const before = await footprint(orderId, businessId);

    const repeats = [await v1(params), await v1(params), await v1({ ...params, businessId: uniqueId('biz-other') })];

    for (const r of repeats)
      expect(r.json).toMatchObject({
        resultCode: '000000',
        instanceId: businessId,
        appInfo: { frontEndUrl: `https://app.example.com/t/${businessId}` },
      });
    expect(await footprint(orderId, businessId)).toEqual(before);
  });

  it('never keeps the buyer’s contact: mobile, email and names are stored nowhere', async () => {
    // Prepare: unique values, the phone and email encrypted as the marketplace sends them (spec §7.6)
    const mobile = `139${String(Date.now()).slice(-8)}`;
    const email = `${uniqueId('buyer')}@example.com`;
    const customerName = uniqueId('Customer Name');
    const userName = uniqueId('buyer-user');
    const encryptedMobile = encryptV1Field(TEST_KEY, mobile, '1');
    const encryptedEmail = encryptV1Field(TEST_KEY, email, '1');
    const contact = { mobilePhone: encryptedMobile, email: encryptedEmail, customerName, userName };
    const { businessId, params } = newInstanceParams(contact);
    const logged: unknown[] = [];
    const recording = {
      info: (m: string, e?: object) => logged.push([m, e]),
      warn: (m: string, e?: object) => logged.push([m, e]),
      error: (m: string, e?: object) => logged.push([m, e]),
    };
    const other = newInstanceParams(contact);

    // Act: through the handler, and through handleProduceCall with a recording log
    const response = await v1(params);
    const direct = await v1Direct(other.params, produceDeps({ log: recording }));

    // Assess
    expect(response.json.resultCode).toBe('000000');
    expect(direct.json.resultCode).toBe('000000');
    const needles = [mobile, email, encryptedMobile, encryptedEmail, customerName, userName];
    expect(await itemsContaining(env('MAIN_TABLE'), needles)).toEqual([]);
    expect(await itemsContaining(env('AUDIT_TABLE'), needles)).toEqual([]);
    expect(logged.length).toBeGreaterThan(0);
    const logText = JSON.stringify(logged);
    for (const n of needles) expect(logText).not.toContain(n);
    // The instance and the message log exist; they simply hold none of it.
    expect(await instanceItems(businessId)).not.toEqual([]);
    expect(await auditRecord(response.correlationId)).toMatchObject({ resultCode: '000000', instanceId: businessId });
  });
});

// ── asynchronous provisioning ─────────────────────────────────────────────────────────────────────────────────────

describe('V1 newInstance with asynchronous provisioning', () => {
  it('answers 000004 with the instanceId while PROVISIONING, then 000000 with the encrypted appInfo once ACTIVE', async () => {
    // Prepare
    const deps = produceDeps({ settings: { ...produceDeps().settings, provisioning: { async: true, inProgressAnswer: '000004' } } });
    const { orderId, businessId, params } = newInstanceParams();

    // Act 1: the first call and a marketplace retry while provisioning runs
    const first = await v1Direct(params, deps);
    const retry = await v1Direct(params, deps);

    // Assess 1
    for (const answer of [first.json, retry.json]) {
      expect(answer).toMatchObject({ resultCode: '000004', instanceId: businessId });
      expect(answer).not.toHaveProperty('appInfo');
      expect(answer).not.toHaveProperty('encryptType');
    }
    expect(await instance(businessId)).toMatchObject({ state: 'PROVISIONING', orderLineId: `${orderId}-000001` });
    expect(await auditRecord(first.correlationId)).toMatchObject({ resultCode: '000004', instanceId: businessId });

    // Act 2: provisioning finishes (as the worker writes it), then the marketplace asks again
    const waiting = await instance(businessId);
    const appInfo: AppInfo = { frontEndUrl: `https://app.example.com/t/${businessId}`, userName: 'buyer-admin', password: 'S3cret!pass' };
    const decision = provisioned(waiting, { appInfo }, new Date().toISOString());
    expect(decision.outcome).toBe('changed');
    if (decision.outcome !== 'changed') return;
    const commit = await store().commit(
      store().applyChange(waiting.version, decision.next, decision.entry, undefined, undefined, Math.floor(Date.now() / 1000), undefined),
    );
    expect(commit.ok).toBe(true);
    const done = await v1Direct(params, deps);

    // Assess 2
    expect(done.json).toMatchObject({
      resultCode: '000000',
      instanceId: businessId,
      encryptType: '1',
      appInfo: { frontEndUrl: appInfo.frontEndUrl },
    });
    const answered = done.json.appInfo as AppInfo;
    expect(answered.userName).not.toBe('buyer-admin');
    expect(answered.password).not.toBe('S3cret!pass');
    expect(decryptV1Field(TEST_KEY, answered.userName!, '1')).toBe('buyer-admin');
    expect(decryptV1Field(TEST_KEY, answered.password!, '1')).toBe('S3cret!pass');
    expect((await history(businessId)).map((h) => h.to)).toEqual(['PROVISIONING', 'ACTIVE']);
  });
});

// ── lifecycle ─────────────────────────────────────────────────────────────────────────────────────────────────────

describe('V1 lifecycle', () => {
  it('refreshInstance sets expireTime and productId once per renewal order', async () => {
    // Prepare
    const { instanceId } = await created();
    const renewalOrder = uniqueId('CS');
    const renewal = { activity: 'refreshInstance', instanceId, orderId: renewalOrder, productId: 'P-2', expireTime: '20310101000000' };

    // Act
    const first = await v1(renewal);
    const repeated = await v1(renewal);

    // Assess
    expect(first.json).toEqual({ resultCode: '000000', resultMsg: 'success.' });
    expect(repeated.json.resultCode).toBe('000000');
    expect(await instance(instanceId)).toMatchObject({ state: 'ACTIVE', expireTime: '20310101000000', productId: 'P-2', version: 2 });
    const entries = await history(instanceId);
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({
      activity: 'refreshInstance',
      scene: 'RENEWAL',
      orderId: renewalOrder,
      orderLineId: `${renewalOrder}-000001`,
      changes: { expireTime: '20310101000000', productId: 'P-2' },
    });
  });

  it('refreshInstance of a trial order (trialFlag=1) is recorded as TRIAL_TO_FORMAL', async () => {
    const { instanceId } = await created({ trialFlag: '1' });
    const order = uniqueId('CS');

    expect(
      (await v1({ activity: 'refreshInstance', instanceId, orderId: order, expireTime: '20310101000000', trialFlag: '1' })).json.resultCode,
    ).toBe('000000');

    expect((await history(instanceId))[1]).toMatchObject({ scene: 'TRIAL_TO_FORMAL', orderId: order });
  });

  it('expireInstance freezes; instanceStatus NORMAL unfreezes and FREEZE freezes', async () => {
    const { instanceId } = await created();

    const expired = await v1({ activity: 'expireInstance', instanceId });
    expect(expired.json.resultCode).toBe('000000');
    expect(await instance(instanceId)).toMatchObject({ state: 'FROZEN' });
    const normal = await v1({ activity: 'instanceStatus', instanceId, instanceStatus: 'NORMAL' });
    expect(normal.json.resultCode).toBe('000000');
    expect(await instance(instanceId)).toMatchObject({ state: 'ACTIVE' });
    const frozen = await v1({ activity: 'instanceStatus', instanceId, instanceStatus: 'FREEZE' });
    expect(frozen.json.resultCode).toBe('000000');
    const expiredAgain = await v1({ activity: 'expireInstance', instanceId });
    expect(expiredAgain.json.resultCode).toBe('000000');

    expect(await instance(instanceId)).toMatchObject({ state: 'FROZEN', version: 4 });
    expect((await history(instanceId)).map((h) => `${h.activity}:${h.to}`)).toEqual([
      'newInstance:ACTIVE',
      'updateInstanceStatus:FROZEN',
      'updateInstanceStatus:ACTIVE',
      'updateInstanceStatus:FROZEN',
    ]);
  });

  it('upgrade applies once per upgrade order', async () => {
    const { instanceId } = await created();
    const upgradeOrder = uniqueId('CS');
    const upgrade = { activity: 'upgrade', instanceId, orderId: upgradeOrder, skuCode: 'sku-2', productId: 'P-2', amount: '2' };

    const answers = [await v1(upgrade), await v1(upgrade), await v1({ ...upgrade, orderId: uniqueId('CS') })];

    expect(answers.map((a) => a.json.resultCode)).toEqual(['000000', '000000', '000000']);
    const upgrades = (await history(instanceId)).filter((h) => h.event === 'instance.upgraded');
    expect(upgrades).toHaveLength(2);
    expect(upgrades[0]).toMatchObject({ activity: 'upgradeInstance', orderId: upgradeOrder, orderLineId: `${upgradeOrder}-000001` });
  });

  it('releaseInstance releases; later expiry, status, renewal and upgrade answer 000000 and change nothing', async () => {
    const { orderId, instanceId } = await created();

    const released = await v1({ activity: 'releaseInstance', instanceId });
    expect(released.json.resultCode).toBe('000000');
    expect(await instance(instanceId)).toMatchObject({ state: 'RELEASED' });
    const before = await footprint(orderId, instanceId);

    const late = [
      await v1({ activity: 'expireInstance', instanceId }),
      await v1({ activity: 'instanceStatus', instanceId, instanceStatus: 'NORMAL' }),
      await v1({ activity: 'refreshInstance', instanceId, orderId: uniqueId('CS'), expireTime: '20320101000000' }),
      await v1({ activity: 'upgrade', instanceId, orderId: uniqueId('CS') }),
      await v1({ activity: 'releaseInstance', instanceId }),
    ];

    expect(late.map((r) => r.json.resultCode)).toEqual(['000000', '000000', '000000', '000000', '000000']);
    expect(await footprint(orderId, instanceId)).toEqual(before);
  });

  it('queryInstance answers info[] with the appInfo', async () => {
    const { instanceId } = await created();

    const response = await v1({ activity: 'queryInstance', instanceId: `${instanceId},${uniqueId('unknown')}` });

    expect(response.json).toEqual({
      resultCode: '000000',
      resultMsg: 'success.',
      info: [{ instanceId, appInfo: { frontEndUrl: `https://app.example.com/t/${instanceId}` } }],
      encryptType: '1',
    });
  });

  it('queryInstance encrypts appInfo.userName and password in info[]', async () => {
    // Prepare: an instance whose appInfo has credentials
    const deps = produceDeps({ settings: { ...produceDeps().settings, provisioning: { async: true, inProgressAnswer: '000004' } } });
    const { businessId, params } = newInstanceParams();
    expect((await v1Direct(params, deps)).json.resultCode).toBe('000004');
    const waiting = await instance(businessId);
    const decision = provisioned(
      waiting,
      { appInfo: { frontEndUrl: 'https://app.example.com/x', userName: 'u-1', password: 'p-1' } },
      new Date().toISOString(),
    );
    if (decision.outcome !== 'changed') throw new Error('expected a change');
    expect(
      (await store().commit(store().applyChange(waiting.version, decision.next, decision.entry, undefined, undefined, 0, undefined))).ok,
    ).toBe(true);

    // Act
    const response = await v1({ activity: 'queryInstance', instanceId: businessId });

    // Assess
    expect(response.json).toMatchObject({ resultCode: '000000', encryptType: '1' });
    const [entry] = response.json.info as { instanceId: string; appInfo: AppInfo }[];
    expect(entry?.instanceId).toBe(businessId);
    expect(entry?.appInfo.frontEndUrl).toBe('https://app.example.com/x');
    expect(decryptV1Field(TEST_KEY, entry!.appInfo.userName!, '1')).toBe('u-1');
    expect(decryptV1Field(TEST_KEY, entry!.appInfo.password!, '1')).toBe('p-1');
  });
});

// ── `+` in the query string ──────────────────────────────────────────────────────────────────────────────────────

describe('V1 query encoding', () => {
  it('authenticates a token whose `+` was sent unencoded', async () => {
    // Prepare: a timeStamp whose authToken holds a `+`, sent raw (as a sender that does not encode it)
    const { businessId, params } = newInstanceParams();
    let signed: Record<string, string> | undefined;
    for (let i = 0; !signed; i++) {
      const candidate = signV1Request(TEST_KEY, params, freshMs()).params;
      if (candidate.authToken!.includes('+')) signed = candidate;
      if (i > 500) throw new Error('no token with a + found');
    }
    const { authToken, ...rest } = signed;
    const rawQuery = `${Object.entries(rest)
      .map(([k, v]) => `${k}=${javaUrlEncode(v)}`)
      .join('&')}&authToken=${authToken}`;
    expect(rawQuery).toContain('+');

    // Act
    const response = await invokeV1(rawQuery);

    // Assess
    expectSignedV1(response);
    expect(response.json).toMatchObject({ resultCode: '000000', instanceId: businessId });
    expect(await auditRecord(response.correlationId)).toMatchObject({ resultCode: '000000', signatureForm: 'v1-form' });
  });

  it('authenticates a value whose space was encoded as `+`', async () => {
    const { businessId, params } = newInstanceParams({ customerName: 'Zhang San Ltd' });
    const query = signedV1(params);
    expect(query).toContain('customerName=Zhang+San+Ltd');

    const response = await invokeV1(query);

    expectSignedV1(response);
    expect(response.json).toMatchObject({ resultCode: '000000', instanceId: businessId });
  });

  it('authenticates a value holding a literal `+` that the sender did not encode', async () => {
    // The token is over customerId `a+b`; the raw query carries it unencoded, so only the literal reading matches.
    const { businessId, params } = newInstanceParams({ customerId: 'a+b' });
    const signed = signV1Request(TEST_KEY, params, freshMs()).params;
    const rawQuery = Object.entries(signed)
      .map(([k, v]) => `${k}=${k === 'customerId' ? v : javaUrlEncode(v)}`)
      .join('&');

    const response = await invokeV1(rawQuery);

    expectSignedV1(response);
    expect(response.json).toMatchObject({ resultCode: '000000', instanceId: businessId });
    expect(await auditRecord(response.correlationId)).toMatchObject({ signatureForm: 'v1-literal' });
  });
});

// ── bad input ─────────────────────────────────────────────────────────────────────────────────────────────────────

describe('V1 bad input is answered with its code and changes nothing', () => {
  const refusals: Array<[string, (params: Record<string, string>) => string, string, RegExp]> = [
    ['a bad authToken', (p) => signedV1(p, freshMs(), 'not-the-key'), '000001', /authToken does not match/],
    ['a missing authToken', (p) => signedV1(p).replace(/&authToken=[^&]*/, ''), '000001', /authToken is missing/],
    ['a stale timeStamp', (p) => signedV1(p, Date.now() - 120_000), '000002', /outside the allowed window/],
    ['a timeStamp from the future', (p) => signedV1(p, Date.now() + 120_000), '000002', /outside the allowed window/],
    ['a malformed timeStamp', (p) => signedV1({ ...p, timeStamp: '2026-01-01T00:00:00Z' }), '000002', /timeStamp is malformed/],
    ['a missing timeStamp', (p) => signedV1(p).replace(/timeStamp=\d+&?/, ''), '000002', /timeStamp is required/],
    ['an unknown activity', (p) => signedV1({ ...p, activity: 'deleteEverything' }), '000002', /unknown activity/],
    ['a V2 activity name', (p) => signedV1({ ...p, activity: 'upgradeInstance' }), '000002', /unknown activity/],
    [
      'a missing businessId',
      (p) => signedV1(Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'businessId'))),
      '000002',
      /businessId is required/,
    ],
    ['a malformed percent-encoding', (p) => `${signedV1(p)}&customerName=%E0%A4%A`, '000002', /not correctly encoded/],
    ['a repeated parameter', (p) => `${signedV1(p)}&orderId=${uniqueId('CS')}`, '000002', /repeated/],
    ['a query over 8 KB', (p) => signedV1({ ...p, customerName: 'x'.repeat(8_200) }), '000002', /longer than 8192/],
  ];

  for (const [name, query, code, reason] of refusals) {
    it(`${name} → ${code}`, async () => {
      // Prepare
      const { orderId, businessId, params } = newInstanceParams();

      // Act
      const response = await invokeV1(query(params));

      // Assess
      expectSignedV1(response);
      expect(response.json.resultCode).toBe(code);
      expect(await footprint(orderId, businessId)).toEqual({ orderLine: [], instance: [] });
      const audit = await auditRecord(response.correlationId);
      expect(audit).toMatchObject({ channel: 'produceV1', resultCode: code });
      expect(`${String(response.json.resultMsg)} ${String(audit?.reason)}`).toMatch(reason);
      // The same parameters, properly signed, would have created the instance: the refusal is what stopped it.
      if (code === '000001' || /timeStamp|percent|repeated/.test(name)) {
        expect((await v1(params)).json).toMatchObject({ resultCode: '000000', instanceId: businessId });
      }
    });
  }

  it('the reason names the missing field', async () => {
    const { params } = newInstanceParams();
    const { businessId: _b, ...withoutBusiness } = params;
    const response = await v1(withoutBusiness);
    expect(response.json).toEqual({ resultCode: '000002', resultMsg: 'param is invalid: businessId is required' });
  });

  it('instanceStatus PAUSE → 000002 and the instance is unchanged', async () => {
    const { orderId, instanceId } = await created();
    const before = await footprint(orderId, instanceId);

    const response = await v1({ activity: 'instanceStatus', instanceId, instanceStatus: 'PAUSE' });

    expect(response.json).toEqual({ resultCode: '000002', resultMsg: 'param is invalid: instanceStatus must be FREEZE or NORMAL' });
    expect(await footprint(orderId, instanceId)).toEqual(before);
    expect(await auditRecord(response.correlationId)).toMatchObject({ resultCode: '000002', activity: 'instanceStatus' });
  });

  it('a replayed query (same authToken) → 000001 the second time, and changes nothing', async () => {
    const { orderId, businessId, params } = newInstanceParams();
    const query = signedV1(params);

    const first = await invokeV1(query);
    const afterFirst = await footprint(orderId, businessId);
    const replay = await invokeV1(query);

    expectSignedV1(replay);
    expect(first.json.resultCode).toBe('000000');
    expect(replay.json.resultCode).toBe('000001');
    expect(await footprint(orderId, businessId)).toEqual(afterFirst);
    expect(await auditRecord(replay.correlationId)).toMatchObject({ resultCode: '000001', reason: 'replayed nonce' });
  });

  it('a replayed state change is not applied twice', async () => {
    const { orderId, instanceId } = await created();
    const freeze = signedV1({ activity: 'expireInstance', instanceId });
    expect((await invokeV1(freeze)).json.resultCode).toBe('000000');
    expect((await v1({ activity: 'instanceStatus', instanceId, instanceStatus: 'NORMAL' })).json.resultCode).toBe('000000');
    const before = await footprint(orderId, instanceId);

    const replay = await invokeV1(freeze);

    expect(replay.json.resultCode).toBe('000001');
    expect(await instance(instanceId)).toMatchObject({ state: 'ACTIVE' });
    expect(await footprint(orderId, instanceId)).toEqual(before);
  });

  it('a call for an unknown instance → 000003', async () => {
    const unknown = uniqueId('none');
    const calls = [
      await v1({ activity: 'expireInstance', instanceId: unknown }),
      await v1({ activity: 'instanceStatus', instanceId: unknown, instanceStatus: 'NORMAL' }),
      await v1({ activity: 'refreshInstance', instanceId: unknown, orderId: uniqueId('CS'), expireTime: '20310101000000' }),
      await v1({ activity: 'upgrade', instanceId: unknown, orderId: uniqueId('CS') }),
      await v1({ activity: 'releaseInstance', instanceId: unknown }),
      await v1({ activity: 'queryInstance', instanceId: unknown }),
    ];

    expect(calls.map((c) => c.json.resultCode)).toEqual(Array(6).fill('000003'));
    expect(await instanceItems(unknown)).toEqual([]);
    expect(await auditRecord(calls[0]!.correlationId)).toMatchObject({ resultCode: '000003', instanceId: unknown });
  });

  it('a businessId that already identifies another order’s instance → 000002', async () => {
    const { orderId, instanceId } = await created();
    const otherOrder = uniqueId('CS');
    const before = await footprint(orderId, instanceId);

    const response = await v1({ activity: 'newInstance', orderId: otherOrder, businessId: instanceId });

    expect(response.json).toEqual({ resultCode: '000002', resultMsg: 'param is invalid: businessId already identifies another instance' });
    expect(await footprint(orderId, instanceId)).toEqual(before);
    expect(await orderLineItems(otherOrder)).toEqual([]);
  });

  it('a debug call (testFlag=1) cannot change a real instance', async () => {
    const { orderId, instanceId } = await created();
    const before = await footprint(orderId, instanceId);

    const response = await v1({ activity: 'expireInstance', instanceId, testFlag: '1' });

    expect(response.json.resultCode).toBe('000003');
    expect(await footprint(orderId, instanceId)).toEqual(before);
  });

  it('signs the generic 000005 of a call that runs out of time, as every V1 answer', async () => {
    // 1.5 s early timeout: with 1501 ms left, middy answers before the flow can.
    const context = { ...lambdaContext(randomUUID()), getRemainingTimeInMillis: () => 1_501 };
    const result = (await handler(
      v1Event(signedV1({ activity: 'queryInstance', instanceId: 'slow' })),
      context,
    )) as APIGatewayProxyStructuredResultV2;
    const raw = String(result.body);
    expect(JSON.parse(raw)).toMatchObject({ resultCode: '000005' });
    expect((result.headers as Record<string, string>)['Body-Sign']).toBe(bodySignHeader(TEST_KEY, raw));
  });
});
