import { describe, expect, it } from 'vitest';
import type { Instance, InstanceState } from '#lib/instances/model.ts';
import { csvSet, isPackage, meteringOf, parseUsageProducts, type MeteringSettings } from '#lib/usage/metering.ts';
import {
  checkReport,
  MAX_REPORTS_PER_REQUEST,
  parseReport,
  REJECTIONS,
  UsageIngestRequestSchema,
  type RejectionCode,
  type UsageReport,
} from '#lib/usage/reports.ts';

/** Usage reports, pure: which instances are metered, a report's shape, and the rules it must pass. */

const HOUR = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.parse('2026-11-20T08:30:00.000Z');

const SETTINGS: MeteringSettings = {
  products: parseUsageProducts('OFFI-HOURLY,OFFI-DAILY:daily'),
  chargingModes: csvSet('ON_DEMAND,ON_DEMAND_PACKAGE'),
  packageChargingModes: csvSet('ON_DEMAND_PACKAGE'),
};

function instance(overrides: Partial<Instance> = {}): Instance {
  return {
    instanceId: 'inst-1',
    orderId: 'CS2611200800001',
    orderLineId: 'CS2611200800001-000001',
    businessId: 'biz-1',
    state: 'ACTIVE',
    test: false,
    productId: 'OFFI-OTHER',
    order: { orderId: 'CS2611200800001', orderLineId: 'CS2611200800001-000001', chargingMode: 'ON_DEMAND', productId: 'OFFI-OTHER' },
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    version: 1,
    ...overrides,
  };
}

/** An instance of a product listed as daily, with no metered charging mode: only the list makes it metered. */
const dailyInstance = (overrides: Partial<Instance> = {}): Instance =>
  instance({
    productId: 'OFFI-DAILY',
    order: { orderId: 'CS2611200800001', orderLineId: 'CS2611200800001-000001', chargingMode: 'PERIOD', productId: 'OFFI-DAILY' },
    ...overrides,
  });

const report = (overrides: Partial<UsageReport> = {}): UsageReport => ({
  instanceId: 'inst-1',
  beginTime: '2026-11-20T07:00:00Z',
  endTime: '2026-11-20T08:00:00Z',
  value: '12.5',
  ...overrides,
});

function rejectionOf(result: ReturnType<typeof checkReport> | ReturnType<typeof parseReport>): { code: RejectionCode; message: string } {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('accepted');
  return result.rejection;
}

describe('parseUsageProducts', () => {
  it('reads product ids, hourly unless :daily', () => {
    expect([...parseUsageProducts('A,B:daily,C:hourly')]).toEqual([
      ['A', 'hourly'],
      ['B', 'daily'],
      ['C', 'hourly'],
    ]);
  });

  it('ignores whitespace around entries and empty entries', () => {
    expect([...parseUsageProducts(' A , B:daily ,, ')]).toEqual([
      ['A', 'hourly'],
      ['B', 'daily'],
    ]);
  });

  it('is empty when unset or blank', () => {
    expect(parseUsageProducts(undefined).size).toBe(0);
    expect(parseUsageProducts('').size).toBe(0);
    expect(parseUsageProducts(' , ').size).toBe(0);
  });

  it.each([
    ['an unknown granularity', 'A,B:weekly', 'B:weekly'],
    ['an empty granularity', 'A:', 'A:'],
    ['no product id', ':daily', ':daily'],
    ['a space inside an entry', 'A B', 'A B'],
    ['a space before the granularity', 'A :daily', 'A :daily'],
    ['two granularities', 'A:daily:hourly', 'A:daily:hourly'],
    ['an upper-case granularity', 'A:DAILY', 'A:DAILY'],
    ['a 65-character id', 'x'.repeat(65), 'x'.repeat(65)],
  ])('throws naming the entry with %s', (_, value, entry) => {
    expect(() => parseUsageProducts(value)).toThrow(`USAGE_PRODUCTS entry "${entry}"`);
  });
});

