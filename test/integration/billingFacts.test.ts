import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { openApiClient } from '#lib/koogallery/openApi/client.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import { orderQueryVia, templateAdapter } from '#lib/provisioning/adapters.ts';
import { handleLifecycleEvent, type WorkerDeps } from '#lib/provisioning/worker.ts';
import { billingRecorder } from '#lib/settlement/billingFacts.ts';
import { periodOf } from '#lib/settlement/period.ts';
import { BILL_SHARDS } from '#lib/settlement/model.ts';
import { billingStore } from '#lib/store/billingStore.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { keys } from '#lib/store/keys.ts';
import { outboxStore } from '#lib/store/outboxStore.ts';
import { supervisionStore } from '#lib/store/supervisionStore.ts';
import { startFakeOpenApi, type FakeOpenApi, type FakeOrder } from '../../scripts/local/fake-openapi.ts';
import { env, produceAsync, store, uniqueId } from '../helpers/produce.ts';

/**
 * Settlement's input as orders happen: the provisioning worker records each paid order line's billing facts in the
 * transaction that stores its terms (DynamoDB Local, the fake Open API), starts the supervision flow of a supervised
 * product's new order, records refunds, and marks a change belonging to a closed month as its adjustment.
 */

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const credentials = { ak: 'test-ak-0123456789', sk: 'test-sk-0123456789abcdef' };
const SUPERVISED = 'OFFI-SUPERVISED-1';
const TZ = 'Asia/Shanghai';

let openApi: FakeOpenApi;
const published: LifecycleEvent[] = [];
const billing = () => billingStore(dynamoClient(), { main: env('MAIN_TABLE') });
const supervision = () => supervisionStore(dynamoClient(), { main: env('MAIN_TABLE') });

beforeAll(async () => {
  openApi = await startFakeOpenApi({ credentials });
});
afterAll(async () => openApi?.close());

const recorderOf = () =>
  billingRecorder({
    billing: billing(),
    supervision: supervision(),
    supervisionSettings: { supervisedProducts: new Set([SUPERVISED]), enablingCloudProducts: new Set(), requiredKinds: ['acceptance'] },
    timeZone: TZ,
    currency: 'CNY',
  });

function worker(now: () => number = Date.now): WorkerDeps {
  return {
    store: store(),
    outbox: outboxStore(dynamoClient(), env('MAIN_TABLE')),
    queryOrder: orderQueryVia(openApiClient({ baseUrl: openApi.url, credentials: async () => credentials }), quiet),
    billing: recorderOf(),
    adapter: templateAdapter({ frontEndUrl: 'https://app.example.com/t/{instanceId}' }),
    testTtlDays: 7,
    now,
    log: quiet,
  };
}

function order(productId: string, amount: string, orderType = 'NEW'): FakeOrder {
  const orderId = uniqueId('CS');
  return {
    orderId,
    orderType,
    createTime: '20261101080000',
    buyerInfo: { customerId: 'cust-1', userId: 'user-1' },
    orderLine: [
      {
        orderLineId: `${orderId}-000001`,
        chargingMode: 'PERIOD',
        periodType: 'month',
        periodNumber: 1,
        expireTime: '20271201080000',
        orderAmount: amount,
        productInfo: [{ productId, skuCode: 'sku-basic', linearValue: 10 }],
      },
    ],
  };
}

const produce = (body: JsonObject) => produceAsync(body, published);

/** A new instance provisioned by the worker; its instance id. */
async function provisioned(placed: FakeOrder, extra: JsonObject = {}, now?: () => number): Promise<string> {
  openApi.registerOrder(placed);
  const businessId = uniqueId('biz');
  const answer = await produce({
    activity: 'newInstance',
    orderId: placed.orderId,
    orderLineId: `${placed.orderId}-000001`,
    businessId,
    ...extra,
  });
  expect(answer.resultCode).toBe('000000');
  const event = published.find((e) => e.instanceId === businessId && e.type === 'instance.created')!;
  expect(await handleLifecycleEvent(event, worker(now))).toBe('provisioned');
  return businessId;
}

const lastEvent = (instanceId: string) => published.filter((e) => e.instanceId === instanceId).at(-1)!;

