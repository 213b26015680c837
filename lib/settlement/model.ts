import type { SellerActor } from '#lib/audit/records.ts';

/**
 * The seller's monthly statement (spec §8.4): what each paid order line, refund and month of pay-per-use usage
 * earns the seller, net of the platform fee and withheld tax, per calendar month in the seller's time zone.
 * The rules are in rules.ts and docs/settlement.md.
 */

/** A calendar month, `YYYY-MM`. */
export type Period = string;

/** Every month's input is spread over this many shards; a settlement run reads them in parallel segments. */
export const BILL_SHARDS = 16;

/** Settlement's two kinds of input: order lines' billing facts, and the usage the marketplace accepted. */
export type BillKind = 'LINE' | 'USAGE';

export type OrderLineKind = 'NEW' | 'TRIAL_TO_PAID' | 'RENEWAL' | 'UPGRADE';

/** Everything settlement knows about one paid order line, as stored (all instants are ISO UTC strings). */
export interface OrderLineFacts {
  orderId: string;
  orderLineId: string;
  instanceId: string;
  productId?: string;
  kind: OrderLineKind;
  /** What the buyer paid, a decimal string as the marketplace sent it ("19.9", "0", "100.00"). */
  amount: string;
  /** e.g. 'CNY', 'USD' */
  currency: string;
  /** Debug traffic: never settled. */
  test: boolean;
  /** When the order took effect; absent = not yet in effect. */
  effectiveAt?: string;
  /**
   * Present = the product is supervised (spec §8.3); completedAt = the buyer accepted the delivery, `acceptedBy`
   * the seller API key that recorded the acceptance (absent on facts written before acceptances named their key).
   */
  supervision?: { completedAt?: string; serviceStartAt?: string; acceptedBy?: SellerActor };
  /** Unsubscription refund: the refund order, when it was made, and the (non-negative) amount refunded. */
  refund?: { orderId: string; at: string; amount: string };
  /** Set when these facts arrived after that period's statement was closed: its contribution moves to adjustmentIn. */
  adjustmentFor?: Period;
  /** The open period whose statement carries the adjustment; defaults to the month after adjustmentFor. */
  adjustmentIn?: Period;
}

/** Usage the marketplace accepted for one instance within a period (sum of its accepted windows). */
export interface UsageFacts {
  instanceId: string;
  productId?: string;
  /** A non-negative decimal string, e.g. "1234.5" */
  units: string;
  windows: number;
  test?: boolean;
  /** The currency the instance was bought in, when known; it must match the price list's. */
  currency?: string;
}

export interface ProductPrice {
  unitPrice: string;
  unit: string;
  currency: string;
}

export interface SettlementSettings {
  timeZone: string;
  /** productId → platform fee share as a fraction, e.g. "0.15". */
  feeShares: Readonly<Record<string, string>>;
  /** Withholding tax rate on (gross − fee) as a fraction, e.g. "0.06" ("0" = none). */
  taxRate: string;
  /** Pay-per-use price list per productId. */
  prices: Readonly<Record<string, ProductPrice>>;
}

export type StatementLineKind = 'ORDER' | 'REFUND' | 'USAGE';

export interface StatementLine {
  /** Unique in a statement: 'ORDER:<orderId>:<orderLineId>', 'REFUND:<orderId>:<orderLineId>', 'USAGE:<instanceId>'. */
  lineId: string;
  kind: StatementLineKind;
  /** For ORDER and REFUND lines. */
  orderKind?: OrderLineKind;
  /** ORDER: the line; REFUND: the original order line it offsets. */
  orderId?: string;
  orderLineId?: string;
  /** REFUND: the refund order. ORDER: set when the line is billed net of a refund made before it was billed. */
  refundOrderId?: string;
  instanceId: string;
  productId: string;
  currency: string;
  /** USAGE lines. */
  quantity?: string;
  unit?: string;
  unitPrice?: string;
  /** An adjustment of a closed period, carried in this statement. */
  adjustmentFor?: Period;
  /** The instant that put the line in its period (effective/acceptance/refund time); USAGE: the period's start. */
  at: string;
  /**
   * Supervised lines: when the service's validity starts (spec §8.3), the actual start declared with the delivery
   * proofs, else the acceptance.
   */
  serviceFrom?: string;
  /** 2 decimals each; net = gross − fee − tax exactly. */
  gross: string;
  fee: string;
  tax: string;
  net: string;
}

export type SettlementProblemCode = 'NO_FEE_SHARE' | 'NO_PRICE' | 'NO_PRODUCT' | 'CURRENCY_MISMATCH' | 'BAD_AMOUNT' | 'BAD_SETTING';

/** Something that could not be settled and that the seller must fix in configuration (never guessed). */
export interface SettlementProblem {
  code: SettlementProblemCode;
  /** The lineId of the line that was withheld. */
  ref: string;
  productId?: string;
  message: string;
}

export interface CurrencyTotals {
  lines: number;
  gross: string;
  fee: string;
  tax: string;
  net: string;
}
