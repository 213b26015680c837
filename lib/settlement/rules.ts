import { applyRate, formatCents, multiply, parseCents, parseDecimal, parseMoney, parseRate, roundTo, type Decimal } from './money.ts';
import type {
  CurrencyTotals,
  OrderLineFacts,
  Period,
  SettlementProblem,
  SettlementProblemCode,
  SettlementSettings,
  StatementLine,
  UsageFacts,
} from './model.ts';
import { instantMs, isPeriod, nextPeriod, periodBounds, periodOf } from './period.ts';

/**
 * The settlement rules (spec §8.4, docs/settlement.md): which statement lines one order line or one instance's
 * usage contributes to a period, and what each line earns. Pure: facts and settings in, lines and problems out.
 */

export interface Entries {
  lines: StatementLine[];
  problems: SettlementProblem[];
}

const none = (): Entries => ({ lines: [], problems: [] });

/** Ids of the lines one order line can produce. */
export const orderLineId = (f: OrderLineFacts): string => `ORDER:${f.orderId}:${f.orderLineId}`;
export const refundLineId = (f: OrderLineFacts): string => `REFUND:${f.orderId}:${f.orderLineId}`;
export const usageLineId = (u: UsageFacts): string => `USAGE:${u.instanceId}`;

/**
 * When the order line became billable, ignoring its amount: max(effectiveAt, supervision.completedAt), or
 * undefined while it is not in effect or its supervision is not completed.
 */
function billableAt(facts: OrderLineFacts): string | undefined {
  if (facts.effectiveAt === undefined) return undefined;
  if (facts.supervision === undefined) return facts.effectiveAt;
  const completed = facts.supervision.completedAt;
  if (completed === undefined) return undefined;
  return instantMs(completed) > instantMs(facts.effectiveAt) ? completed : facts.effectiveAt;
}

/**
 * The period an order line is billed in, or undefined while it is not billable: debug traffic, an amount that is
 * malformed or not above 0.00 once rounded to cents, not yet in effect, or supervised and not yet accepted.
 * Otherwise the period of max(effectiveAt, supervision.completedAt): a line accepted a month late is billed in
 * that later month (spec §8.4). Refunds are not considered here (see orderLineEntries).
 */
export function billingPeriod(facts: OrderLineFacts, timeZone: string): Period | undefined {
  if (facts.test) return undefined;
  const paid = parseCents(facts.amount);
  if (paid === undefined || paid <= 0n) return undefined;
  const at = billableAt(facts);
  return at === undefined ? undefined : periodOf(at, timeZone);
}

/** The platform fee share and tax rate that apply to a product, or the problem that stops its lines. */
type Terms = { share: Decimal; taxRate: Decimal } | { problem: SettlementProblem };

function problem(code: SettlementProblemCode, ref: string, message: string, productId?: string): SettlementProblem {
  return productId === undefined ? { code, ref, message } : { code, ref, productId, message };
}

const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

function taxRateOf(settings: SettlementSettings): Decimal {
  const rate = parseRate(settings.taxRate);
  if (rate === undefined) throw new RangeError(`taxRate must be a fraction from 0 to 1, got "${String(settings.taxRate)}"`);
  return rate;
}

function termsFor(ref: string, productId: string | undefined, settings: SettlementSettings): Terms {
  if (productId === undefined || productId === '') {
    return { problem: problem('NO_PRODUCT', ref, `${ref} has no productId, so its fee share is unknown`) };
  }
  const configured = own(settings.feeShares, productId);
  if (configured === undefined) {
    return { problem: problem('NO_FEE_SHARE', ref, `no platform fee share is configured for product ${productId}`, productId) };
  }
  const share = parseRate(configured);
  if (share === undefined) {
    return {
      problem: problem(
        'BAD_SETTING',
        ref,
        `the fee share of product ${productId} is not a fraction from 0 to 1: "${configured}"`,
        productId,
      ),
    };
  }
  return { share, taxRate: taxRateOf(settings) };
}

/** The money of one line from its gross: fee and tax rounded half up to cents, net exact. */
export function lineAmounts(grossCents: bigint, share: Decimal, taxRate: Decimal): Pick<StatementLine, 'gross' | 'fee' | 'tax' | 'net'> {
  const fee = applyRate(grossCents, share);
  const tax = applyRate(grossCents - fee, taxRate);
  return { gross: formatCents(grossCents), fee: formatCents(fee), tax: formatCents(tax), net: formatCents(grossCents - fee - tax) };
}

