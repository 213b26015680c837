/**
 * A fake KooGallery Open API on 127.0.0.1 for local runs and tests, behind the APIG AK/SK signature check (§7.8):
 *  - Query Order (GET, spec §8.1) with the marketplace's mock order ids and any order registered by the test or
 *    the developer;
 *  - the usage push (POST …/isv/usage-data, §8.2), which also checks the business signature (§7.7: `signature`,
 *    `ts` within 15 minutes, `nonce` ≤ 64 characters) with the seller's access key, validates the records (a batch
 *    with any bad record is refused whole: MKT.0100 format, MKT.9003 over 100 records, MKT.9004 begin_time older
 *    than 21 days), and keeps the accepted ones. A record whose metering_sn, or whose (instance_id, begin_time,
 *    end_time) window, was already accepted is skipped; a batch of nothing but such records answers MKT.9005.
 *    The real marketplace validates asynchronously and does not document its duplicate answer: these answers
 *    are the fake's.
 * Faults (error answers, delays) can be injected to exercise retries and fallbacks.
 *
 * Control endpoints (unsigned, loopback only): POST /fake/orders (an order, JSON), POST /fake/faults (a fault,
 * JSON), GET /fake/calls (what was called), GET /fake/usage (accepted usage records), POST /fake/usage/reset
 * (forget them).
 *
 * Standalone (prints its URL; keys default to local values):
 *   FAKE_OPENAPI_PORT=4010 KOOGALLERY_AK=… KOOGALLERY_SK=… KOOGALLERY_ACCESS_KEY=… \
 *     node --import tsx scripts/local/fake-openapi.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { listenOnLoopback } from './processes.ts';
import { BodyTooLarge, readBody } from './requestBody.ts';
import { parseSdkDate, verifyApigRequest, type ApigCredentials } from '#lib/koogallery/apig.ts';
import { MAX_USAGE_RECORDS, ORDER_QUERY_PATH, USAGE_DATA_PATH, type UsagePushRecord } from '#lib/koogallery/openApi/contract.ts';
import { exactNumbers } from '#lib/koogallery/openApi/exactNumbers.ts';
import { verifyUsageSignature } from '#lib/koogallery/usageSignature.ts';
import { errorMessage } from '#lib/shared/errors.ts';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_CALLS = 10_000;
const MAX_USAGE = 100_000;
/** How far the usage push's `ts` may be from the fake's clock. */
const USAGE_TS_WINDOW_MS = 15 * 60_000;
/** Usage older than this (by begin_time) is refused with MKT.9004. */
const USAGE_MAX_AGE_MS = 21 * 24 * 3_600_000;

/** Local defaults for the standalone fake; never real keys. */
export const FAKE_OPENAPI_DEFAULT_CREDENTIALS: ApigCredentials = {
  ak: 'local-dev-ak',
  sk: 'local-dev-sk-change-me',
};

/**
 * The seller's basic-interface access key the fake expects on the usage push when none is given: the local default
 * of KOOGALLERY_ACCESS_KEY (LOCAL_DEFAULT_ACCESS_KEY in env.ts, which imports this module and so cannot be imported
 * here). Never a real key.
 */
export const FAKE_OPENAPI_DEFAULT_ACCESS_KEY = 'local-dev-access-key-change-me';

const id64 = z.string().min(1).max(64);
const time14 = z.string().regex(/^\d{14}$/, 'yyyyMMddHHmmss');
const decimal = z.string().regex(/^-?\d{1,12}(\.\d{1,4})?$/, 'a decimal amount such as "19.90"');

/** An order as the fake serves it: the Query Order `orderInfo`, plus the buyer. Amounts are decimal strings. */
export const FakeOrderSchema = z.strictObject({
  orderId: id64,
  orderType: z.string().min(1).max(32).optional(),
  createTime: time14.optional(),
  buyerInfo: z
    .strictObject({
      customerId: id64,
      userId: id64.optional(),
      customerName: z.string().max(128).optional(),
      userName: z.string().max(128).optional(),
      mobilePhone: z.string().max(32).optional(),
      email: z.string().max(128).optional(),
    })
    .optional(),
  orderLine: z
    .array(
      z.strictObject({
        orderLineId: id64,
        chargingMode: z.string().min(1).max(32).optional(),
        periodType: z.string().min(1).max(16).optional(),
        periodNumber: z.number().int().positive().max(1000).optional(),
        expireTime: time14.optional(),
        trialFlag: z.enum(['0', '1']).optional(),
        orderAmount: decimal.optional(),
        currency: z
          .string()
          .regex(/^[A-Z]{3}$/)
          .optional(),
        productInfo: z
          .array(
            z.strictObject({
              productId: id64,
              skuCode: id64,
              linearValue: z.number().nonnegative().max(1e9).optional(),
              productName: z.string().max(256).optional(),
            }),
          )
          .min(1)
          .max(10),
      }),
    )
    .min(1)
    .max(50),
});
export type FakeOrder = z.infer<typeof FakeOrderSchema>;

