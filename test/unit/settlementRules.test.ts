import { describe, expect, it } from 'vitest';
import { parseRate } from '#lib/settlement/money.ts';
import type { OrderLineFacts, SettlementSettings, StatementLine, UsageFacts } from '#lib/settlement/model.ts';
import {
  billingPeriod,
  compareLines,
  lineAmounts,
  orderLineEntries,
  statement,
  StatementTotals,
  usageEntries,
} from '#lib/settlement/rules.ts';

/** The settlement rules, one rule at a time (the golden scenarios replay them as stories). */

const SETTINGS: SettlementSettings = {
  timeZone: 'Asia/Shanghai',
  feeShares: { P1: '0.15', U1: '0.2', BAD: '15%' },
  taxRate: '0.06',
  prices: {
    U1: { unitPrice: '0.0125', unit: 'GB', currency: 'CNY' },
    P1: { unitPrice: '2', unit: 'call', currency: 'CNY' },
    BADPRICE: { unitPrice: 'free', unit: 'call', currency: 'CNY' },
  },
};

const facts = (overrides: Partial<OrderLineFacts> = {}): OrderLineFacts => ({
  orderId: 'O1',
  orderLineId: 'O1-1',
  instanceId: 'I1',
  productId: 'P1',
  kind: 'NEW',
  amount: '100.00',
  currency: 'CNY',
  test: false,
  effectiveAt: '2026-03-05T00:00:00Z',
  ...overrides,
});

const order100: StatementLine = {
  lineId: 'ORDER:O1:O1-1',
  kind: 'ORDER',
  orderKind: 'NEW',
  orderId: 'O1',
  orderLineId: 'O1-1',
  instanceId: 'I1',
  productId: 'P1',
  currency: 'CNY',
  at: '2026-03-05T00:00:00Z',
  gross: '100.00',
  fee: '15.00',
  tax: '5.10',
  net: '79.90',
};

/** Lines and problems of the facts in each period from January to June 2026, keyed by period. */
function byPeriod(f: OrderLineFacts, settings = SETTINGS) {
  const out: Record<string, { lines: string[]; problems: string[] }> = {};
  for (const p of ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06']) {
    const e = orderLineEntries(f, p, settings);
    if (e.lines.length + e.problems.length > 0) {
      out[p] = {
        lines: e.lines.map((l) => `${l.lineId} ${l.gross}${l.adjustmentFor ? ` for ${l.adjustmentFor}` : ''}`),
        problems: e.problems.map((x) => `${x.code} ${x.ref}`),
      };
    }
  }
  return out;
}

describe('billingPeriod', () => {
  it.each<[string, Partial<OrderLineFacts>, string | undefined]>([
    ['an order in effect: its effective month', {}, '2026-03'],
    ['the month in the seller zone, not UTC', { effectiveAt: '2026-03-31T16:00:00Z' }, '2026-04'],
    ['debug traffic: never', { test: true }, undefined],
    ['a zero amount: never', { amount: '0' }, undefined],
    ['an amount that rounds to 0.00: never', { amount: '0.004' }, undefined],
    ['an amount that rounds to 0.01: billed', { amount: '0.005' }, '2026-03'],
    ['a negative amount: never', { amount: '-1.00' }, undefined],
    ['a malformed amount: never', { amount: '1e2' }, undefined],
    ['not yet in effect: not yet', { effectiveAt: undefined }, undefined],
    ['supervised, not accepted: not yet', { supervision: {} }, undefined],
    ['supervised, a start time but no acceptance: not yet', { supervision: { serviceStartAt: '2026-03-06T00:00:00Z' } }, undefined],
    ['supervised, accepted a month later: the month of acceptance', { supervision: { completedAt: '2026-04-02T00:00:00Z' } }, '2026-04'],
    [
      'supervised, accepted before it took effect: the effective month',
      { effectiveAt: '2026-05-01T00:00:00Z', supervision: { completedAt: '2026-04-02T00:00:00Z' } },
      '2026-05',
    ],
    ['a refund does not move it', { refund: { orderId: 'R', at: '2026-03-06T00:00:00Z', amount: '100.00' } }, '2026-03'],
  ])('%s', (_, overrides, period) => {
    expect(billingPeriod(facts(overrides), 'Asia/Shanghai')).toBe(period);
  });

  it('refuses an unknown zone and a malformed instant', () => {
    expect(() => billingPeriod(facts(), 'Nowhere/Town')).toThrow(RangeError);
    expect(() => billingPeriod(facts({ effectiveAt: '2026-03-05 00:00' }), 'UTC')).toThrow(RangeError);
  });
});

