import { describe, expect, it } from 'vitest';
import { appInfoFromTemplates } from '#lib/instances/appInfo.ts';
import type { Instance, InstanceState } from '#lib/instances/model.ts';
import { createInstance, decide, idempotencyKey, type Command } from '#lib/instances/stateMachine.ts';

const AT = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-02T00:00:00.000Z';

function instanceIn(state: InstanceState, extra: Partial<Instance> = {}): Instance {
  const { instance } = createInstance(
    {
      instanceId: 'i-1',
      orderId: 'o-1',
      orderLineId: 'o-1-000001',
      businessId: 'i-1',
      test: false,
      state: 'ACTIVE',
      appInfo: { frontEndUrl: 'https://x' },
    },
    AT,
  );
  return { ...instance, state, ...extra };
}

const freeze: Command = { activity: 'updateInstanceStatus', status: 'FREEZE' };
const unfreeze: Command = { activity: 'updateInstanceStatus', status: 'UNFREEZE' };
const release: Command = { activity: 'releaseInstance', orderId: 'o-9' };
const renew: Command = {
  activity: 'refreshInstance',
  scene: 'RENEWAL',
  orderId: 'o-2',
  orderLineId: 'o-2-000001',
  expireTime: '20270101000000',
  productId: 'P2',
};
const upgrade: Command = { activity: 'upgradeInstance', orderId: 'o-3', orderLineId: 'o-3-000001' };

describe('instance state machine', () => {
  const transitions: Array<[InstanceState, Command, InstanceState | 'unchanged']> = [
    ['ACTIVE', freeze, 'FROZEN'],
    ['FROZEN', freeze, 'unchanged'],
    ['FROZEN', unfreeze, 'ACTIVE'],
    ['ACTIVE', unfreeze, 'unchanged'],
    ['PROVISIONING', freeze, 'FROZEN'],
    ['ACTIVE', release, 'RELEASED'],
    ['FROZEN', release, 'RELEASED'],
    ['PROVISIONING', release, 'RELEASED'],
    ['RELEASED', release, 'unchanged'],
    ['RELEASED', freeze, 'unchanged'],
    ['RELEASED', unfreeze, 'unchanged'],
    ['RELEASED', renew, 'unchanged'],
    ['RELEASED', upgrade, 'unchanged'],
    ['ACTIVE', renew, 'ACTIVE'],
    ['FROZEN', renew, 'FROZEN'],
    ['ACTIVE', upgrade, 'ACTIVE'],
  ];
  for (const [from, command, to] of transitions) {
    it(`${from} + ${command.activity}${'status' in command ? ` ${command.status}` : ''} → ${to}`, () => {
      const decision = decide(instanceIn(from), command, LATER);
      if (to === 'unchanged') {
        expect(decision.outcome).toBe('unchanged');
      } else {
        expect(decision.outcome).toBe('changed');
        if (decision.outcome === 'changed') {
          expect(decision.next.state).toBe(to);
          expect(decision.next.version).toBe(2);
          expect(decision.entry).toMatchObject({ actor: 'marketplace', version: 2, from, to, at: LATER, activity: command.activity });
        }
      }
    });
  }

  it('a renewal applies expireTime and productId and records them with the scene', () => {
    const decision = decide(instanceIn('ACTIVE'), renew, LATER);
    expect(decision).toMatchObject({
      outcome: 'changed',
      next: { expireTime: '20270101000000', productId: 'P2', updatedAt: LATER },
      entry: { event: 'instance.renewed', scene: 'RENEWAL', orderId: 'o-2', changes: { expireTime: '20270101000000', productId: 'P2' } },
    });
  });

  it('unfreezing an instance that never got appInfo returns it to PROVISIONING', () => {
    const frozen = instanceIn('FROZEN');
    delete frozen.appInfo;
    expect(decide(frozen, unfreeze, LATER)).toMatchObject({ outcome: 'changed', next: { state: 'PROVISIONING' } });
  });

  it('does not mutate its input', () => {
    const before = instanceIn('ACTIVE');
    const copy = structuredClone(before);
    decide(before, release, LATER);
    expect(before).toEqual(copy);
  });

  it('keys order-carrying commands and leaves state-idempotent ones unkeyed', () => {
    expect(idempotencyKey(renew)).toBe('refreshInstance#o-2#RENEWAL');
    expect(idempotencyKey(upgrade)).toBe('upgradeInstance#o-3');
    expect(idempotencyKey(freeze)).toBeUndefined();
    expect(idempotencyKey(release)).toBeUndefined();
  });
});

describe('appInfo templates', () => {
  it('fills and URL-encodes placeholders, leaves unknown ones, and caps URLs at 512', () => {
    const info = appInfoFromTemplates(
      { frontEndUrl: 'https://app/t/{instanceId}?o={orderId}&x={unknown}', adminUrl: `https://admin/${'a'.repeat(600)}`, memo: 'hi' },
      { instanceId: 'a/b', orderId: 'o 1', orderLineId: 'l' },
    );
    expect(info.frontEndUrl).toBe('https://app/t/a%2Fb?o=o%201&x={unknown}');
    expect(info.adminUrl).toHaveLength(512);
    expect(info.memo).toBe('hi');
    expect(info.userName).toBeUndefined();
  });
});
