/** Requests the checks share: fresh unknown ids, renewals, bodies in canonical form, signatures over a chosen payload. */
import { randomUUID } from 'node:crypto';
import { signRequest } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import type { CallOptions } from '../client.ts';
import { firstLine, newOrderId, orderTime, requestBody } from '../requests.ts';

const YEAR_MS = 365 * 24 * 3600 * 1000;

export const unknownId = () => `conformance-none-${randomUUID()}`;
const nextYear = () => orderTime(Date.now() + YEAR_MS);

export function renewal(instanceId: string, orderId = newOrderId(), expireTime = nextYear()): JsonObject {
  return requestBody('refreshInstance', { instanceId, orderId, orderLineId: firstLine(orderId), expireTime });
}

/** The signing parameters of a call whose signature is computed over `payload` (not over the body's JSON). */
export function signedOver(key: string, payload: string): CallOptions['signing'] {
  const nowMs = Date.now();
  const nonce = randomUUID().replace(/-/g, '').toUpperCase();
  return { nowMs, nonce, signature: signRequest(key, {}, { nowMs, nonce, payload }).signature };
}

export const queryUnknown = () => requestBody('queryInstance', { instanceId: unknownId() });

/** A body as sent, keys in sorted order and compact, so it is its own canonical form (spec §7.2 steps 1–3). */
export const compact = (fields: Record<string, string>): string =>
  JSON.stringify(Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1))));
