import type { ActivityRequest, ChangeInstanceCheckRequest, NewInstanceRequest, QueryInstanceRequest } from '#lib/koogallery/activities.ts';
import { answer, ResultCode, type Answer } from '#lib/koogallery/resultCodes.ts';
import { eventFor, queueEventFor } from '#lib/outbox/events.ts';
import { planLicenseCall } from '#lib/licenses/plans.ts';
import { testExpiry } from '#lib/shared/testData.ts';
import type { InstanceStore } from './ports.ts';
import type { LicenseStore } from '#lib/licenses/ports.ts';
import { formatQuantity } from '#lib/usage/decimal.ts';
import { isPackage, type MeteringSettings } from '#lib/usage/metering.ts';
import { appInfoFromTemplates, type AppInfoTemplates } from './appInfo.ts';
import type { ChangePolicy } from './changePolicy.ts';
import type { Plan } from './callPlan.ts';
import type { Instance } from './model.ts';
import { createInstance, decide, idempotencyKey, KNOWN_SCENES, type Command } from './stateMachine.ts';

/**
 * How new instances are provisioned. `async`: the instance stays PROVISIONING until the provisioning worker has
 * queried the order and called the seller's product; otherwise it is ACTIVE at once with appInfo from templates.
 * `inProgressAnswer`: what queryInstance answers meanwhile, 000004 ("request is processing") or 000000 without appInfo.
 */
export interface ProvisioningSettings {
  async: boolean;
  inProgressAnswer: '000004' | 'success';
}

export interface PlanContext {
  /** A legacy V1 call: newInstance answers with the instance's appInfo (spec §6), or 000004 until it has one. */
  legacy: boolean;
  store: InstanceStore;
  licenses: LicenseStore;
  changePolicy: ChangePolicy;
  appInfo: AppInfoTemplates;
  provisioning: ProvisioningSettings;
  testTtlDays: number;
  releaseUnknownAnswer: '000003' | 'success';
  nowMs: number;
  /** The usage ledger's running totals: queryInstance reports a package's consumption as usageInfo (spec §3.2). */
  usage?: UsageTotals;
}

export interface UsageTotals {
  settings: MeteringSettings;
  totals: (instanceIds: readonly string[]) => Promise<Map<string, { units: bigint; updatedAt: string }>>;
}

const ok = (fields: Record<string, unknown> = {}) => answer(ResultCode.success, undefined, fields);

/** V1 newInstance answers carry appInfo; until provisioning gives one, "request is processing" (the marketplace retries). */
function legacyNewInstanceAnswer(instance: Instance | undefined): Answer {
  if (instance?.appInfo) return ok({ instanceId: instance.instanceId, appInfo: instance.appInfo });
  if (!instance || instance.state === 'PROVISIONING_FAILED') return answer(ResultCode.internalError);
  return answer(ResultCode.processing, 'instance is being provisioned', { instanceId: instance.instanceId });
}

async function planNewInstance(request: NewInstanceRequest, ctx: PlanContext): Promise<Plan> {
  const { orderId, orderLineId, businessId } = request;
  const refs = { orderId, orderLineId };
  const existing = await ctx.store.getOrderLineInstanceId(orderId, orderLineId);
  if (existing) {
    const given = ctx.legacy ? legacyNewInstanceAnswer(await ctx.store.getInstance(existing)) : ok({ instanceId: existing });
    return { answer: given, writes: [], events: [], refs: { ...refs, instanceId: existing } };
  }
  // Spec §3.1: the first request's businessId becomes the instanceId.
  const at = new Date(ctx.nowMs).toISOString();
  const { instance, entry } = createInstance(
    {
      instanceId: businessId,
      orderId,
      orderLineId,
      businessId,
      test: request.testFlag === '1',
      ...(ctx.provisioning.async
        ? { state: 'PROVISIONING' as const }
        : { state: 'ACTIVE' as const, appInfo: appInfoFromTemplates(ctx.appInfo, { instanceId: businessId, orderId, orderLineId }) }),
    },
    at,
  );
  const event = eventFor(instance, entry, 'instance.created');
  return {
    answer: ctx.legacy ? legacyNewInstanceAnswer(instance) : ok({ instanceId: instance.instanceId }),
    writes: ctx.store.createInstance(instance, entry, event, Math.floor(ctx.nowMs / 1000), testExpiry(instance, ctx.testTtlDays)),
    events: [event],
    refs: { ...refs, instanceId: instance.instanceId },
    onConditionFailed: (labels) =>
      labels.includes('orderLine') ? undefined : answer(ResultCode.invalidParameter, 'businessId already identifies another instance'),
  };
}

/**
 * A package's consumption so far (spec §3.2 UsageInfo, whose documented fields are usageValue and the optional
 * relatedInstanceId): the ledger's exact total as the JSON number the marketplace reads (Double(12,4): at most
 * 4 decimals, well inside a double's exact range).
 */
function packageUsage(total: { units: bigint } | undefined): { usageValue: number } {
  return { usageValue: total ? Number(formatQuantity(total.units)) : 0 };
}