describe('billing facts recorded by the provisioning worker', () => {
  it('records a new paid order line in effect, listed in its shard of the bill index', async () => {
    const placed = order('OFFI-PLAIN-1', '19.90');
    const instanceId = await provisioned(placed);
    const stored = await billing().getFacts(placed.orderId, `${placed.orderId}-000001`);
    expect(stored?.version).toBe(1);
    expect(stored?.facts).toMatchObject({
      instanceId,
      kind: 'NEW',
      amount: '19.90',
      currency: 'CNY',
      productId: 'OFFI-PLAIN-1',
      test: false,
    });
    expect(stored?.facts.supervision).toBeUndefined();
    expect(Date.parse(stored!.facts.effectiveAt!)).toBeGreaterThan(Date.now() - 60_000);

    // The month's run finds it in exactly one shard.
    const month = periodOf(stored!.facts.effectiveAt!, TZ);
    const found: string[] = [];
    for (let shard = 0; shard < BILL_SHARDS; shard++) {
      for await (const page of billing().readShard('LINE', shard, '2026-01-01T00:00:00.000Z', '2100-01-01T00:00:00.000Z')) {
        for (const item of page) if (item.kind === 'LINE' && item.facts.orderId === placed.orderId) found.push(`${shard}`);
      }
    }
    expect(found).toHaveLength(1);
    expect(month).toMatch(/^\d{4}-\d{2}$/);
  });

  it('starts the supervision flow of a supervised product in the same transaction, and bills nothing until accepted', async () => {
    const placed = order(SUPERVISED, '500.00');
    const instanceId = await provisioned(placed);
    const lineId = `${placed.orderId}-000001`;
    const flow = await supervision().get(placed.orderId, lineId);
    expect(flow).toMatchObject({
      state: 'AWAITING_DELIVERY',
      instanceId,
      productId: SUPERVISED,
      requiredKinds: ['acceptance'],
      round: 1,
      version: 1,
    });
    const stored = await billing().getFacts(placed.orderId, lineId);
    expect(stored?.facts.supervision).toEqual({});

    // Acceptance completes the facts (the supervision API commits these writes with the flow's change).
    const recorder = recorderOf();
    const at = new Date().toISOString();
    const writes = await recorder.supervisionCompletedWrites(placed.orderId, lineId, at, '2026-11-01T00:00:00.000Z', at);
    expect((await store().commit(writes)).ok).toBe(true);
    const completed = await billing().getFacts(placed.orderId, lineId);
    expect(completed).toMatchObject({
      version: 2,
      facts: { supervision: { completedAt: at, serviceStartAt: '2026-11-01T00:00:00.000Z' } },
    });
    // Completing twice changes nothing.
    expect(await recorder.supervisionCompletedWrites(placed.orderId, lineId, at, undefined, at)).toEqual([]);
  });

  it('records renewals, upgrades and a trial turned paid as their own order lines', async () => {
    const placed = order('OFFI-PLAIN-2', '100.00');
    const instanceId = await provisioned(placed);

    const renewal = order('OFFI-PLAIN-2', '100.00', 'RENEW');
    openApi.registerOrder(renewal);
    expect(
      (
        await produce({
          activity: 'refreshInstance',
          instanceId,
          orderId: renewal.orderId,
          orderLineId: `${renewal.orderId}-000001`,
          scene: 'RENEWAL',
          expireTime: '20281201080000',
        })
      ).resultCode,
    ).toBe('000000');
    expect(await handleLifecycleEvent(lastEvent(instanceId), worker())).toBe('notified');
    expect((await billing().getFacts(renewal.orderId, `${renewal.orderId}-000001`))?.facts).toMatchObject({
      kind: 'RENEWAL',
      amount: '100.00',
      instanceId,
    });

    const upgrade = order('OFFI-PLAIN-2', '55.50', 'CHANGE');
    openApi.registerOrder(upgrade);
    expect(
      (await produce({ activity: 'upgradeInstance', instanceId, orderId: upgrade.orderId, orderLineId: `${upgrade.orderId}-000001` }))
        .resultCode,
    ).toBe('000000');
    const upgraded = lastEvent(instanceId);
    expect(await handleLifecycleEvent(upgraded, worker())).toBe('notified');
    expect((await billing().getFacts(upgrade.orderId, `${upgrade.orderId}-000001`))?.facts).toMatchObject({
      kind: 'UPGRADE',
      amount: '55.50',
    });
    // A redelivered event rewrites nothing.
    expect(await handleLifecycleEvent(upgraded, worker())).toBe('notified');
    expect((await billing().getFacts(upgrade.orderId, `${upgrade.orderId}-000001`))?.version).toBe(1);

    const trial = order('OFFI-PLAIN-3', '0.00');
    const trialInstance = await provisioned(trial);
    const paid = order('OFFI-PLAIN-3', '100.00', 'TRIAL_TO_FORMAL');
    openApi.registerOrder(paid);
    expect(
      (
        await produce({
          activity: 'refreshInstance',
          instanceId: trialInstance,
          orderId: paid.orderId,
          orderLineId: `${paid.orderId}-000001`,
          scene: 'TRIAL_TO_FORMAL',
          expireTime: '20281201080000',
        })
      ).resultCode,
    ).toBe('000000');
    expect(await handleLifecycleEvent(lastEvent(trialInstance), worker())).toBe('notified');
    expect((await billing().getFacts(paid.orderId, `${paid.orderId}-000001`))?.facts).toMatchObject({
      kind: 'TRIAL_TO_PAID',
      amount: '100.00',
    });
    expect((await billing().getFacts(trial.orderId, `${trial.orderId}-000001`))?.facts).toMatchObject({ kind: 'NEW', amount: '0.00' });
  });

  it('records the refund of a release that names its unsubscription order', async () => {
    const placed = order('OFFI-PLAIN-4', '100.00');
    const instanceId = await provisioned(placed);
    const unsubscribe = order('OFFI-PLAIN-4', '40.00', 'UNSUBSCRIBE');
    openApi.registerOrder(unsubscribe);
    expect(
      (
        await produce({
          activity: 'releaseInstance',
          instanceId,
          orderId: unsubscribe.orderId,
          orderLineId: `${unsubscribe.orderId}-000001`,
        })
      ).resultCode,
    ).toBe('000000');
    const released = lastEvent(instanceId);
    expect(await handleLifecycleEvent(released, worker())).toBe('notified');
    const stored = await billing().getFacts(placed.orderId, `${placed.orderId}-000001`);
    expect(stored).toMatchObject({ version: 2, facts: { refund: { orderId: unsubscribe.orderId, amount: '40.00' } } });
    // Redelivered: still one refund.
    expect(await handleLifecycleEvent(released, worker())).toBe('notified');
    expect((await billing().getFacts(placed.orderId, `${placed.orderId}-000001`))?.version).toBe(2);
  });

  it('never records debug (test) orders', async () => {
    const placed = order('OFFI-PLAIN-5', '100.00');
    await provisioned(placed, { testFlag: '1' });
    expect(await billing().getFacts(placed.orderId, `${placed.orderId}-000001`)).toBeUndefined();
  });

  it("marks a change that belongs to a closed month as that month's adjustment", async () => {
    // A month in the past, closed: an order taking effect in it (a late provisioning) is carried by a later statement.
    const closedAt = Date.parse('2026-02-10T04:00:00.000Z');
    const closedMonth = periodOf(new Date(closedAt).toISOString(), TZ);
    await dynamoClient().send('PutItem', {
      TableName: env('MAIN_TABLE'),
      Item: marshall({ ...keys.statement(closedMonth), period: closedMonth, status: 'CLOSED' }),
    });
    const placed = order('OFFI-PLAIN-6', '30.00');
    await provisioned(placed, {}, () => closedAt);
    const stored = await billing().getFacts(placed.orderId, `${placed.orderId}-000001`);
    expect(stored?.facts).toMatchObject({
      adjustmentFor: closedMonth,
      adjustmentIn: '2026-03',
      effectiveAt: new Date(closedAt).toISOString(),
    });

    // An open month gets no mark, and the write checks the month is still open.
    const open = order('OFFI-PLAIN-6', '30.00');
    await provisioned(open);
    expect((await billing().getFacts(open.orderId, `${open.orderId}-000001`))?.facts.adjustmentFor).toBeUndefined();
  });
});