/**
 * When a supervised line's service validity starts (spec §8.3): the actual start the seller declared with the
 * delivery proofs, else the buyer's acceptance. Undefined for lines without supervision (they start on taking effect).
 */
export function serviceFrom(facts: OrderLineFacts): string | undefined {
  const completed = facts.supervision?.completedAt;
  return completed === undefined ? undefined : (facts.supervision?.serviceStartAt ?? completed);
}

/** An ORDER or REFUND line of the facts, or the problem that withholds it. */
function orderEntry(
  facts: OrderLineFacts,
  kind: 'ORDER' | 'REFUND',
  grossCents: bigint,
  at: string,
  refundOrderId: string | undefined,
  settings: SettlementSettings,
): Entries {
  const lineId = kind === 'ORDER' ? orderLineId(facts) : refundLineId(facts);
  const terms = termsFor(lineId, facts.productId, settings);
  if ('problem' in terms) return { lines: [], problems: [terms.problem] };
  const line: StatementLine = {
    lineId,
    kind,
    orderKind: facts.kind,
    orderId: facts.orderId,
    orderLineId: facts.orderLineId,
    ...(refundOrderId !== undefined ? { refundOrderId } : {}),
    instanceId: facts.instanceId,
    productId: facts.productId!,
    currency: facts.currency,
    at,
    ...(serviceFrom(facts) !== undefined ? { serviceFrom: serviceFrom(facts) } : {}),
    ...lineAmounts(grossCents, terms.share, terms.taxRate),
  };
  return { lines: [line], problems: [] };
}

const earliest = (periods: (Period | undefined)[]): Period | undefined => periods.filter((p): p is Period => p !== undefined).sort()[0];

/** What the facts contribute to the period under the normal rules (adjustments aside). */
function contribution(facts: OrderLineFacts, period: Period, settings: SettlementSettings): Entries {
  if (facts.test) return none();
  const tz = settings.timeZone;
  const at = billableAt(facts);
  const candidate = at === undefined ? undefined : periodOf(at, tz);
  const refundPeriod = facts.refund === undefined ? undefined : periodOf(facts.refund.at, tz);
  if (candidate !== period && refundPeriod !== period) return none();

  const paid = parseCents(facts.amount);
  if (paid === undefined || paid < 0n) {
    // Reported once, in the first period the line would have touched.
    if (earliest([candidate, refundPeriod]) !== period) return none();
    const ref = candidate === period ? orderLineId(facts) : refundLineId(facts);
    return {
      lines: [],
      problems: [problem('BAD_AMOUNT', ref, `${orderLineId(facts)} has a malformed paid amount: "${facts.amount}"`, facts.productId)],
    };
  }
  const billed = paid > 0n ? candidate : undefined;

  if (facts.refund === undefined) {
    return billed === period ? orderEntry(facts, 'ORDER', paid, at!, undefined, settings) : none();
  }

  const refund = facts.refund;
  const refunded = parseCents(refund.amount);
  const refundValid = refunded !== undefined && refunded >= 0n && refunded <= paid;
  const billedBefore = billed !== undefined && billed < refundPeriod!;

  if (billedBefore) {
    // Billed in an earlier month: the line stands there, the refund offsets it in the refund's month.
    if (period === billed) return orderEntry(facts, 'ORDER', paid, at!, undefined, settings);
    if (!refundValid) return { lines: [], problems: [badRefund(facts)] };
    return refunded > 0n ? orderEntry(facts, 'REFUND', -refunded, refund.at, refund.orderId, settings) : none();
  }

  // Not billed before the refund's month: the refund cancels what it refunds, the rest is billed when billable.
  if (!refundValid) return period === refundPeriod ? { lines: [], problems: [badRefund(facts)] } : none();
  const remaining = paid - refunded;
  if (billed !== period || remaining <= 0n) return none();
  return orderEntry(facts, 'ORDER', remaining, at!, refunded > 0n ? refund.orderId : undefined, settings);
}

function badRefund(facts: OrderLineFacts): SettlementProblem {
  return problem(
    'BAD_AMOUNT',
    refundLineId(facts),
    `refund ${facts.refund!.orderId} of ${orderLineId(facts)} is not an amount from 0 to the ${facts.amount} paid: "${facts.refund!.amount}"`,
    facts.productId,
  );
}

