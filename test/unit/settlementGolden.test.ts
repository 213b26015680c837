import { describe, expect, it } from 'vitest';
import type {
  CurrencyTotals,
  OrderLineFacts,
  OrderLineKind,
  Period,
  SettlementProblem,
  SettlementSettings,
  StatementLine,
  UsageFacts,
} from '#lib/settlement/model.ts';
import { statement } from '#lib/settlement/rules.ts';

/**
 * Golden scenarios: numbered events in the seller's words, folded into settlement facts by a small reducer, then
 * the statements of one or more months compared with every expected line written out in full.
 */

const SETTINGS: SettlementSettings = {
  timeZone: 'Asia/Shanghai',
  feeShares: { P1: '0.15', P2: '0.2', P3: '0.0675', U1: '0.2', U2: '0.2' },
  taxRate: '0.06',
  prices: { U1: { unitPrice: '0.0125', unit: 'GB', currency: 'CNY' } },
};

interface World {
  orders: Map<string, OrderLineFacts>;
  usage: Map<Period, UsageFacts[]>;
}

const ORDER =
  /^(\S+Z) (NEW|TRIAL_TO_PAID|RENEWAL|UPGRADE) order (\S+) line (\S+) paid (\S+) ([A-Z]{3}), product (\S+), instance (\S+)((?:, (?:supervised|test|pending))*)$/;
const TOOK_EFFECT = /^(\S+Z) (\S+) took effect$/;
const ACCEPTED = /^(\S+Z) (\S+) supervision accepted(?:, service from (\S+Z))?$/;
const REFUNDED = /^(\S+Z) (\S+) refunded (\S+) by order (\S+)$/;
const LATE = /^(\S+Z) (\S+) arrived after (\d{4}-\d{2}) was closed(?:, carried in (\d{4}-\d{2}))?$/;
const USAGE = /^(\d{4}-\d{2}) usage (\S+) product (\S+): (\S+) units in (\d+) windows((?:, test)?)$/;

/** Applies one event to the facts; an event the reducer does not understand fails the test. */
function apply(world: World, event: string): void {
  const line = (id: string) => {
    const facts = world.orders.get(id);
    if (!facts) throw new Error(`no order line ${id}`);
    return facts;
  };
  let m: RegExpExecArray | null;
  if ((m = ORDER.exec(event))) {
    const [, at, kind, orderId, orderLineId, amount, currency, productId, instanceId, flags] = m;
    world.orders.set(orderLineId!, {
      orderId: orderId!,
      orderLineId: orderLineId!,
      instanceId: instanceId!,
      ...(productId === '-' ? {} : { productId }),
      kind: kind as OrderLineKind,
      amount: amount!,
      currency: currency!,
      test: flags!.includes('test'),
      ...(flags!.includes('pending') ? {} : { effectiveAt: at }),
      ...(flags!.includes('supervised') ? { supervision: {} } : {}),
    });
  } else if ((m = TOOK_EFFECT.exec(event))) {
    line(m[2]!).effectiveAt = m[1]!;
  } else if ((m = ACCEPTED.exec(event))) {
    line(m[2]!).supervision = { ...line(m[2]!).supervision, completedAt: m[1]!, ...(m[3] ? { serviceStartAt: m[3] } : {}) };
  } else if ((m = REFUNDED.exec(event))) {
    line(m[2]!).refund = { orderId: m[4]!, at: m[1]!, amount: m[3]! };
  } else if ((m = LATE.exec(event))) {
    line(m[2]!).adjustmentFor = m[3]!;
    if (m[4]) line(m[2]!).adjustmentIn = m[4];
  } else if ((m = USAGE.exec(event))) {
    const [, period, instanceId, productId, units, windows, test] = m;
    const list = world.usage.get(period!) ?? [];
    list.push({ instanceId: instanceId!, productId: productId!, units: units!, windows: Number(windows), ...(test ? { test: true } : {}) });
    world.usage.set(period!, list);
  } else {
    throw new Error(`unknown event: ${event}`);
  }
}

interface Expected {
  period: Period;
  lines: StatementLine[];
  problems?: SettlementProblem[];
  totals?: Record<string, CurrencyTotals>;
}

