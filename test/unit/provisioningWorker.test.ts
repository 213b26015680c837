import { describe, expect, it } from 'vitest';
import type { Instance, OrderTerms } from '#lib/instances/model.ts';
import { createInstance, decide, type Command } from '#lib/instances/stateMachine.ts';
import { eventFor, queueEventFor, type LifecycleEvent } from '#lib/outbox/events.ts';
import { CALL_LIFETIME_MS, handleLifecycleEvent, RetryLater, type WorkerDeps } from '#lib/provisioning/worker.ts';
import { fakeOrderBilling, fakeOrderQuery, fakeProduct, fakeStores, recordingLog, touches } from '../fakes/index.ts';

/**
 * The provisioning worker (lib/provisioning/worker.ts) over the in-memory stores, with a fake Query Order, a fake
 * seller's product and a fake billing record: what each lifecycle event leaves behind, and which failures go back
 * to the queue (RetryLater) and which are recorded for good.
 */

const NOW = Date.parse('2026-11-20T08:30:00.000Z');
const AT = new Date(NOW).toISOString();

const ORDER: OrderTerms = {
  orderId: 'CS-1',
  orderLineId: 'CS-1-000001',
  chargingMode: 'PERIOD',
  expireTime: '20261201080000',
  productId: 'OFFI-1',
  skuCode: 'sku-basic',
  linearValue: 10,
  amount: '19.90',
};
const UPGRADE: OrderTerms = {
  ...ORDER,
  orderId: 'CS-UP',
  orderLineId: 'CS-UP-000001',
  skuCode: 'sku-pro',
  linearValue: 50,
  amount: '80.00',
};

function provisioning(options: { billing?: boolean } = {}) {
  const world = fakeStores();
  const orders = fakeOrderQuery([ORDER, UPGRADE]);
  const product = fakeProduct();
  const billing = fakeOrderBilling(world.table);
  const logged = recordingLog();
  const deps: WorkerDeps = {
    store: world.store,
    outbox: world.outbox,
    queryOrder: orders.query,
    ...(options.billing ? { billing: billing.billing } : {}),
    adapter: product.adapter,
    testTtlDays: 7,
    now: () => NOW,
    log: logged.log,
  };
  return { ...world, orders, product, billing, logged, deps };
}

type World = ReturnType<typeof provisioning>;

/** A new instance waiting for provisioning, as newInstance leaves it (with its outbox entry); the commit log starts empty. */
async function waiting(world: World, fields: { instanceId?: string; orderId?: string; test?: boolean } = {}): Promise<LifecycleEvent> {
  const orderId = fields.orderId ?? ORDER.orderId;
  const { instance, entry } = createInstance(
    {
      instanceId: fields.instanceId ?? 'inst-1',
      orderId,
      orderLineId: `${orderId}-000001`,
      businessId: 'inst-1',
      test: fields.test ?? false,
      state: 'PROVISIONING',
    },
    '2026-11-20T08:00:00.000Z',
  );
  const event = eventFor(instance, entry, 'instance.created');
  expect(await world.table.commit(world.store.createInstance(instance, entry, event, NOW / 1000, undefined))).toEqual({ ok: true });
  world.table.commits.length = 0;
  return event;
}

/** A marketplace change to the instance, as the produce call commits it: its queue event. */
async function changed(world: World, instanceId: string, command: Command): Promise<LifecycleEvent> {
  const instance = (await world.store.getInstance(instanceId))!;
  const decision = decide(instance, command, AT);
  if (decision.outcome !== 'changed') throw new Error(decision.reason);
  const event = queueEventFor(decision.next, decision.entry)!;
  expect(
    await world.table.commit(
      world.store.applyChange(instance.version, decision.next, decision.entry, undefined, event, NOW / 1000, undefined),
    ),
  ).toEqual({ ok: true });
  world.table.commits.length = 0;
  return event;
}

/** A provisioned instance (the product has its tenant). */
async function provisioned(world: World): Promise<Instance> {
  expect(await handleLifecycleEvent(await waiting(world), world.deps)).toBe('provisioned');
  world.table.commits.length = 0;
  world.product.calls.length = 0;
  return (await world.store.getInstance('inst-1'))!;
}

