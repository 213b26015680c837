import { describe, expect, it } from 'vitest';
import type { SellerActionRecord } from '#lib/audit/records.ts';
import { actorIdOf, buildSellerActionRecord, outcomeOf, recordSellerAction, type SellerActionInput } from '#lib/audit/sellerActions.ts';
import { actionName } from '#lib/seller-api/defineRoute.ts';
import { sellerRoutes } from '#lib/seller-api/allRoutes.ts';

/** Building, checking and writing seller action records: ids only, never a secret. */

const NOW = Date.parse('2026-11-20T08:30:00.123Z');
const key = { kind: 'key', keyId: '0123456789ab', name: 'console' } as const;

const input = (overrides: Partial<SellerActionInput> = {}): SellerActionInput => ({
  actor: key,
  action: 'statements.run',
  target: { period: '2026-11' },
  result: { outcome: 'ok', status: 202 },
  ...overrides,
});

describe('buildSellerActionRecord', () => {
  it('builds the record with the time, a correlation id, the channel and the actor id', () => {
    const record = buildSellerActionRecord(input({ correlationId: 'c-1', latencyMs: 12 }), NOW);
    expect(record).toEqual({
      at: '2026-11-20T08:30:00.123Z',
      correlationId: 'c-1',
      channel: 'sellerApi',
      actor: key,
      actorId: '0123456789ab',
      action: 'statements.run',
      target: { period: '2026-11' },
      result: { outcome: 'ok', status: 202 },
      latencyMs: 12,
    });
  });

  it('records an operator with its principal, on the operator channel, with a new correlation id', () => {
    const arn = 'arn:aws:sts::123456789012:assumed-role/Operators/alice';
    const a = buildSellerActionRecord(input({ actor: { kind: 'operator', principal: arn }, target: {} }), NOW);
    const b = buildSellerActionRecord(input({ actor: { kind: 'operator', principal: 'local:alice@laptop.local' } }), NOW);
    expect(a).toMatchObject({ channel: 'operator', actorId: arn, target: {} });
    expect(b).toMatchObject({ channel: 'operator', actorId: 'local:alice@laptop.local' });
    expect(a.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.correlationId).not.toBe(b.correlationId);
    expect(buildSellerActionRecord(input({ at: '2026-11-20T10:30:00+02:00' }), NOW).at).toBe('2026-11-20T08:30:00.000Z');
  });

  it.each([
    ['a key id that is not one', { actor: { kind: 'key', keyId: 'kgs_secret', name: 'x' } }],
    ['a principal that is not an ARN or local:user@host', { actor: { kind: 'operator', principal: 'alice' } }],
    ['an action name with spaces', { action: 'statements run' }],
    ['a target name that is not an identifier', { target: { 'a.b': 'x' } }],
    ['nine targets', { target: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`t${i}`, 'x'])) }],
    ['an unknown field (a body)', { body: '{"password":"x"}' }],
    ['an error code with free text', { result: { outcome: 'refused', errorCode: 'the key kgs_abc is revoked' } }],
  ])('refuses %s (TypeError)', (_what, overrides) => {
    expect(() => buildSellerActionRecord({ ...input(), ...overrides } as SellerActionInput, NOW)).toThrow(TypeError);
  });

  it('keeps target values short and free of control characters', () => {
    const record = buildSellerActionRecord(input({ target: { instanceId: `a\nb\u0000${'x'.repeat(400)}` } }), NOW);
    expect(record.target.instanceId).toBe(`a_b_${'x'.repeat(252)}`);
  });

  it('derives outcomes and actor ids', () => {
    expect([200, 202, 399, 400, 404, 429, 500, 503].map(outcomeOf)).toEqual([
      'ok',
      'ok',
      'ok',
      'refused',
      'refused',
      'refused',
      'failed',
      'failed',
    ]);
    expect(actorIdOf({ kind: 'anonymous' })).toBe('anonymous');
    expect(actorIdOf({ kind: 'anonymous', keyId: '0123456789ab' })).toBe('0123456789ab');
  });
});

describe('recordSellerAction', () => {
  it('appends the checked record and answers it; a failed append throws', async () => {
    const appended: SellerActionRecord[] = [];
    const record = await recordSellerAction({ actions: { append: async (r) => void appended.push(r) }, now: () => NOW }, input());
    expect(appended).toEqual([record]);
    await expect(
      recordSellerAction({ actions: { append: () => Promise.reject(new Error('down')) }, now: () => NOW }, input()),
    ).rejects.toThrow('down');
  });
});

describe('action names of the seller API', () => {
  it('every route that changes something has a stable, unique, declared name', () => {
    const mutating = sellerRoutes.filter((r) => r.method !== 'GET');
    expect(mutating.length).toBeGreaterThan(0);
    for (const route of mutating) expect(route.action, `${route.method} ${route.path}`).toMatch(/^[a-z]+(\.[a-z][A-Za-z]*)+$/);
    const names = mutating.map((r) => actionName(r));
    expect(new Set(names).size).toBe(names.length);
  });

  it('defaults to the fixed path segments and the method', () => {
    expect(actionName({ method: 'POST', path: '/seller/things/{thingId}/bulk-copy' })).toBe('things.bulkCopy.post');
    expect(actionName({ method: 'POST', path: '/seller/usage', action: 'usage.report' })).toBe('usage.report');
  });
});
