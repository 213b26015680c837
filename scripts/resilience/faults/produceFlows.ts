/** The production-interface flows (lib/instances/produceCall.ts, V2, signed like the marketplace), faulted and retried. */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { handleProduceCall, type ProduceDeps } from '#lib/instances/produceCall.ts';
import { signRequest } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import type { Answer } from '#lib/koogallery/resultCodes.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import { errorText } from '#lib/shared/errors.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import { keys } from '#lib/store/keys.ts';
import { licenseStore } from '#lib/store/licenseStore.ts';
import { licenseRegistry } from '#lib/licenses/deps.ts';
import { registerLicenseCode } from '#lib/licenses/registration.ts';
import { type Item, queryPartition } from '../tables.ts';
import { PRODUCE_SETTINGS } from '../../../test/helpers/produce.ts';
import { type FaultContext, nextTag } from './faultContext.ts';
import { TRANSACT } from './faultKinds.ts';
import { byKey, normalise } from './normalise.ts';
import { type Flow, silentLog } from './outcomes.ts';

const ACCESS_KEY = `faults-${randomBytes(12).toString('hex')}`;
const KEY_ID = 'faults-key';
const PRODUCT = 'FAULTS-P1';

interface Ids {
  tag: string;
  orderId: string;
  orderLineId: string;
  instanceId: string;
  license: string;
}

const idsOf = (tag: string): Ids => ({ tag, orderId: `${tag}-o`, orderLineId: `${tag}-o-1`, instanceId: `${tag}-b`, license: `${tag}-L` });

type Body = Record<string, string>;

interface ProduceFlowSpec {
  name: string;
  title: string;
  /** Calls that bring the instance to where the flow starts; each must answer 000000. */
  setup: (ids: Ids) => Body[];
  /** The seller's registration of a License code, before the calls. */
  registerLicense?: boolean;
  call: (ids: Ids) => Body;
}

const newInstance = (ids: Ids): Body => ({
  activity: 'newInstance',
  orderId: ids.orderId,
  orderLineId: ids.orderLineId,
  businessId: ids.instanceId,
  testFlag: '0',
});
const freeze = (ids: Ids): Body => ({ activity: 'updateInstanceStatus', instanceId: ids.instanceId, status: 'FREEZE' });

export const PRODUCE_FLOWS: readonly ProduceFlowSpec[] = [
  { name: 'newInstance', title: 'newInstance', setup: () => [], call: newInstance },
  {
    name: 'renewal',
    title: 'refreshInstance (RENEWAL)',
    setup: (ids) => [newInstance(ids)],
    call: (ids) => ({
      activity: 'refreshInstance',
      scene: 'RENEWAL',
      instanceId: ids.instanceId,
      orderId: `${ids.tag}-r`,
      orderLineId: `${ids.tag}-r-1`,
      expireTime: '20301231235959',
      productId: PRODUCT,
    }),
  },
  { name: 'freeze', title: 'updateInstanceStatus FREEZE', setup: (ids) => [newInstance(ids)], call: freeze },
  {
    name: 'unfreeze',
    title: 'updateInstanceStatus UNFREEZE',
    setup: (ids) => [newInstance(ids), freeze(ids)],
    call: (ids) => ({ activity: 'updateInstanceStatus', instanceId: ids.instanceId, status: 'UNFREEZE' }),
  },
  {
    name: 'upgrade',
    title: 'upgradeInstance',
    setup: (ids) => [newInstance(ids)],
    call: (ids) => ({ activity: 'upgradeInstance', instanceId: ids.instanceId, orderId: `${ids.tag}-u`, orderLineId: `${ids.tag}-u-1` }),
  },
  {
    name: 'release',
    title: 'releaseInstance',
    setup: (ids) => [newInstance(ids)],
    call: (ids) => ({ activity: 'releaseInstance', instanceId: ids.instanceId, orderId: ids.orderId, orderLineId: ids.orderLineId }),
  },
  {
    name: 'licenseRenewal',
    title: 'refreshLicenseCode (RENEWAL)',
    setup: () => [],
    registerLicense: true,
    call: (ids) => ({
      activity: 'refreshLicenseCode',
      license: ids.license,
      scene: 'RENEWAL',
      orderId: `${ids.tag}-r`,
      orderLineId: `${ids.tag}-r-1`,
      expireTime: '20301231235959',
      productId: PRODUCT,
    }),
  },
];

interface Sent {
  answer?: Answer;
  /** The message-log record's key time (the handler's first clock reading). */
  at: string;
  nonce: string;
  correlationId: string;
  published: LifecycleEvent[];
  errors: string[];
  threw?: string;
}

function produceDeps(ctx: FaultContext, clock: { first?: number }, published: LifecycleEvent[], errors: string[]): ProduceDeps {
  return {
    accessKeys: async () => [{ id: KEY_ID, secret: ACCESS_KEY }],
    store: instanceStore(ctx.client, ctx.tables),
    licenses: licenseStore(ctx.client, ctx.tables.main),
    publisher: {
      publish: async (events) => {
        published.push(...events);
        return [];
      },
    },
    changePolicy: { check: async () => ({ allowed: true }) },
    settings: PRODUCE_SETTINGS,
    now: () => {
      const t = Date.now();
      clock.first ??= t;
      return t;
    },
    log: silentLog(errors),
  };
}

