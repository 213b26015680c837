import { describe, expect, it } from 'vitest';
import { parseV1Activity, V1_ACTIVITIES } from '#lib/koogallery/v1Activities.ts';

/** The legacy V1 activities (spec §6) as the V2 requests they stand for (lib/koogallery/v1Activities.ts). */

const EXPIRE = '20301231235959';

describe('V1 → V2 mapping', () => {
  it('newInstance takes the first order line when V1 sends none, and keeps businessId and testFlag', () => {
    // Prepare
    const params = {
      activity: 'newInstance',
      orderId: 'CS1',
      businessId: 'biz-1',
      testFlag: '1',
      customerId: 'c',
      mobilePhone: 'x',
      email: 'y',
    };

    // Act
    const parsed = parseV1Activity(params);

    // Assess: the contact fields are not part of the request at all
    expect(parsed).toEqual({
      ok: true,
      request: { activity: 'newInstance', orderId: 'CS1', orderLineId: 'CS1-000001', businessId: 'biz-1', testFlag: '1' },
    });
  });

  it('newInstance keeps an explicit orderLineId', () => {
    const parsed = parseV1Activity({ activity: 'newInstance', orderId: 'CS1', orderLineId: 'CS1-000002', businessId: 'biz-1' });
    expect(parsed).toMatchObject({ ok: true, request: { orderLineId: 'CS1-000002' } });
  });

  it('refreshInstance is a RENEWAL by default, on the renewal order’s first line', () => {
    const parsed = parseV1Activity({ activity: 'refreshInstance', instanceId: 'i-1', orderId: 'CS2', productId: 'P2', expireTime: EXPIRE });
    expect(parsed).toEqual({
      ok: true,
      request: {
        activity: 'refreshInstance',
        scene: 'RENEWAL',
        instanceId: 'i-1',
        orderId: 'CS2',
        orderLineId: 'CS2-000001',
        productId: 'P2',
        expireTime: EXPIRE,
      },
    });
  });

  it('refreshInstance with trialFlag=1 is TRIAL_TO_FORMAL; trialFlag=0 stays RENEWAL', () => {
    const base = { activity: 'refreshInstance', instanceId: 'i-1', orderId: 'CS2', expireTime: EXPIRE };
    expect(parseV1Activity({ ...base, trialFlag: '1' })).toMatchObject({ ok: true, request: { scene: 'TRIAL_TO_FORMAL' } });
    expect(parseV1Activity({ ...base, trialFlag: '0' })).toMatchObject({ ok: true, request: { scene: 'RENEWAL' } });
  });

  it('expireInstance is a FREEZE', () => {
    expect(parseV1Activity({ activity: 'expireInstance', instanceId: 'i-1', testFlag: '0' })).toEqual({
      ok: true,
      request: { activity: 'updateInstanceStatus', instanceId: 'i-1', status: 'FREEZE', testFlag: '0' },
    });
  });

  it('instanceStatus NORMAL is an UNFREEZE and FREEZE a FREEZE', () => {
    expect(parseV1Activity({ activity: 'instanceStatus', instanceId: 'i-1', instanceStatus: 'NORMAL' })).toEqual({
      ok: true,
      request: { activity: 'updateInstanceStatus', instanceId: 'i-1', status: 'UNFREEZE' },
    });
    expect(parseV1Activity({ activity: 'instanceStatus', instanceId: 'i-1', instanceStatus: 'FREEZE' })).toEqual({
      ok: true,
      request: { activity: 'updateInstanceStatus', instanceId: 'i-1', status: 'FREEZE' },
    });
  });

  it('releaseInstance carries the order only when V1 sends one', () => {
    expect(parseV1Activity({ activity: 'releaseInstance', instanceId: 'i-1' })).toEqual({
      ok: true,
      request: { activity: 'releaseInstance', instanceId: 'i-1' },
    });
    expect(parseV1Activity({ activity: 'releaseInstance', instanceId: 'i-1', orderId: 'CS3' })).toEqual({
      ok: true,
      request: { activity: 'releaseInstance', instanceId: 'i-1', orderId: 'CS3', orderLineId: 'CS3-000001' },
    });
  });

  it('upgrade is an upgradeInstance for the upgrade order', () => {
    expect(
      parseV1Activity({ activity: 'upgrade', instanceId: 'i-1', orderId: 'CS4', skuCode: 'sku-2', productId: 'P4', amount: '2' }),
    ).toEqual({
      ok: true,
      request: { activity: 'upgradeInstance', instanceId: 'i-1', orderId: 'CS4', orderLineId: 'CS4-000001' },
    });
  });

  it('queryInstance is a queryInstance (a list of ids)', () => {
    expect(parseV1Activity({ activity: 'queryInstance', instanceId: 'i-1,i-2' })).toEqual({
      ok: true,
      request: { activity: 'queryInstance', instanceId: ['i-1', 'i-2'] },
    });
  });

  it('every V1 activity is mapped', () => {
    const minimal: Record<(typeof V1_ACTIVITIES)[number], Record<string, string>> = {
      newInstance: { orderId: 'o', businessId: 'b' },
      refreshInstance: { instanceId: 'i', orderId: 'o', expireTime: EXPIRE },
      expireInstance: { instanceId: 'i' },
      releaseInstance: { instanceId: 'i' },
      upgrade: { instanceId: 'i', orderId: 'o' },
      instanceStatus: { instanceId: 'i', instanceStatus: 'FREEZE' },
      queryInstance: { instanceId: 'i' },
    };
    for (const activity of V1_ACTIVITIES) expect(parseV1Activity({ activity, ...minimal[activity] }).ok, activity).toBe(true);
  });
});

