/**
 * Query Order (查询订单, spec §8.1): the answer parsed leniently, the requested order line picked and flattened,
 * unknown fields reported by name.
 *
 * The answer schemas: every field optional, a field of the wrong type is dropped rather than failing the answer,
 * unknown fields are ignored (and reported). Personal data (names, phone, email) is not in any schema, so it is
 * stripped by parsing.
 */
import * as z from 'zod';
import { OpenApiFailure, RESULT_SUCCESS, type OrderLine, type QueryOrderOutcome } from './contract.ts';
import { exactNumbers } from './exactNumbers.ts';
import { lenientArray, lenientItems, optAmount, optCount, optQuantity, optText } from './lenientFields.ts';
import { isRetryable, trimMessage } from './refusals.ts';

export const BuyerInfoSchema = z.object({ customerId: optText, userId: optText });

export const ProductInfoSchema = z.object({
  productId: optText,
  skuCode: optText,
  linearValue: optQuantity,
  productName: optText,
});

/** Fields an order line may carry; the flat push-style shape puts them on the order itself. */
const lineFields = {
  orderLineId: optText,
  orderId: optText,
  chargingMode: optText,
  periodType: optText,
  periodNumber: optCount,
  expireTime: optText,
  createTime: optText,
  productInfo: lenientArray(ProductInfoSchema),
  productId: optText,
  skuCode: optText,
  linearValue: optQuantity,
  productName: optText,
  orderAmount: optAmount,
  amount: optAmount,
  currency: optText,
  trialFlag: optText,
  buyerInfo: BuyerInfoSchema.optional().catch(undefined),
  customerId: optText,
  userId: optText,
};
/** Documented fields this client reads nothing from: not reported as unknown. */
const DOCUMENTED_UNUSED = ['businessId', 'provisionType', 'extendParams'];

export const OrderLineSchema = z.object(lineFields);
export const OrderInfoSchema = z.object({
  ...lineFields,
  orderType: optText,
  orderLine: lenientArray(OrderLineSchema),
});
type OrderInfo = z.output<typeof OrderInfoSchema>;
type OrderLineInfo = z.output<typeof OrderLineSchema>;

export const QueryOrderResponseSchema = z.object({
  resultCode: optText,
  resultMsg: optText,
  /** An object (Query Order) or, in the push-style shape, an array of orders. */
  orderInfo: z
    .union([OrderInfoSchema, lenientItems(OrderInfoSchema)])
    .optional()
    .catch(undefined),
  buyerInfo: BuyerInfoSchema.optional().catch(undefined),
  /** The API gateway's own errors (bad signature, throttling) use these instead of resultCode. */
  error_code: optText,
  error_msg: optText,
});

const KNOWN_ORDER_FIELDS = new Set([...Object.keys(OrderInfoSchema.shape), ...DOCUMENTED_UNUSED]);
const KNOWN_LINE_FIELDS = new Set([...Object.keys(OrderLineSchema.shape), ...DOCUMENTED_UNUSED]);

function unknownKeys(raw: unknown, known: ReadonlySet<string>, prefix: string): string[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return [];
  return Object.keys(raw)
    .filter((k) => !known.has(k))
    .map((k) => `${prefix}.${k}`);
}