/** Signs a body as the marketplace does (a fresh nonce each time) and hands it to the production interface. */
async function sendProduce(ctx: FaultContext, body: Body, correlationId: string): Promise<Sent> {
  const query = signRequest(ACCESS_KEY, body as JsonObject);
  const clock: { first?: number } = {};
  const published: LifecycleEvent[] = [];
  const errors: string[] = [];
  const base = { nonce: query.nonce, correlationId, published, errors };
  try {
    const result = await handleProduceCall(
      { version: 'v2', rawBody: JSON.stringify(body), query, correlationId },
      produceDeps(ctx, clock, published, errors),
    );
    return { ...base, answer: result.answer, at: new Date(clock.first ?? 0).toISOString() };
  } catch (error) {
    return { ...base, at: new Date(clock.first ?? 0).toISOString(), threw: errorText(error) };
  }
}

/** Everything a production-interface flow can write for its ids, normalised and sorted. */
async function produceState(ctx: FaultContext, ids: Ids): Promise<unknown[]> {
  const { inspect, tables } = ctx;
  const items = [
    ...(await queryPartition(inspect, tables.main, keys.instance(ids.instanceId).pk)),
    ...(await queryPartition(inspect, tables.main, keys.orderLine(ids.orderId, ids.orderLineId).pk)),
    ...(await queryPartition(inspect, tables.main, keys.license(ids.license).pk)),
    ...(await queryPartition(inspect, tables.main, keys.outboxPartition, {
      expression: 'begins_with(eventId, :event)',
      values: { ':event': `${ids.instanceId}:` },
    })),
  ];
  return items.sort(byKey).map((item) => normalise(item, ids.tag));
}

async function nonceClaimed(ctx: FaultContext, nonce: string): Promise<boolean> {
  const out = await ctx.inspect.send('GetItem', {
    TableName: ctx.tables.main,
    Key: marshall(keys.nonce(KEY_ID, nonce)),
    ConsistentRead: true,
  });
  return out.Item !== undefined;
}

/** The result code in the call's message-log record, or why there is none to compare. */
async function loggedCode(ctx: FaultContext, sent: Sent): Promise<string | undefined> {
  const key = keys.auditMessage(sent.at, sent.correlationId);
  const out = await ctx.inspect.send('GetItem', { TableName: ctx.tables.audit, Key: marshall(key), ConsistentRead: true });
  return out.Item ? String(unmarshall(out.Item).resultCode) : undefined;
}

async function prepareProduce(ctx: FaultContext, spec: ProduceFlowSpec, ids: Ids): Promise<void> {
  ctx.injector.reset();
  if (spec.registerLicense) {
    const registered = await registerLicenseCode(
      licenseRegistry(ctx.client, ctx.tables.main),
      { license: ids.license, orderId: ids.orderId, orderLineId: ids.orderLineId, productId: 'FAULTS-P0', expireTime: '20291231235959' },
      Date.now(),
    );
    if (registered.outcome !== 'registered') throw new Error(`${spec.name}: registering ${ids.license} gave ${registered.outcome}`);
  }
  for (const [n, body] of spec.setup(ids).entries()) {
    const sent = await sendProduce(ctx, body, `${ids.tag}-s${n}`);
    if (sent.answer?.resultCode !== '000000')
      throw new Error(`${spec.name}: setup ${body.activity} answered ${JSON.stringify(sent.answer ?? sent.threw)}`);
  }
}

export interface ProduceBaseline {
  answer: unknown;
  final: unknown[];
}

const showAnswer = (a: Answer | undefined, threw?: string) => (a ? `${a.resultCode} ${a.resultMsg}` : `threw ${threw ?? '?'}`);

