import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderLineFacts, OrderLineKind, SettlementSettings, StatementLine, UsageFacts } from '#lib/settlement/model.ts';
import { periodsBetween } from '#lib/settlement/period.ts';
import { formatCents, parseCents } from '#lib/settlement/money.ts';
import { statement } from '#lib/settlement/rules.ts';

/**
 * Properties of any statement, for random facts and settings: every line balances to the cent, every amount has
 * exactly 2 decimals, totals are the sums of the lines, and no order line or refund is settled twice.
 */

const FROM = Date.UTC(2026, 0, 1);
const TO = Date.UTC(2026, 6, 1);
const PERIODS = periodsBetween('2025-12', '2026-08');
const PRODUCTS = ['P1', 'P2', 'P3', 'P4'];

/** Independent of money.ts: "-12.30" → -1230n by its digits. */
function cents(amount: string): bigint {
  expect(amount).toMatch(/^-?(0|[1-9]\d*)\.\d{2}$/);
  return BigInt(amount.replace('.', ''));
}

const decimal = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 10n }), fc.integer({ min: 0, max: 4 })).map(([units, scale]) => {
  const digits = units.toString().padStart(scale + 1, '0');
  return scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
});
const amount = fc.oneof({ weight: 12, arbitrary: decimal }, { weight: 1, arbitrary: fc.constantFrom('0', '1e3', '-5.00', 'abc', '0.004') });
const rate = fc.oneof(
  fc.constantFrom('0', '1', '0.15', '0.2', '0.0675', '0.06', '0.5'),
  fc.integer({ min: 0, max: 10_000 }).map((n) => (n === 10_000 ? '1' : `0.${String(n).padStart(4, '0')}`)),
);
const instant = fc.integer({ min: FROM, max: TO - 1 }).map((ms) => new Date(ms).toISOString());
const period = fc.constantFrom(...periodsBetween('2026-01', '2026-06'));

const settings: fc.Arbitrary<SettlementSettings> = fc.record({
  timeZone: fc.constantFrom('Asia/Shanghai', 'UTC', 'America/New_York', 'Australia/Lord_Howe'),
  feeShares: fc.dictionary(fc.constantFrom(...PRODUCTS), rate),
  taxRate: rate,
  prices: fc.dictionary(
    fc.constantFrom(...PRODUCTS),
    fc.record({ unitPrice: decimal, unit: fc.constantFrom('GB', 'call'), currency: fc.constantFrom('CNY', 'USD') }),
  ),
});

const orderLine = fc
  .record(
    {
      productId: fc.constantFrom(...PRODUCTS),
      kind: fc.constantFrom<OrderLineKind>('NEW', 'TRIAL_TO_PAID', 'RENEWAL', 'UPGRADE'),
      amount,
      currency: fc.constantFrom('CNY', 'USD'),
      test: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      effectiveAt: instant,
      supervision: fc.record({ completedAt: instant }, { requiredKeys: [] }),
      refund: fc.record({ orderId: fc.constant('R'), at: instant, amount: fc.oneof(amount, fc.constant('0')) }),
      adjustment: fc.tuple(period, fc.integer({ min: 1, max: 2 })),
      /** Quarters of the paid amount refunded (0–4), or 5: the random refund amount as drawn. */
      refundQuarters: fc.integer({ min: 0, max: 5 }),
    },
    { requiredKeys: ['kind', 'amount', 'currency', 'test', 'refundQuarters'] },
  )
  .map(({ adjustment, refundQuarters, ...f }) => ({
    ...f,
    ...(f.refund && refundQuarters < 5 && parseCents(f.amount) !== undefined
      ? { refund: { ...f.refund, amount: formatCents((parseCents(f.amount)! * BigInt(refundQuarters)) / 4n) } }
      : {}),
    ...(adjustment
      ? { adjustmentFor: adjustment[0], ...(adjustment[1] === 2 ? { adjustmentIn: PERIODS[PERIODS.indexOf(adjustment[0]) + 2]! } : {}) }
      : {}),
  }));