describe('instance.created', () => {
  it('queries the order, asks the product for appInfo and makes the instance ACTIVE; the outbox entry is completed', async () => {
    // Prepare
    const world = provisioning();
    const event = await waiting(world);

    // Act
    const result = await handleLifecycleEvent(event, world.deps);

    // Assess
    expect(result).toBe('provisioned');
    const instance = await world.store.getInstance('inst-1');
    expect(instance).toMatchObject({
      state: 'ACTIVE',
      version: 2,
      appInfo: { frontEndUrl: 'https://tenant.example.com/inst-1' },
      order: ORDER,
      expireTime: ORDER.expireTime,
      productId: 'OFFI-1',
    });
    expect((await world.store.getHistory('inst-1')).map((h) => [h.event, h.actor, h.to])).toEqual([
      ['instance.created', 'marketplace', 'PROVISIONING'],
      ['instance.provisioned', 'provisioner', 'ACTIVE'],
    ]);
    expect(world.store.orderRecordOf('CS-1', 'CS-1-000001')).toEqual({ ...ORDER, instanceId: 'inst-1', fetchedAt: AT });
    expect(world.table.commits).toEqual([
      ['instance', 'provisioningAttempt'],
      ['provisioningAttempt', 'order', 'instance', 'history'],
      ['outbox'],
    ]);
    expect(await world.store.getProvisioningAttempt('inst-1')).toEqual({
      instanceId: 'inst-1',
      eventId: 'inst-1:1',
      attempts: 1,
      status: 'answered',
      startedAt: AT,
      answeredAt: AT,
    });
    expect(world.outbox.events()).toEqual([]);
    expect(world.orders.calls).toEqual([{ orderId: 'CS-1', orderLineId: 'CS-1-000001' }]);
    expect(world.product.calls.map((c) => [c.step, c.event.eventId, c.instance.order?.skuCode])).toEqual([
      ['provision', 'inst-1:1', 'sku-basic'],
    ]);
  });

  it('goes back to the queue on a retryable failure, the instance unchanged meanwhile and the failed call recorded', async () => {
    // Prepare
    const world = provisioning();
    const event = await waiting(world);
    world.orders.refuseNext({ retry: true, reason: 'MKT.0250: rate limited' });
    world.product.refuseNext({ retry: true, reason: 'webhook: HTTP 503' });

    // Act
    const orderQuery = handleLifecycleEvent(event, world.deps);
    await expect(orderQuery).rejects.toThrow(new RetryLater('order query: MKT.0250: rate limited'));
    const productCall = handleLifecycleEvent(event, world.deps);
    await expect(productCall).rejects.toBeInstanceOf(RetryLater);

    // Assess
    expect(await world.store.getInstance('inst-1')).toMatchObject({ state: 'PROVISIONING', version: 1 });
    // The order query asked nothing of the product; the refused call is recorded as answered, with its error.
    expect(world.table.commits).toEqual([['instance', 'provisioningAttempt'], ['provisioningAttempt']]);
    expect(await world.store.getProvisioningAttempt('inst-1')).toMatchObject({
      attempts: 1,
      status: 'answered',
      lastError: 'webhook: HTTP 503',
    });
    expect(world.outbox.events().map((e) => e.eventId)).toEqual(['inst-1:1']);
    expect(await handleLifecycleEvent(event, world.deps)).toBe('provisioned');
    const attempt = await world.store.getProvisioningAttempt('inst-1');
    expect(attempt).toMatchObject({ attempts: 2, status: 'answered' });
    expect(attempt?.lastError).toBeUndefined();
  });

  it('records a permanent failure: PROVISIONING_FAILED with the reason, the event completed', async () => {
    // Prepare
    const world = provisioning();
    const event = await waiting(world);
    world.product.refuseNext({ retry: false, reason: 'webhook: HTTP 422' });

    // Act
    const result = await handleLifecycleEvent(event, world.deps);

    // Assess
    expect(result).toBe('failed');
    expect(await world.store.getInstance('inst-1')).toMatchObject({
      state: 'PROVISIONING_FAILED',
      version: 2,
      provisioning: { failure: { reason: 'webhook: HTTP 422', at: AT, eventId: 'inst-1:1' } },
    });
    expect((await world.store.getHistory('inst-1')).at(-1)).toMatchObject({
      event: 'instance.provisioningFailed',
      actor: 'provisioner',
      reason: 'webhook: HTTP 422',
    });
    expect(world.outbox.events()).toEqual([]);
    expect(world.logged.messages('error')).toEqual(['provisioning failed; the seller must fix the cause and retry']);
  });

  it('fails a real instance whose order is unknown, and provisions a debug one without its order', async () => {
    // Prepare
    const world = provisioning();
    const real = await waiting(world, { instanceId: 'inst-real', orderId: 'CS-NONE' });
    const debug = await waiting(world, { instanceId: 'inst-debug', orderId: 'CS-NONE-T', test: true });

    // Act
    const results = [await handleLifecycleEvent(real, world.deps), await handleLifecycleEvent(debug, world.deps)];

    // Assess
    expect(results).toEqual(['failed', 'provisioned']);
    expect((await world.store.getInstance('inst-real'))?.provisioning?.failure?.reason).toBe('MKT.9001: order not found');
    expect(await world.store.getInstance('inst-debug')).toMatchObject({ state: 'ACTIVE', test: true });
    expect((await world.store.getInstance('inst-debug'))?.order).toBeUndefined();
    expect(world.logged.messages('warn')).toEqual(['order query failed for a test instance; provisioning without it']);
  });

  it('changes nothing when the event is delivered again', async () => {
    // Prepare
    const world = provisioning();
    const event = await waiting(world);
    await handleLifecycleEvent(event, world.deps);
    const done = await world.store.getInstance('inst-1');

    // Act
    const again = await handleLifecycleEvent(event, world.deps);

    // Assess
    expect(again).toBe('skipped');
    expect(await world.store.getInstance('inst-1')).toEqual(done);
    expect(world.product.calls.filter((c) => c.step === 'provision')).toHaveLength(1);
    expect(world.table.commits).toEqual([
      ['instance', 'provisioningAttempt'],
      ['provisioningAttempt', 'order', 'instance', 'history'],
      ['outbox'],
      ['outbox'],
    ]);
  });

  it('goes back to the queue when the instance changed while it was being provisioned', async () => {
    // Prepare
    const world = provisioning();
    const event = await waiting(world);
    world.table.inject(
      { kind: 'race', otherWriter: () => changed(world, 'inst-1', { activity: 'updateInstanceStatus', status: 'FREEZE' }) },
      { when: touches('history') },
    );

    // Act
    const result = handleLifecycleEvent(event, world.deps);

    // Assess
    await expect(result).rejects.toThrow(new RetryLater('instance changed while it was being provisioned'));
    expect(await world.store.getInstance('inst-1')).toMatchObject({ state: 'FROZEN', version: 2 });
    // The product's answer is recorded all the same: a release need not wait for it.
    expect(await world.store.getProvisioningAttempt('inst-1')).toMatchObject({ attempts: 1, status: 'answered' });
    expect(world.store.orderRecordOf('CS-1', 'CS-1-000001')).toBeUndefined();
    expect(await handleLifecycleEvent(event, world.deps)).toBe('provisioned');
    expect(await world.store.getInstance('inst-1')).toMatchObject({
      state: 'FROZEN',
      version: 3,
      appInfo: { frontEndUrl: 'https://tenant.example.com/inst-1' },
    });
  });
});