describe('V1 refusals name the V1 field', () => {
  const cases: Array<[string, Record<string, string>, string | RegExp]> = [
    ['no activity', { orderId: 'o' }, 'activity is required'],
    ['an unknown activity', { activity: 'deleteEverything' }, 'unknown activity'],
    ['a V2-only activity name', { activity: 'updateInstanceStatus', instanceId: 'i', status: 'FREEZE' }, 'unknown activity'],
    ['a License-code activity', { activity: 'refreshLicenseCode', license: 'PL1' }, 'unknown activity'],
    ['newInstance without businessId', { activity: 'newInstance', orderId: 'o' }, 'businessId is required'],
    ['newInstance without orderId', { activity: 'newInstance', businessId: 'b' }, 'orderId is required'],
    [
      'newInstance with an overlong businessId',
      { activity: 'newInstance', orderId: 'o', businessId: 'b'.repeat(65) },
      'businessId must be at most 64 characters',
    ],
    ['refreshInstance without expireTime', { activity: 'refreshInstance', instanceId: 'i', orderId: 'o' }, 'expireTime is required'],
    [
      'refreshInstance with a malformed expireTime',
      { activity: 'refreshInstance', instanceId: 'i', orderId: 'o', expireTime: '2030-01-01' },
      'expireTime must be yyyyMMddHHmmss',
    ],
    [
      'refreshInstance with an impossible date',
      { activity: 'refreshInstance', instanceId: 'i', orderId: 'o', expireTime: '20300230000000' },
      'expireTime is not a valid date and time',
    ],
    ['expireInstance without instanceId', { activity: 'expireInstance' }, 'instanceId is required'],
    [
      'instanceStatus PAUSE',
      { activity: 'instanceStatus', instanceId: 'i', instanceStatus: 'PAUSE' },
      'instanceStatus must be FREEZE or NORMAL',
    ],
    [
      'instanceStatus in lower case',
      { activity: 'instanceStatus', instanceId: 'i', instanceStatus: 'normal' },
      'instanceStatus must be FREEZE or NORMAL',
    ],
    [
      'instanceStatus empty',
      { activity: 'instanceStatus', instanceId: 'i', instanceStatus: '' },
      'instanceStatus must be FREEZE or NORMAL',
    ],
    ['instanceStatus missing', { activity: 'instanceStatus', instanceId: 'i' }, 'instanceStatus is required'],
    ['upgrade without orderId', { activity: 'upgrade', instanceId: 'i' }, 'orderId is required'],
    ['queryInstance without instanceId', { activity: 'queryInstance' }, 'instanceId is required'],
    ['a testFlag other than 0/1', { activity: 'queryInstance', instanceId: 'i', testFlag: '2' }, /^testFlag /],
  ];
  for (const [name, params, reason] of cases) {
    it(`refuses ${name}`, () => {
      // Act
      const parsed = parseV1Activity(params);

      // Assess
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        if (typeof reason === 'string') expect(parsed.reason).toBe(reason);
        else expect(parsed.reason).toMatch(reason);
      }
    });
  }
});