const usageTime = z
  .string()
  .regex(/^\d{8}T\d{6}Z$/, "yyyyMMdd'T'HHmmss'Z'")
  .refine((t) => parseSdkDate(t) !== undefined, 'not a calendar time');
/** A JSON string or number (read with its digits, see exactNumbers): a decimal > 0 with at most 4 decimals. */
const usageValue = z
  .string()
  .max(20)
  .regex(/^\d{1,16}(\.\d{1,4})?$/, 'a decimal with at most 4 decimals')
  .refine((v) => /[1-9]/.test(v), 'must be greater than 0');

/** One usage record as the fake accepts it (spec §8.2); unknown fields are refused. */
export const FakeUsageRecordSchema = z
  .strictObject({
    instance_id: id64,
    record_time: usageTime,
    begin_time: usageTime,
    end_time: usageTime,
    usage_value: usageValue,
    metering_sn: id64,
    relate_pkg_instance: id64.optional(),
  })
  .refine((r) => r.begin_time < r.end_time, { message: 'begin_time must be before end_time', path: ['end_time'] });
export const FakeUsageBodySchema = z.strictObject({ usage_records: z.array(FakeUsageRecordSchema).min(1) });
type FakeUsageRecord = z.infer<typeof FakeUsageRecordSchema>;

export const FakeFaultSchema = z
  .strictObject({
    /** Only calls to this path (default: any Open API path: Query Order or the usage push). */
    path: z.string().startsWith('/').max(256).optional(),
    /** Answer with this HTTP status and resultCode instead of the real answer. */
    status: z.number().int().min(100).max(599).optional(),
    resultCode: z.string().min(1).max(16).optional(),
    resultMsg: z.string().max(1024).optional(),
    /** Wait this long before answering (longer than a client's timeout: a timeout). */
    delayMs: z.number().int().min(0).max(120_000).optional(),
    /** How many calls it applies to. */
    times: z.number().int().min(1).max(1000).default(1),
  })
  .refine((f) => f.status !== undefined || f.delayMs !== undefined, 'a fault needs a status or a delayMs');
export type FakeFault = z.input<typeof FakeFaultSchema>;

export interface FakeCall {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The APIG signature was valid. */
  akVerified: boolean;
  status: number;
  resultCode: string;
  /** Usage push: how many records the body carried (when it could be read). */
  records?: number;
}

/** A usage record the fake accepted, as received (usage_value keeps its digits), with when it was accepted. */
export type AcceptedUsage = UsagePushRecord & {
  /** Epoch ms, on the fake's clock. */
  acceptedAt: number;
};

