import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#lib/config.ts';
import type { Instance } from '#lib/instances/model.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { openApiClient } from '#lib/koogallery/openApi/client.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import { orderQueryVia, templateAdapter, webhookAdapter } from '#lib/provisioning/adapters.ts';
import { workerDeps } from '#lib/provisioning/deps.ts';
import { retryFailedProvisioning } from '#lib/provisioning/retry.ts';
import { webhookClient } from '#lib/provisioning/webhook.ts';
import { handleLifecycleEvent, RetryLater, type WorkerDeps } from '#lib/provisioning/worker.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { keys } from '#lib/store/keys.ts';
import { outboxStore } from '#lib/store/outboxStore.ts';
import { startFakeOpenApi, type FakeOpenApi, type FakeOrder } from '../../scripts/local/fake-openapi.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../scripts/local/webhook-receiver.ts';
import { env, produceAsync, store, uniqueId } from '../helpers/produce.ts';
import { goneInstanceEvent } from '../helpers/instances.ts';

/**
 * The provisioning worker against real services: DynamoDB Local, the fake Open API (AK/SK verified) and the
 * reference webhook receiver (signature verified), each on 127.0.0.1.
 */

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const credentials = { ak: 'test-ak-0123456789', sk: 'test-sk-0123456789abcdef' };
const webhookSecret = 'test-webhook-secret-0123456789';

let openApi: FakeOpenApi;
let receiver: WebhookReceiver;
const published: LifecycleEvent[] = [];

beforeAll(async () => {
  [openApi, receiver] = await Promise.all([
    startFakeOpenApi({ credentials }),
    startWebhookReceiver({ secret: webhookSecret, frontEndBase: 'https://tenant.example.com' }),
  ]);
});

afterAll(async () => {
  await Promise.all([openApi?.close(), receiver?.close()]);
});

function worker(overrides: Partial<WorkerDeps> = {}): WorkerDeps {
  const client = webhookClient({ url: receiver.url, secret: webhookSecret, allowPrivateHosts: true });
  return {
    store: store(),
    outbox: outboxStore(dynamoClient(), env('MAIN_TABLE')),
    queryOrder: orderQueryVia(openApiClient({ baseUrl: openApi.url, credentials: async () => credentials }), quiet),
    adapter: webhookAdapter((event) => client.deliver(event)),
    testTtlDays: 7,
    now: Date.now,
    log: quiet,
    ...overrides,
  };
}

/** An order the fake Open API answers for, with one line. */
function order(overrides: Partial<FakeOrder['orderLine'][number]> = {}): FakeOrder {
  const orderId = uniqueId('CS');
  return {
    orderId,
    orderType: 'NEW',
    createTime: '20261101080000',
    buyerInfo: { customerId: 'cust-1', userId: 'user-1', email: 'buyer@example.com', mobilePhone: '13800000000' },
    orderLine: [
      {
        orderLineId: `${orderId}-000001`,
        chargingMode: 'PERIOD',
        periodType: 'month',
        periodNumber: 1,
        expireTime: '20261201080000',
        orderAmount: '19.90',
        productInfo: [{ productId: 'OFFI-TEST-1', skuCode: 'sku-basic', linearValue: 10 }],
      },
      ...[],
    ].map((line) => ({ ...line, ...overrides })),
  };
}

/** A signed V2 call in asynchronous provisioning mode; the events it would publish are kept. */
const produce = (body: JsonObject) => produceAsync(body, published);

async function newInstance(orderId: string, extra: JsonObject = {}) {
  const businessId = uniqueId('biz');
  const answer = await produce({ activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId, ...extra });
  expect(answer.resultCode).toBe('000000');
  const event = published.find((e) => e.instanceId === businessId && e.type === 'instance.created');
  expect(event).toBeDefined();
  return { instanceId: businessId, event: event! };
}

/** The seller's retry of a failed provisioning; the event it queues is kept with the others. */
const sellerRetry = (instanceId: string) =>
  retryFailedProvisioning(instanceId, {
    store: store(),
    publisher: { publish: async (events) => (published.push(...events), []) },
    now: Date.now,
    log: quiet,
    testTtlDays: 7,
  });

const instance = async (id: string): Promise<Instance> => (await store().getInstance(id))!;
const lastEvent = (instanceId: string) => published.filter((e) => e.instanceId === instanceId).at(-1)!;

async function outboxHas(event: LifecycleEvent): Promise<boolean> {
  const out = await dynamoClient().send('GetItem', {
    TableName: env('MAIN_TABLE'),
    Key: marshall(keys.outbox(event.occurredAt, event.eventId)),
    ConsistentRead: true,
  });
  return out.Item !== undefined;
}

