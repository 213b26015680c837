/**
 * The seller's client for the KooGallery Open API "Query Order" (查询订单, spec §8.1): what was bought on an order
 * line (charging mode, period, product, SKU, linear value, amount, buyer ids). newInstance and upgrades carry no
 * SKU or buyer data, so provisioning asks this API. Calls are signed with the seller's AK/SK (§7.8), over strict
 * TLS, and retried once on the fallback host when the primary cannot be reached.
 */
import { z } from 'zod';
import { readCapped } from '../http/readCapped.ts';
import type { Log } from '../log.ts';
import { signApigRequest, uriEncode, type ApigCredentials } from './apig.ts';

export const OPEN_API_BASE_URL = 'https://mkt.myhuaweicloud.com';
export const OPEN_API_FALLBACK_URL = 'https://mkt.myhuaweicloud.cn';
export const ORDER_QUERY_PATH = '/api/mkp-openapi-public/global/v1/order/query';
export const OPEN_API_DEFAULT_TIMEOUT_MS = 3000;
/** A Query Order answer is a few KB; anything far larger is not one. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_RESULT_MSG = 200;

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
  | {
      ok: false;
      /** true: a later attempt may succeed (rate limit, marketplace or network trouble); false: it will not. */
      retry: boolean;
      /** The marketplace's resultCode (`MKT.xxxx`), the gateway's error_code, or one of OpenApiFailure. */
      code: string;
      reason: string;
      httpStatus?: number;
    };

export interface OpenApiConfig {
  baseUrl: string;
  fallbackUrl?: string;
  credentials: () => Promise<ApigCredentials>;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  log?: Log;
}

export interface OpenApiClient {
  queryOrder(orderId: string, orderLineId?: string): Promise<QueryOrderOutcome>;
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

type Attempt =
  | { kind: 'answer'; status: number; text: string | undefined }
  /** The marketplace answered but the body did not arrive. */
  | { kind: 'broken'; status: number; code: string; detail: string }
  | { kind: 'unreachable'; code: string; detail: string };

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
  const trimSlash = (u: string) => u.replace(/\/+$/, '');
  const hosts: { via: 'primary' | 'fallback'; base: string }[] = [{ via: 'primary', base: trimSlash(config.baseUrl) }];
  if (config.fallbackUrl) hosts.push({ via: 'fallback', base: trimSlash(config.fallbackUrl) });

  async function attempt(url: string, credentials: ApigCredentials): Promise<Attempt> {
    const signed = signApigRequest(
      { method: 'GET', url, headers: { 'Content-Type': 'application/json' } },
      credentials,
      new Date(now()),
    );
    // fetch sets Host from the URL itself (the value that was signed).
    const headers = Object.fromEntries(Object.entries(signed).filter(([name]) => name.toLowerCase() !== 'host'));
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      // Certificates are always verified (fetch's default); redirects are not followed: the answer is the answer.
      response = await doFetch(url, { method: 'GET', headers, signal, redirect: 'manual' });
    } catch (error) {
      return { kind: 'unreachable', ...failureDetail(error) };
    }
    try {
      return { kind: 'answer', status: response.status, text: await bodyUnlessTooLarge(response) };
    } catch (error) {
      return { kind: 'broken', status: response.status, ...failureDetail(error) };
    }
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
      let credentials: ApigCredentials;
      try {
        credentials = CredentialsSchema.parse(await config.credentials());
      } catch (error) {
        // A configuration problem an operator fixes; later attempts can then succeed.
        const name = error instanceof z.ZodError ? 'AK/SK are empty' : error instanceof Error ? error.name : 'error';
        return { ok: false, retry: true, code: OpenApiFailure.credentials, reason: `AK/SK unavailable (${name})` };
      }
      // Already in canonical order and encoding, as Huawei's signer sends it.
      const query =
        `orderId=${uriEncode(orderId)}` + (orderLineId !== undefined ? `&orderLineId=${uriEncode(orderLineId)}` : '');
      const failures: string[] = [];
      let lastCode: string = OpenApiFailure.network;
      for (const { via, base } of hosts) {
        const url = `${base}${ORDER_QUERY_PATH}?${query}`;
        const result = await attempt(url, credentials);
        if (result.kind === 'answer') {
          return interpretQueryOrderAnswer(result.status, result.text, orderId, orderLineId, via);
        }
        if (result.kind === 'broken') {
          // Transient, and not a reason to try the fallback: the marketplace did answer.
          const reason = `${via} host answered HTTP ${result.status} but the body did not arrive (${result.detail})`;
          return { ok: false, retry: true, code: result.code, reason, httpStatus: result.status };
        }
        const host = new URL(base).host;
        failures.push(`${via} host ${host} unreachable (${result.detail})`);
        lastCode = result.code;
        if (via === 'primary' && hosts.length > 1) {
          config.log?.warn('Open API primary host unreachable, trying the fallback', { host, error: result.detail });
        }
      }
      return { ok: false, retry: true, code: lastCode, reason: failures.join('; ') };
    },
  };
}
