/**
 * Resilience 2, faults (ARCHITECTURE.md laws 1–3): a DynamoDB client whose k-th command fails, for every k along
 * each flow, and then what the caller does after a failure: it sends the same call again.
 *
 *   node --import tsx scripts/resilience/faults.ts [--flows newInstance,releaseInstance,…] [--show 5]
 *
 * The flows run through the real code with a DynamoDB client of their own (built like lib/store/client.ts, with a
 * `faults` middleware), against a DynamoDB Local of the script's own (in memory) with the tables of serverless.yml:
 *   - production interface (lib/instances/produceCall.ts, V2, signed like the marketplace): newInstance; and on a new
 *     instance refreshInstance (RENEWAL), updateInstanceStatus FREEZE, UNFREEZE (of a frozen instance),
 *     upgradeInstance, releaseInstance; refreshLicenseCode of a registered License code;
 *   - usage ingest (POST /seller/usage through lib/seller-api/router.ts and lib/usage/ingest.ts): 8 reports with
 *     clientRefs for 2 metered instances × 2 hourly windows.
 *
 * Each flow is first run fault-free on fresh ids, counting the DynamoDB commands its call sends (n). Then, for every
 * k = 1..n and every fault kind that applies to the k-th command, on fresh ids and after the same setup, the k-th
 * command fails, and the call is sent again (the marketplace's retry: a fresh nonce and signature; the seller's
 * resend: the same reports and clientRefs). Fault kinds:
 *   - reaching the application (as when a fault outlasts the SDK's own retries): InternalServerError,
 *     ProvisionedThroughputExceededException, a reset connection (the server never saw the command); a transaction
 *     cancelled for ThrottlingError or TransactionConflict (TransactWriteItems only; nothing applied); a BatchGetItem
 *     that returns every key unprocessed (as under throttling); a lost answer (the server applied the command, the
 *     client timed out);
 *   - inside the client's own retries (maxAttempts 3, as lib/store/client.ts): one attempt fails with a 500, or is
 *     applied and its answer lost (the SDK resends it; a transaction carries the same ClientRequestToken).
 * Checked for every fault:
 *   - answered correctly: the faulted call's answer is 000000 only if its write committed (law 1); it is the
 *     fault-free answer when the fault is absorbed on the way (the SDK's retry, the store's re-read of unprocessed
 *     keys, the handler's re-planning after a conflict) and 000005 otherwise; the retry answers exactly as the fault-free run did. Usage: a report answered `accepted` is
 *     in the ledger; on the resend every report is `accepted`, or `duplicate` exactly when the faulted request did
 *     record it;
 *   - never half-written: right after the faulted call the state is either untouched or the fault-free run's final
 *     state (production interface: and the call's nonce is claimed exactly when its change is there; usage: every
 *     window transaction's clientRef claims, window sum, report count and the running total agree);
 *   - final state equal: after the retry, the state equals the fault-free run's, ids and times normalised
 *     (instance item, history, applied markers, order-line claim, outbox events, License code; usage windows,
 *     totals, clientRef claims);
 *   - crashes: a handler that throws instead of answering.
 * Also reported: message-log records (law 6) whose result code differs from the answer the call got.
 * test/integration/faults.test.ts runs newInstance and releaseInstance with every k and every kind on the test stack.
 *
 * Exit codes: 0 every check held, 1 a check failed or the run broke, 2 bad arguments, 130/143 interrupted.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import {
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Instance } from '../../lib/instances/model.ts';
import { handleProduceCall, type ProduceDeps } from '../../lib/instances/produceCall.ts';
import { createInstance } from '../../lib/instances/stateMachine.ts';
import { signRequest } from '../../lib/koogallery/auth.ts';
import type { JsonObject } from '../../lib/koogallery/canonicalJson.ts';
import type { Answer } from '../../lib/koogallery/resultCodes.ts';
import type { Log } from '../../lib/log.ts';
import { eventFor, type LifecycleEvent } from '../../lib/outbox/events.ts';
import { handleSellerRequest } from '../../lib/seller-api/router.ts';
import { usageRoutes } from '../../lib/seller-api/allRoutes.ts';
import { instanceStore } from '../../lib/store/instanceStore.ts';
import type { StoreTables } from '../../lib/store/dynamo.ts';
import { keys } from '../../lib/store/keys.ts';
import { licenseStore } from '../../lib/store/licenseStore.ts';
import { usageStore } from '../../lib/store/usageStore.ts';
import { parseQuantity } from '../../lib/usage/decimal.ts';
import type { MeteringSettings } from '../../lib/usage/metering.ts';
import { licenseCliStore, registerLicenseCode } from '../licenses.ts';
import { isEntryPoint } from '../local/cli.ts';
import { cleanups, integerOption, readOptions, runStandalone, startEmulatorStack, usageExit } from '../local/standalone.ts';
import { PRODUCE_SETTINGS } from '../../test/helpers/produce.ts';
import { queryPartition, type Item } from './tables.ts';

// ---------------------------------------------------------------------------------------------------------------
// Fault kinds

export interface FaultKind {
  name: string;
  /** `surfaced`: the error reaches the application; `sdk`: it strikes one HTTP attempt, inside the client's retries. */
  layer: 'surfaced' | 'sdk';
  /** `before`: the server never sees the command; `after`: the server applied it and the answer is lost. */
  when: 'before' | 'after';
  /** Only for this command (a transaction's cancellation). */
  only?: string;
  /** The caller's call still gets the fault-free answer (the fault is absorbed on the way). */
  absorbed: boolean;
  error(input: unknown): Error;
  /** Instead of an error, this answer without sending (a throttled BatchGetItem's). */
  respond?: (input: unknown) => Record<string, unknown>;
}

