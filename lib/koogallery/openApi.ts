/**
 * The seller's client for the KooGallery Open API:
 *  - "Query Order" (查询订单, spec §8.1): what was bought on an order line (charging mode, period, product, SKU,
 *    linear value, amount, buyer ids). newInstance and upgrades carry no SKU or buyer data, so provisioning asks
 *    this API.
 *  - the usage push (按需使用量推送, §8.2): pay-per-use records, each with a seller-unique `metering_sn` that makes
 *    a re-push harmless. It also carries the business signature of §7.7 (usageSignature.ts).
 * Calls are signed with the seller's AK/SK (§7.8), over strict TLS, and retried once on the fallback host when the
 * primary cannot be reached.
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { readCapped } from '../http/readCapped.ts';
import type { Log } from '../log.ts';
import { parseSdkDate, signApigRequest, uriEncode, type ApigCredentials } from './apig.ts';
import { usageBody, usageSignature } from './usageSignature.ts';

export const OPEN_API_BASE_URL = 'https://mkt.myhuaweicloud.com';
export const OPEN_API_FALLBACK_URL = 'https://mkt.myhuaweicloud.cn';
export const ORDER_QUERY_PATH = '/api/mkp-openapi-public/global/v1/order/query';
export const USAGE_DATA_PATH = '/api/mkp-openapi-public/global/v1/isv/usage-data';
/** The error table's limit (the field table says 1000; 100 is the safe reading, spec §8.2). */
export const MAX_USAGE_RECORDS = 100;
/**
 * The marketplace's answer to records it already has is not documented; this is the fake's (and a guess at the
 * real one). Configurable through `duplicateCodes`.
 */
export const DEFAULT_DUPLICATE_CODES: readonly string[] = ['MKT.9005'];
export const OPEN_API_DEFAULT_TIMEOUT_MS = 3000;
/** A Query Order answer is a few KB; anything far larger is not one. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_RESULT_MSG = 200;
const MAX_EXTRA_INFO = 500;

export const RESULT_SUCCESS = 'MKT.0000';

/** Outcome codes for failures that are not the marketplace's own `resultCode`. */
export const OpenApiFailure = {
  invalidInput: 'INVALID_INPUT',
  credentials: 'CREDENTIALS_UNAVAILABLE',
  network: 'NETWORK_ERROR',
  timeout: 'TIMEOUT',
  badResponse: 'BAD_RESPONSE',
  notFound: 'ORDER_LINE_NOT_FOUND',
} as const;

/** A call that did not succeed. */
export interface OpenApiRefusal {
  ok: false;
  /**
   * true: a later attempt may succeed (rate limit, marketplace or network trouble; a usage push sends the same records,
   * same metering_sn, again); false: it will not.
   */
  retry: boolean;
  /** The marketplace's resultCode (`MKT.xxxx`), the gateway's error_code, or one of OpenApiFailure. */
  code: string;
  reason: string;
  httpStatus?: number;
}

/** One order line as the seller uses it: ids and terms, never the buyer's names, phone or email. */
export interface OrderLine {
  orderId: string;
  orderLineId: string;
  orderType?: string;
  /** yyyyMMddHHmmss, as the marketplace sends it. */
  createTime?: string;
  chargingMode?: string;
  periodType?: string;
  periodNumber?: number;
  /** yyyyMMddHHmmss, as the marketplace sends it. */
  expireTime?: string;
  productId?: string;
  skuCode?: string;
  linearValue?: number;
  productName?: string;
  /** Decimal string with the digits the marketplace sent (`19.90` stays "19.90"): money is never a float. */
  amount?: string;
  currency?: string;
  trialFlag?: string;
  customerId?: string;
  userId?: string;
}

export type QueryOrderOutcome =
  | {
      ok: true;
      order: OrderLine;
      /** Fields of orderInfo / orderLine this client does not know (`orderInfo.x`, `orderLine.y`): log them. */
      unknownFields: string[];
      /** Which host answered. */
      via: 'primary' | 'fallback';
    }
  | OpenApiRefusal;