interface Scenario {
  name: string;
  settings?: SettlementSettings;
  events: string[];
  /** Statements after the first `afterEvent` events (default: all of them). */
  expect: (Expected & { afterEvent?: number })[];
}

const scenarios: Scenario[] = [
  {
    name: 'supervision accepted a month late: billed in the month of acceptance only, its service from the declared start',
    events: [
      '1. 2026-03-10T02:00:00Z NEW order S line S-1 paid 19.9 CNY, product P1, instance I-S, supervised',
      '2. 2026-04-02T03:00:00Z S-1 supervision accepted, service from 2026-03-20T00:00:00Z',
    ],
    expect: [
      { afterEvent: 1, period: '2026-03', lines: [] },
      { afterEvent: 1, period: '2026-04', lines: [] },
      { period: '2026-03', lines: [] },
      {
        period: '2026-04',
        lines: [
          {
            lineId: 'ORDER:S:S-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'S',
            orderLineId: 'S-1',
            instanceId: 'I-S',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-04-02T03:00:00Z',
            serviceFrom: '2026-03-20T00:00:00Z',
            gross: '19.90',
            fee: '2.99',
            tax: '1.01',
            net: '15.90',
          },
        ],
        totals: { CNY: { lines: 1, gross: '19.90', fee: '2.99', tax: '1.01', net: '15.90' } },
      },
      { period: '2026-05', lines: [] },
    ],
  },
  {
    name: 'refund before billing: the order line is cancelled, no lines in any month',
    events: [
      '1. 2026-03-05T01:00:00Z NEW order B line B-1 paid 100.00 CNY, product P1, instance I-B, supervised',
      '2. 2026-03-05T01:00:00Z NEW order C line C-1 paid 50.00 CNY, product P1, instance I-C',
      '3. 2026-03-20T01:00:00Z B-1 refunded 100.00 by order RB',
      '4. 2026-03-21T01:00:00Z C-1 refunded 50.00 by order RC',
    ],
    expect: [
      {
        afterEvent: 2,
        period: '2026-03',
        lines: [
          {
            lineId: 'ORDER:C:C-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'C',
            orderLineId: 'C-1',
            instanceId: 'I-C',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-03-05T01:00:00Z',
            gross: '50.00',
            fee: '7.50',
            tax: '2.55',
            net: '39.95',
          },
        ],
      },
      { period: '2026-03', lines: [], totals: {} },
      { period: '2026-04', lines: [] },
    ],
  },
  {
    name: 'refund after billing: a negative line in the refund month',
    events: [
      '1. 2026-03-05T01:00:00Z NEW order D line D-1 paid 100.00 CNY, product P1, instance I-D',
      '2. 2026-04-10T01:00:00Z D-1 refunded 40.00 by order RD',
    ],
    expect: [
      {
        period: '2026-03',
        lines: [
          {
            lineId: 'ORDER:D:D-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'D',
            orderLineId: 'D-1',
            instanceId: 'I-D',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-03-05T01:00:00Z',
            gross: '100.00',
            fee: '15.00',
            tax: '5.10',
            net: '79.90',
          },
        ],
        totals: { CNY: { lines: 1, gross: '100.00', fee: '15.00', tax: '5.10', net: '79.90' } },
      },
      {
        period: '2026-04',
        lines: [
          {
            lineId: 'REFUND:D:D-1',
            kind: 'REFUND',
            orderKind: 'NEW',
            orderId: 'D',
            orderLineId: 'D-1',
            refundOrderId: 'RD',
            instanceId: 'I-D',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-04-10T01:00:00Z',
            gross: '-40.00',
            fee: '-6.00',
            tax: '-2.04',
            net: '-31.96',
          },
        ],
        totals: { CNY: { lines: 1, gross: '-40.00', fee: '-6.00', tax: '-2.04', net: '-31.96' } },
      },
    ],
  },
  {
    name: 'partial refund before acceptance: what was kept is billed when supervision completes',
    events: [
      '1. 2026-03-05T01:00:00Z NEW order E line E-1 paid 100.00 CNY, product P1, instance I-E, supervised',
      '2. 2026-03-20T01:00:00Z E-1 refunded 30.00 by order RE',
      '3. 2026-04-02T00:00:00Z E-1 supervision accepted',
    ],
    expect: [
      { period: '2026-03', lines: [] },
      {
        period: '2026-04',
        lines: [
          {
            lineId: 'ORDER:E:E-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'E',
            orderLineId: 'E-1',
            refundOrderId: 'RE',
            instanceId: 'I-E',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-04-02T00:00:00Z',
            serviceFrom: '2026-04-02T00:00:00Z',
            gross: '70.00',
            fee: '10.50',
            tax: '3.57',
            net: '55.93',
          },
        ],
      },
    ],
  },
  {
    name: 'zero-amount trial then trial-to-paid: only the paid order line is billed',
    events: [
      '1. 2026-03-01T02:00:00Z NEW order T line T-1 paid 0 CNY, product P2, instance I-T',
      '2. 2026-03-15T02:00:00Z TRIAL_TO_PAID order T2 line T2-1 paid 299.00 CNY, product P2, instance I-T',
    ],
    expect: [
      { afterEvent: 1, period: '2026-03', lines: [], problems: [] },
      {
        period: '2026-03',
        lines: [
          {
            lineId: 'ORDER:T2:T2-1',
            kind: 'ORDER',
            orderKind: 'TRIAL_TO_PAID',
            orderId: 'T2',
            orderLineId: 'T2-1',
            instanceId: 'I-T',
            productId: 'P2',
            currency: 'CNY',
            at: '2026-03-15T02:00:00Z',
            gross: '299.00',
            fee: '59.80',
            tax: '14.35',
            net: '224.85',
          },
        ],
        problems: [],
      },
    ],
  },
  {
    name: 'upgrade: the difference the buyer paid is its own order line',
    events: [
      '1. 2026-03-02T00:00:00Z NEW order G line G-1 paid 120.00 CNY, product P3, instance I-G',
      '2. 2026-03-18T09:30:00Z UPGRADE order H line H-1 paid 33.33 CNY, product P3, instance I-G',
    ],
    expect: [
      {
        period: '2026-03',
        lines: [
          {
            lineId: 'ORDER:G:G-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'G',
            orderLineId: 'G-1',
            instanceId: 'I-G',
            productId: 'P3',
            currency: 'CNY',
            at: '2026-03-02T00:00:00Z',
            gross: '120.00',
            fee: '8.10',
            tax: '6.71',
            net: '105.19',
          },
          {
            lineId: 'ORDER:H:H-1',
            kind: 'ORDER',
            orderKind: 'UPGRADE',
            orderId: 'H',
            orderLineId: 'H-1',
            instanceId: 'I-G',
            productId: 'P3',
            currency: 'CNY',
            at: '2026-03-18T09:30:00Z',
            gross: '33.33',
            fee: '2.25',
            tax: '1.86',
            net: '29.22',
          },
        ],
        totals: { CNY: { lines: 2, gross: '153.33', fee: '10.35', tax: '8.57', net: '134.41' } },
      },
    ],
  },
  {
    name: 'renewal of a supervised order: billed when it takes effect, no second acceptance',
    events: [
      '1. 2026-01-10T00:00:00Z NEW order K line K-1 paid 1000.00 CNY, product P1, instance I-K, supervised',
      '2. 2026-02-03T00:00:00Z K-1 supervision accepted',
      '3. 2027-01-09T16:00:00Z RENEWAL order L line L-1 paid 1000.00 CNY, product P1, instance I-K',
    ],
    expect: [
      { period: '2026-01', lines: [] },
      {
        period: '2026-02',
        lines: [
          {
            lineId: 'ORDER:K:K-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'K',
            orderLineId: 'K-1',
            instanceId: 'I-K',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-02-03T00:00:00Z',
            serviceFrom: '2026-02-03T00:00:00Z',
            gross: '1000.00',
            fee: '150.00',
            tax: '51.00',
            net: '799.00',
          },
        ],
      },
      { period: '2026-12', lines: [] },
      {
        period: '2027-01',
        lines: [
          {
            lineId: 'ORDER:L:L-1',
            kind: 'ORDER',
            orderKind: 'RENEWAL',
            orderId: 'L',
            orderLineId: 'L-1',
            instanceId: 'I-K',
            productId: 'P1',
            currency: 'CNY',
            at: '2027-01-09T16:00:00Z',
            gross: '1000.00',
            fee: '150.00',
            tax: '51.00',
            net: '799.00',
          },
        ],
      },
    ],
  },
  {
    name: 'a line that is not yet in effect waits for the month it takes effect',
    events: [
      '1. 2026-03-30T00:00:00Z NEW order W line W-1 paid 10.00 CNY, product P1, instance I-W, pending',
      '2. 2026-04-01T00:00:00Z W-1 took effect',
    ],
    expect: [
      { period: '2026-03', lines: [] },
      {
        period: '2026-04',
        lines: [
          {
            lineId: 'ORDER:W:W-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'W',
            orderLineId: 'W-1',
            instanceId: 'I-W',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-04-01T00:00:00Z',
            gross: '10.00',
            fee: '1.50',
            tax: '0.51',
            net: '7.99',
          },
        ],
      },
    ],
  },
  {
    name: 'usage priced from the price list; a product without a price is reported',
    events: [
      '1. 2026-03 usage I-U product U1: 1234.5 units in 700 windows',
      '2. 2026-03 usage I-V product U2: 10 units in 3 windows',
      '3. 2026-04 usage I-U product U1: 0.4 units in 1 windows',
    ],
    expect: [
      {
        period: '2026-03',
        lines: [
          {
            lineId: 'USAGE:I-U',
            kind: 'USAGE',
            instanceId: 'I-U',
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
        problems: [{ code: 'NO_PRICE', ref: 'USAGE:I-V', productId: 'U2', message: 'no pay-per-use price is configured for product U2' }],
      },
      {
        period: '2026-04',
        lines: [
          {
            lineId: 'USAGE:I-U',
            kind: 'USAGE',
            instanceId: 'I-U',
            productId: 'U1',
            currency: 'CNY',
            quantity: '0.4',
            unit: 'GB',
            unitPrice: '0.0125',
            at: '2026-03-31T16:00:00.000Z',
            gross: '0.01',
            fee: '0.00',
            tax: '0.00',
            net: '0.01',
          },
        ],
        problems: [],
      },
    ],
  },
  {
    name: 'debug traffic: test orders and test usage give nothing',
    events: [
      '1. 2026-03-05T01:00:00Z NEW order X line X-1 paid 100.00 CNY, product P1, instance I-X, test',
      '2. 2026-03-06T01:00:00Z X-1 refunded 100.00 by order RX',
      '3. 2026-03 usage I-X product U1: 50 units in 5 windows, test',
    ],
    expect: [{ period: '2026-03', lines: [], problems: [], totals: {} }],
  },
  {
    name: 'a product without a fee share or without a product id: reported, never guessed',
    events: [
      '1. 2026-03-05T01:00:00Z NEW order N line N-1 paid 10.00 CNY, product P404, instance I-N',
      '2. 2026-03-06T01:00:00Z NEW order O line O-1 paid 10.00 CNY, product -, instance I-O',
    ],
    expect: [
      {
        period: '2026-03',
        lines: [],
        problems: [
          { code: 'NO_FEE_SHARE', ref: 'ORDER:N:N-1', productId: 'P404', message: 'no platform fee share is configured for product P404' },
          { code: 'NO_PRODUCT', ref: 'ORDER:O:O-1', message: 'ORDER:O:O-1 has no productId, so its fee share is unknown' },
        ],
        totals: {},
      },
    ],
  },
  {
    name: 'an order line that arrived after its month was closed: carried, marked, in the next statement',
    events: [
      '1. 2026-03-20T04:00:00Z NEW order M line M-1 paid 100.00 CNY, product P1, instance I-M',
      '2. 2026-04-05T00:00:00Z M-1 arrived after 2026-03 was closed',
    ],
    expect: [
      { period: '2026-03', lines: [] },
      {
        period: '2026-04',
        lines: [
          {
            lineId: 'ORDER:M:M-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'M',
            orderLineId: 'M-1',
            instanceId: 'I-M',
            productId: 'P1',
            currency: 'CNY',
            adjustmentFor: '2026-03',
            at: '2026-03-20T04:00:00Z',
            gross: '100.00',
            fee: '15.00',
            tax: '5.10',
            net: '79.90',
          },
        ],
      },
      { period: '2026-05', lines: [] },
    ],
  },
  {
    name: 'a refund that arrived after its month was closed: carried in the open month the seller names',
    events: [
      '1. 2026-02-10T00:00:00Z NEW order Q line Q-1 paid 100.00 CNY, product P1, instance I-Q',
      '2. 2026-03-28T00:00:00Z Q-1 refunded 100.00 by order RQ',
      '3. 2026-05-06T00:00:00Z Q-1 arrived after 2026-03 was closed, carried in 2026-05',
    ],
    expect: [
      {
        period: '2026-02',
        lines: [
          {
            lineId: 'ORDER:Q:Q-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'Q',
            orderLineId: 'Q-1',
            instanceId: 'I-Q',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-02-10T00:00:00Z',
            gross: '100.00',
            fee: '15.00',
            tax: '5.10',
            net: '79.90',
          },
        ],
      },
      { period: '2026-03', lines: [] },
      { period: '2026-04', lines: [] },
      {
        period: '2026-05',
        lines: [
          {
            lineId: 'REFUND:Q:Q-1',
            kind: 'REFUND',
            orderKind: 'NEW',
            orderId: 'Q',
            orderLineId: 'Q-1',
            refundOrderId: 'RQ',
            instanceId: 'I-Q',
            productId: 'P1',
            currency: 'CNY',
            adjustmentFor: '2026-03',
            at: '2026-03-28T00:00:00Z',
            gross: '-100.00',
            fee: '-15.00',
            tax: '-5.10',
            net: '-79.90',
          },
        ],
      },
    ],
  },
  {
    name: 'month boundary in Asia/Shanghai: 15:59:59Z on March 31st is March, 16:00:00Z is April',
    events: [
      '1. 2026-03-31T15:59:59Z NEW order A line A-1 paid 100.00 CNY, product P1, instance I-A',
      '2. 2026-03-31T16:00:00Z NEW order A2 line A2-1 paid 19.9 CNY, product P1, instance I-A2',
    ],
    expect: [
      {
        period: '2026-03',
        lines: [
          {
            lineId: 'ORDER:A:A-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'A',
            orderLineId: 'A-1',
            instanceId: 'I-A',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-03-31T15:59:59Z',
            gross: '100.00',
            fee: '15.00',
            tax: '5.10',
            net: '79.90',
          },
        ],
      },
      {
        period: '2026-04',
        lines: [
          {
            lineId: 'ORDER:A2:A2-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'A2',
            orderLineId: 'A2-1',
            instanceId: 'I-A2',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-03-31T16:00:00Z',
            gross: '19.90',
            fee: '2.99',
            tax: '1.01',
            net: '15.90',
          },
        ],
      },
    ],
  },
  {
    name: 'the same instants under a UTC setting: both in March',
    settings: { ...SETTINGS, timeZone: 'UTC' },
    events: [
      '1. 2026-03-31T15:59:59Z NEW order A line A-1 paid 100.00 CNY, product P1, instance I-A',
      '2. 2026-03-31T16:00:00Z NEW order A2 line A2-1 paid 19.9 CNY, product P1, instance I-A2',
    ],
    expect: [
      {
        period: '2026-03',
        lines: [
          // Sorted by lineId in code units: '2' (U+0032) comes before ':' (U+003A).
          {
            lineId: 'ORDER:A2:A2-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'A2',
            orderLineId: 'A2-1',
            instanceId: 'I-A2',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-03-31T16:00:00Z',
            gross: '19.90',
            fee: '2.99',
            tax: '1.01',
            net: '15.90',
          },
          {
            lineId: 'ORDER:A:A-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'A',
            orderLineId: 'A-1',
            instanceId: 'I-A',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-03-31T15:59:59Z',
            gross: '100.00',
            fee: '15.00',
            tax: '5.10',
            net: '79.90',
          },
        ],
        totals: { CNY: { lines: 2, gross: '119.90', fee: '17.99', tax: '6.11', net: '95.80' } },
      },
      { period: '2026-04', lines: [] },
    ],
  },
  {
    name: 'the worked example of docs/settlement.md',
    events: [
      '1. 2026-03-10T02:00:00Z NEW order S line S-1 paid 19.9 CNY, product P1, instance I-S, supervised',
      '2. 2026-04-02T03:00:00Z S-1 supervision accepted',
      '3. 2026-03-05T01:00:00Z NEW order D line D-1 paid 100.00 CNY, product P1, instance I-D',
      '4. 2026-04-10T01:00:00Z D-1 refunded 40.00 by order RD',
      '5. 2026-03 usage I-U product U1: 1234.5 units in 700 windows',
    ],
    expect: [
      {
        period: '2026-03',
        lines: [
          {
            lineId: 'ORDER:D:D-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'D',
            orderLineId: 'D-1',
            instanceId: 'I-D',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-03-05T01:00:00Z',
            gross: '100.00',
            fee: '15.00',
            tax: '5.10',
            net: '79.90',
          },
          {
            lineId: 'USAGE:I-U',
            kind: 'USAGE',
            instanceId: 'I-U',
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
        totals: { CNY: { lines: 2, gross: '115.43', fee: '18.09', tax: '5.84', net: '91.50' } },
      },
      {
        period: '2026-04',
        lines: [
          {
            lineId: 'ORDER:S:S-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'S',
            orderLineId: 'S-1',
            instanceId: 'I-S',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-04-02T03:00:00Z',
            serviceFrom: '2026-04-02T03:00:00Z',
            gross: '19.90',
            fee: '2.99',
            tax: '1.01',
            net: '15.90',
          },
          {
            lineId: 'REFUND:D:D-1',
            kind: 'REFUND',
            orderKind: 'NEW',
            orderId: 'D',
            orderLineId: 'D-1',
            refundOrderId: 'RD',
            instanceId: 'I-D',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-04-10T01:00:00Z',
            gross: '-40.00',
            fee: '-6.00',
            tax: '-2.04',
            net: '-31.96',
          },
        ],
        problems: [],
        totals: { CNY: { lines: 2, gross: '-20.10', fee: '-3.01', tax: '-1.03', net: '-16.06' } },
      },
    ],
  },
  {
    name: 'the worked example with the refund before D-1 was billed',
    events: [
      '1. 2026-03-05T01:00:00Z NEW order D line D-1 paid 100.00 CNY, product P1, instance I-D',
      '2. 2026-03-20T01:00:00Z D-1 refunded 40.00 by order RD',
    ],
    expect: [
      {
        period: '2026-03',
        lines: [
          {
            lineId: 'ORDER:D:D-1',
            kind: 'ORDER',
            orderKind: 'NEW',
            orderId: 'D',
            orderLineId: 'D-1',
            refundOrderId: 'RD',
            instanceId: 'I-D',
            productId: 'P1',
            currency: 'CNY',
            at: '2026-03-05T01:00:00Z',
            gross: '60.00',
            fee: '9.00',
            tax: '3.06',
            net: '47.94',
          },
        ],
      },
      { period: '2026-04', lines: [] },
    ],
  },
];

describe('settlement golden scenarios', () => {
  describe.each(scenarios)('$name', (scenario) => {
    it.each(scenario.expect.map((e) => ({ ...e, label: `${e.period} after event ${e.afterEvent ?? scenario.events.length}` })))(
      '$label',
      (expected) => {
        const world: World = { orders: new Map(), usage: new Map() };
        for (const event of scenario.events.slice(0, expected.afterEvent ?? scenario.events.length))
          apply(world, event.replace(/^\d+\. /, ''));

        const result = statement(
          expected.period,
          world.orders.values(),
          world.usage.get(expected.period) ?? [],
          scenario.settings ?? SETTINGS,
        );

        expect(result.lines).toStrictEqual(expected.lines);
        if (expected.problems) expect(result.problems).toStrictEqual(expected.problems);
        if (expected.totals) expect(result.totals).toStrictEqual(expected.totals);
      },
    );
  });

  it('numbers the events of every scenario 1, 2, 3…', () => {
    for (const s of scenarios)
      expect(
        s.events.map((e) => Number(/^(\d+)\. /.exec(e)?.[1])),
        s.name,
      ).toStrictEqual(s.events.map((_, i) => i + 1));
  });
});
