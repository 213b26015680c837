import type { LicenseCodeRequest } from '#lib/koogallery/activities.ts';
import { answer, ResultCode, type Answer } from '#lib/koogallery/resultCodes.ts';
import type { Plan } from '#lib/instances/callPlan.ts';
import { testExpiry } from '#lib/shared/testData.ts';
import type { LicenseStore } from './ports.ts';
import { decideLicense, licenseIdempotencyKey, type LicenseCommand } from './license.ts';

export interface LicensePlanContext {
  licenses: LicenseStore;
  testTtlDays: number;
  nowMs: number;
}

function commandFor(request: LicenseCodeRequest): LicenseCommand {
  switch (request.activity) {
    case 'refreshLicenseCode':
      return {
        activity: 'refreshLicenseCode',
        scene: request.scene,
        orderId: request.orderId,
        orderLineId: request.orderLineId,
        expireTime: request.expireTime,
        productId: request.productId,
      };
    case 'updateLicenseCodeStatus':
      return { activity: 'updateLicenseCodeStatus', status: request.status };
    case 'releaseLicenseCode':
      return { activity: 'releaseLicenseCode', orderId: request.orderId, orderLineId: request.orderLineId };
  }
}

/**
 * 000003 for a License-code call means "license code does not exist" (spec §5.1): the message says so instead of the
 * instance interfaces' "instance is invalid".
 */
const licenseNotFound = (message: string): Answer => ({ ...answer(ResultCode.instanceNotFound), resultMsg: message });

/**
 * Plans a License-code callback (spec §5.1) like an instance change: an unknown code answers 000003, a debug call
 * never changes a real code, a renewal order applies once, and anything after a release succeeds without change.
 */
export async function planLicenseCall(request: LicenseCodeRequest, ctx: LicensePlanContext): Promise<Plan> {
  const command = commandFor(request);
  const key = licenseIdempotencyKey(command);
  const refs = {
    licenseId: request.license,
    ...('orderId' in request && request.orderId ? { orderId: request.orderId } : {}),
    ...('orderLineId' in request && request.orderLineId ? { orderLineId: request.orderLineId } : {}),
  };
  const base = { writes: [], events: [], refs };
  const { license, alreadyApplied } = await ctx.licenses.getLicenseAndApplied(request.license, key);
  if (!license) return { ...base, answer: licenseNotFound('license code does not exist') };
  if (request.testFlag === '1' && !license.test) {
    return { ...base, answer: licenseNotFound('license code does not exist: a debug call cannot change a real license code') };
  }
  if (alreadyApplied) return { ...base, answer: answer(ResultCode.success) };
  const decision = decideLicense(license, command, new Date(ctx.nowMs).toISOString());
  if (decision.outcome === 'unchanged') return { ...base, answer: answer(ResultCode.success), note: { unchanged: decision.reason } };
  return {
    ...base,
    answer: answer(ResultCode.success),
    writes: ctx.licenses.applyChange(license.version, decision.next, decision.entry, key, testExpiry(license, ctx.testTtlDays)),
  };
}