/** The period whose statement carries the facts' adjustment of a closed period. Throws RangeError if inconsistent. */
function adjustmentPeriods(facts: OrderLineFacts): { closed: Period; carriedIn: Period } | undefined {
  const closed = facts.adjustmentFor;
  if (closed === undefined) return undefined;
  if (!isPeriod(closed)) throw new RangeError(`adjustmentFor of ${orderLineId(facts)} is not a period: "${closed}"`);
  const carriedIn = facts.adjustmentIn ?? nextPeriod(closed);
  if (!isPeriod(carriedIn) || carriedIn <= closed) {
    throw new RangeError(`adjustmentIn of ${orderLineId(facts)} must be a period after ${closed}: "${carriedIn}"`);
  }
  return { closed, carriedIn };
}

/**
 * What one order line contributes to one period's statement (docs/settlement.md):
 * - an ORDER line in its billing period;
 * - a refund of a line billed in an earlier month: a REFUND line (negative amounts) in the refund's month;
 * - a refund of a line not billed before the refund's month: no REFUND line; the ORDER line carries what was
 *   kept (paid − refunded) in its billing period, and nothing at all when the whole amount was refunded;
 * - facts that arrived after `adjustmentFor` was closed: that period's contribution moves, marked, to the
 *   statement of `adjustmentIn` (default: the next month); the closed statement is never changed.
 * Each line and each problem of a line appears in one period only.
 */
export function orderLineEntries(facts: OrderLineFacts, period: Period, settings: SettlementSettings): Entries {
  if (!isPeriod(period)) throw new RangeError(`not a period: "${String(period)}"`);
  const adjustment = adjustmentPeriods(facts);
  if (adjustment === undefined) return contribution(facts, period, settings);
  if (period === adjustment.closed) return none();
  const normal = contribution(facts, period, settings);
  if (period !== adjustment.carriedIn) return normal;

  const late = contribution(facts, adjustment.closed, settings);
  const lineIds = new Set(normal.lines.map((l) => l.lineId));
  const refs = new Set(normal.problems.map((p) => `${p.code} ${p.ref}`));
  return {
    lines: [...normal.lines, ...late.lines.filter((l) => !lineIds.has(l.lineId)).map((l) => ({ ...l, adjustmentFor: adjustment.closed }))],
    problems: [...normal.problems, ...late.problems.filter((p) => !refs.has(`${p.code} ${p.ref}`))],
  };
}

/**
 * One instance's pay-per-use usage in the period: a USAGE line of gross = units × unit price rounded half up to
 * cents, in the price list's currency. No usage (0 units) and debug usage give nothing.
 */
export function usageEntries(usage: UsageFacts, period: Period, settings: SettlementSettings): Entries {
  if (!isPeriod(period)) throw new RangeError(`not a period: "${String(period)}"`);
  if (usage.test) return none();
  const lineId = usageLineId(usage);
  const units = parseDecimal(usage.units);
  if (units === undefined || units.units < 0n) {
    return {
      lines: [],
      problems: [
        problem('BAD_AMOUNT', lineId, `usage of ${usage.instanceId} is not a non-negative decimal: "${usage.units}"`, usage.productId),
      ],
    };
  }
  if (units.units === 0n) return none();
  const productId = usage.productId;
  const withheld = (code: SettlementProblemCode, message: string): Entries => ({
    lines: [],
    problems: [problem(code, lineId, message, productId)],
  });
  if (productId === undefined || productId === '') return withheld('NO_PRODUCT', `${lineId} has no productId, so its price is unknown`);
  const price = own(settings.prices, productId);
  if (price === undefined) return withheld('NO_PRICE', `no pay-per-use price is configured for product ${productId}`);
  const unitPrice = parseDecimal(price.unitPrice);
  if (unitPrice === undefined || unitPrice.units < 0n) {
    return withheld('BAD_SETTING', `the unit price of product ${productId} is not a non-negative decimal: "${price.unitPrice}"`);
  }
  if (usage.currency !== undefined && usage.currency !== price.currency) {
    return withheld(
      'CURRENCY_MISMATCH',
      `${usage.instanceId} was bought in ${usage.currency} but product ${productId} is priced in ${price.currency}`,
    );
  }
  const terms = termsFor(lineId, productId, settings);
  if ('problem' in terms) return { lines: [], problems: [terms.problem] };
  const line: StatementLine = {
    lineId,
    kind: 'USAGE',
    instanceId: usage.instanceId,
    productId,
    currency: price.currency,
    quantity: usage.units,
    unit: price.unit,
    unitPrice: price.unitPrice,
    at: periodBounds(period, settings.timeZone).start,
    ...lineAmounts(roundTo(multiply(units, unitPrice), 2), terms.share, terms.taxRate),
  };
  return { lines: [line], problems: [] };
}