const timeout = () => Object.assign(new Error('socket timed out after 1500 ms (the request was sent)'), { name: 'TimeoutError', code: 'ETIMEDOUT', $metadata: {} });

/** A cancellation naming `code` for one item and `None` for the others, as DynamoDB reports one. */
function cancelled(input: unknown, code: string): Error {
  const count = Math.max(1, ((input as { TransactItems?: unknown[] }).TransactItems ?? []).length);
  const at = Math.min(1, count - 1);
  const reasons = Array.from({ length: count }, (_, i) => (i === at ? { Code: code, Message: code } : { Code: 'None' }));
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    CancellationReasons: reasons,
    $metadata: { httpStatusCode: 400 },
  });
}

const TRANSACT = 'TransactWriteItems';

export const FAULT_KINDS: readonly FaultKind[] = [
  {
    name: 'InternalServerError',
    layer: 'surfaced',
    when: 'before',
    absorbed: false,
    error: () => new InternalServerError({ message: 'Internal server error', $metadata: { httpStatusCode: 500 } }),
  },
  {
    name: 'ProvisionedThroughputExceeded',
    layer: 'surfaced',
    when: 'before',
    absorbed: false,
    error: () =>
      new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded', $metadata: { httpStatusCode: 400 } }),
  },
  {
    name: 'connection reset',
    layer: 'surfaced',
    when: 'before',
    absorbed: false,
    error: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} }),
  },
  { name: 'cancelled: ThrottlingError', layer: 'surfaced', when: 'before', only: TRANSACT, absorbed: false, error: (input) => cancelled(input, 'ThrottlingError') },
  { name: 'cancelled: TransactionConflict', layer: 'surfaced', when: 'before', only: TRANSACT, absorbed: true, error: (input) => cancelled(input, 'TransactionConflict') },
  {
    name: 'every key unprocessed',
    layer: 'surfaced',
    when: 'before',
    only: 'BatchGetItem',
    absorbed: true,
    error: timeout,
    respond: (input) => ({ Responses: {}, UnprocessedKeys: (input as { RequestItems?: unknown }).RequestItems ?? {}, $metadata: { httpStatusCode: 200 } }),
  },
  { name: 'lost answer (applied, then timeout)', layer: 'surfaced', when: 'after', absorbed: false, error: timeout },
  {
    name: 'SDK-retried 500',
    layer: 'sdk',
    when: 'before',
    absorbed: true,
    error: () => new InternalServerError({ message: 'Internal server error', $metadata: { httpStatusCode: 500 } }),
  },
  { name: 'SDK-retried lost answer', layer: 'sdk', when: 'after', absorbed: true, error: timeout },
];

export const faultKind = (name: string): FaultKind => {
  const kind = FAULT_KINDS.find((k) => k.name === name);
  if (!kind) throw new Error(`no fault kind ${name}`);
  return kind;
};

// ---------------------------------------------------------------------------------------------------------------
// The faulting client

/** What an armed fault struck. */
export interface Struck {
  k: number;
  command: string;
  /** The server applied the command before the answer was lost. */
  applied: boolean;
}

/**
 * Counts the DynamoDB commands a client sends (one per `send`, whatever the SDK's retries) and makes the k-th fail.
 * Installed as two middlewares: `faults` (initialize step: before the SDK's retries, so its errors reach the
 * caller) and `faultsInsideRetries` (finalizeRequest step, after signing: one HTTP attempt fails, the SDK retries).
 */
export class FaultInjector {
  /** Commands sent since the last arm/reset, by name (`GetItem`, `TransactWriteItems`, …). */
  readonly sent: string[] = [];
  struck: Struck | undefined;
  private planned: { k: number; kind: FaultKind } | undefined;
  private readonly inside = new WeakMap<object, { kind: FaultKind; struck: Struck }>();

  arm(k: number, kind: FaultKind): void {
    this.reset();
    this.planned = { k, kind };
  }

  reset(): void {
    this.sent.length = 0;
    this.planned = undefined;
    this.struck = undefined;
  }

  disarm(): void {
    this.planned = undefined;
  }

  install(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? '?').replace(/Command$/, '');
        const index = this.sent.push(command);
        const planned = this.planned;
        if (!planned || index !== planned.k || (planned.kind.only && planned.kind.only !== command)) return next(args);
        const struck: Struck = { k: index, command, applied: false };
        this.struck = struck;
        if (planned.kind.layer === 'sdk') {
          this.inside.set(context, { kind: planned.kind, struck });
          return next(args);
        }
        if (planned.kind.respond) return { output: planned.kind.respond(args.input) as unknown as Awaited<ReturnType<typeof next>>['output'], response: {} };
        if (planned.kind.when === 'before') throw planned.kind.error(args.input);
        await next(args);
        struck.applied = true;
        throw planned.kind.error(args.input);
      },
      { step: 'initialize', name: 'faults' },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const planned = this.inside.get(context);
        if (!planned) return next(args);
        // The first attempt only: the SDK's retry goes through.
        this.inside.delete(context);
        if (planned.kind.when === 'before') throw planned.kind.error(undefined);
        await next(args);
        planned.struck.applied = true;
        throw planned.kind.error(undefined);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'faultsInsideRetries' },
    );
  }
}

