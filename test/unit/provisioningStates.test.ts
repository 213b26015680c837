import { describe, expect, it } from 'vitest';
import type { Instance, InstanceState, OrderTerms } from '#lib/instances/model.ts';
import {
  awaitsProvisioning,
  createInstance,
  decide,
  orderTermsUpdated,
  provisioned,
  provisioningFailed,
  retryProvisioning,
} from '#lib/instances/stateMachine.ts';
import { dueAttributes, expireTimeIso } from '#lib/store/instanceStore.ts';

const AT = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-01T00:05:00.000Z';
const appInfo = { frontEndUrl: 'https://tenant.example.com/t/i-1' };
const terms: OrderTerms = {
  orderId: 'o-1',
  orderLineId: 'o-1-000001',
  productId: 'P1',
  skuCode: 'basic',
  linearValue: 10,
  expireTime: '20270101000000',
  amount: '19.90',
};

function waiting(state: InstanceState = 'PROVISIONING', extra: Partial<Instance> = {}): Instance {
  const { instance } = createInstance(
    { instanceId: 'i-1', orderId: 'o-1', orderLineId: 'o-1-000001', businessId: 'i-1', test: false, state: 'PROVISIONING' },
    AT,
  );
  return { ...instance, state, ...extra };
}

describe('provisioning outcomes', () => {
  it('a provisioned instance becomes ACTIVE with appInfo and the order terms; a frozen one stays frozen', () => {
    const done = provisioned(waiting(), { appInfo, order: terms }, LATER);
    expect(done.outcome).toBe('changed');
    if (done.outcome !== 'changed') return;
    expect(done.next).toMatchObject({
      state: 'ACTIVE',
      appInfo,
      order: terms,
      expireTime: '20270101000000',
      productId: 'P1',
      version: 2,
      updatedAt: LATER,
    });
    expect(done.entry).toMatchObject({
      actor: 'provisioner',
      event: 'instance.provisioned',
      from: 'PROVISIONING',
      to: 'ACTIVE',
      version: 2,
    });
    const frozen = provisioned(waiting('FROZEN'), { appInfo }, LATER);
    expect(frozen.outcome === 'changed' && frozen.next.state).toBe('FROZEN');
  });

  it('provisions only what still waits: a redelivery, a release or a failure change nothing', () => {
    const active = { ...waiting('ACTIVE'), appInfo };
    expect(provisioned(active, { appInfo }, LATER).outcome).toBe('unchanged');
    expect(provisioned(waiting('RELEASED'), { appInfo }, LATER).outcome).toBe('unchanged');
    expect(provisioned(waiting('PROVISIONING_FAILED'), { appInfo }, LATER).outcome).toBe('unchanged');
    expect(awaitsProvisioning(waiting('FROZEN', { provisioning: { failure: { reason: 'x', at: AT, eventId: 'i-1:1' } } }))).toBe(false);
  });

  it('a permanent failure makes a new instance PROVISIONING_FAILED once per event; a provisioned one keeps its state', () => {
    const failed = provisioningFailed(waiting(), 'order query: MKT.9001', 'i-1:1', 'newInstance', LATER);
    expect(failed.outcome === 'changed' && [failed.next.state, failed.next.provisioning?.failure, failed.entry.reason]).toEqual([
      'PROVISIONING_FAILED',
      { reason: 'order query: MKT.9001', at: LATER, eventId: 'i-1:1' },
      'order query: MKT.9001',
    ]);
    if (failed.outcome !== 'changed') return;
    expect(provisioningFailed(failed.next, 'again', 'i-1:1', 'newInstance', LATER).outcome).toBe('unchanged');
    const upgradeFailed = provisioningFailed(
      { ...waiting('ACTIVE'), appInfo },
      'order query: MKT.0150',
      'i-1:5',
      'instance.upgraded',
      LATER,
    );
    expect(upgradeFailed.outcome === 'changed' && upgradeFailed.next.state).toBe('ACTIVE');
    expect(provisioningFailed(waiting('RELEASED'), 'x', 'i-1:9', 'newInstance', LATER).outcome).toBe('unchanged');
  });

  it('the seller retries only a failed provisioning; the failure is cleared', () => {
    const failed = { ...waiting('PROVISIONING_FAILED'), provisioning: { failure: { reason: 'x', at: AT, eventId: 'i-1:1' } } };
    const retried = retryProvisioning(failed, LATER);
    expect(
      retried.outcome === 'changed' && [retried.next.state, retried.next.provisioning, retried.entry.actor, retried.entry.event],
    ).toEqual(['PROVISIONING', undefined, 'seller', 'instance.provisioningRetried']);
    for (const state of ['PROVISIONING', 'ACTIVE', 'FROZEN', 'RELEASED'] as const)
      expect(retryProvisioning(waiting(state), LATER).outcome).toBe('unchanged');
  });

  it('the seller retries a provisioning the safety sweep reported stuck; the mark is cleared', () => {
    const stuck = waiting('PROVISIONING', { provisioning: { stuckSince: AT } });
    const retried = retryProvisioning(stuck, LATER);
    expect(
      retried.outcome === 'changed' && [retried.entry.from, retried.next.state, retried.next.provisioning, retried.entry.event],
    ).toEqual(['PROVISIONING', 'PROVISIONING', undefined, 'instance.provisioningRetried']);
    // Frozen before it was provisioned, and stuck: the buyer cannot use it anyway, so it stays as it is.
    expect(retryProvisioning(waiting('FROZEN', { provisioning: { stuckSince: AT } }), LATER).outcome).toBe('unchanged');
  });

  it('an unfrozen instance returns to where its provisioning stands', () => {
    const unfreeze = { activity: 'updateInstanceStatus', status: 'UNFREEZE' } as const;
    const to = (instance: Instance) => {
      const d = decide(instance, unfreeze, LATER);
      return d.outcome === 'changed' ? d.next.state : 'unchanged';
    };
    expect(to({ ...waiting('FROZEN'), appInfo })).toBe('ACTIVE');
    expect(to(waiting('FROZEN'))).toBe('PROVISIONING');
    expect(to(waiting('FROZEN', { provisioning: { failure: { reason: 'x', at: AT, eventId: 'i-1:1' } } }))).toBe('PROVISIONING_FAILED');
  });

  it('new order terms are stored with their changes; the same terms again (in any key order) change nothing', () => {
    const active = { ...waiting('ACTIVE'), appInfo, order: terms };
    const upgrade = { ...terms, orderId: 'o-2', orderLineId: 'o-2-000001', skuCode: 'pro', linearValue: 50 };
    const updated = orderTermsUpdated(active, upgrade, 'upgradeInstance', LATER);
    expect(updated.outcome === 'changed' && updated.entry.changes).toEqual({ skuCode: 'pro', linearValue: 50 });
    const reordered = Object.fromEntries(Object.entries(terms).reverse()) as OrderTerms;
    expect(orderTermsUpdated(active, reordered, 'upgradeInstance', LATER).outcome).toBe('unchanged');
    expect(orderTermsUpdated({ ...active, state: 'RELEASED' }, upgrade, 'upgradeInstance', LATER).outcome).toBe('unchanged');
  });

  it('renewals and freezes clear the overdue flag', () => {
    const overdue = { ...waiting('ACTIVE'), appInfo, overdueSince: AT };
    const renewed = decide(
      overdue,
      { activity: 'refreshInstance', scene: 'RENEWAL', orderId: 'r', orderLineId: 'r-1', expireTime: '20280101000000' },
      LATER,
    );
    expect(renewed.outcome === 'changed' && renewed.next.overdueSince).toBeUndefined();
    const frozen = decide(overdue, { activity: 'updateInstanceStatus', status: 'FREEZE' }, LATER);
    expect(frozen.outcome === 'changed' && frozen.next.overdueSince).toBeUndefined();
  });
});

describe('the sweep index', () => {
  it('lists real ACTIVE instances with an expiry, not yet flagged, by their expiry', () => {
    const active = { ...waiting('ACTIVE'), appInfo, expireTime: '20270315120000' };
    expect(dueAttributes(active)).toEqual({ dueKind: 'EXPIRY', dueAt: '2027-03-15T12:00:00.000Z' });
    expect(dueAttributes({ ...active, state: 'FROZEN' })).toEqual({});
    expect(dueAttributes({ ...active, test: true })).toEqual({});
    expect(dueAttributes({ ...active, overdueSince: AT })).toEqual({});
    const { expireTime: _e, ...noExpiry } = active;
    expect(dueAttributes(noExpiry)).toEqual({});
    expect(expireTimeIso('2027031512')).toBeUndefined();
  });
});
