/**
 * The seller's client for the KooGallery Open API:
 *  - "Query Order" (查询订单, spec §8.1): what was bought on an order line (charging mode, period, product, SKU,
 *    linear value, amount, buyer ids). newInstance and upgrades carry no SKU or buyer data, so provisioning asks
 *    this API.
 *  - the usage push (按需使用量推送, §8.2): pay-per-use records, each with a seller-unique `metering_sn` that makes
 *    a re-push harmless. It also carries the business signature of §7.7 (../usageSignature.ts).
 * Calls are signed with the seller's AK/SK (§7.8), over strict TLS, and retried once on the fallback host when the
 * primary cannot be reached.
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { uriEncode } from '../apig.ts';
import { usageBody, usageSignature } from '../usageSignature.ts';
import {
  DEFAULT_DUPLICATE_CODES,
  MAX_USAGE_RECORDS,
  OpenApiFailure,
  ORDER_QUERY_PATH,
  USAGE_DATA_PATH,
  type OpenApiAnswer,
  type OpenApiClient,
  type OpenApiConfig,
} from './contract.ts';
import { interpretQueryOrderAnswer } from './queryOrder.ts';
import { openApiTransport } from './transport.ts';
import { interpretUsageAnswer, recordIssuesText, UsageRecordsSchema } from './usagePush.ts';

const OrderIdSchema = z.string().min(1).max(64);

/** The marketplace's answer as received, for the message log. */
const answeredBy = (result: { status: number; text: string | undefined }): OpenApiAnswer => ({
  httpStatus: result.status,
  ...(result.text !== undefined ? { text: result.text } : {}),
});

export function openApiClient(config: OpenApiConfig): OpenApiClient {
  const { loadCredentials, exchange } = openApiTransport(config);
  const duplicateCodes = config.duplicateCodes ?? DEFAULT_DUPLICATE_CODES;

  return {
    async queryOrder(orderId, orderLineId) {
      const validIds =
        OrderIdSchema.safeParse(orderId).success && (orderLineId === undefined || OrderIdSchema.safeParse(orderLineId).success);
      if (!validIds) {
        const reason = 'orderId and orderLineId must be 1 to 64 characters';
        return { ok: false, retry: false, code: OpenApiFailure.invalidInput, reason };
      }
      const credentials = await loadCredentials();
      if ('ok' in credentials) return credentials;
      // Already in canonical order and encoding, as Huawei's signer sends it.
      const query = `orderId=${uriEncode(orderId)}` + (orderLineId !== undefined ? `&orderLineId=${uriEncode(orderLineId)}` : '');
      const result = await exchange(`${ORDER_QUERY_PATH}?${query}`, credentials, () => ({
        method: 'GET',
        headers: { 'Content-Type': 'application/json' },
      }));
      if (result.kind === 'failed') return result.failure;
      return { ...interpretQueryOrderAnswer(result.status, result.text, orderId, orderLineId, result.via), answered: answeredBy(result) };
    },

    async pushUsage(records) {
      const valid = UsageRecordsSchema.safeParse(records);
      if (!valid.success) {
        const count = Array.isArray(records) ? records.length : 0;
        const reason =
          count < 1 || count > MAX_USAGE_RECORDS
            ? `a push carries 1 to ${MAX_USAGE_RECORDS} records, not ${count}`
            : `invalid usage records: ${recordIssuesText(valid.error)}`;
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
      return { ...interpretUsageAnswer(result.status, result.text, result.via, duplicateCodes), answered: answeredBy(result) };
    },
  };
}