describe('a release before the tenant is stored (law 10)', () => {
  /** A new instance whose product was asked for a tenant at `startedAt` and has not answered, then released. */
  async function releasedWhileAsking(world: World, startedAt: string) {
    const event = await waiting(world);
    const asking = { instanceId: 'inst-1', eventId: event.eventId, attempts: 1, status: 'calling' as const, startedAt };
    expect(await world.table.commit([world.store.provisioningAttempt(asking, undefined)])).toEqual({ ok: true });
    return changed(world, 'inst-1', { activity: 'releaseInstance' });
  }

  it('does not start asking the product once the instance is released', async () => {
    // Prepare
    const world = provisioning();
    const event = await waiting(world);
    world.table.inject(
      { kind: 'race', otherWriter: () => changed(world, 'inst-1', { activity: 'releaseInstance' }) },
      { when: touches('provisioningAttempt') },
    );

    // Act
    const first = handleLifecycleEvent(event, world.deps);

    // Assess
    await expect(first).rejects.toThrow(new RetryLater('instance changed before the product was asked for its tenant'));
    expect(await handleLifecycleEvent(event, world.deps)).toBe('skipped');
    expect(await world.store.getProvisioningAttempt('inst-1')).toBeUndefined();
    expect(world.product.calls).toEqual([]);
  });

  it('waits while the product is being asked for the tenant, then tells it of the release', async () => {
    // Prepare
    const world = provisioning();
    const released = await releasedWhileAsking(world, AT);

    // Act
    const whileAsking = handleLifecycleEvent(released, world.deps);
    await expect(whileAsking).rejects.toThrow(/still being asked for this tenant/);
    const asked = (await world.store.getProvisioningAttempt('inst-1'))!;
    await world.table.commit([world.store.provisioningAttempt({ ...asked, status: 'answered', answeredAt: AT }, undefined)]);
    const afterAnswer = await handleLifecycleEvent(released, world.deps);

    // Assess
    expect(afterAnswer).toBe('notified');
    expect(world.product.calls.map((c) => [c.step, c.event.type])).toEqual([['notify', 'instance.released']]);
    // Only the instance.created event, whose worker is still asking, is left in the outbox.
    expect(world.outbox.events().map((e) => e.eventId)).toEqual(['inst-1:1']);
  });

  it('tells the product of the release when the call was left by a worker that died', async () => {
    // Prepare
    const world = provisioning();
    const released = await releasedWhileAsking(world, new Date(NOW - CALL_LIFETIME_MS).toISOString());

    // Act
    const result = await handleLifecycleEvent(released, world.deps);

    // Assess
    expect(result).toBe('notified');
    expect(world.product.calls.map((c) => [c.step, c.event.type])).toEqual([['notify', 'instance.released']]);
  });

  it('tells the product nothing when it was never asked for a tenant', async () => {
    // Prepare
    const world = provisioning();
    await waiting(world);
    const released = await changed(world, 'inst-1', { activity: 'releaseInstance' });

    // Act
    const result = await handleLifecycleEvent(released, world.deps);

    // Assess
    expect(result).toBe('skipped');
    expect(world.product.calls).toEqual([]);
  });
});

