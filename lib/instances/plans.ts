import type { ActivityRequest, ChangeInstanceCheckRequest, NewInstanceRequest, QueryInstanceRequest } from '../koogallery/activities.ts';
import { answer, ResultCode, type Answer } from '../koogallery/resultCodes.ts';
import { eventFor, type LifecycleEvent } from '../outbox/events.ts';
import type { InstanceStore, LabeledWrite } from '../store/instanceStore.ts';
import { appInfoFromTemplates, type AppInfoTemplates } from './appInfo.ts';
import type { ChangePolicy } from './changePolicy.ts';
import type { Instance } from './model.ts';
import { createInstance, decide, idempotencyKey, KNOWN_SCENES, type Command } from './stateMachine.ts';

/**
 * What one marketplace call will do: the answer to give once `writes` are committed (in one transaction,
 * together with the nonce claim and the audit record), and the events to publish afterwards.
 * Plans only read; if the commit's conditions fail, the call is planned again from fresh reads.
 */
export interface Plan {
  answer: Answer;
  writes: LabeledWrite[];
  events: LifecycleEvent[];
  /** Ids for the message log. */
  refs: { orderId?: string; orderLineId?: string; instanceId?: string };
  /** Extra structured fields worth a log line (e.g. an unknown scene). */
  note?: Record<string, unknown>;
  /** Given the labels whose conditions failed: a final answer, or undefined to plan again. */
  onConditionFailed?: (labels: LabeledWrite['label'][]) => Answer | undefined;
}

export interface PlanContext {
  store: InstanceStore;
  changePolicy: ChangePolicy;
  appInfo: AppInfoTemplates;
  testTtlDays: number;
  releaseUnknownAnswer: '000003' | 'success';
  nowMs: number;
}

const DAY_SECONDS = 24 * 3600;

const ok = (fields: Record<string, unknown> = {}) => answer(ResultCode.success, undefined, fields);

/** Test instances expire `testTtlDays` after creation; real ones never. */
function expiryOf(instance: Pick<Instance, 'test' | 'createdAt'>, testTtlDays: number): number | undefined {
  if (!instance.test) return undefined;
  return Math.floor(Date.parse(instance.createdAt) / 1000) + testTtlDays * DAY_SECONDS;
}

async function planNewInstance(request: NewInstanceRequest, ctx: PlanContext): Promise<Plan> {
  const { orderId, orderLineId, businessId } = request;
  const refs = { orderId, orderLineId };
  const existing = await ctx.store.getOrderLineInstanceId(orderId, orderLineId);
  if (existing) {
    return { answer: ok({ instanceId: existing }), writes: [], events: [], refs: { ...refs, instanceId: existing } };
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
      state: 'ACTIVE',
      appInfo: appInfoFromTemplates(ctx.appInfo, { instanceId: businessId, orderId, orderLineId }),
    },
    at,
  );
  const event = eventFor(instance, entry);
  return {
    answer: ok({ instanceId: instance.instanceId }),
    writes: ctx.store.createInstance(instance, entry, event, Math.floor(ctx.nowMs / 1000), expiryOf(instance, ctx.testTtlDays)),
    events: [event],
    refs: { ...refs, instanceId: instance.instanceId },
    onConditionFailed: (labels) =>
      labels.includes('orderLine')
        ? undefined
        : answer(ResultCode.invalidParameter, 'businessId already identifies another instance'),
  };
}

async function planQueryInstance(request: QueryInstanceRequest, ctx: PlanContext): Promise<Plan> {
  const ids = request.instanceId;
  const found = await ctx.store.getInstances(ids);
  const refs = { instanceId: ids.slice(0, 10).join(',') };
  if (found.size === 0) return { answer: answer(ResultCode.instanceNotFound), writes: [], events: [], refs };
  const info = ids.flatMap((id) => {
    const instance = found.get(id);
    if (!instance) return [];
    return [instance.appInfo ? { instanceId: id, appInfo: instance.appInfo } : { instanceId: id }];
  });
  const missing = ids.filter((id) => !found.has(id));
  return { answer: ok({ info }), writes: [], events: [], refs, ...(missing.length ? { note: { unknownInstanceIds: missing.length } } : {}) };
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
      command.activity === 'releaseInstance' && ctx.releaseUnknownAnswer === 'success'
        ? ok()
        : answer(ResultCode.instanceNotFound);
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

  const event = eventFor(decision.next, decision.entry);
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
      expiryOf(instance, ctx.testTtlDays),
    ),
    events: [event],
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
  }
}