/** One pay-per-use usage record as pushed (spec §8.2). Times are UTC `yyyyMMdd'T'HHmmss'Z'`. */
export interface UsagePushRecord {
  /** The pay-per-use instance (the id newInstance returned for that item). */
  instance_id: string;
  /** When the record was produced. */
  record_time: string;
  /** Start of the metered window (must be within the last 21 days). */
  begin_time: string;
  /** End of the metered window, after begin_time. */
  end_time: string;
  /** Decimal string, > 0, at most 4 decimals (`"12.5"`): never a float. */
  usage_value: string;
  /** Seller-unique id of the record: the marketplace's idempotency key. */
  metering_sn: string;
  /** The package instance drawn down, for "stop-when-used-up" packages (用完即停套餐包). */
  relate_pkg_instance?: string;
}

export type UsagePushOutcome =
  | {
      ok: true;
      /** MKT.0000, or the duplicate code the marketplace answered. */
      code: string;
      /** The marketplace already had every record: nothing new was accepted, and nothing is lost. */
      duplicate: boolean;
      via: 'primary' | 'fallback';
    }
  | (OpenApiRefusal & {
      /** The marketplace's `extra_info` (which record, which field), at most 500 characters. */
      extraInfo?: string;
    });

export interface OpenApiConfig {
  baseUrl: string;
  fallbackUrl?: string;
  credentials: () => Promise<ApigCredentials>;
  /** The seller's basic-interface access key (spec §7.1): the key of the usage push's business signature. */
  accessKey?: () => Promise<string>;
  /** resultCodes that mean "these records were already pushed" (default DEFAULT_DUPLICATE_CODES). */
  duplicateCodes?: readonly string[];
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  log?: Log;
}

export interface OpenApiClient {
  queryOrder(orderId: string, orderLineId?: string): Promise<QueryOrderOutcome>;
  /** Pushes 1 to 100 usage records; pushing the same records again is safe (metering_sn). */
  pushUsage(records: UsagePushRecord[]): Promise<UsagePushOutcome>;
}

// ---------------------------------------------------------------------------------------------------------------
// Response schemas: every field optional, a field of the wrong type is dropped rather than failing the answer,
// unknown fields are ignored (and reported). Personal data (names, phone, email) is not in any schema, so it is
// stripped by parsing.

/** Ids may arrive as JSON numbers; they are read as strings (the raw digits, see exactNumbers). */
const optText = z
  .union([z.string(), z.number().transform(String)])
  .optional()
  .catch(undefined);
const optCount = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d{1,9}$/).transform(Number)])
  .optional()
  .catch(undefined);
const optQuantity = z
  .union([z.number().finite().nonnegative(), z.string().regex(/^\d{1,12}(\.\d{1,6})?$/).transform(Number)])
  .optional()
  .catch(undefined);
/** Amounts are strings by the time they are parsed (exactNumbers); exponent forms are expanded exactly. */
const optAmount = z
  .string()
  .transform((s, ctx) => {
    const plain = plainDecimal(s.trim());
    if (plain === undefined) {
      ctx.addIssue({ code: 'custom', message: 'not a decimal amount' });
      return z.NEVER;
    }
    return plain;
  })
  .optional()
  .catch(undefined);

/** An array whose malformed elements are dropped. */
function lenientItems<T extends z.ZodType>(schema: T) {
  return z.array(z.unknown()).transform((items) =>
    items.flatMap((item) => {
      const r = schema.safeParse(item);
      return r.success ? [r.data as z.output<T>] : [];
    }),
  );
}

function lenientArray<T extends z.ZodType>(schema: T) {
  return lenientItems(schema).optional().catch(undefined);
}

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

// ---------------------------------------------------------------------------------------------------------------
// Exact numbers. JSON.parse turns 19.90 into the float 19.9 (and long numeric ids lose digits); on Node 20 a
// reviver cannot see the source text. So before parsing, number literals that are values of these keys are
// rewritten as strings holding the same characters.