describe('csvSet', () => {
  it('splits on commas, trims and drops empty entries', () => {
    expect([...csvSet(' ON_DEMAND , ,ON_DEMAND_PACKAGE,')]).toEqual(['ON_DEMAND', 'ON_DEMAND_PACKAGE']);
    expect(csvSet(undefined).size).toBe(0);
  });
});

describe('meteringOf', () => {
  it('is hourly for a metered charging mode', () => {
    expect(meteringOf(instance(), SETTINGS)).toBe('hourly');
    expect(meteringOf(instance({ order: { orderId: 'o', orderLineId: 'l', chargingMode: 'ON_DEMAND_PACKAGE' } }), SETTINGS)).toBe('hourly');
  });

  it('follows the product list first, whatever the charging mode', () => {
    expect(meteringOf(dailyInstance(), SETTINGS)).toBe('daily');
    expect(
      meteringOf(
        dailyInstance({ order: { orderId: 'o', orderLineId: 'l', chargingMode: 'ON_DEMAND', productId: 'OFFI-DAILY' } }),
        SETTINGS,
      ),
    ).toBe('daily');
    expect(
      meteringOf(
        instance({ productId: 'OFFI-HOURLY', order: { orderId: 'o', orderLineId: 'l', chargingMode: 'PERIOD', productId: 'OFFI-HOURLY' } }),
        SETTINGS,
      ),
    ).toBe('hourly');
  });

  it('takes the product from the order, else from the instance', () => {
    // An upgrade replaced the order's terms: the order's product counts.
    expect(
      meteringOf(
        instance({ productId: 'OFFI-DAILY', order: { orderId: 'o', orderLineId: 'l', chargingMode: 'PERIOD', productId: 'OFFI-OTHER' } }),
        SETTINGS,
      ),
    ).toBe(undefined);
    expect(
      meteringOf(instance({ productId: 'OFFI-DAILY', order: { orderId: 'o', orderLineId: 'l', chargingMode: 'PERIOD' } }), SETTINGS),
    ).toBe('daily');
    expect(meteringOf(instance({ productId: 'OFFI-DAILY', order: undefined }), SETTINGS)).toBe('daily');
  });

  it('is undefined when neither the product nor the charging mode is metered', () => {
    expect(
      meteringOf(instance({ order: { orderId: 'o', orderLineId: 'l', chargingMode: 'PERIOD', productId: 'OFFI-OTHER' } }), SETTINGS),
    ).toBeUndefined();
    expect(meteringOf(instance({ order: { orderId: 'o', orderLineId: 'l', productId: 'OFFI-OTHER' } }), SETTINGS)).toBeUndefined();
    expect(meteringOf(instance({ order: undefined }), SETTINGS)).toBeUndefined();
    expect(meteringOf(instance({ order: undefined, productId: undefined }), SETTINGS)).toBeUndefined();
  });

  it('is case-sensitive about charging modes', () => {
    expect(meteringOf(instance({ order: { orderId: 'o', orderLineId: 'l', chargingMode: 'on_demand' } }), SETTINGS)).toBeUndefined();
  });
});

describe('isPackage', () => {
  it('is true for a package charging mode only', () => {
    expect(isPackage(instance({ order: { orderId: 'o', orderLineId: 'l', chargingMode: 'ON_DEMAND_PACKAGE' } }), SETTINGS)).toBe(true);
    expect(isPackage(instance(), SETTINGS)).toBe(false);
    expect(isPackage(dailyInstance(), SETTINGS)).toBe(false);
    expect(isPackage(instance({ order: undefined }), SETTINGS)).toBe(false);
  });
});

