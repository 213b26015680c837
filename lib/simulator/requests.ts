import { randomBytes, randomUUID } from 'node:crypto';
import { ACTIVITIES, type ActivityName } from '#lib/koogallery/activities.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { V1_ACTIVITIES, type V1Activity } from '#lib/koogallery/v1Activities.ts';

/**
 * Request bodies as the marketplace sends them, with generated defaults (order ids, businessId, and a year ahead as
 * expireTime where the activity carries one: renewals, and V1's newInstance) so a call needs only what cannot be
 * invented: the instance or License code it is about.
 */

/** An order id in the marketplace's style (`CS` + digits), unique enough for a test run. */
export const newOrderId = (): string => `CS${Date.now()}${randomBytes(3).readUIntBE(0, 3).toString().padStart(8, '0')}`;

/** The first line of an order, as the marketplace numbers them (spec §8.1). */
export const firstLine = (orderId: string): string => `${orderId}-000001`;

/** `yyyyMMddHHmmss` (UTC) of `ms`: how the marketplace writes an order's createTime and expireTime (spec §3.3, §8.1). */
export function orderTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\D/g, '').slice(0, 14);
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** Fields without a default: the call is about an existing instance or License code. */
const REQUIRED: Record<string, readonly string[]> = {
  queryInstance: ['instanceId'],
  refreshInstance: ['instanceId'],
  updateInstanceStatus: ['instanceId'],
  releaseInstance: ['instanceId'],
  upgradeInstance: ['instanceId'],
  changeInstanceCheck: ['instanceId'],
  refreshLicenseCode: ['license'],
  updateLicenseCodeStatus: ['license'],
  releaseLicenseCode: ['license'],
  'v1:refreshInstance': ['instanceId'],
  'v1:expireInstance': ['instanceId'],
  'v1:releaseInstance': ['instanceId'],
  'v1:upgrade': ['instanceId'],
  'v1:instanceStatus': ['instanceId'],
  'v1:queryInstance': ['instanceId'],
};

function defaults(activity: string, v1: boolean, nowMs: number): JsonObject {
  const orderId = newOrderId();
  const order = { orderId, orderLineId: firstLine(orderId) };
  const expireTime = orderTime(nowMs + YEAR_MS);
  if (v1) {
    switch (activity as V1Activity) {
      case 'newInstance':
        // V1 carries the subscription's expiry (spec §6); V2's newInstance does not (Query Order gives it).
        return { activity, orderId, businessId: randomUUID(), expireTime, testFlag: '0' };
      case 'refreshInstance':
        return { activity, orderId, expireTime, testFlag: '0' };
      case 'upgrade':
        return { activity, orderId, testFlag: '0' };
      case 'instanceStatus':
        return { activity, instanceStatus: 'FREEZE', testFlag: '0' };
      default:
        return { activity, testFlag: '0' };
    }
  }
  switch (activity as ActivityName) {
    case 'newInstance':
      return { activity, ...order, businessId: randomUUID(), testFlag: '0' };
    case 'refreshInstance':
      return { activity, scene: 'RENEWAL', ...order, expireTime, testFlag: '0' };
    case 'updateInstanceStatus':
      return { activity, status: 'FREEZE', testFlag: '0' };
    case 'upgradeInstance':
      return { activity, ...order, testFlag: '0' };
    case 'changeInstanceCheck':
      return { activity, productInfo: { skuCode: randomUUID() }, testFlag: '0' };
    case 'refreshLicenseCode':
      return { activity, scene: 'RENEWAL', ...order, expireTime, testFlag: '0' };
    case 'updateLicenseCodeStatus':
      return { activity, status: 'FREEZE', testFlag: '0' };
    default:
      return { activity, testFlag: '0' };
  }
}

export class RequestError extends Error {
  override name = 'RequestError';
}

export const V2_ACTIVITY_NAMES: readonly string[] = ACTIVITIES;
export const V1_ACTIVITY_NAMES: readonly string[] = V1_ACTIVITIES;

/**
 * The body of `activity` with the generated defaults and then `fields` (as given, strings; a field whose value is
 * JSON object text, e.g. productInfo, is sent as that object). Throws RequestError for an unknown activity or a
 * missing required field, naming it.
 */
export function requestBody(
  activity: string,
  fields: Readonly<Record<string, string>> = {},
  options: { v1?: boolean; nowMs?: number } = {},
): JsonObject {
  const v1 = options.v1 ?? false;
  const known = v1 ? V1_ACTIVITY_NAMES : V2_ACTIVITY_NAMES;
  if (!known.includes(activity)) {
    throw new RequestError(`unknown ${v1 ? 'V1 ' : ''}activity "${activity}" (one of ${known.join(', ')})`);
  }
  const body = defaults(activity, v1, options.nowMs ?? Date.now());
  for (const [name, value] of Object.entries(fields)) {
    if (!value.startsWith('{')) {
      body[name] = value;
      continue;
    }
    try {
      body[name] = JSON.parse(value) as JsonObject;
    } catch {
      throw new RequestError(`--field ${name}: starts with "{" but is not JSON`);
    }
  }
  // A given orderId brings its own first line unless one is given too.
  if (!v1 && fields.orderId !== undefined && fields.orderLineId === undefined && 'orderLineId' in body)
    body.orderLineId = firstLine(fields.orderId);
  const missing = (REQUIRED[v1 ? `v1:${activity}` : activity] ?? []).filter((name) => body[name] === undefined);
  if (missing.length > 0) throw new RequestError(`${activity} needs ${missing.map((m) => `--field ${m}=…`).join(' and ')}`);
  return body;
}