/** The statement's order: by lineId, comparing UTF-16 code units (plain `<`), so it never depends on a locale. */
export function compareLines(a: StatementLine, b: StatementLine): number {
  return a.lineId < b.lineId ? -1 : a.lineId > b.lineId ? 1 : 0;
}

/** Problems in the same deterministic order: by ref, then code. */
export function compareProblems(a: SettlementProblem, b: SettlementProblem): number {
  const ka = `${a.ref}\u0000${a.code}`;
  const kb = `${b.ref}\u0000${b.code}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

interface Sums {
  lines: number;
  gross: bigint;
  fee: bigint;
  tax: bigint;
  net: bigint;
}

/** Per-currency sums of statement lines, kept in cents so no rounding ever drifts. */
export class StatementTotals {
  private readonly sums = new Map<string, Sums>();

  add(line: Pick<StatementLine, 'lineId' | 'currency' | 'gross' | 'fee' | 'tax' | 'net'>): void {
    const cents = (field: 'gross' | 'fee' | 'tax' | 'net'): bigint => {
      const value = parseMoney(line[field]);
      if (value === undefined) throw new RangeError(`${line.lineId}: ${field} is not an amount with 2 decimals: "${line[field]}"`);
      return value;
    };
    this.merge(line.currency, { lines: 1, gross: cents('gross'), fee: cents('fee'), tax: cents('tax'), net: cents('net') });
  }

  /** Adds totals computed elsewhere (another segment of the same statement). */
  addTotals(currency: string, totals: CurrencyTotals): void {
    const cents = (field: 'gross' | 'fee' | 'tax' | 'net'): bigint => {
      const value = parseMoney(totals[field]);
      if (value === undefined) throw new RangeError(`${currency} totals: ${field} is not an amount with 2 decimals: "${totals[field]}"`);
      return value;
    };
    this.merge(currency, { lines: totals.lines, gross: cents('gross'), fee: cents('fee'), tax: cents('tax'), net: cents('net') });
  }

  private merge(currency: string, s: Sums): void {
    const t = this.sums.get(currency) ?? { lines: 0, gross: 0n, fee: 0n, tax: 0n, net: 0n };
    this.sums.set(currency, {
      lines: t.lines + s.lines,
      gross: t.gross + s.gross,
      fee: t.fee + s.fee,
      tax: t.tax + s.tax,
      net: t.net + s.net,
    });
  }

  /** Totals per currency, currencies in code-unit order. */
  get(): Record<string, CurrencyTotals> {
    const result: Record<string, CurrencyTotals> = {};
    for (const currency of [...this.sums.keys()].sort()) {
      const s = this.sums.get(currency)!;
      result[currency] = {
        lines: s.lines,
        gross: formatCents(s.gross),
        fee: formatCents(s.fee),
        tax: formatCents(s.tax),
        net: formatCents(s.net),
      };
    }
    return result;
  }
}

export interface Statement extends Entries {
  period: Period;
  totals: Record<string, CurrencyTotals>;
}

/**
 * A whole period's statement from every order line and every instance's usage that may touch it: lines sorted
 * by lineId, problems by ref, totals per currency. Two lines with one lineId mean the facts were given twice.
 */
export function statement(
  period: Period,
  orders: Iterable<OrderLineFacts>,
  usage: Iterable<UsageFacts>,
  settings: SettlementSettings,
): Statement {
  const lines: StatementLine[] = [];
  const problems: SettlementProblem[] = [];
  for (const facts of orders) {
    const e = orderLineEntries(facts, period, settings);
    lines.push(...e.lines);
    problems.push(...e.problems);
  }
  for (const u of usage) {
    const e = usageEntries(u, period, settings);
    lines.push(...e.lines);
    problems.push(...e.problems);
  }
  lines.sort(compareLines);
  problems.sort(compareProblems);
  const totals = new StatementTotals();
  for (let i = 0; i < lines.length; i++) {
    if (i > 0 && lines[i]!.lineId === lines[i - 1]!.lineId)
      throw new Error(`${lines[i]!.lineId} appears twice in ${period}: the same facts were given twice`);
    totals.add(lines[i]!);
  }
  return { period, lines, problems, totals: totals.get() };
}