const world = fc.record({
  settings,
  orders: fc
    .array(orderLine, { maxLength: 8 })
    .map((lines) => lines.map((l, i): OrderLineFacts => ({ orderId: `O${i}`, orderLineId: `O${i}-1`, instanceId: `I${i}`, ...l }))),
  usage: fc.array(
    fc.record({
      productId: fc.constantFrom(...PRODUCTS, undefined),
      units: fc.oneof(decimal, fc.constant('x')),
      test: fc.boolean(),
      currency: fc.constantFrom('CNY', 'USD', undefined),
    }),
    { maxLength: 4 },
  ),
});

describe('settlement properties', () => {
  it('balances every line, totals the lines exactly, and settles each order line and refund once', () => {
    fc.assert(
      fc.property(world, ({ settings, orders, usage }) => {
        const usageFacts: UsageFacts[] = usage.map((u, i) => ({
          instanceId: `U${i}`,
          windows: 1,
          ...u,
          productId: u.productId,
          currency: u.currency,
        }));
        const seen = new Map<string, string>();
        const problemsSeen = new Set<string>();
        const grossByOrderLine = new Map<string, bigint>();

        for (const p of PERIODS) {
          const s = statement(p, orders, usageFacts, settings);
          const sums = new Map<string, { lines: number; gross: bigint; fee: bigint; tax: bigint; net: bigint }>();
          for (const line of s.lines) {
            const [g, f, t, n] = [cents(line.gross), cents(line.fee), cents(line.tax), cents(line.net)];
            expect(n, line.lineId).toBe(g - f - t);
            if (line.kind === 'ORDER') expect(g > 0n, line.lineId).toBe(true);
            if (line.kind === 'REFUND') expect(g < 0n, line.lineId).toBe(true);
            const sum = sums.get(line.currency) ?? { lines: 0, gross: 0n, fee: 0n, tax: 0n, net: 0n };
            sums.set(line.currency, { lines: sum.lines + 1, gross: sum.gross + g, fee: sum.fee + f, tax: sum.tax + t, net: sum.net + n });
            if (line.kind !== 'USAGE') {
              expect(seen.get(line.lineId), `${line.lineId} in ${p}`).toBeUndefined();
              seen.set(line.lineId, p);
              const key = `${line.orderId}:${line.orderLineId}`;
              grossByOrderLine.set(key, (grossByOrderLine.get(key) ?? 0n) + g);
            }
          }
          for (const problem of s.problems.filter((x) => !x.ref.startsWith('USAGE:'))) {
            const key = `${problem.code} ${problem.ref}`;
            expect(problemsSeen.has(key), `${key} in ${p}`).toBe(false);
            problemsSeen.add(key);
          }
          expect(Object.keys(s.totals).sort()).toStrictEqual([...sums.keys()].sort());
          for (const [currency, sum] of sums) {
            const total = s.totals[currency]!;
            expect(total.lines).toBe(sum.lines);
            expect([cents(total.gross), cents(total.fee), cents(total.tax), cents(total.net)]).toStrictEqual([
              sum.gross,
              sum.fee,
              sum.tax,
              sum.net,
            ]);
          }
        }

        // Conservation: over all months, an order line settled without problems earns what was paid less what was refunded.
        for (const f of orders) {
          const refs = [`ORDER:${f.orderId}:${f.orderLineId}`, `REFUND:${f.orderId}:${f.orderLineId}`];
          if ([...problemsSeen].some((k) => refs.some((r) => k.endsWith(` ${r}`)))) continue;
          const gross = grossByOrderLine.get(`${f.orderId}:${f.orderLineId}`);
          if (gross === undefined) continue;
          const paid = parseCents(f.amount)!;
          const refunded = f.refund ? parseCents(f.refund.amount)! : 0n;
          expect(gross, `${f.orderLineId}`).toBe(paid - refunded);
        }
      }),
      { numRuns: 600 },
    );
  });

  it('gives the same statement for the same facts, whatever their order', () => {
    fc.assert(
      fc.property(world, fc.constantFrom(...PERIODS), ({ settings, orders }, p) => {
        const forward = statement(p, orders, [], settings);
        const backward = statement(p, [...orders].reverse(), [], settings);
        expect(backward).toStrictEqual(forward);
        const ids = forward.lines.map((l: StatementLine) => l.lineId);
        expect(ids).toStrictEqual([...ids].sort());
      }),
      { numRuns: 500 },
    );
  });
});
