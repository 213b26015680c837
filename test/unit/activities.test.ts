import { describe, expect, it } from 'vitest';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { parseActivity } from '#lib/koogallery/activities.ts';
import { answer } from '#lib/koogallery/resultCodes.ts';

const newInstance = { activity: 'newInstance', orderId: 'CS1', orderLineId: 'CS1-000001', businessId: 'b-1', testFlag: '0' };

describe('parseActivity', () => {
  it('accepts every activity with its documented fields', () => {
    const bodies: JsonObject[] = [
      newInstance,
      { activity: 'queryInstance', instanceId: 'a,b' },
      { activity: 'refreshInstance', scene: 'RENEWAL', orderId: 'o', orderLineId: 'l', instanceId: 'i', expireTime: '20251231235959' },
      { activity: 'updateInstanceStatus', instanceId: 'i', status: 'FREEZE' },
      { activity: 'releaseInstance', instanceId: 'i' },
      { activity: 'upgradeInstance', instanceId: 'i', orderId: 'o', orderLineId: 'l' },
      { activity: 'changeInstanceCheck', instanceId: 'i', productInfo: { productId: 'p' } },
      { activity: 'changeInstanceCheck', instanceId: 'i', productInfo: '{"productId":"p"}' },
    ];
    for (const body of bodies) expect(parseActivity(body), JSON.stringify(body)).toMatchObject({ ok: true });
  });

  it('treats null as absent and ignores unknown extra fields', () => {
    const parsed = parseActivity({ ...newInstance, testFlag: null, extra: 'x' });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.request.testFlag).toBeUndefined();
      expect(parsed.request).not.toHaveProperty('extra');
    }
  });

  it('splits, trims and de-duplicates queryInstance ids', () => {
    const parsed = parseActivity({ activity: 'queryInstance', instanceId: 'a, b,a' });
    expect(parsed).toMatchObject({ ok: true, request: { instanceId: ['a', 'b'] } });
  });

  const refusals: Array<[string, Record<string, unknown>, string]> = [
    ['missing activity', { orderId: 'x' }, 'activity is required'],
    ['unknown activity', { activity: 'dropTables' }, 'unknown activity'],
    ['prototype key as activity', { activity: 'constructor' }, 'unknown activity'],
    ['missing field', { ...newInstance, businessId: undefined }, 'businessId is required'],
    ['empty field', { ...newInstance, orderId: '  ' }, 'orderId must not be empty'],
    ['number instead of string', { ...newInstance, orderId: 12 }, 'orderId has the wrong type'],
    ['over-long field', { ...newInstance, orderLineId: 'x'.repeat(65) }, 'orderLineId must be at most 64 characters'],
    ['bad testFlag', { ...newInstance, testFlag: '2' }, 'testFlag'],
    ['blank id list', { activity: 'queryInstance', instanceId: '' }, 'instanceId'],
    ['id list with a blank', { activity: 'queryInstance', instanceId: 'a,,b' }, 'without blanks'],
    ['101 ids', { activity: 'queryInstance', instanceId: Array.from({ length: 101 }, (_, i) => `i${i}`).join(',') }, 'at most 100'],
    [
      'bad expireTime',
      { activity: 'refreshInstance', scene: 'RENEWAL', orderId: 'o', orderLineId: 'l', instanceId: 'i', expireTime: '2025-01-01' },
      'expireTime must be yyyyMMddHHmmss',
    ],
    [
      'impossible date',
      { activity: 'refreshInstance', scene: 'RENEWAL', orderId: 'o', orderLineId: 'l', instanceId: 'i', expireTime: '20250230120000' },
      'not a valid date',
    ],
    ['bad status', { activity: 'updateInstanceStatus', instanceId: 'i', status: 'PAUSE' }, 'status'],
    ['productInfo not an object', { activity: 'changeInstanceCheck', instanceId: 'i', productInfo: '[1]' }, 'productInfo'],
    ['missing productInfo', { activity: 'changeInstanceCheck', instanceId: 'i' }, 'productInfo is required'],
    [
      'a __proto__ member',
      JSON.parse('{"activity":"queryInstance","instanceId":"i","__proto__":"x"}'),
      'body has a member named __proto__',
    ],
    [
      'a nested __proto__ member',
      JSON.parse('{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{"skuCode":"s","__proto__":{"productId":"p"}}}'),
      'productInfo has a member named __proto__',
    ],
    [
      'a lone surrogate in a key',
      JSON.parse('{"activity":"queryInstance","instanceId":"i","x":{"\\ud800":"y"}}'),
      'x is not valid Unicode text',
    ],
    ['a lone surrogate in a value', { activity: 'queryInstance', instanceId: 'i\ud800' }, 'instanceId is not valid Unicode text'],
  ];
  for (const [name, body, reason] of refusals) {
    it(`refuses ${name}`, () => {
      const parsed = parseActivity(body as never);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toContain(reason);
    });
  }

  it('builds answers whose message stays within 255 characters and hides internal detail', () => {
    expect(answer('000002', 'x'.repeat(400)).resultMsg).toHaveLength(255);
    expect(answer('000005', 'stack trace here').resultMsg).toBe('other inner error');
    expect(answer('000000', undefined, { instanceId: 'i' })).toEqual({ resultCode: '000000', resultMsg: 'success.', instanceId: 'i' });
  });
});

describe('body nesting', () => {
  it('finds bodies nested deeper than the limit in one scan, ignoring brackets inside strings', async () => {
    const { nestedDeeperThan, MAX_JSON_DEPTH } = await import('#lib/koogallery/canonicalJson.ts');
    const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(nestedDeeperThan(`{"a":${nested(100_000)}}`)).toBe(true);
    expect(nestedDeeperThan(JSON.stringify({ s: '[[[[[[[[[['.repeat(100), q: 'a\\"[[[' }))).toBe(false);
    expect(nestedDeeperThan('{"activity":"newInstance","productInfo":{"skuCode":"x"}}')).toBe(false);
  });
});
