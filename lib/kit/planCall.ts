/**
 * One authenticated, validated Kit request turned into its plan: the reads it needs (through the KitStore), then the
 * pure planning of lib/kit/plans.ts. applicationSync's clientSecret is decrypted here, after the signature was
 * checked; a secret that cannot be decrypted refuses the call with 000101.
 */
import type { KeyObject } from 'node:crypto';
import type { KitRequest } from '#lib/koogallery/kitActivities.ts';
import { kitAnswer, KitResultCode, type KitAnswer } from '#lib/koogallery/kitResultCodes.ts';
import { decryptClientSecret, type OaepVariant } from './clientSecret.ts';
import {
  planAllOrgSync,
  planApplicationSync,
  planAuthSync,
  planSingleOrgSync,
  planTenantSync,
  type KitPlan,
  type UnlistedOrgs,
} from './plans.ts';
import type { KitStore } from './ports.ts';

/** What the spec leaves to the seller (spec §1.1, §3.5), and how debug data expires. */
export interface KitPolicy {
  /** A binding naming an instance newInstance never issued: stored (`accept`) or refused with 000003 (`refuse`). */
  unknownInstance: 'accept' | 'refuse';
  unlistedOrgs: UnlistedOrgs;
}

export type CallPlan =
  { ok: true; plan: Extract<KitPlan, { ok: true }>; variant?: OaepVariant } | { ok: false; given: KitAnswer; reason: string };

/** The instance a binding names, when it adds or changes something (deletes never check, spec §3.1). */
function boundInstance(request: KitRequest): string | undefined {
  if (request.name !== 'tenantSync' && request.name !== 'applicationSync') return undefined;
  return request.body.flag !== 0 && request.body.instanceId ? request.body.instanceId : undefined;
}

function fromPlan(plan: KitPlan): CallPlan {
  return plan.ok ? { ok: true, plan } : { ok: false, given: kitAnswer(KitResultCode.invalidParameter, plan.reason), reason: plan.reason };
}

export async function planKitRequest(
  request: KitRequest,
  deps: { store: KitStore; privateKey: () => Promise<KeyObject>; policy: KitPolicy; nowIso: string },
): Promise<CallPlan> {
  const { store, nowIso } = deps;
  const instanceId = boundInstance(request);
  if (instanceId && deps.policy.unknownInstance === 'refuse' && !(await store.instanceExists(instanceId))) {
    return { ok: false, given: kitAnswer(KitResultCode.instanceNotFound, 'instanceId is unknown'), reason: 'unknown instance' };
  }
  switch (request.name) {
    case 'tenantSync':
      return fromPlan(planTenantSync(request.body, await store.getTenant(request.body.tenantId), nowIso));
    case 'applicationSync': {
      const body = request.body;
      let variant: OaepVariant | undefined;
      if (body.flag !== 0) {
        const key = await deps.privateKey();
        const decrypted = decryptClientSecret(body.clientSecret, key);
        if (!decrypted) return { ok: false, given: kitAnswer(KitResultCode.secretProblem), reason: 'clientSecret cannot be decrypted' };
        variant = decrypted.variant;
        const existing = await store.getApp(body.tenantId, body.appId);
        const sameSecret = (stored: string) =>
          stored === body.clientSecret || decryptClientSecret(stored, key)?.plaintext === decrypted.plaintext;
        const plan = planApplicationSync(body, existing, sameSecret, nowIso);
        return plan.ok ? { ok: true, plan, variant } : fromPlan(plan);
      }
      return fromPlan(planApplicationSync(body, await store.getApp(body.tenantId, body.appId), () => false, nowIso));
    }
    case 'authSync': {
      const body = request.body;
      const users = await store.getUsers(
        body.tenantId,
        body.appId,
        body.userList.map((u) => u.userName),
      );
      return fromPlan(planAuthSync(body, users, nowIso));
    }
    case 'singleOrgSync': {
      const { org, snapshot } = await store.getOrgAndSnapshot(request.body.tenantId, request.body.orgCode);
      return fromPlan(planSingleOrgSync(request.body, org, snapshot, nowIso));
    }
    case 'allOrgSync': {
      const { orgs, snapshot } = await store.getOrgs(request.body.tenantId);
      return fromPlan(planAllOrgSync(request.body, orgs, snapshot, deps.policy.unlistedOrgs, nowIso));
    }
  }
}
