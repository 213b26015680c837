/**
 * What the KooGallery Open API client offers: the hosts and paths, the outcomes of Query Order and the usage push,
 * and the client's configuration. Shared by the client, its fake (scripts/local/fake-openapi.ts) and their users.
 */
import type { Log } from '#lib/log.ts';
import type { ApigCredentials } from '../apig.ts';

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

/**
 * What the marketplace answered, as received: the message log keeps it only redacted (lib/audit/redact.ts), and it
 * is never logged. Absent when no answer arrived.
 */
export interface OpenApiAnswer {
  httpStatus: number;
  /** The body, unless it was larger than the client reads. */
  text?: string;
}

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
  answered?: OpenApiAnswer;
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
      answered?: OpenApiAnswer;
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
      answered?: OpenApiAnswer;
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