describe('later events', () => {
  it('tells the product of a freeze and a release, with the instance as it stands', async () => {
    // Prepare
    const world = provisioning();
    await provisioned(world);
    const frozen = await changed(world, 'inst-1', { activity: 'updateInstanceStatus', status: 'FREEZE' });
    const released = await changed(world, 'inst-1', { activity: 'releaseInstance' });

    // Act
    const results = [await handleLifecycleEvent(frozen, world.deps), await handleLifecycleEvent(released, world.deps)];

    // Assess
    expect(results).toEqual(['notified', 'notified']);
    expect(world.product.calls.map((c) => [c.step, c.event.type, c.instance.state])).toEqual([
      ['notify', 'instance.frozen', 'RELEASED'],
      ['notify', 'instance.released', 'RELEASED'],
    ]);
    expect(world.table.commits).toEqual([['outbox'], ['outbox']]);
    expect(world.outbox.events()).toEqual([]);
  });

  it('keeps a freeze that overtook provisioning for later', async () => {
    // Prepare
    const world = provisioning();
    const created = await waiting(world);
    const frozen = await changed(world, 'inst-1', { activity: 'updateInstanceStatus', status: 'FREEZE' });

    // Act
    const early = handleLifecycleEvent(frozen, world.deps);

    // Assess
    await expect(early).rejects.toThrow(new RetryLater('instance is not provisioned yet'));
    expect(world.product.calls).toEqual([]);
    expect(await handleLifecycleEvent(created, world.deps)).toBe('provisioned');
    expect(await handleLifecycleEvent(frozen, world.deps)).toBe('notified');
    expect(await world.store.getInstance('inst-1')).toMatchObject({
      state: 'FROZEN',
      appInfo: { frontEndUrl: 'https://tenant.example.com/inst-1' },
    });
  });

  it("stores an upgrade order's terms before telling the product, once however often it is delivered", async () => {
    // Prepare
    const world = provisioning();
    await provisioned(world);
    const upgraded = await changed(world, 'inst-1', { activity: 'upgradeInstance', orderId: 'CS-UP', orderLineId: 'CS-UP-000001' });

    // Act
    const results = [await handleLifecycleEvent(upgraded, world.deps), await handleLifecycleEvent(upgraded, world.deps)];

    // Assess
    expect(results).toEqual(['notified', 'notified']);
    expect(await world.store.getInstance('inst-1')).toMatchObject({ version: 4, order: UPGRADE });
    expect((await world.store.getHistory('inst-1')).at(-1)).toMatchObject({
      activity: 'upgradeInstance',
      changes: { skuCode: 'sku-pro', linearValue: 50 },
    });
    expect(world.product.calls.map((c) => [c.event.eventId, c.instance.order?.skuCode])).toEqual([
      ['inst-1:3', 'sku-pro'],
      ['inst-1:3', 'sku-pro'],
    ]);
    expect(world.table.commits).toEqual([['order', 'instance', 'history'], ['outbox'], ['order'], ['outbox']]);
  });
});