export function produceFlow(spec: ProduceFlowSpec): Flow<ProduceBaseline> {
  return {
    name: spec.name,
    title: spec.title,

    async baseline(ctx) {
      const ids = idsOf(nextTag(ctx));
      await prepareProduce(ctx, spec, ids);
      const before = await produceState(ctx, ids);
      ctx.injector.reset();
      const sent = await sendProduce(ctx, spec.call(ids), `${ids.tag}-c1`);
      const commands = [...ctx.injector.sent];
      if (sent.answer?.resultCode !== '000000')
        throw new Error(`${spec.name}: the fault-free call answered ${showAnswer(sent.answer, sent.threw)}`);
      const final = await produceState(ctx, ids);
      if (isDeepStrictEqual(before, final)) throw new Error(`${spec.name}: the fault-free call changed nothing`);
      return { answer: normalise(sent.answer, ids.tag), final, commands };
    },

    async faulted(ctx, baseline, k, kind) {
      const ids = idsOf(nextTag(ctx));
      await prepareProduce(ctx, spec, ids);
      const pre = await produceState(ctx, ids);
      const body = spec.call(ids);

      ctx.injector.arm(k, kind);
      const first = await sendProduce(ctx, body, `${ids.tag}-c1`);
      const struck = ctx.injector.struck;
      ctx.injector.disarm();
      const mid = await produceState(ctx, ids);
      const claimed = await nonceClaimed(ctx, first.nonce);
      // The marketplace's retry: the same call, a fresh nonce and signature.
      const second = await sendProduce(ctx, body, `${ids.tag}-c2`);
      const final = await produceState(ctx, ids);

      const problems: string[] = [];
      const applied = isDeepStrictEqual(mid, baseline.final);
      const untouched = isDeepStrictEqual(mid, pre);
      const crash = first.threw !== undefined || second.threw !== undefined;
      if (first.threw) problems.push(`the faulted call threw ${first.threw}`);
      if (second.threw) problems.push(`the retry threw ${second.threw}`);
      if (!struck) problems.push(`the fault did not strike: the call sent ${ctx.injector.sent.length} command(s)`);

      let halfWritten = false;
      if (!applied && !untouched) {
        halfWritten = true;
        problems.push(
          `half-written: after the faulted call the state is neither untouched nor the fault-free result: ${JSON.stringify(mid).slice(0, 600)}`,
        );
      }
      if (claimed !== applied && (applied || untouched)) {
        halfWritten = true;
        problems.push(`half-written: the call's nonce is ${claimed ? '' : 'not '}claimed but its change is ${applied ? '' : 'not '}there`);
      }

      // The faulted call's answer: 000000 only if committed (law 1); the fault-free answer if the fault is absorbed, else 000005.
      let answeredCorrectly = !crash;
      const got = first.answer ? normalise(first.answer, ids.tag) : undefined;
      const writeLost = kind.when === 'after' && struck?.command === TRANSACT && struck.applied;
      if (first.answer?.resultCode === '000000' && !applied) {
        answeredCorrectly = false;
        problems.push('law 1: answered 000000 but the change is not in the table');
      }
      if (kind.absorbed) {
        if (!isDeepStrictEqual(got, baseline.answer)) {
          answeredCorrectly = false;
          problems.push(
            `an absorbed fault (${kind.name}) was answered ${showAnswer(first.answer, first.threw)}, the fault-free call ${JSON.stringify(baseline.answer)}`,
          );
        }
        if (!applied) problems.push('an absorbed fault left the change unwritten');
      } else if (writeLost) {
        // The commit's answer was lost but the write is durable: the handler finds its nonce claimed and answers as
        // planned, and its message-log record (written in the same transaction) says so too.
        if (!isDeepStrictEqual(got, baseline.answer)) {
          answeredCorrectly = false;
          problems.push(
            `a lost commit answer was answered ${showAnswer(first.answer, first.threw)}, the fault-free call ${JSON.stringify(baseline.answer)}`,
          );
        }
        if (!applied) problems.push('a lost commit answer left the change unwritten');
      } else {
        if (first.answer?.resultCode !== '000005') {
          answeredCorrectly = false;
          problems.push(`answered ${showAnswer(first.answer, first.threw)}, expected 000005`);
        }
        if (applied !== writeLost)
          problems.push(`the change is ${applied ? '' : 'not '}there after a ${kind.name} on ${struck?.command ?? '?'}`);
      }
      // The retry answers exactly as the fault-free call did.
      const retried = second.answer ? normalise(second.answer, ids.tag) : undefined;
      if (!isDeepStrictEqual(retried, baseline.answer)) {
        answeredCorrectly = false;
        problems.push(
          `the retry answered ${showAnswer(second.answer, second.threw)}, the fault-free call ${JSON.stringify(baseline.answer)}`,
        );
      }
      const stateEqual = isDeepStrictEqual(final, baseline.final);
      if (!stateEqual) problems.push(`final state differs from the fault-free run: ${JSON.stringify(final).slice(0, 600)}`);
      const published = new Set([...first.published, ...second.published].map((e) => normalise(e.eventId, ids.tag)));
      const before = new Set((pre as Item[]).map((i) => i.eventId));
      const leftToSweep = (final as Item[]).filter(
        (i) => i.pk === keys.outboxPartition && !before.has(i.eventId) && !published.has(i.eventId),
      ).length;

      const logMismatches: string[] = [];
      for (const [which, sent] of [
        ['faulted call', first],
        ['retry', second],
      ] as const) {
        const code = await loggedCode(ctx, sent);
        if (sent.answer && code !== sent.answer.resultCode)
          logMismatches.push(`${which} answered ${sent.answer.resultCode}, its message-log record says ${code ?? '(none)'}`);
      }
      // Law 6: the message log says what the marketplace was answered.
      for (const mismatch of logMismatches) problems.push(`message log: ${mismatch}`);
      if (problems.length > 0) for (const line of [...first.errors, ...second.errors].slice(0, 4)) problems.push(`  server log: ${line}`);

      return {
        flow: spec.name,
        k,
        command: struck?.command ?? ctx.injector.sent[k - 1] ?? '?',
        kind: kind.name,
        answeredCorrectly,
        stateEqual,
        halfWritten,
        crash,
        logMismatches,
        faultedAnswer: first.answer?.resultCode ?? 'threw',
        committed: applied,
        leftToSweep,
        problems,
      };
    },
  };
}