describe('parseReport', () => {
  it('accepts a report with and without clientRef', () => {
    expect(parseReport(report())).toEqual({ ok: true, report: report() });
    expect(parseReport(report({ clientRef: 'batch-7:row_12.a' }))).toEqual({ ok: true, report: report({ clientRef: 'batch-7:row_12.a' }) });
  });

  it.each([
    ['a 128-character clientRef', 'r'.repeat(128)],
    ['every allowed character', 'AZaz09._:-'],
  ])('accepts %s', (_, clientRef) => {
    expect(parseReport(report({ clientRef })).ok).toBe(true);
  });

  it.each([
    ['an empty clientRef', ''],
    ['a 129-character clientRef', 'r'.repeat(129)],
    ['a space in clientRef', 'row 12'],
    ['a slash in clientRef', 'batch/12'],
    ['a non-ASCII clientRef', 'zeile-ü'],
    ['a newline after clientRef', 'row-12\n'],
  ])('refuses %s as invalid, naming clientRef', (_, clientRef) => {
    const rejection = rejectionOf(parseReport(report({ clientRef })));

    expect(rejection.code).toBe('invalid');
    expect(rejection.message).toContain('clientRef');
  });

  it.each<[string, unknown, string]>([
    ['a missing instanceId', { beginTime: '2026-11-20T07:00:00Z', endTime: '2026-11-20T08:00:00Z', value: '1' }, 'instanceId'],
    ['an empty instanceId', report({ instanceId: '' }), 'instanceId'],
    ['a 65-character instanceId', report({ instanceId: 'i'.repeat(65) }), 'instanceId'],
    ['a number as value', { ...report(), value: 12.5 }, 'value'],
    ['a value over 32 characters', report({ value: '1'.repeat(33) }), 'value'],
    ['a number as beginTime', { ...report(), beginTime: NOW }, 'beginTime'],
    ['an unknown field', { ...report(), units: '1' }, 'units'],
    ['an array', [report()], 'record'],
    ['null', null, 'record'],
    ['a string', 'inst-1,2026-11-20T07:00:00Z,2026-11-20T08:00:00Z,1', 'record'],
  ])('refuses %s as invalid', (_, raw, where) => {
    const rejection = rejectionOf(parseReport(raw));

    expect(rejection.code).toBe('invalid');
    expect(rejection.message).toContain(REJECTIONS.invalid);
    expect(rejection.message).toContain(where);
  });
});

describe('UsageIngestRequestSchema', () => {
  it(`takes 1 to ${MAX_REPORTS_PER_REQUEST} records and nothing else`, () => {
    expect(UsageIngestRequestSchema.safeParse({ records: [report()] }).success).toBe(true);
    expect(UsageIngestRequestSchema.safeParse({ records: Array.from({ length: MAX_REPORTS_PER_REQUEST }, () => report()) }).success).toBe(
      true,
    );
    expect(UsageIngestRequestSchema.safeParse({ records: [] }).success).toBe(false);
    expect(
      UsageIngestRequestSchema.safeParse({ records: Array.from({ length: MAX_REPORTS_PER_REQUEST + 1 }, () => report()) }).success,
    ).toBe(false);
    expect(UsageIngestRequestSchema.safeParse({ records: [report()], dryRun: true }).success).toBe(false);
  });
});