async function planQueryInstance(request: QueryInstanceRequest, ctx: PlanContext): Promise<Plan> {
  const ids = request.instanceId;
  const found = await ctx.store.getInstances(ids);
  const refs = { instanceId: ids.slice(0, 10).join(',') };
  if (found.size === 0) return { answer: answer(ResultCode.instanceNotFound), writes: [], events: [], refs };
  const known = [...found.values()];
  // Until one of them has appInfo, the answer says where provisioning stands (the marketplace polls again).
  if (!known.some((i) => i.appInfo)) {
    if (known.some((i) => i.state === 'PROVISIONING_FAILED')) {
      return { answer: answer(ResultCode.internalError), writes: [], events: [], refs, note: { provisioningFailed: true } };
    }
    if (ctx.provisioning.inProgressAnswer === '000004' && known.some((i) => i.state === 'PROVISIONING' || i.state === 'FROZEN')) {
      return { answer: answer(ResultCode.processing, 'instance is being provisioned'), writes: [], events: [], refs };
    }
  }
  const usage = ctx.usage;
  const packages = usage ? known.filter((i) => isPackage(i, usage.settings)).map((i) => i.instanceId) : [];
  const totals = usage && packages.length > 0 ? await usage.totals(packages) : new Map<string, { units: bigint; updatedAt: string }>();
  const info = ids.flatMap((id) => {
    const instance = found.get(id);
    if (!instance) return [];
    const usageInfo = packages.includes(id) ? { usageInfo: [packageUsage(totals.get(id))] } : {};
    return [{ instanceId: id, ...(instance.appInfo ? { appInfo: instance.appInfo } : {}), ...usageInfo }];
  });
  const missing = ids.filter((id) => !found.has(id));
  return {
    answer: ok({ info }),
    writes: [],
    events: [],
    refs,
    ...(missing.length ? { note: { unknownInstanceIds: missing.length } } : {}),
  };
}

async function planChange(instanceId: string, command: Command, isTestCall: boolean, ctx: PlanContext): Promise<Plan> {
  const refs = {
    instanceId,
    ...('orderId' in command && command.orderId ? { orderId: command.orderId } : {}),
    ...('orderLineId' in command && command.orderLineId ? { orderLineId: command.orderLineId } : {}),
  };
  const key = idempotencyKey(command);
  const { instance, alreadyApplied } = await ctx.store.getInstanceAndApplied(instanceId, key);
  const note =
    command.activity === 'refreshInstance' && !(KNOWN_SCENES as readonly string[]).includes(command.scene)
      ? { unknownScene: command.scene }
      : undefined;
  const base = { writes: [], events: [], refs, ...(note ? { note } : {}) };

  if (!instance) {
    const unknownAnswer =
      command.activity === 'releaseInstance' && ctx.releaseUnknownAnswer === 'success' ? ok() : answer(ResultCode.instanceNotFound);
    return { ...base, answer: unknownAnswer };
  }
  // Debug traffic never changes a real instance (law 8).
  if (isTestCall && !instance.test) {
    return { ...base, answer: answer(ResultCode.instanceNotFound, 'a debug call cannot change a real instance') };
  }
  if (alreadyApplied) return { ...base, answer: ok() };

  const at = new Date(ctx.nowMs).toISOString();
  const decision = decide(instance, command, at);
  if (decision.outcome === 'unchanged') return { ...base, answer: ok(), note: { ...note, unchanged: decision.reason } };

  const event = queueEventFor(decision.next, decision.entry);
  return {
    ...base,
    answer: ok(),
    writes: ctx.store.applyChange(
      instance.version,
      decision.next,
      decision.entry,
      key,
      event,
      Math.floor(ctx.nowMs / 1000),
      testExpiry(instance, ctx.testTtlDays),
    ),
    events: event ? [event] : [],
  };
}

async function planChangeCheck(request: ChangeInstanceCheckRequest, ctx: PlanContext): Promise<Plan> {
  const refs = { instanceId: request.instanceId };
  const instance = await ctx.store.getInstance(request.instanceId);
  if (!instance) return { answer: answer(ResultCode.instanceNotFound), writes: [], events: [], refs };
  if (instance.state === 'RELEASED') {
    return { answer: answer(ResultCode.noResource, 'instance is released'), writes: [], events: [], refs };
  }
  const verdict = await ctx.changePolicy.check(instance, {
    productId: request.productInfo.productId,
    skuCode: request.productInfo.skuCode,
  });
  return {
    answer: verdict.allowed ? ok() : answer(ResultCode.noResource, verdict.reason),
    writes: [],
    events: [],
    refs,
  };
}

/** Plans one validated marketplace request. */
export function planActivity(request: ActivityRequest, ctx: PlanContext): Promise<Plan> {
  const isTestCall = request.testFlag === '1';
  switch (request.activity) {
    case 'newInstance':
      return planNewInstance(request, ctx);
    case 'queryInstance':
      return planQueryInstance(request, ctx);
    case 'refreshInstance':
      return planChange(
        request.instanceId,
        {
          activity: 'refreshInstance',
          scene: request.scene,
          orderId: request.orderId,
          orderLineId: request.orderLineId,
          expireTime: request.expireTime,
          productId: request.productId,
        },
        isTestCall,
        ctx,
      );
    case 'updateInstanceStatus':
      return planChange(request.instanceId, { activity: 'updateInstanceStatus', status: request.status }, isTestCall, ctx);
    case 'releaseInstance':
      return planChange(
        request.instanceId,
        { activity: 'releaseInstance', orderId: request.orderId, orderLineId: request.orderLineId },
        isTestCall,
        ctx,
      );
    case 'upgradeInstance':
      return planChange(
        request.instanceId,
        { activity: 'upgradeInstance', orderId: request.orderId, orderLineId: request.orderLineId },
        isTestCall,
        ctx,
      );
    case 'changeInstanceCheck':
      return planChangeCheck(request, ctx);
    case 'refreshLicenseCode':
    case 'updateLicenseCodeStatus':
    case 'releaseLicenseCode':
      return planLicenseCall(request, { licenses: ctx.licenses, testTtlDays: ctx.testTtlDays, nowMs: ctx.nowMs });
  }
}