describe('asynchronous provisioning', () => {
  it('provisions a new instance: Query Order, the webhook, ACTIVE with appInfo; queryInstance answers 000004 until then', async () => {
    const placed = order();
    openApi.registerOrder(placed);
    const { instanceId, event } = await newInstance(placed.orderId);
    expect((await instance(instanceId)).state).toBe('PROVISIONING');
    expect((await produce({ activity: 'queryInstance', instanceId })).resultCode).toBe('000004');

    expect(await handleLifecycleEvent(event, worker())).toBe('provisioned');

    const done = await instance(instanceId);
    expect(done.state).toBe('ACTIVE');
    expect(done.appInfo?.frontEndUrl).toBe(receiver.tenants().get(instanceId)?.appInfo.frontEndUrl);
    expect(done.order).toMatchObject({
      productId: 'OFFI-TEST-1',
      skuCode: 'sku-basic',
      linearValue: 10,
      amount: '19.90',
      chargingMode: 'PERIOD',
      customerId: 'cust-1',
    });
    expect(done.expireTime).toBe('20261201080000');
    // The buyer's contact never reaches our tables.
    expect(JSON.stringify(done)).not.toMatch(/buyer@example\.com|13800000000/);
    const record = await dynamoClient().send('GetItem', {
      TableName: env('MAIN_TABLE'),
      Key: marshall(keys.order(placed.orderId, `${placed.orderId}-000001`)),
      ConsistentRead: true,
    });
    expect(unmarshall(record.Item!)).toMatchObject({ instanceId, amount: '19.90', skuCode: 'sku-basic' });
    expect(JSON.stringify(record.Item)).not.toMatch(/buyer@example\.com|13800000000/);
    expect((await store().getHistory(instanceId)).map((h) => [h.event, h.actor, h.to])).toEqual([
      ['instance.created', 'marketplace', 'PROVISIONING'],
      ['instance.provisioned', 'provisioner', 'ACTIVE'],
    ]);
    expect(await outboxHas(event)).toBe(false);

    const query = await produce({ activity: 'queryInstance', instanceId });
    expect(query).toMatchObject({ resultCode: '000000', info: [{ instanceId, appInfo: done.appInfo }] });
  });

  it('provisions once however often the event is delivered, and a duplicate newInstance queues nothing new', async () => {
    const placed = order();
    openApi.registerOrder(placed);
    const { instanceId, event } = await newInstance(placed.orderId);
    const results = await Promise.allSettled([handleLifecycleEvent(event, worker()), handleLifecycleEvent(event, worker())]);
    // Concurrent deliveries: one provisions, the other finds it done or lost the race and will be redelivered.
    expect(results.some((r) => r.status === 'fulfilled' && r.value === 'provisioned')).toBe(true);
    expect(await handleLifecycleEvent(event, worker())).toBe('skipped');
    const again = await produce({
      activity: 'newInstance',
      orderId: placed.orderId,
      orderLineId: `${placed.orderId}-000001`,
      businessId: uniqueId('biz'),
    });
    expect(again).toMatchObject({ resultCode: '000000', instanceId });
    expect(published.filter((e) => e.instanceId === instanceId)).toHaveLength(1);
    expect(receiver.tenants().get(instanceId)?.provisions).toBe(1);
    expect((await store().getHistory(instanceId)).filter((h) => h.event === 'instance.provisioned')).toHaveLength(1);
  });

  it('retries a webhook that fails twice and provisions exactly once', async () => {
    const placed = order();
    openApi.registerOrder(placed);
    const { instanceId, event } = await newInstance(placed.orderId);
    receiver.failNext(2, 503);
    await expect(handleLifecycleEvent(event, worker())).rejects.toBeInstanceOf(RetryLater);
    await expect(handleLifecycleEvent(event, worker())).rejects.toThrow(/webhook: .*503/);
    expect((await instance(instanceId)).state).toBe('PROVISIONING');
    expect(await outboxHas(event)).toBe(true);
    expect(await handleLifecycleEvent(event, worker())).toBe('provisioned');
    expect(receiver.tenants().get(instanceId)?.provisions).toBe(1);
    expect(
      receiver
        .deliveries()
        .filter((d) => d.id === event.eventId)
        .map((d) => d.status),
    ).toEqual([503, 503, 200]);
  });

  it('retries a rate-limited or failing Open API and changes nothing meanwhile', async () => {
    const placed = order();
    openApi.registerOrder(placed);
    const { instanceId, event } = await newInstance(placed.orderId);
    openApi.injectFault({ status: 406, resultCode: 'MKT.0250', times: 1 });
    await expect(handleLifecycleEvent(event, worker())).rejects.toThrow(/order query: .*MKT\.0250/);
    openApi.injectFault({ status: 500, resultCode: 'MKT.0999', times: 1 });
    await expect(handleLifecycleEvent(event, worker())).rejects.toBeInstanceOf(RetryLater);
    const waiting = await instance(instanceId);
    expect([waiting.state, waiting.version, waiting.appInfo]).toEqual(['PROVISIONING', 1, undefined]);
    expect(receiver.tenants().has(instanceId)).toBe(false);
    expect(await handleLifecycleEvent(event, worker())).toBe('provisioned');
  });

  it('marks a permanent failure PROVISIONING_FAILED with the reason, and the seller can retry it once fixed', async () => {
    const orderId = uniqueId('CS'); // unknown to the Open API: MKT.9001
    const { instanceId, event } = await newInstance(orderId);
    expect(await handleLifecycleEvent(event, worker())).toBe('failed');
    const failed = await instance(instanceId);
    expect(failed.state).toBe('PROVISIONING_FAILED');
    expect(failed.provisioning?.failure).toMatchObject({ eventId: event.eventId, reason: expect.stringMatching(/MKT\.9001/) });
    expect(receiver.tenants().has(instanceId)).toBe(false);
    expect(await outboxHas(event)).toBe(false);
    // The marketplace's poll learns it failed; a redelivery changes nothing.
    expect((await produce({ activity: 'queryInstance', instanceId })).resultCode).toBe('000005');
    expect(await handleLifecycleEvent(event, worker())).toBe('skipped');

    // Fixed: the order now exists. The seller retries; a new transition, a new event id.
    const placed = order();
    openApi.registerOrder({ ...placed, orderId, orderLine: placed.orderLine.map((l) => ({ ...l, orderLineId: `${orderId}-000001` })) });
    const retried = await sellerRetry(instanceId);
    expect(retried).toEqual({ ok: true, eventId: `${instanceId}:3`, version: 3 });
    const again = lastEvent(instanceId);
    expect(again).toMatchObject({ type: 'instance.created', eventId: `${instanceId}:3` });
    expect(await handleLifecycleEvent(again, worker())).toBe('provisioned');
    const done = await instance(instanceId);
    expect([done.state, done.provisioning]).toEqual(['ACTIVE', undefined]);
    expect((await store().getHistory(instanceId)).map((h) => [h.event, h.actor, h.to])).toEqual([
      ['instance.created', 'marketplace', 'PROVISIONING'],
      ['instance.provisioningFailed', 'provisioner', 'PROVISIONING_FAILED'],
      ['instance.provisioningRetried', 'seller', 'PROVISIONING'],
      ['instance.provisioned', 'provisioner', 'ACTIVE'],
    ]);
    // Only a failed (or stuck) provisioning can be retried.
    expect(await sellerRetry(instanceId)).toEqual({
      ok: false,
      code: 'conflict',
      reason: 'instance is ACTIVE, not PROVISIONING_FAILED nor reported stuck',
    });
  });

  it('fails for good when the webhook refuses (4xx)', async () => {
    const placed = order();
    openApi.registerOrder(placed);
    const { instanceId, event } = await newInstance(placed.orderId);
    receiver.failNext(1, 422);
    expect(await handleLifecycleEvent(event, worker())).toBe('failed');
    expect((await instance(instanceId)).provisioning?.failure?.reason).toMatch(/^webhook: .*422/);
  });

  it('refuses for good a webhook host that resolves to 127.0.0.1 unless WEBHOOK_ALLOW_PRIVATE_HOSTS is on (the worker as configured)', async () => {
    const settings = {
      ...process.env,
      PROVISIONING_MODE: 'webhook',
      ORDER_QUERY: 'false',
      WEBHOOK_URL: `${receiver.url.replace('127.0.0.1', 'localhost')}?token=never-shown`,
      WEBHOOK_SECRET: webhookSecret,
    };
    const { instanceId, event } = await newInstance(uniqueId('CS'));

    expect(await handleLifecycleEvent(event, workerDeps(parseConfig(settings), quiet))).toBe('failed');
    const failed = await instance(instanceId);
    expect(failed.state).toBe('PROVISIONING_FAILED');
    const reason = failed.provisioning?.failure?.reason ?? '';
    expect(reason).toMatch(/^webhook: webhook host localhost resolves to (127\.0\.0\.1|::1), a loopback address: refused/);
    expect(reason).not.toMatch(/never-shown|\/webhook/);
    expect(receiver.tenants().has(instanceId)).toBe(false);

    // Allowed: the seller retries, and the same host now gets the event.
    const retried = await sellerRetry(instanceId);
    expect(retried.ok).toBe(true);
    const allowed = workerDeps(parseConfig({ ...settings, WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true' }), quiet);
    expect(await handleLifecycleEvent(lastEvent(instanceId), allowed)).toBe('provisioned');
    expect((await instance(instanceId)).state).toBe('ACTIVE');
    expect(receiver.tenants().get(instanceId)?.state).toBe('ACTIVE');
  });

  it('provisions a debug (test) instance even when its order does not exist', async () => {
    const { instanceId, event } = await newInstance(uniqueId('CS'), { testFlag: '1' });
    expect(await handleLifecycleEvent(event, worker())).toBe('provisioned');
    const done = await instance(instanceId);
    expect([done.state, done.test, done.order]).toEqual(['ACTIVE', true, undefined]);
  });

  it('tells the product of freezes, upgrades and releases in order, after the tenant exists', async () => {
    const placed = order();
    openApi.registerOrder(placed);
    const { instanceId, event } = await newInstance(placed.orderId);

    // A freeze that overtakes provisioning waits for it.
    expect((await produce({ activity: 'updateInstanceStatus', instanceId, status: 'FREEZE' })).resultCode).toBe('000000');
    const frozen = lastEvent(instanceId);
    await expect(handleLifecycleEvent(frozen, worker())).rejects.toThrow(/not provisioned yet/);
    expect(await handleLifecycleEvent(event, worker())).toBe('provisioned');
    expect((await instance(instanceId)).state).toBe('FROZEN');
    expect(await handleLifecycleEvent(frozen, worker())).toBe('notified');
    expect(receiver.tenants().get(instanceId)?.state).toBe('FROZEN');

    expect((await produce({ activity: 'updateInstanceStatus', instanceId, status: 'UNFREEZE' })).resultCode).toBe('000000');
    expect(await handleLifecycleEvent(lastEvent(instanceId), worker())).toBe('notified');
    expect(receiver.tenants().get(instanceId)?.state).toBe('ACTIVE');

    // The upgrade order's new terms are queried and stored, then the product hears of them.
    const upgrade = order({ productInfo: [{ productId: 'OFFI-TEST-1', skuCode: 'sku-pro', linearValue: 50 }], orderAmount: '80.00' });
    openApi.registerOrder(upgrade);
    const upgradeLine = `${upgrade.orderId}-000001`;
    expect(
      (await produce({ activity: 'upgradeInstance', instanceId, orderId: upgrade.orderId, orderLineId: upgradeLine })).resultCode,
    ).toBe('000000');
    const upgraded = lastEvent(instanceId);
    expect(await handleLifecycleEvent(upgraded, worker())).toBe('notified');
    const after = await instance(instanceId);
    expect(after.order).toMatchObject({ orderId: upgrade.orderId, skuCode: 'sku-pro', linearValue: 50, amount: '80.00' });
    expect((await store().getHistory(instanceId)).at(-1)).toMatchObject({
      activity: 'upgradeInstance',
      changes: { skuCode: 'sku-pro', linearValue: 50 },
    });
    expect(receiver.deliveries().at(-1)).toMatchObject({ id: upgraded.eventId, type: 'instance.upgraded', status: 200 });
    // Redelivered: the terms are already stored, the product gets the same event id again.
    expect(await handleLifecycleEvent(upgraded, worker())).toBe('notified');
    expect((await instance(instanceId)).version).toBe(after.version);

    expect((await produce({ activity: 'releaseInstance', instanceId })).resultCode).toBe('000000');
    expect(await handleLifecycleEvent(lastEvent(instanceId), worker())).toBe('notified');
    expect(receiver.tenants().get(instanceId)?.state).toBe('DELETED');
  });

  it('in template mode needs no webhook: appInfo comes from the URL templates', async () => {
    const placed = order();
    openApi.registerOrder(placed);
    const { instanceId, event } = await newInstance(placed.orderId);
    const result = await handleLifecycleEvent(
      event,
      worker({ adapter: templateAdapter({ frontEndUrl: 'https://app.example.com/t/{instanceId}' }) }),
    );
    expect(result).toBe('provisioned');
    expect((await instance(instanceId)).appInfo).toEqual({ frontEndUrl: `https://app.example.com/t/${encodeURIComponent(instanceId)}` });
  });

  it('skips events of instances that no longer exist and of provisioning that never happened', async () => {
    const gone = goneInstanceEvent();
    expect(await handleLifecycleEvent(gone, worker())).toBe('skipped');
    const { instanceId, event } = await newInstance(uniqueId('CS'));
    expect(await handleLifecycleEvent(event, worker())).toBe('failed');
    expect((await produce({ activity: 'releaseInstance', instanceId })).resultCode).toBe('000000');
    const deliveriesBefore = receiver.deliveries().length;
    expect(await handleLifecycleEvent(lastEvent(instanceId), worker())).toBe('skipped');
    expect(receiver.deliveries()).toHaveLength(deliveriesBefore);
  });
});