/** A DynamoDB client like lib/store/client.ts's (its timeouts and retries), separate from it. */
export function storeLikeClient(): DynamoDBClient {
  return new DynamoDBClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 500, requestTimeout: 1_500 } });
}

export interface FaultContext {
  /** The client the flows use: it carries the injector. */
  client: DynamoDBClient;
  injector: FaultInjector;
  /** A plain client that reads the state. */
  inspect: DynamoDBClient;
  tables: StoreTables;
  /** Unique per run: the start of every id the flows invent. */
  prefix: string;
  /** Usage windows: hour starts (ISO) fixed for the run, so every case reports into the same windows. */
  usageHours: [string, string];
  /** Next id number. */
  counter: number;
}

const HOUR_MS = 3_600_000;
const hourStart = (hoursAgo: number, now: number) => new Date(now - (now % HOUR_MS) - hoursAgo * HOUR_MS).toISOString();

export function faultContext(tables: StoreTables, prefix = `F${randomBytes(3).toString('hex')}`): FaultContext {
  const client = storeLikeClient();
  const injector = new FaultInjector();
  injector.install(client);
  const now = Date.now();
  return { client, injector, inspect: storeLikeClient(), tables, prefix, usageHours: [hourStart(3, now), hourStart(2, now)], counter: 0 };
}

export function closeFaultContext(ctx: FaultContext): void {
  ctx.client.destroy();
  ctx.inspect.destroy();
}

const nextTag = (ctx: FaultContext) => `${ctx.prefix}-${(ctx.counter++).toString(36)}`;

// ---------------------------------------------------------------------------------------------------------------
// State, normalised


const TIME_KEYS = new Set(['at', 'createdAt', 'updatedAt', 'occurredAt', 'fetchedAt']);
/** What the outbox and safety sweeps note on an outbox entry: theirs, not the flow's (on a shared table they run too). */
const SWEEP_KEYS = new Set(['resentAt', 'requeues', 'requeuedAt', 'reportedAt']);
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z/g;
const RECENT_MS = 3 * 24 * HOUR_MS;

/**
 * The run's ids as `<run>`, the times it ran at as `<time>`, TTLs as `<ttl>`, without the sweeps' notes: what stays
 * is what the flow decided.
 */
export function normalise(value: unknown, tag: string, key = ''): unknown {
  if (typeof value === 'string') {
    if (TIME_KEYS.has(key)) return '<time>';
    if (key === 'message' && value.startsWith('{')) {
      try {
        return normalise(JSON.parse(value) as unknown, tag);
      } catch {
        // not JSON: kept as text
      }
    }
    const now = Date.now();
    return value
      .split(tag)
      .join('<run>')
      .replace(ISO, (t) => (Math.abs(Date.parse(t) - now) < RECENT_MS ? '<time>' : t));
  }
  if (key === 'expiresAt' && typeof value === 'number') return '<ttl>';
  if (Array.isArray(value)) return value.map((v) => normalise(v, tag));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Item)
        .filter(([k]) => !SWEEP_KEYS.has(k))
        .map(([k, v]) => [k, normalise(v, tag, k)]),
    );
  }
  return value;
}


const byKey = (a: Item, b: Item) => `${String(a.pk)}\n${String(a.sk)}`.localeCompare(`${String(b.pk)}\n${String(b.sk)}`);

// ---------------------------------------------------------------------------------------------------------------
// Outcomes and tallies

export interface CaseOutcome {
  flow: string;
  k: number;
  command: string;
  kind: string;
  answeredCorrectly: boolean;
  stateEqual: boolean;
  halfWritten: boolean;
  crash: boolean;
  /** Message-log records whose result code differs from the answer given (reported, not a failure here). */
  logMismatches: string[];
  /** The faulted call's answer (a result code, or an HTTP status and per-record statuses). */
  faultedAnswer: string;
  /** Right after the faulted call, its whole change is in the table (usage: every report is in the ledger). */
  committed: boolean;
  /** Outbox events neither call published at once: the outbox sweep sends them. */
  leftToSweep: number;
  problems: string[];
}

export interface FlowReport {
  flow: string;
  title: string;
  /** The DynamoDB commands of the fault-free call, in order. */
  commands: string[];
  cases: CaseOutcome[];
}

export const failed = (c: CaseOutcome) => c.problems.length > 0;

export interface Counts {
  tried: number;
  answeredCorrectly: number;
  stateEqual: number;
  halfWritten: number;
  crashes: number;
  logMismatches: number;
  failed: number;
}

export function countsOf(cases: readonly CaseOutcome[]): Counts {
  return {
    tried: cases.length,
    answeredCorrectly: cases.filter((c) => c.answeredCorrectly).length,
    stateEqual: cases.filter((c) => c.stateEqual).length,
    halfWritten: cases.filter((c) => c.halfWritten).length,
    crashes: cases.filter((c) => c.crash).length,
    logMismatches: cases.filter((c) => c.logMismatches.length > 0).length,
    failed: cases.filter(failed).length,
  };
}

/** A flow: a fault-free baseline, then one case per (k, fault kind). */
interface Flow<B> {
  name: string;
  title: string;
  baseline(ctx: FaultContext): Promise<B & { commands: string[] }>;
  faulted(ctx: FaultContext, baseline: B, k: number, kind: FaultKind): Promise<CaseOutcome>;
}