describe('orderLineEntries: order lines', () => {
  it('bills the line in its billing period, with fee and tax rounded half up', () => {
    expect(orderLineEntries(facts(), '2026-03', SETTINGS)).toStrictEqual({ lines: [order100], problems: [] });
    expect(orderLineEntries(facts({ amount: '19.9' }), '2026-03', SETTINGS).lines[0]).toMatchObject({
      gross: '19.90',
      fee: '2.99',
      tax: '1.01',
      net: '15.90',
    });
  });

  it('gives nothing in any other period', () => {
    expect(byPeriod(facts())).toStrictEqual({ '2026-03': { lines: ['ORDER:O1:O1-1 100.00'], problems: [] } });
  });

  it('uses the acceptance time as the line time of a supervised line', () => {
    const line = orderLineEntries(facts({ supervision: { completedAt: '2026-04-02T00:00:00Z' } }), '2026-04', SETTINGS).lines[0];
    expect(line?.at).toBe('2026-04-02T00:00:00Z');
  });

  it('ignores debug traffic entirely, problems included', () => {
    expect(byPeriod(facts({ test: true, productId: undefined, amount: 'junk' }))).toStrictEqual({});
  });

  it('reports a product without a fee share instead of guessing one', () => {
    expect(orderLineEntries(facts({ productId: 'P9' }), '2026-03', SETTINGS)).toStrictEqual({
      lines: [],
      problems: [
        { code: 'NO_FEE_SHARE', ref: 'ORDER:O1:O1-1', productId: 'P9', message: 'no platform fee share is configured for product P9' },
      ],
    });
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'does not find a fee share for the product id "%s" on the object prototype',
    (productId) => {
      expect(orderLineEntries(facts({ productId }), '2026-03', SETTINGS).problems.map((p) => p.code)).toStrictEqual(['NO_FEE_SHARE']);
    },
  );

  it('reports a line without a product', () => {
    expect(orderLineEntries(facts({ productId: undefined }), '2026-03', SETTINGS).problems).toStrictEqual([
      { code: 'NO_PRODUCT', ref: 'ORDER:O1:O1-1', message: 'ORDER:O1:O1-1 has no productId, so its fee share is unknown' },
    ]);
    expect(orderLineEntries(facts({ productId: '' }), '2026-03', SETTINGS).problems.map((p) => p.code)).toStrictEqual(['NO_PRODUCT']);
  });

  it('reports a malformed fee share', () => {
    expect(orderLineEntries(facts({ productId: 'BAD' }), '2026-03', SETTINGS).problems).toStrictEqual([
      {
        code: 'BAD_SETTING',
        ref: 'ORDER:O1:O1-1',
        productId: 'BAD',
        message: 'the fee share of product BAD is not a fraction from 0 to 1: "15%"',
      },
    ]);
  });

  it.each(['1e2', 'NaN', '', '12,50', '-5.00', '1000000000000000000'])(
    'reports the malformed amount "%s" once, in the month it would have been billed',
    (amount) => {
      expect(byPeriod(facts({ amount }))).toStrictEqual({ '2026-03': { lines: [], problems: ['BAD_AMOUNT ORDER:O1:O1-1'] } });
    },
  );

  it('reports a malformed amount in the refund month when the refund comes first', () => {
    const f = facts({ amount: 'x', supervision: {}, refund: { orderId: 'R', at: '2026-02-10T00:00:00Z', amount: '1.00' } });
    expect(byPeriod(f)).toStrictEqual({ '2026-02': { lines: [], problems: ['BAD_AMOUNT REFUND:O1:O1-1'] } });
  });

  it('refuses a malformed period or tax rate', () => {
    expect(() => orderLineEntries(facts(), '2026-3', SETTINGS)).toThrow(RangeError);
    expect(() => orderLineEntries(facts(), '2026-03', { ...SETTINGS, taxRate: '6%' })).toThrow(
      'taxRate must be a fraction from 0 to 1, got "6%"',
    );
  });
});

describe('orderLineEntries: refunds', () => {
  const refund = (at: string, amount: string) => ({ refund: { orderId: 'R1', at, amount } });

  it('offsets a line billed in an earlier month with a negative line in the refund month', () => {
    const f = facts(refund('2026-04-10T00:00:00Z', '100.00'));
    expect(orderLineEntries(f, '2026-03', SETTINGS).lines).toStrictEqual([order100]);
    expect(orderLineEntries(f, '2026-04', SETTINGS)).toStrictEqual({
      lines: [
        {
          ...order100,
          lineId: 'REFUND:O1:O1-1',
          kind: 'REFUND',
          refundOrderId: 'R1',
          at: '2026-04-10T00:00:00Z',
          gross: '-100.00',
          fee: '-15.00',
          tax: '-5.10',
          net: '-79.90',
        },
      ],
      problems: [],
    });
  });

  it('mirrors the order line to the cent on a full refund, rounding away from zero', () => {
    const f = facts({ amount: '19.9', ...refund('2026-04-10T00:00:00Z', '19.9') });
    const [o] = orderLineEntries(f, '2026-03', SETTINGS).lines;
    const [r] = orderLineEntries(f, '2026-04', SETTINGS).lines;
    expect([r!.gross, r!.fee, r!.tax, r!.net]).toStrictEqual([o!.gross, o!.fee, o!.tax, o!.net].map((v) => `-${v}`));
  });

  it('cancels a line refunded in full before it was billed: nothing, in any month', () => {
    expect(byPeriod(facts(refund('2026-03-06T00:00:00Z', '100.00')))).toStrictEqual({});
    expect(byPeriod(facts({ supervision: {}, ...refund('2026-03-06T00:00:00Z', '100.00') }))).toStrictEqual({});
    const acceptedLater = facts({ supervision: { completedAt: '2026-05-01T00:00:00Z' }, ...refund('2026-03-06T00:00:00Z', '100.00') });
    expect(byPeriod(acceptedLater)).toStrictEqual({});
  });

  it('bills what was kept after a partial refund made before billing, in the billing month, net of the refund', () => {
    const f = facts({ supervision: { completedAt: '2026-04-02T00:00:00Z' }, ...refund('2026-03-20T00:00:00Z', '30.00') });
    expect(byPeriod(f)).toStrictEqual({ '2026-04': { lines: ['ORDER:O1:O1-1 70.00'], problems: [] } });
    expect(orderLineEntries(f, '2026-04', SETTINGS).lines[0]).toMatchObject({
      refundOrderId: 'R1',
      gross: '70.00',
      fee: '10.50',
      tax: '3.57',
      net: '55.93',
    });
  });

  it('treats a partial refund in the billing month the same way', () => {
    expect(byPeriod(facts(refund('2026-03-31T00:00:00Z', '0.01')))).toStrictEqual({
      '2026-03': { lines: ['ORDER:O1:O1-1 99.99'], problems: [] },
    });
  });

  it('bills nothing for a partially refunded line that never becomes billable', () => {
    expect(byPeriod(facts({ supervision: {}, ...refund('2026-03-20T00:00:00Z', '30.00') }))).toStrictEqual({});
  });

  it('writes no line for a zero refund (an unsubscription that refunds nothing)', () => {
    expect(byPeriod(facts(refund('2026-04-10T00:00:00Z', '0')))).toStrictEqual({
      '2026-03': { lines: ['ORDER:O1:O1-1 100.00'], problems: [] },
    });
    const before = facts(refund('2026-03-10T00:00:00Z', '0.00'));
    expect(byPeriod(before)).toStrictEqual({ '2026-03': { lines: ['ORDER:O1:O1-1 100.00'], problems: [] } });
    expect(orderLineEntries(before, '2026-03', SETTINGS).lines[0]?.refundOrderId).toBeUndefined();
    expect(byPeriod(facts({ amount: '0', ...refund('2026-03-10T00:00:00Z', '0') }))).toStrictEqual({});
  });

  it.each(['100.01', '-1.00', 'all', ''])('reports the refund amount "%s" in the refund month; a line billed earlier stands', (amount) => {
    const f = facts(refund('2026-04-10T00:00:00Z', amount));
    expect(byPeriod(f)).toStrictEqual({
      '2026-03': { lines: ['ORDER:O1:O1-1 100.00'], problems: [] },
      '2026-04': { lines: [], problems: ['BAD_AMOUNT REFUND:O1:O1-1'] },
    });
    expect(orderLineEntries(f, '2026-04', SETTINGS).problems[0]?.message).toBe(
      `refund R1 of ORDER:O1:O1-1 is not an amount from 0 to the 100.00 paid: "${amount}"`,
    );
  });

  it('withholds a line not billed before a malformed refund, and reports the refund once', () => {
    expect(byPeriod(facts(refund('2026-03-10T00:00:00Z', '150.00')))).toStrictEqual({
      '2026-03': { lines: [], problems: ['BAD_AMOUNT REFUND:O1:O1-1'] },
    });
    const later = facts({ supervision: { completedAt: '2026-05-02T00:00:00Z' }, ...refund('2026-03-10T00:00:00Z', '150.00') });
    expect(byPeriod(later)).toStrictEqual({ '2026-03': { lines: [], problems: ['BAD_AMOUNT REFUND:O1:O1-1'] } });
  });

  it('reports a missing fee share for each line it withholds', () => {
    expect(byPeriod(facts({ productId: 'P9', ...refund('2026-04-10T00:00:00Z', '10.00') }))).toStrictEqual({
      '2026-03': { lines: [], problems: ['NO_FEE_SHARE ORDER:O1:O1-1'] },
      '2026-04': { lines: [], problems: ['NO_FEE_SHARE REFUND:O1:O1-1'] },
    });
  });
});

describe('orderLineEntries: adjustments of a closed period', () => {
  it('moves the closed month contribution to the next month, marked, and leaves the closed month untouched', () => {
    expect(byPeriod(facts({ adjustmentFor: '2026-03' }))).toStrictEqual({
      '2026-04': { lines: ['ORDER:O1:O1-1 100.00 for 2026-03'], problems: [] },
    });
    expect(orderLineEntries(facts({ adjustmentFor: '2026-03' }), '2026-04', SETTINGS).lines).toStrictEqual([
      { ...order100, adjustmentFor: '2026-03' },
    ]);
  });

  it('carries it in the month named by adjustmentIn', () => {
    expect(byPeriod(facts({ adjustmentFor: '2026-03', adjustmentIn: '2026-06' }))).toStrictEqual({
      '2026-06': { lines: ['ORDER:O1:O1-1 100.00 for 2026-03'], problems: [] },
    });
  });

  it('keeps the normal contribution of the carrying month beside the adjustment, each once', () => {
    const f = facts({ adjustmentFor: '2026-03', refund: { orderId: 'R1', at: '2026-04-10T00:00:00Z', amount: '40.00' } });
    expect(byPeriod(f)).toStrictEqual({
      '2026-04': { lines: ['REFUND:O1:O1-1 -40.00', 'ORDER:O1:O1-1 100.00 for 2026-03'], problems: [] },
    });
  });

  it('leaves the contributions to other months alone', () => {
    const f = facts({
      effectiveAt: '2026-02-10T00:00:00Z',
      adjustmentFor: '2026-03',
      refund: { orderId: 'R1', at: '2026-03-28T00:00:00Z', amount: '100.00' },
    });
    expect(byPeriod(f)).toStrictEqual({
      '2026-02': { lines: ['ORDER:O1:O1-1 100.00'], problems: [] },
      '2026-04': { lines: ['REFUND:O1:O1-1 -100.00 for 2026-03'], problems: [] },
    });
  });

  it('moves problems with the contribution', () => {
    expect(byPeriod(facts({ productId: 'P9', adjustmentFor: '2026-03' }))).toStrictEqual({
      '2026-04': { lines: [], problems: ['NO_FEE_SHARE ORDER:O1:O1-1'] },
    });
  });

  it('adds nothing when the facts contributed nothing to the closed month', () => {
    expect(byPeriod(facts({ adjustmentFor: '2026-02' }))).toStrictEqual({ '2026-03': { lines: ['ORDER:O1:O1-1 100.00'], problems: [] } });
  });

  it('refuses an adjustment that is not a period or is carried in a month that is not later', () => {
    expect(() => orderLineEntries(facts({ adjustmentFor: '2026-3' }), '2026-04', SETTINGS)).toThrow(RangeError);
    expect(() => orderLineEntries(facts({ adjustmentFor: '2026-03', adjustmentIn: '2026-03' }), '2026-04', SETTINGS)).toThrow(
      /must be a period after 2026-03/,
    );
    expect(() => orderLineEntries(facts({ adjustmentFor: '2026-03', adjustmentIn: '2026-02' }), '2026-04', SETTINGS)).toThrow(RangeError);
  });
});

describe('usageEntries', () => {
  const usage = (overrides: Partial<UsageFacts> = {}): UsageFacts => ({
    instanceId: 'IU',
    productId: 'U1',
    units: '1234.5',
    windows: 700,
    ...overrides,
  });

  it('prices the units from the price list, rounded half up to cents', () => {
    expect(usageEntries(usage(), '2026-03', SETTINGS)).toStrictEqual({
      lines: [
        {
          lineId: 'USAGE:IU',
          kind: 'USAGE',
          instanceId: 'IU',
          productId: 'U1',
          currency: 'CNY',
          quantity: '1234.5',
          unit: 'GB',
          unitPrice: '0.0125',
          at: '2026-02-28T16:00:00.000Z',
          gross: '15.43',
          fee: '3.09',
          tax: '0.74',
          net: '11.60',
        },
      ],
      problems: [],
    });
    expect(usageEntries(usage({ units: '0.4' }), '2026-03', SETTINGS).lines[0]?.gross).toBe('0.01');
    expect(usageEntries(usage({ units: '0.3999' }), '2026-03', SETTINGS).lines[0]?.gross).toBe('0.00');
  });

  it('gives nothing for no usage or debug usage', () => {
    expect(usageEntries(usage({ units: '0' }), '2026-03', SETTINGS)).toStrictEqual({ lines: [], problems: [] });
    expect(usageEntries(usage({ test: true, productId: undefined }), '2026-03', SETTINGS)).toStrictEqual({ lines: [], problems: [] });
  });

  it('accepts usage bought in the price list currency', () => {
    expect(usageEntries(usage({ currency: 'CNY' }), '2026-03', SETTINGS).lines).toHaveLength(1);
  });

  it.each<[string, Partial<UsageFacts>, string, SettlementSettings?]>([
    ['malformed units', { units: '12,5' }, 'BAD_AMOUNT'],
    ['negative units', { units: '-1' }, 'BAD_AMOUNT'],
    ['no product', { productId: undefined }, 'NO_PRODUCT'],
    ['no price', { productId: 'U9' }, 'NO_PRICE'],
    ['a malformed price', { productId: 'BADPRICE' }, 'BAD_SETTING'],
    ['a price but no fee share', {}, 'NO_FEE_SHARE', { ...SETTINGS, feeShares: {} }],
    ['another currency than the price list', { currency: 'USD' }, 'CURRENCY_MISMATCH'],
  ])('reports %s instead of a line', (_, overrides, code, settings = SETTINGS) => {
    const entries = usageEntries(usage(overrides), '2026-03', settings);
    expect(entries.problems.map((p) => p.code)).toStrictEqual([code]);
    expect(entries.problems[0]?.ref).toBe('USAGE:IU');
    expect(entries.lines).toStrictEqual([]);
  });

  it('refuses a malformed period', () => {
    expect(() => usageEntries(usage(), '2026-13', SETTINGS)).toThrow(RangeError);
  });
});

describe('lineAmounts', () => {
  it.each([
    [10000n, '0.15', '0.06', ['100.00', '15.00', '5.10', '79.90']],
    [1990n, '0.15', '0.06', ['19.90', '2.99', '1.01', '15.90']],
    [-1990n, '0.15', '0.06', ['-19.90', '-2.99', '-1.01', '-15.90']],
    [3333n, '0.0675', '0.06', ['33.33', '2.25', '1.86', '29.22']],
    [12345n, '0', '0', ['123.45', '0.00', '0.00', '123.45']],
    [12345n, '1', '0.06', ['123.45', '123.45', '0.00', '0.00']],
    [1n, '0.5', '0.5', ['0.01', '0.01', '0.00', '0.00']],
  ])('%s cents at share %s and tax %s', (gross, share, tax, [g, f, t, n]) => {
    expect(lineAmounts(gross, parseRate(share)!, parseRate(tax)!)).toStrictEqual({ gross: g, fee: f, tax: t, net: n });
  });
});

describe('compareLines', () => {
  it('orders by lineId in UTF-16 code units, independent of locale', () => {
    const ids = ['USAGE:i', 'ORDER:b:1', 'REFUND:a:1', 'ORDER:B:1', 'ORDER:A2:1', 'ORDER:A:1', 'ORDER:é:1', 'ORDER:z:1'];
    const sorted = ids
      .map((lineId) => ({ ...order100, lineId }))
      .sort(compareLines)
      .map((l) => l.lineId);
    expect(sorted).toStrictEqual(['ORDER:A2:1', 'ORDER:A:1', 'ORDER:B:1', 'ORDER:b:1', 'ORDER:z:1', 'ORDER:é:1', 'REFUND:a:1', 'USAGE:i']);
    expect(compareLines(order100, order100)).toBe(0);
  });
});

describe('StatementTotals', () => {
  it('sums each currency in cents, currencies in order', () => {
    const totals = new StatementTotals();
    totals.add({ ...order100, currency: 'USD' });
    totals.add(order100);
    totals.add({ ...order100, gross: '-40.00', fee: '-6.00', tax: '-2.04', net: '-31.96' });
    for (let i = 0; i < 1000; i++) totals.add({ ...order100, gross: '0.10', fee: '0.01', tax: '0.01', net: '0.08' });
    expect(totals.get()).toStrictEqual({
      CNY: { lines: 1002, gross: '160.00', fee: '19.00', tax: '13.06', net: '127.94' },
      USD: { lines: 1, gross: '100.00', fee: '15.00', tax: '5.10', net: '79.90' },
    });
    expect(Object.keys(totals.get())).toStrictEqual(['CNY', 'USD']);
  });

  it('merges totals of another segment', () => {
    const a = new StatementTotals();
    a.add(order100);
    const b = new StatementTotals();
    b.add(order100);
    b.addTotals('CNY', a.get().CNY!);
    expect(b.get()).toStrictEqual({ CNY: { lines: 2, gross: '200.00', fee: '30.00', tax: '10.20', net: '159.80' } });
  });

  it('is empty with no lines', () => {
    expect(new StatementTotals().get()).toStrictEqual({});
  });

  it('refuses an amount without exactly 2 decimals', () => {
    expect(() => new StatementTotals().add({ ...order100, net: '79.9' })).toThrow(
      'ORDER:O1:O1-1: net is not an amount with 2 decimals: "79.9"',
    );
    expect(() => new StatementTotals().addTotals('CNY', { lines: 1, gross: '1', fee: '0.00', tax: '0.00', net: '1.00' })).toThrow(
      RangeError,
    );
  });
});

describe('statement', () => {
  it('sorts lines by lineId and problems by ref, and totals them', () => {
    const orders = [facts({ orderId: 'O2', orderLineId: 'O2-1' }), facts(), facts({ orderId: 'O3', orderLineId: 'O3-1', productId: 'P9' })];
    const s = statement(
      '2026-03',
      orders,
      [
        { instanceId: 'IU', productId: 'U1', units: '1234.5', windows: 1 },
        { instanceId: 'IA', productId: 'U9', units: '1', windows: 1 },
      ],
      SETTINGS,
    );
    expect(s.period).toBe('2026-03');
    expect(s.lines.map((l) => l.lineId)).toStrictEqual(['ORDER:O1:O1-1', 'ORDER:O2:O2-1', 'USAGE:IU']);
    expect(s.problems.map((p) => `${p.code} ${p.ref}`)).toStrictEqual(['NO_FEE_SHARE ORDER:O3:O3-1', 'NO_PRICE USAGE:IA']);
    expect(s.totals).toStrictEqual({ CNY: { lines: 3, gross: '215.43', fee: '33.09', tax: '10.94', net: '171.40' } });
  });

  it('refuses the same order line given twice', () => {
    expect(() => statement('2026-03', [facts(), facts()], [], SETTINGS)).toThrow('ORDER:O1:O1-1 appears twice in 2026-03');
  });
});