const EXACT_KEYS = new Set([
  'orderAmount',
  'amount',
  'orderId',
  'orderLineId',
  'customerId',
  'userId',
  'productId',
  'skuCode',
]);
const NUMBER_LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** `json` with the number values of `keys` (at any depth) turned into JSON strings of the same digits. */
export function exactNumbers(json: string, keys: ReadonlySet<string> = EXACT_KEYS): string {
  let out = '';
  let i = 0;
  let lastString: string | undefined;
  while (i < json.length) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      lastString = json.slice(i, j + 1);
      out += lastString;
      i = j + 1;
      continue;
    }
    if (c === ':') {
      out += c;
      i++;
      while (i < json.length && /\s/.test(json[i] ?? '')) out += json[i++];
      NUMBER_LITERAL.lastIndex = i;
      const m = NUMBER_LITERAL.exec(json);
      if (m && lastString !== undefined && keys.has(jsonStringValue(lastString))) {
        out += `"${m[0]}"`;
        i += m[0].length;
      }
      lastString = undefined;
      continue;
    }
    if (!/\s/.test(c ?? '')) lastString = undefined;
    out += c;
    i++;
  }
  return out;
}

function jsonStringValue(literal: string): string {
  try {
    const v: unknown = JSON.parse(literal);
    return typeof v === 'string' ? v : '';
  } catch {
    return '';
  }
}

/** A decimal literal written without exponent, digits kept (`1.990e1` → "19.90"); undefined if not a number. */
export function plainDecimal(literal: string): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,3}))?$/.exec(literal);
  if (!m) return undefined;
  const [, sign = '', int = '', frac = '', exp] = m;
  if (exp === undefined) return literal;
  let digits = int + frac;
  let point = int.length + Number(exp);
  if (point <= 0) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const whole = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const fraction = digits.slice(point);
  return sign + whole + (fraction ? `.${fraction}` : '');
}

// ---------------------------------------------------------------------------------------------------------------
// Answer classification. The code decides first, the HTTP status second: the spec's table gives HTTP 500 for
// MKT.0100 (input validation failed) and MKT.9001 (not found), yet asking again can never change those answers,
// so they are permanent whatever the status. Rate limiting (MKT.0250, 406) and internal errors (MKT.0999) are
// transient. Any other code: 5xx or 429 → transient, anything else → permanent.

const TRANSIENT_CODES = new Set(['0250', '0999']);

function isPermanentCode(suffix: string): boolean {
  // 0100 input validation, 9001 not found, 9002–9005 usage-record rejections: deterministic answers.
  return suffix === '0100' || /^9\d{3}$/.test(suffix);
}

/** Whether asking again later may help. `MKT.` and the older `CBC.` prefix are read alike. */
export function isRetryable(code: string | undefined, httpStatus: number): boolean {
  const suffix = code !== undefined ? /^(?:MKT|CBC)\.(\d{4})$/.exec(code)?.[1] : undefined;
  if (suffix !== undefined) {
    if (TRANSIENT_CODES.has(suffix)) return true;
    if (isPermanentCode(suffix)) return false;
  }
  return httpStatus >= 500 || httpStatus === 429 || httpStatus === 406;
}

function trimMessage(message: string | undefined): string {
  const m = (message ?? '').replace(/\s+/g, ' ').trim();
  return m.length > MAX_RESULT_MSG ? `${m.slice(0, MAX_RESULT_MSG - 1)}…` : m;
}

// ---------------------------------------------------------------------------------------------------------------
// Normalisation

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
  const orders: OrderInfo[] = Array.isArray(response.orderInfo)
    ? response.orderInfo
    : response.orderInfo
      ? [response.orderInfo]
      : [];
  for (const order of orders) {
    if (order.orderId !== undefined && order.orderId !== orderId) continue;
    const lines: OrderLineInfo[] = order.orderLine?.length ? order.orderLine : [order];
    const line = lines.find((l) =>
      orderLineId === undefined ? l.orderLineId !== undefined : l.orderLineId === orderLineId,
    );
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

// ---------------------------------------------------------------------------------------------------------------
// Usage push answers

export const UsageResponseSchema = z.object({
  resultCode: optText,
  resultMsg: optText,
  /** Which records or fields were refused: a string or any JSON value. */
  extra_info: z.unknown().optional(),
  error_code: optText,
  error_msg: optText,
});

/** `extra_info` as text (JSON values stringified), whitespace collapsed, at most 500 characters. */
function extraInfoText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = (typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).replace(/\s+/g, ' ').trim();
  if (text === '') return undefined;
  return text.length > MAX_EXTRA_INFO ? `${text.slice(0, MAX_EXTRA_INFO - 1)}…` : text;
}