export interface FakeOpenApi {
  /** e.g. http://127.0.0.1:4010 */
  url: string;
  registerOrder(order: FakeOrder): void;
  injectFault(fault: FakeFault): void;
  calls(): FakeCall[];
  /** Accepted usage records, oldest first. */
  usage(): AcceptedUsage[];
  /** Forgets the accepted usage records (and so which ones are duplicates). */
  resetUsage(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// The marketplace's mock orders (spec §8.1). Terms are the fake's: the real enum values of orderType and
// chargingMode are not documented (spec §10.6).

export const MOCK_ORDER_IDS = [
  'MOCKPERIODYEARNEW',
  'MOCKONETIMENEW',
  'MOCKONDEMAND',
  'MOCKONDEMANDPKG',
  'MOCKPERIODDAYTRIAL',
  'MOCKMONTYTRIALTOFORMAL',
  'MOCKMONTYUNSUBSCRIBE',
  'MOCKMONTYRENEW',
  'MOCKMONTYCHANGE',
] as const;
export type MockOrderId = (typeof MOCK_ORDER_IDS)[number];

export const MOCK_CREATE_TIME = '20250101080000';

interface MockTerms {
  orderType: string;
  chargingMode: string;
  period?: { type: 'year' | 'month' | 'day'; number: number };
  trialFlag: '0' | '1';
  amount: string;
  productId: string;
  skuCode: string;
  linearValue: number;
  productName: string;
}

/** The monthly subscription the trial-to-formal, unsubscribe and renewal orders are about. */
const MONTHLY: Omit<MockTerms, 'orderType'> = {
  chargingMode: 'PERIOD',
  period: { type: 'month', number: 1 },
  trialFlag: '0',
  amount: '100.00',
  productId: 'OFFI758576253042421765',
  skuCode: 'ae7b6f9d-d08c-4b1f-8d64-5fc07b8c9da6',
  linearValue: 5,
  productName: 'Demo SaaS (monthly)',
};

const MOCK_TERMS: Record<MockOrderId, MockTerms> = {
  MOCKPERIODYEARNEW: {
    orderType: 'NEW',
    chargingMode: 'PERIOD',
    period: { type: 'year', number: 1 },
    trialFlag: '0',
    amount: '1200.00',
    productId: 'OFFI758576253042421760',
    skuCode: '5f2c1a4e-8b3d-4c6a-9e1f-0a7b2c3d4e51',
    linearValue: 10,
    productName: 'Demo SaaS (yearly)',
  },
  MOCKONETIMENEW: {
    orderType: 'NEW',
    chargingMode: 'ONE_TIME',
    trialFlag: '0',
    amount: '19.90',
    productId: 'OFFI758576253042421761',
    skuCode: '6a3d2b5f-9c4e-4d7b-8f20-1b8c3d4e5f62',
    linearValue: 1,
    productName: 'Demo SaaS (one-time)',
  },
  MOCKONDEMAND: {
    orderType: 'NEW',
    chargingMode: 'ON_DEMAND',
    trialFlag: '0',
    amount: '0.00',
    productId: 'OFFI758576253042421762',
    skuCode: '7b4e3c6a-ad5f-4e8c-9a31-2c9d4e5f6a73',
    linearValue: 1,
    productName: 'Demo SaaS (pay-per-use)',
  },
  MOCKONDEMANDPKG: {
    orderType: 'NEW',
    chargingMode: 'ON_DEMAND_PACKAGE',
    period: { type: 'month', number: 1 },
    trialFlag: '0',
    amount: '300.00',
    productId: 'OFFI758576253042421763',
    skuCode: '8c5f4d7b-be6a-4f9d-8b42-3dae5f6a7b84',
    linearValue: 1000,
    productName: 'Demo SaaS (pay-per-use package)',
  },
  MOCKPERIODDAYTRIAL: {
    orderType: 'NEW',
    chargingMode: 'PERIOD',
    period: { type: 'day', number: 1 },
    trialFlag: '1',
    amount: '0.00',
    productId: 'OFFI758576253042421764',
    skuCode: '9d6a5e8c-cf7b-4a0e-9c53-4ebf6a7b8c95',
    linearValue: 5,
    productName: 'Demo SaaS (trial)',
  },
  MOCKMONTYTRIALTOFORMAL: { orderType: 'TRIAL_TO_FORMAL', ...MONTHLY },
  MOCKMONTYUNSUBSCRIBE: { orderType: 'UNSUBSCRIBE', ...MONTHLY },
  MOCKMONTYRENEW: { orderType: 'RENEW', ...MONTHLY },
  MOCKMONTYCHANGE: {
    orderType: 'CHANGE',
    chargingMode: 'PERIOD',
    period: { type: 'month', number: 1 },
    trialFlag: '0',
    amount: '55.50',
    productId: 'OFFI758576253042421766',
    skuCode: 'bf8c7a0e-e19d-4c2a-9e75-6ad18c9daeb7',
    linearValue: 20,
    productName: 'Demo SaaS (monthly, upgraded)',
  },
};

/** The products of the mock orders (the simulator's orders take their terms), and which of them are pay-per-use. */
export const MOCK_PRODUCT_IDS: readonly string[] = [...new Set(Object.values(MOCK_TERMS).map((t) => t.productId))];
export const MOCK_PAY_PER_USE_PRODUCT_IDS: readonly string[] = [
  ...new Set(
    Object.values(MOCK_TERMS)
      .filter((t) => t.chargingMode === 'ON_DEMAND')
      .map((t) => t.productId),
  ),
];

/** `yyyyMMddHHmmss` plus `n` periods (UTC calendar arithmetic). */
export function addPeriod(time: string, type: 'year' | 'month' | 'day', n: number): string {
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((i, k) => Number(time.slice(i, i + (k === 0 ? 4 : 2))));
  const date = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0));
  if (type === 'year') date.setUTCFullYear(date.getUTCFullYear() + n);
  if (type === 'month') date.setUTCMonth(date.getUTCMonth() + n);
  if (type === 'day') date.setUTCDate(date.getUTCDate() + n);
  return date.toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

export function mockOrder(orderId: MockOrderId, index: number): FakeOrder {
  const t = MOCK_TERMS[orderId];
  return {
    orderId,
    orderType: t.orderType,
    createTime: MOCK_CREATE_TIME,
    buyerInfo: {
      customerId: `c0ffee00${String(index).padStart(24, '0')}`,
      userId: `0aa1bb2cc3dd4ee5ff${String(index).padStart(14, '0')}`,
      customerName: 'Mock Buyer Ltd',
      userName: 'mock_buyer',
      mobilePhone: '13800000000',
      email: 'buyer@example.com',
    },
    orderLine: [
      {
        orderLineId: `${orderId}-000001`,
        chargingMode: t.chargingMode,
        ...(t.period
          ? {
              periodType: t.period.type,
              periodNumber: t.period.number,
              expireTime: addPeriod(MOCK_CREATE_TIME, t.period.type, t.period.number),
            }
          : {}),
        trialFlag: t.trialFlag,
        orderAmount: t.amount,
        productInfo: [{ productId: t.productId, skuCode: t.skuCode, linearValue: t.linearValue, productName: t.productName }],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Answers

/**
 * The Query Order answer for an order: `orderInfo` (order fields and orderLine[]) and `buyerInfo` beside it, as in
 * the richer shape of §8.1. Amounts are written as JSON numbers with their exact digits (`19.90`), which is what a
 * client must read without float rounding.
 */
export function queryOrderAnswerBody(order: FakeOrder): string {
  const { buyerInfo, ...orderInfo } = order;
  const json = JSON.stringify({
    resultCode: 'MKT.0000',
    resultMsg: 'success',
    orderInfo,
    ...(buyerInfo ? { buyerInfo } : {}),
  });
  // Amount strings were validated as plain decimals, and an escaped quote inside any string cannot match.
  return json.replace(/"orderAmount":"(-?\d+(?:\.\d+)?)"/g, '"orderAmount":$1');
}

function parseQuery(rawQuery: string): Record<string, string> | undefined {
  try {
    return Object.fromEntries(
      rawQuery
        .split('&')
        .filter((p) => p !== '')
        .map((p) => {
          const eq = p.indexOf('=');
          const [key, value] = eq === -1 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
          return [decodeURIComponent(key), decodeURIComponent(value)];
        }),
    );
  } catch {
    return undefined;
  }
}

interface Answer {
  status: number;
  body: string;
  resultCode: string;
}

function mkt(status: number, resultCode: string, resultMsg: string, extraInfo?: string): Answer {
  const extra = extraInfo === undefined ? {} : { extra_info: extraInfo.slice(0, 1024) };
  return { status, resultCode, body: JSON.stringify({ resultCode, resultMsg, ...extra }) };
}

function jsonAnswer(status: number, value: unknown, resultCode = '-'): Answer {
  return { status, resultCode, body: JSON.stringify(value) };
}

function zodMessage(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}

/** The usage push's business signature headers (spec §7.7); a reason without keys or signatures if wrong. */
function usageSignatureProblem(
  headers: Record<string, string | undefined>,
  body: Buffer,
  accessKey: string,
  nowMs: number,
): string | undefined {
  const { signature, ts, nonce } = headers;
  if (!signature || !ts || !nonce) return 'signature, ts and nonce headers are required';
  if (!/^\d{1,15}$/.test(ts)) return 'ts is not epoch milliseconds';
  if (Math.abs(nowMs - Number(ts)) > USAGE_TS_WINDOW_MS) return 'ts is outside the allowed window';
  if (nonce.length > 64) return 'nonce is longer than 64 characters';
  if (!verifyUsageSignature(accessKey, ts, nonce, body, signature)) return 'business signature does not match';
  return undefined;
}

export async function startFakeOpenApi(options: {
  port?: number;
  credentials: ApigCredentials;
  /** The seller's basic-interface access key, for the usage push's business signature (default: the local one). */
  accessKey?: string;
  /** The fake's clock (epoch ms): signature windows, the 21-day limit, acceptedAt. Default Date.now. */
  now?: () => number;
  log?: (line: string) => void;
}): Promise<FakeOpenApi> {
  const log = options.log ?? (() => {});
  const accessKey = options.accessKey || FAKE_OPENAPI_DEFAULT_ACCESS_KEY;
  const now = options.now ?? Date.now;
  const accepted: AcceptedUsage[] = [];
  const acceptedSns = new Set<string>();
  const acceptedWindows = new Set<string>();
  const orders = new Map<string, FakeOrder>();
  MOCK_ORDER_IDS.forEach((id, i) => orders.set(id, mockOrder(id, i + 1)));
  const faults: z.output<typeof FakeFaultSchema>[] = [];
  const calls: FakeCall[] = [];
  const timers = new Set<NodeJS.Timeout>();

  /** Adds or replaces an order; throws (ZodError) if it is not a valid FakeOrder. */
  const registerOrder = (order: FakeOrder) => {
    const parsed = FakeOrderSchema.parse(order);
    orders.set(parsed.orderId, parsed);
  };
  const injectFault = (fault: FakeFault) => {
    faults.push(FakeFaultSchema.parse(fault));
  };

  function takeFault(path: string) {
    const i = faults.findIndex((f) => f.path === undefined || f.path === path);
    if (i === -1) return undefined;
    const fault = faults[i]!;
    fault.times -= 1;
    if (fault.times <= 0) faults.splice(i, 1);
    return fault;
  }

  function queryOrder(query: Record<string, string>): Answer {
    const unknown = Object.keys(query).filter((k) => k !== 'orderId' && k !== 'orderLineId');
    if (unknown.length > 0) return mkt(400, 'MKT.0101', `unknown parameter: ${unknown.join(', ').slice(0, 100)}`);
    const { orderId, orderLineId } = query;
    if (!orderId) return mkt(400, 'MKT.0101', 'orderId is required');
    if (orderId.length > 64 || (orderLineId !== undefined && (orderLineId.length === 0 || orderLineId.length > 64))) {
      return mkt(500, 'MKT.0100', 'orderId and orderLineId are at most 64 characters');
    }
    const order = orders.get(orderId);
    if (!order) return mkt(500, 'MKT.9001', 'order not found');
    if (orderLineId === undefined) return { status: 200, resultCode: 'MKT.0000', body: queryOrderAnswerBody(order) };
    const line = order.orderLine.find((l) => l.orderLineId === orderLineId);
    // An unknown line of a known order answers "not found" too, rather than the order without that line.
    if (!line) return mkt(500, 'MKT.9001', 'order line not found');
    return { status: 200, resultCode: 'MKT.0000', body: queryOrderAnswerBody({ ...order, orderLine: [line] }) };
  }

  const resetUsage = () => {
    accepted.length = 0;
    acceptedSns.clear();
    acceptedWindows.clear();
  };
  const windowOf = (r: FakeUsageRecord) => JSON.stringify([r.instance_id, r.begin_time, r.end_time]);

  /** The usage push, once both signatures are good: a batch is refused whole, or its new records are kept. */
  function usagePush(text: string): { answer: Answer; records?: number } {
    let value: unknown;
    try {
      value = JSON.parse(exactNumbers(text, new Set(['usage_value'])));
    } catch {
      return { answer: mkt(500, 'MKT.0100', 'input validation failed', 'the body is not JSON') };
    }
    const list = (value as { usage_records?: unknown } | null)?.usage_records;
    const records = Array.isArray(list) ? list.length : undefined;
    if (records !== undefined && records > MAX_USAGE_RECORDS) {
      const answer = mkt(500, 'MKT.9003', `too many usage records: ${records}, at most ${MAX_USAGE_RECORDS}`);
      return { answer, records };
    }
    const parsed = FakeUsageBodySchema.safeParse(value);
    if (!parsed.success) {
      return { answer: mkt(500, 'MKT.0100', 'input validation failed', zodMessage(parsed.error)), records };
    }
    const nowMs = now();
    const oldest = nowMs - USAGE_MAX_AGE_MS;
    const tooOld = parsed.data.usage_records.filter((r) => (parseSdkDate(r.begin_time) ?? 0) < oldest);
    if (tooOld.length > 0) {
      const sns = tooOld.map((r) => r.metering_sn).join(', ');
      const extra = `begin_time older than 21 days: ${sns}`;
      const answer = mkt(500, 'MKT.9004', 'record begin time older than 21 days', extra);
      return { answer, records };
    }
    const fresh: FakeUsageRecord[] = [];
    const duplicates: string[] = [];
    // Repeats within this batch count too; what was accepted before is only read here.
    const batchSns = new Set<string>();
    const batchWindows = new Set<string>();
    for (const r of parsed.data.usage_records) {
      const window = windowOf(r);
      if (acceptedSns.has(r.metering_sn) || acceptedWindows.has(window) || batchSns.has(r.metering_sn) || batchWindows.has(window)) {
        duplicates.push(r.metering_sn);
        continue;
      }
      batchSns.add(r.metering_sn);
      batchWindows.add(window);
      fresh.push(r);
    }
    if (fresh.length === 0) {
      const answer = mkt(200, 'MKT.9005', 'duplicate usage records', `already accepted: ${duplicates.join(', ')}`);
      return { answer, records };
    }
    for (const r of fresh) {
      acceptedSns.add(r.metering_sn);
      acceptedWindows.add(windowOf(r));
      accepted.push({ ...r, acceptedAt: nowMs });
    }
    if (accepted.length > MAX_USAGE) accepted.splice(0, accepted.length - MAX_USAGE);
    return { answer: mkt(200, 'MKT.0000', 'success'), records };
  }

  function control(method: string, path: string, body: string): Answer | undefined {
    if (method === 'GET' && path === '/fake/calls') return jsonAnswer(200, calls);
    if (method === 'GET' && path === '/fake/usage') return jsonAnswer(200, accepted);
    if (method === 'POST' && path === '/fake/usage/reset') {
      resetUsage();
      return jsonAnswer(200, { ok: true });
    }
    if (method !== 'POST' || (path !== '/fake/orders' && path !== '/fake/faults')) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return jsonAnswer(400, { error: 'the body is not JSON' });
    }
    const schema = path === '/fake/orders' ? FakeOrderSchema : FakeFaultSchema;
    const parsed = schema.safeParse(value);
    if (!parsed.success) return jsonAnswer(400, { error: zodMessage(parsed.error) });
    if (path === '/fake/orders') orders.set((parsed.data as FakeOrder).orderId, parsed.data as FakeOrder);
    else faults.push(parsed.data as z.output<typeof FakeFaultSchema>);
    return jsonAnswer(201, { ok: true });
  }

  async function handle(req: IncomingMessage): Promise<{ answer: Answer; delayMs: number; call?: FakeCall }> {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const rawQuery = q === -1 ? '' : target.slice(q + 1);

    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLarge) return { answer: jsonAnswer(413, { error: 'body too large' }), delayMs: 0 };
      throw error;
    }
    const body = raw.toString('utf8');

    if (path.startsWith('/fake/')) {
      return { answer: control(method, path, body) ?? jsonAnswer(404, { error: 'not found' }), delayMs: 0 };
    }

    const query = parseQuery(rawQuery) ?? {};
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const nowMs = now();
    const verdict = verifyApigRequest(
      { method, path, rawQuery, headers, body },
      (ak) => (ak === options.credentials.ak ? options.credentials.sk : undefined),
      nowMs,
    );
    const isQuery = method === 'GET' && path === ORDER_QUERY_PATH;
    const isUsage = method === 'POST' && path === USAGE_DATA_PATH;
    let answer: Answer;
    let records: number | undefined;
    let delayMs = 0;
    const usageProblem = isUsage && verdict.ok ? usageSignatureProblem(headers, raw, accessKey, nowMs) : undefined;
    if (!isQuery && !isUsage) {
      answer = jsonAnswer(404, { error: 'not found' });
    } else if (!verdict.ok) {
      answer = mkt(401, 'MKT.0154', `illegal token: ${verdict.reason}`);
    } else if (usageProblem !== undefined) {
      answer = mkt(401, 'MKT.0154', `illegal token: ${usageProblem}`);
    } else {
      const fault = takeFault(path);
      delayMs = fault?.delayMs ?? 0;
      if (fault?.status !== undefined) {
        answer = mkt(fault.status, fault.resultCode ?? 'MKT.0999', fault.resultMsg ?? 'injected fault');
      } else if (isUsage) {
        ({ answer, records } = usagePush(body));
      } else {
        answer = parseQuery(rawQuery) ? queryOrder(query) : mkt(400, 'MKT.0101', 'malformed query string');
      }
    }
    const { status, resultCode } = answer;
    const call: FakeCall = { method, path, query, akVerified: verdict.ok, status, resultCode };
    if (records !== undefined) call.records = records;
    return { answer, delayMs, call };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = ({ status, body }: Answer) => {
      if (res.destroyed) return;
      res.writeHead(status, {
        'Content-Type': 'application/json;charset=UTF-8',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
    };
    handle(req)
      .then(({ answer, delayMs, call }) => {
        if (call) {
          calls.push(call);
          if (calls.length > MAX_CALLS) calls.shift();
          const { method, path, query, status, resultCode } = call;
          const rejected = call.akVerified ? '' : ' (signature rejected)';
          const what = path === USAGE_DATA_PATH ? `records=${call.records ?? '-'}` : `orderId=${query.orderId ?? '-'}`;
          log(`${method} ${path} ${what} → ${status} ${resultCode}${rejected}`);
        }
        if (delayMs <= 0) return send(answer);
        const timer = setTimeout(() => {
          timers.delete(timer);
          send(answer);
        }, delayMs);
        timers.add(timer);
      })
      .catch((error: unknown) => {
        log(`internal error: ${errorMessage(error)}`);
        send(mkt(500, 'MKT.0999', 'internal error'));
      });
  });

  const port = await listenOnLoopback(server, options.port ?? 0);

  return {
    url: `http://127.0.0.1:${port}`,
    registerOrder,
    injectFault,
    calls: () => calls.map((c) => ({ ...c, query: { ...c.query } })),
    usage: () => accepted.map((u) => ({ ...u })),
    resetUsage,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

/** The port `npm start` and `koogallery-sim serve` give the fake when FAKE_OPENAPI_PORT is not set. */
export const FAKE_OPENAPI_DEFAULT_PORT = 4020;

const EnvSchema = z.object({
  FAKE_OPENAPI_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  KOOGALLERY_AK: z.string().min(1).default(FAKE_OPENAPI_DEFAULT_CREDENTIALS.ak),
  KOOGALLERY_SK: z.string().min(1).default(FAKE_OPENAPI_DEFAULT_CREDENTIALS.sk),
  KOOGALLERY_ACCESS_KEY: z.string().min(1).default(FAKE_OPENAPI_DEFAULT_ACCESS_KEY),
});

/** Runs the fake on its own until SIGINT/SIGTERM (also `koogallery-sim serve`); `port` wins over FAKE_OPENAPI_PORT. */
export async function serveStandalone(options: { port?: number } = {}): Promise<void> {
  const env = EnvSchema.safeParse(process.env);
  if (!env.success) {
    console.error(`fake-openapi: ${zodMessage(env.error)}`);
    process.exit(2);
  }
  const fake = await startFakeOpenApi({
    port: options.port ?? env.data.FAKE_OPENAPI_PORT,
    credentials: { ak: env.data.KOOGALLERY_AK, sk: env.data.KOOGALLERY_SK },
    accessKey: env.data.KOOGALLERY_ACCESS_KEY,
    log: (line) => console.log(`[fake-openapi] ${line}`),
  });
  console.log(`[fake-openapi] listening on ${fake.url} (Query Order: ${fake.url}${ORDER_QUERY_PATH})`);
  console.log(`[fake-openapi] usage push: ${fake.url}${USAGE_DATA_PATH}`);
  const defaults = process.env.KOOGALLERY_AK ? '' : ' (unset: local defaults)';
  console.log(`[fake-openapi] AK/SK from KOOGALLERY_AK/KOOGALLERY_SK${defaults}`);
  const keyDefault = process.env.KOOGALLERY_ACCESS_KEY ? '' : ' (unset: the local default)';
  console.log(`[fake-openapi] usage signature key from KOOGALLERY_ACCESS_KEY${keyDefault}`);
  const stop = () => {
    void fake.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serveStandalone().catch((error: unknown) => {
    console.error(`fake-openapi: ${errorMessage(error)}`);
    process.exit(1);
  });
}