const silentLog = (errors: string[]): Log => ({
  info: () => {},
  warn: (message, extra) => errors.push(`warn ${message} ${JSON.stringify(extra ?? {}).slice(0, 300)}`),
  error: (message, extra) => errors.push(`error ${message} ${JSON.stringify(extra ?? {}).slice(0, 300)}`),
});

const describeError = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

// ---------------------------------------------------------------------------------------------------------------
// Production-interface flows

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

const newInstance = (ids: Ids): Body => ({ activity: 'newInstance', orderId: ids.orderId, orderLineId: ids.orderLineId, businessId: ids.instanceId, testFlag: '0' });
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
    const result = await handleProduceCall({ version: 'v2', rawBody: JSON.stringify(body), query, correlationId }, produceDeps(ctx, clock, published, errors));
    return { ...base, answer: result.answer, at: new Date(clock.first ?? 0).toISOString() };
  } catch (error) {
    return { ...base, at: new Date(clock.first ?? 0).toISOString(), threw: describeError(error) };
  }
}

/** Everything a production-interface flow can write for its ids, normalised and sorted. */
async function produceState(ctx: FaultContext, ids: Ids): Promise<unknown[]> {
  const { inspect, tables } = ctx;
  const items = [
    ...(await queryPartition(inspect, tables.main, keys.instance(ids.instanceId).pk)),
    ...(await queryPartition(inspect, tables.main, keys.orderLine(ids.orderId, ids.orderLineId).pk)),
    ...(await queryPartition(inspect, tables.main, keys.license(ids.license).pk)),
    ...(await queryPartition(inspect, tables.main, keys.outboxPartition, { expression: 'begins_with(eventId, :event)', values: { ':event': `${ids.instanceId}:` } })),
  ];
  return items.sort(byKey).map((item) => normalise(item, ids.tag));
}

async function nonceClaimed(ctx: FaultContext, nonce: string): Promise<boolean> {
  const out = await ctx.inspect.send(new GetItemCommand({ TableName: ctx.tables.main, Key: marshall(keys.nonce(KEY_ID, nonce)), ConsistentRead: true }));
  return out.Item !== undefined;
}

/** The result code in the call's message-log record, or why there is none to compare. */
async function loggedCode(ctx: FaultContext, sent: Sent): Promise<string | undefined> {
  const key = keys.auditMessage(sent.at, sent.correlationId);
  const out = await ctx.inspect.send(new GetItemCommand({ TableName: ctx.tables.audit, Key: marshall(key), ConsistentRead: true }));
  return out.Item ? String(unmarshall(out.Item).resultCode) : undefined;
}

async function prepareProduce(ctx: FaultContext, spec: ProduceFlowSpec, ids: Ids): Promise<void> {
  ctx.injector.reset();
  if (spec.registerLicense) {
    const registered = await registerLicenseCode(
      licenseCliStore(ctx.client, ctx.tables.main),
      { license: ids.license, orderId: ids.orderId, orderLineId: ids.orderLineId, productId: 'FAULTS-P0', expireTime: '20291231235959' },
      Date.now(),
    );
    if (registered.outcome !== 'registered') throw new Error(`${spec.name}: registering ${ids.license} gave ${registered.outcome}`);
  }
  for (const [n, body] of spec.setup(ids).entries()) {
    const sent = await sendProduce(ctx, body, `${ids.tag}-s${n}`);
    if (sent.answer?.resultCode !== '000000') throw new Error(`${spec.name}: setup ${body.activity} answered ${JSON.stringify(sent.answer ?? sent.threw)}`);
  }
}

interface ProduceBaseline {
  answer: unknown;
  final: unknown[];
}

const showAnswer = (a: Answer | undefined, threw?: string) => (a ? `${a.resultCode} ${a.resultMsg}` : `threw ${threw ?? '?'}`);