/**
 * Maps one HTTP answer of the usage push to an outcome. MKT.0000 → accepted. A code of `duplicateCodes` → accepted
 * as a duplicate: the marketplace already has the records. Anything else is a failure that isRetryable classifies.
 */
export function interpretUsageAnswer(
  status: number,
  text: string | undefined,
  via: 'primary' | 'fallback',
  duplicateCodes: readonly string[] = DEFAULT_DUPLICATE_CODES,
): UsagePushOutcome {
  let raw: unknown;
  try {
    raw = text === undefined ? undefined : JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = UsageResponseSchema.safeParse(raw);
  const response = parsed.success ? parsed.data : undefined;
  const code = response?.resultCode ?? response?.error_code;
  if (code === undefined) {
    // Not an answer of the API (a proxy page, a truncated body): 2xx/5xx look like transport trouble.
    return {
      ok: false,
      retry: status < 300 || isRetryable(undefined, status),
      code: status < 300 ? OpenApiFailure.badResponse : `HTTP_${status}`,
      reason: response ? `HTTP ${status} without a resultCode` : `HTTP ${status} with a body that is not an answer`,
      httpStatus: status,
    };
  }
  if (code === RESULT_SUCCESS) return { ok: true, code, duplicate: false, via };
  const retry = isRetryable(code, status);
  const message = response?.resultMsg ?? response?.error_msg;
  // Only the configured codes: a refusal that merely mentions duplicates (a batch refused for a repeated entity)
  // must not mark records accepted that the marketplace did not take.
  if (duplicateCodes.includes(code)) {
    return { ok: true, code, duplicate: true, via };
  }
  const trimmed = trimMessage(message);
  const extraInfo = extraInfoText(response?.extra_info);
  return {
    ok: false,
    retry,
    code,
    reason: `${code} (HTTP ${status})${trimmed ? `: ${trimmed}` : ''}`,
    httpStatus: status,
    ...(extraInfo !== undefined ? { extraInfo } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Client

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** https only; plain http is allowed to a loopback host, for the local fake. */
function endpointUrl(label: string) {
  return z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${label} is not a URL` });
      return;
    }
    if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
      ctx.addIssue({
        code: 'custom',
        message: `${label} must use https (plain http is only allowed to 127.0.0.1, ::1 or localhost): ${url.host}`,
      });
    } else if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      ctx.addIssue({ code: 'custom', message: `${label} must use https, not ${url.protocol}` });
    }
    if (url.username || url.password || url.search || url.hash) {
      ctx.addIssue({ code: 'custom', message: `${label} must not carry credentials, a query or a fragment` });
    }
  });
}

const ConfigSchema = z.object({
  baseUrl: endpointUrl('Open API baseUrl'),
  fallbackUrl: endpointUrl('Open API fallbackUrl').optional(),
  timeoutMs: z.number().int().min(1).max(60_000).optional(),
});

const CredentialsSchema = z.object({ ak: z.string().min(1), sk: z.string().min(1) });
const OrderIdSchema = z.string().min(1).max(64);

/** A UTC `yyyyMMdd'T'HHmmss'Z'` time that exists on the calendar. */
export const UsageTimeSchema = z
  .string()
  .refine((t) => parseSdkDate(t) !== undefined, "a UTC time yyyyMMdd'T'HHmmss'Z' such as 20220809T091000Z");
/** A decimal string > 0 with at most 4 decimals, no exponent, no leading zeros (`"0.5"`, `"12"`, `"99.1234"`). */
export const UsageValueSchema = z
  .string()
  .max(20)
  .regex(/^(?:0|[1-9]\d*)(?:\.\d{1,4})?$/, 'a decimal string with at most 4 decimals')
  .refine((v) => /[1-9]/.test(v), 'greater than 0');
const usageId = z.string().min(1).max(64);

/** One record as the client accepts it: what the marketplace documents, nothing more (spec §8.2). */
export const UsagePushRecordSchema = z
  .strictObject({
    instance_id: usageId,
    record_time: UsageTimeSchema,
    begin_time: UsageTimeSchema,
    end_time: UsageTimeSchema,
    usage_value: UsageValueSchema,
    metering_sn: usageId,
    relate_pkg_instance: usageId.optional(),
  })
  .refine((r) => r.begin_time < r.end_time, { message: 'begin_time must be before end_time', path: ['end_time'] });
const UsageRecordsSchema = z.array(UsagePushRecordSchema).min(1).max(MAX_USAGE_RECORDS);

type Via = 'primary' | 'fallback';

type Attempt =
  | { kind: 'answer'; status: number; text: string | undefined }
  /** The marketplace answered but the body did not arrive. */
  | { kind: 'broken'; status: number; code: string; detail: string }
  | { kind: 'unreachable'; code: string; detail: string };

/** What one call produced: an HTTP answer from one host, or a transient failure to reach any. */
type Exchange =
  | { kind: 'answer'; via: Via; status: number; text: string | undefined }
  | { kind: 'failed'; failure: { ok: false; retry: true; code: string; reason: string; httpStatus?: number } };

/** What a call sends besides the APIG signature (which is added per attempt, over these headers and body). */
interface Outgoing {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

function failureDetail(error: unknown): { code: string; detail: string } {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { code: OpenApiFailure.timeout, detail: 'timed out' };
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.name : 'error';
  return { code: OpenApiFailure.network, detail };
}

/** The body as text, or undefined if it is larger than MAX_RESPONSE_BYTES. */
async function bodyUnlessTooLarge(response: Response): Promise<string | undefined> {
  const { text, tooLarge } = await readCapped(response, MAX_RESPONSE_BYTES);
  return tooLarge ? undefined : text;
}

function issuesText(error: z.ZodError): string {
  const text = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(records)'}: ${i.message}`)
    .join('; ');
  return trimMessage(text);
}

export function openApiClient(config: OpenApiConfig): OpenApiClient {
  const checked = ConfigSchema.safeParse({
    baseUrl: config.baseUrl,
    fallbackUrl: config.fallbackUrl,
    timeoutMs: config.timeoutMs,
  });
  if (!checked.success) throw new Error(`Invalid Open API configuration: ${z.prettifyError(checked.error)}`);
  const usesTls = [config.baseUrl, config.fallbackUrl].some((u) => u?.startsWith('https:'));
  if (usesTls && process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    throw new Error(
      'NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate checks; the Open API is only called over verified TLS',
    );
  }
  const timeoutMs = config.timeoutMs ?? OPEN_API_DEFAULT_TIMEOUT_MS;
  const doFetch = config.fetch ?? fetch;
  const now = config.now ?? Date.now;
  const duplicateCodes = config.duplicateCodes ?? DEFAULT_DUPLICATE_CODES;
  const trimSlash = (u: string) => u.replace(/\/+$/, '');
  const hosts: { via: Via; base: string }[] = [{ via: 'primary', base: trimSlash(config.baseUrl) }];
  if (config.fallbackUrl) hosts.push({ via: 'fallback', base: trimSlash(config.fallbackUrl) });

  type CredentialsFailure = { ok: false; retry: true; code: string; reason: string };

  async function loadCredentials(): Promise<ApigCredentials | CredentialsFailure> {
    try {
      return CredentialsSchema.parse(await config.credentials());
    } catch (error) {
      // A configuration problem an operator fixes; later attempts can then succeed.
      const name = error instanceof z.ZodError ? 'AK/SK are empty' : error instanceof Error ? error.name : 'error';
      return { ok: false, retry: true, code: OpenApiFailure.credentials, reason: `AK/SK unavailable (${name})` };
    }
  }

  /**
   * One request to one host. `prepare` runs per attempt, at the attempt's time: the APIG signature covers the
   * method, the URL, every header and the body, which is sent as exactly the UTF-8 bytes that were hashed.
   */
  async function attempt(
    url: string,
    credentials: ApigCredentials,
    prepare: (atMs: number) => Outgoing,
  ): Promise<Attempt> {
    const atMs = now();
    const { method, headers: own, body } = prepare(atMs);
    const signed = signApigRequest({ method, url, headers: own, body }, credentials, new Date(atMs));
    // fetch sets Host from the URL itself (the value that was signed).
    const headers = Object.fromEntries(Object.entries(signed).filter(([name]) => name.toLowerCase() !== 'host'));
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      // Certificates are always verified (fetch's default); redirects are not followed: the answer is the answer.
      response = await doFetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : Buffer.from(body, 'utf8'),
        signal,
        redirect: 'manual',
      });
    } catch (error) {
      return { kind: 'unreachable', ...failureDetail(error) };
    }
    try {
      return { kind: 'answer', status: response.status, text: await bodyUnlessTooLarge(response) };
    } catch (error) {
      return { kind: 'broken', status: response.status, ...failureDetail(error) };
    }
  }

  /** The call on the primary host, then, only if that host could not be reached (or timed out), the fallback. */
  async function exchange(
    pathAndQuery: string,
    credentials: ApigCredentials,
    prepare: (atMs: number) => Outgoing,
  ): Promise<Exchange> {
    const failures: string[] = [];
    let lastCode: string = OpenApiFailure.network;
    for (const { via, base } of hosts) {
      const result = await attempt(`${base}${pathAndQuery}`, credentials, prepare);
      if (result.kind === 'answer') return { kind: 'answer', via, status: result.status, text: result.text };
      if (result.kind === 'broken') {
        // Transient, and not a reason to try the fallback: the marketplace did answer.
        const reason = `${via} host answered HTTP ${result.status} but the body did not arrive (${result.detail})`;
        const failure = { ok: false, retry: true, code: result.code, reason, httpStatus: result.status } as const;
        return { kind: 'failed', failure };
      }
      const host = new URL(base).host;
      failures.push(`${via} host ${host} unreachable (${result.detail})`);
      lastCode = result.code;
      if (via === 'primary' && hosts.length > 1) {
        config.log?.warn('Open API primary host unreachable, trying the fallback', { host, error: result.detail });
      }
    }
    return { kind: 'failed', failure: { ok: false, retry: true, code: lastCode, reason: failures.join('; ') } };
  }

  return {
    async queryOrder(orderId, orderLineId) {
      const validIds =
        OrderIdSchema.safeParse(orderId).success &&
        (orderLineId === undefined || OrderIdSchema.safeParse(orderLineId).success);
      if (!validIds) {
        const reason = 'orderId and orderLineId must be 1 to 64 characters';
        return { ok: false, retry: false, code: OpenApiFailure.invalidInput, reason };
      }
      const credentials = await loadCredentials();
      if ('ok' in credentials) return credentials;
      // Already in canonical order and encoding, as Huawei's signer sends it.
      const query =
        `orderId=${uriEncode(orderId)}` + (orderLineId !== undefined ? `&orderLineId=${uriEncode(orderLineId)}` : '');
      const result = await exchange(`${ORDER_QUERY_PATH}?${query}`, credentials, () => ({
        method: 'GET',
        headers: { 'Content-Type': 'application/json' },
      }));
      if (result.kind === 'failed') return result.failure;
      return interpretQueryOrderAnswer(result.status, result.text, orderId, orderLineId, result.via);
    },

    async pushUsage(records) {
      const valid = UsageRecordsSchema.safeParse(records);
      if (!valid.success) {
        const count = Array.isArray(records) ? records.length : 0;
        const reason =
          count < 1 || count > MAX_USAGE_RECORDS
            ? `a push carries 1 to ${MAX_USAGE_RECORDS} records, not ${count}`
            : `invalid usage records: ${issuesText(valid.error)}`;
        return { ok: false, retry: false, code: OpenApiFailure.invalidInput, reason };
      }
      const credentials = await loadCredentials();
      if ('ok' in credentials) return credentials;
      let accessKey: string;
      try {
        accessKey = (await config.accessKey?.()) ?? '';
      } catch (error) {
        const name = error instanceof Error ? error.name : 'error';
        return { ok: false, retry: true, code: OpenApiFailure.credentials, reason: `access key unavailable (${name})` };
      }
      if (accessKey === '') {
        const reason = 'access key unavailable (not configured or empty)';
        return { ok: false, retry: true, code: OpenApiFailure.credentials, reason };
      }
      const body = usageBody(valid.data);
      const result = await exchange(USAGE_DATA_PATH, credentials, (atMs) => {
        // A fresh ts and nonce per attempt: the fallback host never sees a replayed nonce.
        const ts = String(atMs);
        const nonce = randomBytes(16).toString('hex');
        return {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            signature: usageSignature(accessKey, ts, nonce, body),
            ts,
            nonce,
          },
          body,
        };
      });
      if (result.kind === 'failed') return result.failure;
      return interpretUsageAnswer(result.status, result.text, result.via, duplicateCodes);
    },
  };
}
