import { parseActivity, type ParsedActivity } from './activities.ts';
import type { JsonObject } from './canonicalJson.ts';

/**
 * The legacy V1 activities (spec §6) mapped onto the V2 requests, so both interfaces share one validation
 * (the V2 schemas), one state machine and one idempotency: a V1 and a V2 newInstance for the same order line
 * meet on the same order-line claim.
 *
 * V1 sends no order line id. KooGallery numbers the lines of an order `<orderId>-000001`, … (spec §8.1, the mock
 * orders and the documented examples), and a V1 order has one line, so a missing `orderLineId` is read as
 * `<orderId>-000001` [inferred; see docs/decisions.md]. The buyer's contact fields (mobilePhone, email, names)
 * are neither needed nor kept: they are never decrypted, stored or logged.
 */

export const V1_ACTIVITIES = [
  'newInstance',
  'refreshInstance',
  'expireInstance',
  'releaseInstance',
  'upgrade',
  'instanceStatus',
  'queryInstance',
] as const;
export type V1Activity = (typeof V1_ACTIVITIES)[number];

const firstLine = (orderId: string | undefined) => (orderId ? `${orderId}-000001` : undefined);

/** The V2 body a V1 call stands for; undefined fields are dropped by the V2 parser like nulls. */
function asV2Body(activity: V1Activity, p: Readonly<Record<string, string>>): JsonObject {
  const orderLineId = p.orderLineId ?? firstLine(p.orderId);
  const common = { testFlag: p.testFlag ?? null };
  switch (activity) {
    case 'newInstance':
      return {
        ...common,
        activity: 'newInstance',
        orderId: p.orderId ?? null,
        orderLineId: orderLineId ?? null,
        businessId: p.businessId ?? null,
      };
    case 'refreshInstance':
      return {
        ...common,
        activity: 'refreshInstance',
        // V1 does not say why; a trial order becoming paid and a renewal both arrive here.
        scene: p.scene ?? (p.trialFlag === '1' ? 'TRIAL_TO_FORMAL' : 'RENEWAL'),
        instanceId: p.instanceId ?? null,
        orderId: p.orderId ?? null,
        orderLineId: orderLineId ?? null,
        productId: p.productId ?? null,
        expireTime: p.expireTime ?? null,
      };
    case 'expireInstance':
      return { ...common, activity: 'updateInstanceStatus', instanceId: p.instanceId ?? null, status: 'FREEZE' };
    case 'instanceStatus': {
      const status = p.instanceStatus === 'NORMAL' ? 'UNFREEZE' : p.instanceStatus === 'FREEZE' ? 'FREEZE' : (p.instanceStatus ?? null);
      return { ...common, activity: 'updateInstanceStatus', instanceId: p.instanceId ?? null, status };
    }
    case 'releaseInstance':
      return {
        ...common,
        activity: 'releaseInstance',
        instanceId: p.instanceId ?? null,
        orderId: p.orderId ?? null,
        orderLineId: p.orderId ? (orderLineId ?? null) : null,
      };
    case 'upgrade':
      return {
        ...common,
        activity: 'upgradeInstance',
        instanceId: p.instanceId ?? null,
        orderId: p.orderId ?? null,
        orderLineId: orderLineId ?? null,
      };
    case 'queryInstance':
      return { ...common, activity: 'queryInstance', instanceId: p.instanceId ?? null };
  }
}

function isV1Activity(value: unknown): value is V1Activity {
  return typeof value === 'string' && (V1_ACTIVITIES as readonly string[]).includes(value);
}

/** Validates a V1 call's parameters (authToken already checked and removed). Reasons name the V1 field. */
export function parseV1Activity(params: Readonly<Record<string, string>>): ParsedActivity {
  const activity = params.activity;
  if (!isV1Activity(activity)) return { ok: false, reason: activity ? 'unknown activity' : 'activity is required' };
  if (activity === 'instanceStatus' && params.instanceStatus !== undefined && !['FREEZE', 'NORMAL'].includes(params.instanceStatus)) {
    return { ok: false, activity, reason: 'instanceStatus must be FREEZE or NORMAL' };
  }
  const parsed = parseActivity(asV2Body(activity, params));
  if (parsed.ok) return parsed;
  const reason = parsed.reason.replace(/^status /, 'instanceStatus ');
  return { ok: false, activity, reason };
}