function produceFlow(spec: ProduceFlowSpec): Flow<ProduceBaseline> {
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
      if (sent.answer?.resultCode !== '000000') throw new Error(`${spec.name}: the fault-free call answered ${showAnswer(sent.answer, sent.threw)}`);
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
        problems.push(`half-written: after the faulted call the state is neither untouched nor the fault-free result: ${JSON.stringify(mid).slice(0, 600)}`);
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
          problems.push(`an absorbed fault (${kind.name}) was answered ${showAnswer(first.answer, first.threw)}, the fault-free call ${JSON.stringify(baseline.answer)}`);
        }
        if (!applied) problems.push('an absorbed fault left the change unwritten');
      } else if (writeLost) {
        // The commit's answer was lost but the write is durable: the handler finds its nonce claimed and answers as
        // planned, and its message-log record (written in the same transaction) says so too.
        if (!isDeepStrictEqual(got, baseline.answer)) {
          answeredCorrectly = false;
          problems.push(`a lost commit answer was answered ${showAnswer(first.answer, first.threw)}, the fault-free call ${JSON.stringify(baseline.answer)}`);
        }
        if (!applied) problems.push('a lost commit answer left the change unwritten');
      } else {
        if (first.answer?.resultCode !== '000005') {
          answeredCorrectly = false;
          problems.push(`answered ${showAnswer(first.answer, first.threw)}, expected 000005`);
        }
        if (applied !== writeLost) problems.push(`the change is ${applied ? '' : 'not '}there after a ${kind.name} on ${struck?.command ?? '?'}`);
      }
      // The retry answers exactly as the fault-free call did.
      const retried = second.answer ? normalise(second.answer, ids.tag) : undefined;
      if (!isDeepStrictEqual(retried, baseline.answer)) {
        answeredCorrectly = false;
        problems.push(`the retry answered ${showAnswer(second.answer, second.threw)}, the fault-free call ${JSON.stringify(baseline.answer)}`);
      }
      const stateEqual = isDeepStrictEqual(final, baseline.final);
      if (!stateEqual) problems.push(`final state differs from the fault-free run: ${JSON.stringify(final).slice(0, 600)}`);
      const published = new Set([...first.published, ...second.published].map((e) => normalise(e.eventId, ids.tag)));
      const before = new Set((pre as Item[]).map((i) => i.eventId));
      const leftToSweep = (final as Item[]).filter((i) => i.pk === keys.outboxPartition && !before.has(i.eventId) && !published.has(i.eventId)).length;

      const logMismatches: string[] = [];
      for (const [which, sent] of [['faulted call', first], ['retry', second]] as const) {
        const code = await loggedCode(ctx, sent);
        if (sent.answer && code !== sent.answer.resultCode) logMismatches.push(`${which} answered ${sent.answer.resultCode}, its message-log record says ${code ?? '(none)'}`);
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

// ---------------------------------------------------------------------------------------------------------------
// Usage ingest

const USAGE_PRODUCT = 'FAULTS-METERED';
const SELLER_SECRET = `kgs_${'f'.repeat(43)}`;
const METERING: MeteringSettings = { products: new Map([[USAGE_PRODUCT, 'hourly']]), chargingModes: new Set(), packageChargingModes: new Set() };

interface UsageRecord {
  instanceId: string;
  beginTime: string;
  endTime: string;
  value: string;
  clientRef: string;
}

/** 2 instances × 2 hourly windows × 2 reports, each with a clientRef: four window transactions. */
function usageRecords(ctx: FaultContext, tag: string): UsageRecord[] {
  const records: UsageRecord[] = [];
  for (const i of [0, 1]) {
    for (const [h, beginTime] of ctx.usageHours.entries()) {
      for (const j of [0, 1]) {
        const endTime = new Date(Date.parse(beginTime) + HOUR_MS).toISOString();
        records.push({ instanceId: `${tag}-m${i}`, beginTime, endTime, value: `${i + 1}.${h}${j}25`, clientRef: `ref-${h}-${j}` });
      }
    }
  }
  return records;
}

/** A metered ACTIVE instance, written through the store (newInstance carries no productId). */
async function meteredInstance(ctx: FaultContext, instanceId: string): Promise<void> {
  const at = new Date().toISOString();
  const { instance, entry } = createInstance(
    { instanceId, orderId: `${instanceId}-o`, orderLineId: `${instanceId}-o-1`, businessId: instanceId, test: false, state: 'ACTIVE' },
    at,
  );
  const metered: Instance = { ...instance, productId: USAGE_PRODUCT };
  const store = instanceStore(ctx.client, ctx.tables);
  const writes = store.createInstance(metered, entry, eventFor(metered, entry, 'instance.created'), Math.floor(Date.now() / 1000), undefined);
  const result = await store.commit(writes);
  if (!result.ok) throw new Error(`seeding ${instanceId}: ${JSON.stringify(result)}`);
}

interface UsageAnswer {
  status: number;
  json: Record<string, unknown>;
  /** Per record: accepted, duplicate, rejected, retry; empty unless HTTP 200. */
  statuses: string[];
  errors: string[];
  threw?: string;
}

async function postUsage(ctx: FaultContext, records: UsageRecord[], correlationId: string): Promise<UsageAnswer> {
  const errors: string[] = [];
  const log = silentLog(errors);
  const instances = instanceStore(ctx.client, ctx.tables);
  try {
    const response = await handleSellerRequest(
      {
        method: 'POST',
        path: '/seller/usage',
        headers: { authorization: `Bearer ${SELLER_SECRET}`, 'content-type': 'application/json' },
        query: {},
        body: JSON.stringify({ records }),
        correlationId,
      },
      {
        routes: usageRoutes,
        // The key check is not part of the flow: a stand-in accepts the run's key.
        authenticate: async () => ({ ok: true, key: { keyId: 'faults', name: 'faults', scopes: ['usage:write'], createdAt: new Date(0).toISOString() } }),
        deps: {
          usage: {
            instances: (ids) => instances.getInstances(ids),
            ledger: usageStore(ctx.client, ctx.tables.main),
            settings: METERING,
            now: Date.now,
            log,
          },
        },
        now: Date.now,
        maxBodyBytes: 1_048_576,
        log,
      },
    );
    const json = JSON.parse(response.body) as Record<string, unknown>;
    const results = Array.isArray(json.results) ? (json.results as { status?: unknown }[]) : [];
    return { status: response.status, json, statuses: results.map((r) => String(r.status)), errors };
  } catch (error) {
    return { status: 0, json: {}, statuses: [], errors, threw: describeError(error) };
  }
}

interface LedgerState {
  /** Per instance (by position): running total, windows, claimed clientRefs with their window, corrections. */
  instances: {
    total: string | undefined;
    windows: { beginTime: string; state: unknown; units: string; reports: unknown; lateUnits: string | undefined }[];
    refs: { clientRef: string; windowBegin: unknown }[];
    corrections: number;
  }[];
}

async function ledgerState(ctx: FaultContext, records: UsageRecord[]): Promise<LedgerState> {
  const instanceIds = [...new Set(records.map((r) => r.instanceId))];
  const out: LedgerState = { instances: [] };
  for (const instanceId of instanceIds) {
    const items = await queryPartition(ctx.inspect, ctx.tables.main, keys.usageTotal(instanceId).pk);
    const total = items.find((i) => i.sk === '#TOTAL');
    const windows = items
      .filter((i) => String(i.sk).startsWith('WINDOW#'))
      .map((w) => ({ beginTime: String(w.beginTime), state: w.usageState, units: String(w.units), reports: w.reports, lateUnits: w.lateUnits === undefined ? undefined : String(w.lateUnits) }));
    const refs: { clientRef: string; windowBegin: unknown }[] = [];
    for (const clientRef of [...new Set(records.filter((r) => r.instanceId === instanceId).map((r) => r.clientRef))].sort()) {
      const got = await ctx.inspect.send(new GetItemCommand({ TableName: ctx.tables.main, Key: marshall(keys.usageRef(instanceId, clientRef)), ConsistentRead: true }));
      if (got.Item) refs.push({ clientRef, windowBegin: unmarshall(got.Item).windowBegin });
    }
    out.instances.push({
      total: total === undefined ? undefined : String(total.units),
      windows,
      refs,
      corrections: items.filter((i) => String(i.sk).startsWith('LATE#')).length,
    });
  }
  return out;
}

/** The ledger agrees with the claimed clientRefs: whole window transactions, sums, counts and totals. */
function ledgerProblems(state: LedgerState, records: UsageRecord[]): string[] {
  const problems: string[] = [];
  const instanceIds = [...new Set(records.map((r) => r.instanceId))];
  state.instances.forEach((inst, n) => {
    const mine = records.filter((r) => r.instanceId === instanceIds[n]);
    const claimed = new Set(inst.refs.map((r) => r.clientRef));
    let sum = 0n;
    for (const beginTime of [...new Set(mine.map((r) => r.beginTime))]) {
      const group = mine.filter((r) => r.beginTime === beginTime);
      const inGroup = group.filter((r) => claimed.has(r.clientRef));
      if (inGroup.length !== 0 && inGroup.length !== group.length) problems.push(`instance ${n}, window ${beginTime}: ${inGroup.length} of ${group.length} clientRefs claimed`);
      const expected = inGroup.reduce((s, r) => s + (parseQuantity(r.value) ?? 0n), 0n);
      const window = inst.windows.find((w) => w.beginTime === beginTime);
      const units = window ? BigInt(window.units) : 0n;
      if (units !== expected || (window ? Number(window.reports) : 0) !== inGroup.length) {
        problems.push(`instance ${n}, window ${beginTime}: ${units} units in ${String(window?.reports ?? 0)} reports, the claimed clientRefs make ${expected} in ${inGroup.length}`);
      }
      sum += units;
    }
    if (BigInt(inst.total ?? '0') !== sum) problems.push(`instance ${n}: running total ${inst.total ?? '(none)'} ≠ sum of its windows ${sum}`);
  });
  return problems;
}

const claimedRefs = (state: LedgerState, records: UsageRecord[]) => {
  const instanceIds = [...new Set(records.map((r) => r.instanceId))];
  return new Set(state.instances.flatMap((inst, n) => inst.refs.map((r) => `${instanceIds[n]}\n${r.clientRef}`)));
};

const showUsage = (a: UsageAnswer) => (a.threw ? `threw ${a.threw}` : `HTTP ${a.status} ${a.statuses.join(',') || JSON.stringify(a.json).slice(0, 200)}`);

interface UsageBaseline {
  answer: string;
  final: LedgerState;
}

const usageFlow: Flow<UsageBaseline> = {
  name: 'usage',
  title: 'POST /seller/usage (8 reports)',

  async baseline(ctx) {
    const tag = nextTag(ctx);
    const records = usageRecords(ctx, tag);
    ctx.injector.reset();
    for (const id of new Set(records.map((r) => r.instanceId))) await meteredInstance(ctx, id);
    ctx.injector.reset();
    const sent = await postUsage(ctx, records, `${tag}-u1`);
    const commands = [...ctx.injector.sent];
    if (sent.status !== 200 || sent.statuses.some((s) => s !== 'accepted')) throw new Error(`usage: the fault-free request answered ${showUsage(sent)}`);
    const final = await ledgerState(ctx, records);
    const problems = ledgerProblems(final, records);
    if (problems.length > 0) throw new Error(`usage: the fault-free ledger is inconsistent: ${problems.join('; ')}`);
    return { answer: showUsage(sent), final, commands };
  },

  async faulted(ctx, baseline, k, kind) {
    const tag = nextTag(ctx);
    const records = usageRecords(ctx, tag);
    ctx.injector.reset();
    for (const id of new Set(records.map((r) => r.instanceId))) await meteredInstance(ctx, id);

    ctx.injector.arm(k, kind);
    const first = await postUsage(ctx, records, `${tag}-u1`);
    const struck = ctx.injector.struck;
    ctx.injector.disarm();
    const mid = await ledgerState(ctx, records);
    // The seller's product sends the same reports again, with the same clientRefs.
    const second = await postUsage(ctx, records, `${tag}-u2`);
    const final = await ledgerState(ctx, records);

    const problems: string[] = [];
    const crash = first.threw !== undefined || second.threw !== undefined;
    if (first.threw) problems.push(`the faulted request threw ${first.threw}`);
    if (second.threw) problems.push(`the resend threw ${second.threw}`);
    if (!struck) problems.push(`the fault did not strike: the request sent ${ctx.injector.sent.length} command(s)`);

    const midProblems = ledgerProblems(mid, records);
    const halfWritten = midProblems.length > 0;
    for (const p of midProblems) problems.push(`half-written: ${p}`);

    const claimed = claimedRefs(mid, records);
    const committed = claimed.size === records.length;
    let answeredCorrectly = !crash;
    if (first.status === 200) {
      first.statuses.forEach((status, i) => {
        const r = records[i]!;
        const recorded = claimed.has(`${r.instanceId}\n${r.clientRef}`);
        if (status === 'accepted' && !recorded) {
          answeredCorrectly = false;
          problems.push(`record ${i} answered accepted but it is not in the ledger`);
        }
        if (status !== 'accepted' && status !== 'retry') {
          answeredCorrectly = false;
          problems.push(`record ${i} answered ${status} on its first sending`);
        }
      });
    } else if (![429, 500].includes(first.status) || typeof (first.json.error as { code?: unknown } | undefined)?.code !== 'string') {
      answeredCorrectly = false;
      problems.push(`the faulted request answered ${showUsage(first)}, expected 200 per record, or a 429/500 JSON error`);
    }
    if (kind.absorbed && showUsage(first) !== baseline.answer) {
      answeredCorrectly = false;
      problems.push(`an absorbed fault (${kind.name}) was answered ${showUsage(first)}, the fault-free request ${baseline.answer}`);
    }
    if (!kind.absorbed && first.status === 200 && first.statuses.every((s) => s === 'accepted')) {
      answeredCorrectly = false;
      problems.push(`a ${kind.name} on ${struck?.command ?? '?'} left no trace in the answer`);
    }
    // The resend: every report accepted, or duplicate exactly when the faulted request recorded it.
    if (second.status !== 200) {
      answeredCorrectly = false;
      problems.push(`the resend answered ${showUsage(second)}`);
    } else {
      second.statuses.forEach((status, i) => {
        const r = records[i]!;
        const expected = claimed.has(`${r.instanceId}\n${r.clientRef}`) ? 'duplicate' : 'accepted';
        if (status !== expected) {
          answeredCorrectly = false;
          problems.push(`the resend answered record ${i} ${status}, expected ${expected}`);
        }
      });
    }
    const stateEqual = isDeepStrictEqual(final, baseline.final);
    if (!stateEqual) problems.push(`final ledger differs from the fault-free run: ${JSON.stringify(final).slice(0, 600)}`);
    if (problems.length > 0) for (const line of [...first.errors, ...second.errors].slice(0, 4)) problems.push(`  server log: ${line}`);

    const counts = first.statuses.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
    return {
      flow: 'usage',
      k,
      command: struck?.command ?? ctx.injector.sent[k - 1] ?? '?',
      kind: kind.name,
      answeredCorrectly,
      stateEqual,
      halfWritten,
      crash,
      logMismatches: [],
      faultedAnswer: `${
        first.threw ? 'threw' : first.status === 200 ? `200 ${Object.entries(counts).sort().map(([s, n]) => `${s}×${n}`).join(' ')}` : `HTTP ${first.status}`
      }, ${claimed.size}/${records.length} in the ledger`,
      committed,
      leftToSweep: 0,
      problems,
    };
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Running

export const FLOW_NAMES = [...PRODUCE_FLOWS.map((f) => f.name), usageFlow.name] as const;

function flowNamed(name: string): Flow<ProduceBaseline> | Flow<UsageBaseline> {
  if (name === usageFlow.name) return usageFlow;
  const spec = PRODUCE_FLOWS.find((f) => f.name === name);
  if (!spec) throw new Error(`no flow ${name} (flows: ${FLOW_NAMES.join(', ')})`);
  return produceFlow(spec);
}

/** Runs a flow fault-free, then with the k-th command failing for every k and every kind that applies to it. */
export async function runFlow(ctx: FaultContext, name: string, kinds: readonly FaultKind[] = FAULT_KINDS): Promise<FlowReport> {
  const flow = flowNamed(name) as Flow<unknown>;
  const baseline = await flow.baseline(ctx);
  const cases: CaseOutcome[] = [];
  for (let k = 1; k <= baseline.commands.length; k++) {
    const command = baseline.commands[k - 1]!;
    for (const kind of kinds) {
      if (kind.only && kind.only !== command) continue;
      cases.push(await flow.faulted(ctx, baseline, k, kind));
    }
  }
  return { flow: flow.name, title: flow.title, commands: baseline.commands, cases };
}

// ---------------------------------------------------------------------------------------------------------------
// The script

const USAGE = 'usage: node --import tsx scripts/resilience/faults.ts [--flows <name,…>] [--show 5]';

interface Options {
  flows: string[];
  show: number;
}

function parseOptions(argv: string[]): Options | string {
  const values = readOptions(argv, { flows: { type: 'string' }, show: { type: 'string', default: '5' } });
  if (typeof values === 'string') return values;
  if (values.help) return '';
  const show = integerOption(values.show, 'show', 0, 1000);
  if (typeof show === 'string') return show;
  const flows = typeof values.flows === 'string' ? values.flows.split(',').map((f) => f.trim()).filter(Boolean) : [...FLOW_NAMES];
  const unknown = flows.filter((f) => !(FLOW_NAMES as readonly string[]).includes(f));
  if (unknown.length > 0 || flows.length === 0) return `--flows takes a comma-separated list of: ${FLOW_NAMES.join(', ')}`;
  return { flows, show };
}


async function startStack(): Promise<{ tables: StoreTables; dynamoPid: number | undefined }> {
  const { env, dynamoPid } = await startEmulatorStack('faults');
  return { tables: { main: env.MAIN_TABLE!, audit: env.AUDIT_TABLE! }, dynamoPid };
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

function printReport(reports: FlowReport[], elapsedMs: number): void {
  console.log('');
  console.log(`  ${'flow'.padEnd(34)} ${'n'.padStart(2)}  ${'tried'.padStart(5)} ${'answered ok'.padStart(11)} ${'state equal'.padStart(11)} ${'half-written'.padStart(12)} ${'crashes'.padStart(7)}  log≠answer`);
  const all: CaseOutcome[] = [];
  for (const r of reports) {
    const c = countsOf(r.cases);
    all.push(...r.cases);
    console.log(`  ${r.title.padEnd(34)} ${pad(r.commands.length, 2)}  ${pad(c.tried, 5)} ${pad(c.answeredCorrectly, 11)} ${pad(c.stateEqual, 11)} ${pad(c.halfWritten, 12)} ${pad(c.crashes, 7)}  ${pad(c.logMismatches, 10)}`);
  }
  const t = countsOf(all);
  console.log(`  ${'= all'.padEnd(34)} ${''.padStart(2)}  ${pad(t.tried, 5)} ${pad(t.answeredCorrectly, 11)} ${pad(t.stateEqual, 11)} ${pad(t.halfWritten, 12)} ${pad(t.crashes, 7)}  ${pad(t.logMismatches, 10)}`);
  console.log('');
  console.log('commands of each fault-free call (k = 1..n):');
  for (const r of reports) console.log(`  ${r.title.padEnd(34)} ${r.commands.map((c, i) => `${i + 1} ${c}`).join(', ')}`);
  console.log('');
  console.log('the faulted call, by fault kind and command: its answers, and how many left their whole change in the table:');
  const groups = new Map<string, CaseOutcome[]>();
  for (const c of all) {
    const key = `${c.kind} on ${c.command}${c.flow === 'usage' ? ' (usage)' : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const [key, cases] of groups) {
    const answers = new Map<string, number>();
    for (const c of cases) answers.set(c.faultedAnswer, (answers.get(c.faultedAnswer) ?? 0) + 1);
    const shown = [...answers].map(([a, n]) => `${n}× ${a}`).join('; ');
    const swept = cases.reduce((n, c) => n + c.leftToSweep, 0);
    console.log(
      `  ${key.padEnd(66)} ${pad(cases.length, 3)} tried: ${shown}; whole change in the table: ${cases.filter((c) => c.committed).length}` +
        (swept > 0 ? `; events left to the outbox sweep: ${swept}` : ''),
    );
  }
  console.log('');
  console.log(`elapsed: ${(elapsedMs / 1000).toFixed(1)} s`);
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === 'string') return usageExit(options, USAGE);
  const started = performance.now();
  console.log(`faults: flows ${options.flows.join(', ')}; ${FAULT_KINDS.length} fault kinds at every k`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 20)} MiB RAM, Node ${process.versions.node}`);
  const stack = await startStack();
  console.log(`DynamoDB Local in memory (pid ${stack.dynamoPid}), tables ${stack.tables.main}, ${stack.tables.audit}`);
  const ctx = faultContext(stack.tables);
  cleanups.push(async () => closeFaultContext(ctx));

  const reports: FlowReport[] = [];
  for (const name of options.flows) {
    const report = await runFlow(ctx, name);
    const c = countsOf(report.cases);
    console.log(`  … ${report.title}: ${c.tried} faults, ${c.failed} failed`);
    reports.push(report);
  }
  printReport(reports, performance.now() - started);

  const cases = reports.flatMap((r) => r.cases);
  const mismatched = cases.filter((c) => c.logMismatches.length > 0);
  if (mismatched.length > 0) {
    console.log(`message log: ${mismatched.length} fault(s) left a record whose result code differs from the answer given (reported, not counted as a failure), e.g.:`);
    for (const c of mismatched.slice(0, options.show)) console.log(`  ${c.flow}, k=${c.k} ${c.command}, ${c.kind}: ${c.logMismatches.join('; ')}`);
  }
  const failures = cases.filter(failed);
  if (failures.length === 0) {
    console.log(`PASSED: ${cases.length} faults, every answer right, every final state equal to the fault-free run, nothing half-written`);
    return 0;
  }
  console.error(`\nFAILED: ${failures.length} of ${cases.length} faults; the first ${Math.min(options.show, failures.length)}:`);
  for (const c of failures.slice(0, options.show)) {
    console.error(`[${c.flow}] k=${c.k} (${c.command}), ${c.kind}: faulted call answered ${c.faultedAnswer}`);
    for (const p of c.problems) console.error(`  ${p}`);
  }
  return 1;
}

if (isEntryPoint(import.meta.url)) await runStandalone('the faults run', main);