describe('billing facts', () => {
  it("writes a new order line's billing in the commit that makes the instance ACTIVE", async () => {
    // Prepare
    const world = provisioning({ billing: true });
    const event = await waiting(world);

    // Act
    const result = await handleLifecycleEvent(event, world.deps);

    // Assess
    expect(result).toBe('provisioned');
    expect(world.table.commits[1]).toEqual(['billing', 'provisioningAttempt', 'order', 'instance', 'history']);
    expect(world.billing.rows()).toEqual([
      {
        kind: 'order',
        instanceId: 'inst-1',
        orderId: 'CS-1',
        orderLineId: 'CS-1-000001',
        activity: 'newInstance',
        amount: '19.90',
        at: AT,
      },
    ]);
  });

  it('writes nothing when the commit fails, and the event goes back to the queue', async () => {
    // Prepare
    const world = provisioning({ billing: true });
    const event = await waiting(world);
    world.table.inject({ kind: 'conflict' }, { when: touches('billing') });

    // Act
    const result = handleLifecycleEvent(event, world.deps);

    // Assess
    await expect(result).rejects.toBeInstanceOf(RetryLater);
    expect(world.billing.rows()).toEqual([]);
    expect(await world.store.getInstance('inst-1')).toMatchObject({ state: 'PROVISIONING', version: 1 });
  });

  it('records the refund of a release that names its unsubscription order, then tells the product', async () => {
    // Prepare
    const world = provisioning({ billing: true });
    await provisioned(world);
    const released = await changed(world, 'inst-1', { activity: 'releaseInstance', orderId: 'CS-REFUND', orderLineId: 'CS-REFUND-000001' });
    world.orders.add({ orderId: 'CS-REFUND', orderLineId: 'CS-REFUND-000001', amount: '-19.90' });

    // Act
    const result = await handleLifecycleEvent(released, world.deps);

    // Assess
    expect(result).toBe('notified');
    expect(world.table.commits).toEqual([['billing'], ['outbox']]);
    expect(world.billing.rows()).toContainEqual({
      kind: 'refund',
      instanceId: 'inst-1',
      refundOrderId: 'CS-REFUND',
      amount: '-19.90',
      at: AT,
    });
    expect(world.product.calls.map((c) => c.event.type)).toEqual(['instance.released']);
  });
});