describe('checkReport', () => {
  it('accepts a closed hourly window of an ACTIVE instance, in units of 0.0001', () => {
    expect(checkReport(report(), instance(), SETTINGS, NOW)).toEqual({
      ok: true,
      report: {
        instanceId: 'inst-1',
        beginMs: Date.parse('2026-11-20T07:00:00Z'),
        endMs: Date.parse('2026-11-20T08:00:00Z'),
        granularity: 'hourly',
        units: 125_000n,
      },
    });
  });

  it('accepts a FROZEN instance (usage from before the freeze still counts)', () => {
    expect(checkReport(report(), instance({ state: 'FROZEN' }), SETTINGS, NOW).ok).toBe(true);
  });

  it('keeps the clientRef', () => {
    const result = checkReport(report({ clientRef: 'row-1' }), instance(), SETTINGS, NOW);

    expect(result.ok && result.report.clientRef).toBe('row-1');
  });

  it('accepts the current, still open window and times with milliseconds', () => {
    expect(checkReport(report({ beginTime: '2026-11-20T08:00:00Z', endTime: '2026-11-20T09:00:00Z' }), instance(), SETTINGS, NOW).ok).toBe(
      true,
    );
    expect(
      checkReport(report({ beginTime: '2026-11-20T07:00:00.000Z', endTime: '2026-11-20T08:00:00.000Z' }), instance(), SETTINGS, NOW).ok,
    ).toBe(true);
  });

  it('accepts a whole UTC day for a daily product', () => {
    const result = checkReport(
      report({ beginTime: '2026-11-19T00:00:00Z', endTime: '2026-11-20T00:00:00Z' }),
      dailyInstance(),
      SETTINGS,
      NOW,
    );

    expect(result.ok && result.report.granularity).toBe('daily');
    expect(result.ok && result.report.endMs - result.report.beginMs).toBe(DAY);
  });

  it('refuses invalidValue before looking at the instance', () => {
    for (const value of ['0', '-1', '1e3', '1.23456', '', ' 1', '１']) {
      const rejection = rejectionOf(checkReport(report({ value }), undefined, SETTINGS, NOW));
      expect(rejection.code, value).toBe('invalidValue');
      expect(rejection.message).toContain(JSON.stringify(value));
    }
  });

  it('refuses unknownInstance, naming it', () => {
    const rejection = rejectionOf(checkReport(report({ instanceId: 'nope' }), undefined, SETTINGS, NOW));

    expect(rejection).toEqual({ code: 'unknownInstance', message: `${REJECTIONS.unknownInstance}: nope` });
  });

  it('refuses notMetered', () => {
    const periodic = instance({ order: { orderId: 'o', orderLineId: 'l', chargingMode: 'PERIOD', productId: 'OFFI-OTHER' } });

    expect(rejectionOf(checkReport(report(), periodic, SETTINGS, NOW))).toEqual({ code: 'notMetered', message: REJECTIONS.notMetered });
  });

  it('refuses test (debug traffic), whatever its state', () => {
    expect(rejectionOf(checkReport(report(), instance({ test: true }), SETTINGS, NOW)).code).toBe('test');
    expect(rejectionOf(checkReport(report(), instance({ test: true, state: 'RELEASED' }), SETTINGS, NOW)).code).toBe('test');
  });

  it('refuses released', () => {
    expect(rejectionOf(checkReport(report(), instance({ state: 'RELEASED' }), SETTINGS, NOW))).toEqual({
      code: 'released',
      message: REJECTIONS.released,
    });
  });

  it.each<InstanceState>(['PROVISIONING', 'PROVISIONING_FAILED'])('refuses notProvisioned for %s', (state) => {
    expect(rejectionOf(checkReport(report(), instance({ state }), SETTINGS, NOW)).code).toBe('notProvisioned');
  });

  it.each<[string, Partial<UsageReport>]>([
    ['an offset instead of Z', { beginTime: '2026-11-20T07:00:00+00:00', endTime: '2026-11-20T08:00:00+00:00' }],
    ['no zone', { beginTime: '2026-11-20T07:00:00', endTime: '2026-11-20T08:00:00' }],
    ['a bad endTime only', { endTime: '2026-11-20T08:00:00+00:00' }],
    ['the marketplace format', { beginTime: '20261120T070000Z', endTime: '20261120T080000Z' }],
    ['a date that does not exist', { beginTime: '2026-11-31T07:00:00Z', endTime: '2026-11-31T08:00:00Z' }],
    ['a beginTime not on the hour', { beginTime: '2026-11-20T07:30:00Z', endTime: '2026-11-20T08:30:00Z' }],
    ['a beginTime a millisecond past the hour', { beginTime: '2026-11-20T07:00:00.001Z', endTime: '2026-11-20T08:00:00.001Z' }],
    ['an endTime half an hour after beginTime', { endTime: '2026-11-20T07:30:00Z' }],
    ['an endTime two hours after beginTime', { endTime: '2026-11-20T09:00:00Z' }],
    ['an endTime equal to beginTime', { endTime: '2026-11-20T07:00:00Z' }],
    ['an endTime before beginTime', { endTime: '2026-11-20T06:00:00Z' }],
    ['a day for an hourly product', { beginTime: '2026-11-19T00:00:00Z', endTime: '2026-11-20T00:00:00Z' }],
  ])('refuses invalidTime: %s', (_, times) => {
    const rejection = rejectionOf(checkReport(report(times), instance(), SETTINGS, NOW));

    expect(rejection.code).toBe('invalidTime');
    expect(rejection.message).toContain(REJECTIONS.invalidTime);
  });

  it.each<[string, Partial<UsageReport>]>([
    ['an hour', { beginTime: '2026-11-19T07:00:00Z', endTime: '2026-11-19T08:00:00Z' }],
    ['a day not starting at UTC midnight', { beginTime: '2026-11-18T16:00:00Z', endTime: '2026-11-19T16:00:00Z' }],
    ['23 hours', { beginTime: '2026-11-19T00:00:00Z', endTime: '2026-11-19T23:00:00Z' }],
    ['two days', { beginTime: '2026-11-18T00:00:00Z', endTime: '2026-11-20T00:00:00Z' }],
  ])('refuses invalidTime for a daily product: %s', (_, times) => {
    const rejection = rejectionOf(checkReport(report(times), dailyInstance(), SETTINGS, NOW));

    expect(rejection.code).toBe('invalidTime');
    expect(rejection.message).toMatch(/day/);
  });

  it('refuses future when the window begins after now', () => {
    const rejection = rejectionOf(
      checkReport(report({ beginTime: '2026-11-20T09:00:00Z', endTime: '2026-11-20T10:00:00Z' }), instance(), SETTINGS, NOW),
    );

    expect(rejection).toEqual({ code: 'future', message: `${REJECTIONS.future}: 2026-11-20T09:00:00.000Z` });
  });

  it('accepts a window beginning exactly now', () => {
    const at = Date.parse('2026-11-20T08:00:00Z');

    expect(checkReport(report({ beginTime: '2026-11-20T08:00:00Z', endTime: '2026-11-20T09:00:00Z' }), instance(), SETTINGS, at).ok).toBe(
      true,
    );
    expect(
      rejectionOf(checkReport(report({ beginTime: '2026-11-20T08:00:00Z', endTime: '2026-11-20T09:00:00Z' }), instance(), SETTINGS, at - 1))
        .code,
    ).toBe('future');
  });

  it('refuses tooOld beyond 21 days and accepts exactly 21 days', () => {
    const begin = Date.parse('2026-10-30T07:00:00Z');
    const times = { beginTime: '2026-10-30T07:00:00Z', endTime: '2026-10-30T08:00:00Z' };

    expect(checkReport(report(times), instance(), SETTINGS, begin + 21 * DAY).ok).toBe(true);
    expect(rejectionOf(checkReport(report(times), instance(), SETTINGS, begin + 21 * DAY + 1))).toEqual({
      code: 'tooOld',
      message: `${REJECTIONS.tooOld}: 2026-10-30T07:00:00.000Z`,
    });
    expect(rejectionOf(checkReport(report(times), instance(), SETTINGS, begin + 30 * DAY)).code).toBe('tooOld');
    expect(checkReport(report(times), instance(), SETTINGS, begin + 21 * DAY - HOUR).ok).toBe(true);
  });

  it('has a test for every rejection code', () => {
    // parseReport gives `invalid`; checkReport gives every other code (each covered above).
    expect(Object.keys(REJECTIONS).sort()).toEqual(
      [
        'invalid',
        'invalidTime',
        'invalidValue',
        'unknownInstance',
        'notMetered',
        'test',
        'released',
        'notProvisioned',
        'tooOld',
        'future',
      ].sort(),
    );
  });
});