/** Unknown top-level fields of every orderInfo and orderLine element, deduplicated. */
function unknownFieldsOf(rawResponse: unknown): string[] {
  const found = new Set<string>();
  const info = (rawResponse as { orderInfo?: unknown } | null)?.orderInfo;
  for (const order of Array.isArray(info) ? info : [info]) {
    for (const k of unknownKeys(order, KNOWN_ORDER_FIELDS, 'orderInfo')) found.add(k);
    const lines = (order as { orderLine?: unknown } | null)?.orderLine;
    if (Array.isArray(lines)) {
      for (const line of lines) for (const k of unknownKeys(line, KNOWN_LINE_FIELDS, 'orderLine')) found.add(k);
    }
  }
  return [...found].sort();
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The requested line (or, without orderLineId, the first line) of the order `orderId`, flattened: line fields
 * win over order fields, the first productInfo gives the product. Orders with another orderId are ignored, and
 * a line is only ever matched by its own orderLineId.
 */
export function selectOrderLine(
  response: z.output<typeof QueryOrderResponseSchema>,
  orderId: string,
  orderLineId?: string,
): OrderLine | undefined {
  const orders: OrderInfo[] = Array.isArray(response.orderInfo) ? response.orderInfo : response.orderInfo ? [response.orderInfo] : [];
  for (const order of orders) {
    if (order.orderId !== undefined && order.orderId !== orderId) continue;
    const lines: OrderLineInfo[] = order.orderLine?.length ? order.orderLine : [order];
    const line = lines.find((l) => (orderLineId === undefined ? l.orderLineId !== undefined : l.orderLineId === orderLineId));
    if (!line?.orderLineId) continue;
    if (line.orderId !== undefined && line.orderId !== orderId) continue;
    const product = line.productInfo?.[0] ?? order.productInfo?.[0];
    const buyer = line.buyerInfo ?? order.buyerInfo ?? response.buyerInfo;
    return defined<OrderLine>({
      orderId,
      orderLineId: line.orderLineId,
      orderType: order.orderType,
      createTime: order.createTime ?? line.createTime,
      chargingMode: line.chargingMode ?? order.chargingMode,
      periodType: line.periodType ?? order.periodType,
      periodNumber: line.periodNumber ?? order.periodNumber,
      expireTime: line.expireTime ?? order.expireTime,
      productId: product?.productId ?? line.productId ?? order.productId,
      skuCode: product?.skuCode ?? line.skuCode ?? order.skuCode,
      linearValue: product?.linearValue ?? line.linearValue ?? order.linearValue,
      productName: product?.productName ?? line.productName ?? order.productName,
      amount: line.orderAmount ?? line.amount ?? order.orderAmount ?? order.amount,
      currency: line.currency ?? order.currency,
      trialFlag: line.trialFlag ?? order.trialFlag,
      customerId: buyer?.customerId ?? line.customerId ?? order.customerId,
      userId: buyer?.userId ?? line.userId ?? order.userId,
    });
  }
  return undefined;
}

/** Maps one HTTP answer (status and body text) of Query Order to an outcome. */
export function interpretQueryOrderAnswer(
  status: number,
  text: string | undefined,
  orderId: string,
  orderLineId: string | undefined,
  via: 'primary' | 'fallback',
): QueryOrderOutcome {
  let raw: unknown;
  try {
    raw = text === undefined ? undefined : JSON.parse(exactNumbers(text));
  } catch {
    raw = undefined;
  }
  const parsed = QueryOrderResponseSchema.safeParse(raw);
  if (!parsed.success) {
    // Not a JSON object: a proxy page, a truncated or oversized answer. 2xx/5xx look like transport trouble.
    const retry = status < 300 || isRetryable(undefined, status);
    return {
      ok: false,
      retry,
      code: status < 300 ? OpenApiFailure.badResponse : `HTTP_${status}`,
      reason: `HTTP ${status} with a body that is not a Query Order answer`,
      httpStatus: status,
    };
  }
  const response = parsed.data;
  const code = response.resultCode ?? response.error_code;
  if (code === RESULT_SUCCESS) {
    const order = selectOrderLine(response, orderId, orderLineId);
    if (!order) {
      return {
        ok: false,
        retry: false,
        code: OpenApiFailure.notFound,
        reason: 'order line not found in the order',
        httpStatus: status,
      };
    }
    return { ok: true, order, unknownFields: unknownFieldsOf(raw), via };
  }
  if (code === undefined) {
    return {
      ok: false,
      retry: status < 300 || isRetryable(undefined, status),
      code: status < 300 ? OpenApiFailure.badResponse : `HTTP_${status}`,
      reason: `HTTP ${status} without a resultCode`,
      httpStatus: status,
    };
  }
  const message = trimMessage(response.resultMsg ?? response.error_msg);
  return {
    ok: false,
    retry: isRetryable(code, status),
    code,
    reason: `${code} (HTTP ${status})${message ? `: ${message}` : ''}`,
    httpStatus: status,
  };
}
