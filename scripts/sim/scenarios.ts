import { createHash, randomUUID } from 'node:crypto';
import { addPeriod, type FakeOrder } from '../local/fake-openapi.ts';
import { orderLike } from './fakeOrders.ts';
import { LOCAL_SUPERVISED_PRODUCT } from '../local/env.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { errorMessage } from '#lib/shared/errors.ts';
import { sleep } from '#lib/shared/time.ts';
import {
  DEFAULT_TIMEOUT_MS,
  marketplaceClient,
  type BodySignVerdict,
  type CallResult,
  type MarketplaceClient,
  type MarketplaceClientOptions,
} from '#lib/simulator/client.ts';
import { newOrderId, requestBody } from '#lib/simulator/requests.ts';
import { periodOf } from '#lib/settlement/period.ts';
import { jointOperation } from './jointOperation.ts';

/**
 * Scripted lifecycles for the simulator (`koogallery-sim scenario <name>`): each sends the marketplace's calls for one
 * business flow (spec §1.1) to a production interface, in order, as KooGallery would, and checks every answer.
 *
 * Every marketplace call must be answered with HTTP 200, a JSON object, the expected resultCode and a valid
 * `Body-Sign` header (spec §7.4), plus the step's own check. A transport failure is a failed step. The first failed
 * step ends the scenario: the steps that ran are returned.
 *
 * With a fake Open API (`openApiUrl`), the orders the calls carry are registered there first with the terms of the
 * matching marketplace mock order (spec §8.1), so a server that queries its orders finds them. With a seller API key,
 * the seller API (`/seller/instances/{id}`) is asked where it can confirm what the marketplace cannot see (a new
 * expireTime, a state) and pay-per-use reports usage through `POST /seller/usage`.
 */

export interface StepResult {
  scenario: string;
  /** 1-based. */
  step: number;
  title: string;
  /** A skipped step is ok (it did not fail); `skipped` and `detail` say that and why. */
  ok: boolean;
  detail?: string;
  resultCode?: string;
  latencyMs?: number;
  /** Not run, for the reason in `detail` (e.g. a scenario option was not given). */
  skipped?: boolean;
}

export interface ScenarioOptions {
  /** The production address, e.g. https://isv.example.com/koogallery/produce */
  url: string;
  /** The header case rule (see MarketplaceClientOptions). */
  client?: Pick<MarketplaceClientOptions, 'headerCase'>;
  /** The access key the marketplace signs with. */
  key: string;
  /** Base of the seller API (default: the production address's origin). */
  sellerUrl?: string;
  /** A seller API key: pay-per-use reports usage with it (scope usage:write); with instances:read, states are confirmed. */
  sellerKey?: string;
  /** A fake Open API (e.g. http://127.0.0.1:4020) to register the scenario's orders on before they are used. */
  openApiUrl?: string;
  /** A License code registered on the server, for the license scenario. */
  license?: string;
  /** supervision: the product the server supervises and gives a fee share (default: the local stack's demo product). */
  supervisedProduct?: string;
  /** supervision: the statement time zone of the server (default Asia/Shanghai). */
  timeZone?: string;
  /** retry-storm: how many identical newInstance calls at once (default 20). */
  concurrency?: number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Called with each step's result as soon as it is known. */
  onStep?: (result: StepResult) => void;
  /** joint-operation: the Kit access key and the seller's public key (bare base64 SPKI). */
  kit?: { key: string; publicKey: string };
  /** joint-operation: the fake OneAccess (a tenant's domainName is `<url>/t/<tenantId>`). */
  oneAccessUrl?: string;
  /** joint-operation: where /sso/… is served (default: the production address's origin). */
  ssoUrl?: string;
}

export interface Scenario {
  title: string;
  run(options: ScenarioOptions): Promise<StepResult[]>;
}

/** How long queryInstance is polled while the server answers 000004 (or 000000 without appInfo), and how often. */
const POLL_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 500;
const DEFAULT_CONCURRENCY = 20;
const MAX_CONCURRENCY = 500;
const HOUR_MS = 3_600_000;
/** How much of an answer a failure detail quotes. */
const QUOTE_CHARS = 300;

type Json = Record<string, unknown>;

/** Ends a scenario after a failed step (already recorded). */
class Stop extends Error {
  override name = 'Stop';
}

interface Outcome<T> {
  ok: boolean;
  value?: T;
  detail?: string;
  resultCode?: string;
  latencyMs?: number;
}

/** What a step checks beyond the common rules: a problem, or undefined when all is well. */
type Check = (json: Json) => string | undefined;

interface CallSpec {
  /** Default 000000. */
  resultCode?: string;
  check?: Check;
  /** What a successful step's detail says. */
  note?: (json: Json) => string | undefined;
  /** An order to register on the fake Open API before the call. */
  register?: FakeOrder;
  /** Confirm the call's effect on the seller API (when a seller key can read instances). */
  confirm?: { instanceId: string; check: (instance: Json) => string | undefined };
}

function quote(raw: string): string {
  const flat = raw.replace(/\s+/g, ' ').trim();
  return flat.length > QUOTE_CHARS ? `${flat.slice(0, QUOTE_CHARS)}…` : flat;
}

const BODY_SIGN_PROBLEMS: Record<Exclude<BodySignVerdict, 'valid'>, string> = {
  absent: 'no Body-Sign header',
  'wrong-case': 'the Body-Sign header is sent under another letter case',
  invalid: 'Body-Sign does not match the answer',
};

/** The common rules (HTTP 200, JSON, resultCode, Body-Sign), then the step's own check. */
function answerProblems(result: CallResult, resultCode: string, check?: Check): string[] {
  if (result.error !== undefined) return [`no answer: ${result.error}`];
  const problems: string[] = [];
  if (result.status !== 200) problems.push(`HTTP ${result.status} (expected 200)`);
  if (!result.json) {
    problems.push('the answer is not a JSON object');
  } else if (result.json.resultCode !== resultCode) {
    const message = typeof result.json.resultMsg === 'string' ? ` "${result.json.resultMsg}"` : '';
    problems.push(`resultCode ${JSON.stringify(result.json.resultCode)}${message} (expected ${resultCode})`);
  }
  if (result.bodySign !== 'valid') problems.push(BODY_SIGN_PROBLEMS[result.bodySign]);
  if (problems.length === 0 && check && result.json) {
    const problem = check(result.json);
    if (problem) problems.push(problem);
  }
  return problems;
}

function failureDetail(result: CallResult, problems: string[]): string {
  const answer = result.error !== undefined ? '' : ` — answer: HTTP ${result.status} ${quote(result.raw) || '(empty)'}`;
  return `${problems.join('; ')}${answer}`;
}

const codeOf = (result: CallResult): string | undefined =>
  typeof result.json?.resultCode === 'string' ? result.json.resultCode : undefined;

/** The queryInstance `info` entry of one instance. */
function infoOf(json: Json, instanceId: string): Json | undefined {
  const info = json.info;
  if (!Array.isArray(info)) return undefined;
  return info.find((i): i is Json => i !== null && typeof i === 'object' && (i as Json).instanceId === instanceId);
}

function appInfoProblem(json: Json, instanceId: string): string | undefined {
  const entry = infoOf(json, instanceId);
  if (!entry) return `info has no entry for ${instanceId}`;
  const appInfo = entry.appInfo as Json | undefined;
  if (!appInfo || typeof appInfo !== 'object') return `info for ${instanceId} has no appInfo`;
  if (typeof appInfo.frontEndUrl !== 'string' || appInfo.frontEndUrl === '') return 'appInfo has no frontEndUrl';
  return undefined;
}

const instanceIdProblem: Check = (json) =>
  typeof json.instanceId === 'string' && json.instanceId !== '' ? undefined : 'the answer has no instanceId';

const lineOf = (order: FakeOrder) => order.orderLine[0]!;
const productOf = (order: FakeOrder) => lineOf(order).productInfo[0]!.productId;

/** One scenario run: the steps so far, and the calls they make. */
export class Run {
  readonly results: StepResult[] = [];
  private clientInstance: MarketplaceClient | undefined;

  constructor(
    readonly scenario: string,
    readonly options: ScenarioOptions,
  ) {}

  private get client(): MarketplaceClient {
    this.clientInstance ??= marketplaceClient(this.options.url, this.options.key, this.options.client);
    return this.clientInstance;
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  record(result: Omit<StepResult, 'scenario' | 'step'>): void {
    const full: StepResult = { scenario: this.scenario, step: this.results.length + 1, ...result };
    this.results.push(full);
    this.options.onStep?.(full);
  }

  /** Runs one step; a failed step is recorded and ends the scenario. */
  async step<T>(title: string, run: () => Promise<Outcome<T>>): Promise<T> {
    let outcome: Outcome<T>;
    try {
      outcome = await run();
    } catch (error) {
      outcome = { ok: false, detail: errorMessage(error) };
    }
    const { ok, detail, resultCode, latencyMs } = outcome;
    this.record({
      title,
      ok,
      ...(detail !== undefined ? { detail } : {}),
      ...(resultCode !== undefined ? { resultCode } : {}),
      ...(latencyMs !== undefined ? { latencyMs } : {}),
    });
    if (!ok) throw new Stop();
    return outcome.value as T;
  }

  /** A step that fails without sending anything. */
  fail(title: string, detail: string): never {
    this.record({ title, ok: false, detail });
    throw new Stop();
  }

  skip(title: string, reason: string): void {
    this.record({ title, ok: true, skipped: true, detail: `skipped: ${reason}` });
  }

  send(body: JsonObject): Promise<CallResult> {
    return this.client.call(body, { timeoutMs: this.timeoutMs });
  }

  /**
   * One marketplace call checked against the common rules and the spec's own checks: the order it carries is
   * registered first (with a fake Open API), and its effect confirmed on the seller API when asked and possible.
   * The JSON answer.
   */
  call(title: string, body: JsonObject, spec: CallSpec = {}): Promise<Json> {
    return this.step(title, async () => {
      if (spec.register) {
        const problem = await this.register(spec.register);
        if (problem) return { ok: false, detail: problem };
      }
      const result = await this.send(body);
      const problems = answerProblems(result, spec.resultCode ?? '000000', spec.check);
      const code = codeOf(result);
      const common = { latencyMs: result.latencyMs, ...(code !== undefined ? { resultCode: code } : {}) };
      if (problems.length > 0) return { ok: false, detail: failureDetail(result, problems), ...common };
      const json = result.json!;
      const notes = [spec.note?.(json)];
      if (spec.confirm) {
        const confirmed = await this.confirm(spec.confirm.instanceId, spec.confirm.check);
        if (confirmed.problem) return { ok: false, detail: confirmed.problem, ...common };
        notes.push(confirmed.note);
      }
      const detail = notes.filter((n) => n).join('; ');
      return { ok: true, value: json, ...(detail ? { detail } : {}), ...common };
    });
  }

  /** Registers the order on the fake Open API when there is one; a problem, or undefined. */
  async register(order: FakeOrder): Promise<string | undefined> {
    if (!this.options.openApiUrl) return undefined;
    const target = `${this.options.openApiUrl.replace(/\/+$/, '')}/fake/orders`;
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(order),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (response.ok) return undefined;
      return `the fake Open API refused order ${order.orderId}: HTTP ${response.status} ${quote(await response.text())}`;
    } catch (error) {
      return `could not register order ${order.orderId} on the fake Open API at ${target}: ${errorMessage(error)}`;
    }
  }

  /** newInstance for the order (registered first when there is a fake Open API); the instanceId. */
  async newInstance(title: string, order: FakeOrder | undefined, fields: Record<string, string> = {}): Promise<string> {
    const body = requestBody('newInstance', { orderId: order?.orderId ?? newOrderId(), ...fields });
    const json = await this.call(title, body, {
      ...(order ? { register: order } : {}),
      check: instanceIdProblem,
      note: (answer) => `instanceId ${String(answer.instanceId)}`,
    });
    return json.instanceId as string;
  }

  /**
   * queryInstance until the instance has appInfo, as the marketplace polls after newInstance (spec §1.1 #2): 000004
   * (or 000000 without appInfo) means "ask again". The instance's info entry.
   */
  untilProvisioned(title: string, instanceId: string, testFlag: '0' | '1' = '0'): Promise<Json> {
    return this.step(title, async () => {
      const started = Date.now();
      let polls = 0;
      let processing = 0;
      let withoutAppInfo = 0;
      for (;;) {
        const result = await this.send(requestBody('queryInstance', { instanceId, testFlag }));
        polls += 1;
        const code = codeOf(result);
        const common = { latencyMs: result.latencyMs, ...(code !== undefined ? { resultCode: code } : {}) };
        const healthy = result.error === undefined && result.status === 200 && result.bodySign === 'valid';
        const pending =
          healthy && (code === '000004' || (code === '000000' && result.json && appInfoProblem(result.json, instanceId) !== undefined));
        if (pending && Date.now() - started < POLL_TIMEOUT_MS) {
          if (code === '000004') processing += 1;
          else withoutAppInfo += 1;
          await sleep(POLL_INTERVAL_MS);
          continue;
        }
        const problems = answerProblems(result, '000000', (json) => appInfoProblem(json, instanceId));
        if (pending) problems.unshift(`still not provisioned after ${Math.round((Date.now() - started) / 1000)} s (${polls} queries)`);
        if (problems.length > 0) return { ok: false, detail: failureDetail(result, problems), ...common };
        const entry = infoOf(result.json!, instanceId)!;
        const waits = [
          processing > 0 ? `${processing} answered 000004` : '',
          withoutAppInfo > 0 ? `${withoutAppInfo} without appInfo` : '',
        ].filter(Boolean);
        const detail = polls > 1 ? `appInfo after ${polls} queries (${waits.join(', ')}), ${Date.now() - started} ms` : 'appInfo at once';
        return { ok: true, value: entry, detail, ...common };
      }
    });
  }

  get sellerBase(): string {
    return (this.options.sellerUrl ?? new URL(this.options.url).origin).replace(/\/+$/, '');
  }

  /** A seller API call with the seller key. */
  async seller(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json?: Json; raw: string; latencyMs: number; error?: string }> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    try {
      const response = await fetch(`${this.sellerBase}${path}`, {
        method,
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${this.options.sellerKey ?? ''}`,
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const raw = await response.text();
      let json: Json | undefined;
      try {
        const parsed: unknown = JSON.parse(raw);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Json;
      } catch {
        json = undefined;
      }
      return { status: response.status, raw, latencyMs: latency(), ...(json ? { json } : {}) };
    } catch (error) {
      return { status: 0, raw: '', latencyMs: latency(), error: errorMessage(error) };
    }
  }

  /**
   * Confirms through the seller API what the marketplace's answers do not show (a state, a new expireTime). Needs a
   * seller key with scope instances:read; without one the step only notes that it was not confirmed.
   */
  async confirm(instanceId: string, check: (instance: Json) => string | undefined): Promise<{ problem?: string; note: string }> {
    if (!this.options.sellerKey) return { note: 'not confirmed on the seller API (no seller key)' };
    const answer = await this.seller('GET', `/seller/instances/${encodeURIComponent(instanceId)}`);
    const instance = answer.json?.instance;
    if (answer.status !== 200 || !instance || typeof instance !== 'object') {
      const why = answer.error ?? `HTTP ${answer.status}${answer.status === 403 ? ', the key lacks instances:read' : ''}`;
      return { note: `not confirmed on the seller API (${why})` };
    }
    const problem = check(instance as Json);
    return problem ? { problem: `seller API: ${problem}`, note: '' } : { note: 'confirmed on the seller API' };
  }
}

/** A seller-API check that a field of the instance has a value. */
const field = (name: string, want: string) => (instance: Json) =>
  instance[name] === want ? undefined : `${name} is ${JSON.stringify(instance[name])}, expected ${JSON.stringify(want)}`;

const allOf =
  (...checks: ((instance: Json) => string | undefined)[]) =>
  (instance: Json) =>
    checks.map((c) => c(instance)).find((p) => p !== undefined);

const hasEntry =
  (instanceId: string): Check =>
  (json) =>
    infoOf(json, instanceId) ? undefined : `info has no entry for ${instanceId}`;
const hasAppInfo =
  (instanceId: string): Check =>
  (json) =>
    appInfoProblem(json, instanceId);

/** Runs `body` as scenario `name`: its steps until the first failure. */
export async function scenario(name: string, options: ScenarioOptions, body: (run: Run) => Promise<void>): Promise<StepResult[]> {
  const run = new Run(name, options);
  try {
    await body(run);
  } catch (error) {
    // A fault between steps is reported as a failed step too: a run never throws.
    if (!(error instanceof Stop)) run.record({ title: 'scenario', ok: false, detail: errorMessage(error) });
  }
  return run.results;
}

const status = (instanceId: string, value: 'FREEZE' | 'UNFREEZE', testFlag: '0' | '1' = '0') =>
  requestBody('updateInstanceStatus', { instanceId, status: value, testFlag });

const query = (instanceId: string) => requestBody('queryInstance', { instanceId });

// ---------------------------------------------------------------------------------------------------------------

const period: Scenario = {
  title: 'Yearly lifecycle: new, provisioned, renewed, frozen, unfrozen, released, still answering (spec §1.3)',
  run: (options) =>
    scenario('period', options, async (run) => {
      const now = Date.now();
      const order = orderLike('MOCKPERIODYEARNEW', newOrderId(), now);
      const instanceId = await run.newInstance('newInstance (yearly order)', order);
      await run.untilProvisioned('queryInstance until appInfo', instanceId);

      const firstExpiry = lineOf(order).expireTime!;
      const renewalExpiry = addPeriod(firstExpiry, 'year', 1);
      const renewal = orderLike('MOCKPERIODYEARNEW', newOrderId(), now, { orderType: 'RENEW', expireTime: renewalExpiry });
      await run.call(
        `refreshInstance RENEWAL (expireTime ${firstExpiry} → ${renewalExpiry})`,
        requestBody('refreshInstance', { instanceId, scene: 'RENEWAL', orderId: renewal.orderId, expireTime: renewalExpiry }),
        { register: renewal, confirm: { instanceId, check: field('expireTime', renewalExpiry) } },
      );
      await run.call('updateInstanceStatus FREEZE', status(instanceId, 'FREEZE'), {
        confirm: { instanceId, check: field('state', 'FROZEN') },
      });
      await run.call('updateInstanceStatus UNFREEZE', status(instanceId, 'UNFREEZE'), {
        confirm: { instanceId, check: field('state', 'ACTIVE') },
      });
      await run.call('releaseInstance', requestBody('releaseInstance', { instanceId }), {
        confirm: { instanceId, check: field('state', 'RELEASED') },
      });
      await run.call('queryInstance after the release still answers', query(instanceId), { check: hasEntry(instanceId) });
    }),
};

const trial: Scenario = {
  title: 'A trial converted to a paid subscription (refreshInstance TRIAL_TO_FORMAL)',
  run: (options) =>
    scenario('trial', options, async (run) => {
      const now = Date.now();
      const order = orderLike('MOCKPERIODDAYTRIAL', newOrderId(), now);
      const instanceId = await run.newInstance('newInstance (trial order)', order);
      await run.untilProvisioned('queryInstance until appInfo', instanceId);

      // Spec §3.3: orderId is the commercial order; productId the paid product.
      const paid = orderLike('MOCKMONTYTRIALTOFORMAL', newOrderId(), now);
      const expireTime = lineOf(paid).expireTime!;
      const productId = productOf(paid);
      await run.call(
        `refreshInstance TRIAL_TO_FORMAL (product ${productId}, expireTime ${expireTime})`,
        requestBody('refreshInstance', { instanceId, scene: 'TRIAL_TO_FORMAL', orderId: paid.orderId, productId, expireTime }),
        { register: paid, confirm: { instanceId, check: allOf(field('expireTime', expireTime), field('productId', productId)) } },
      );
      await run.call('queryInstance: the paid instance keeps its appInfo', query(instanceId), { check: hasAppInfo(instanceId) });
    }),
};

const USAGE_VALUE = '12.5';

const payPerUse: Scenario = {
  title: 'A pay-per-use package: usage reported through the seller API shows in queryInstance usageInfo (spec §3.2)',
  run: (options) =>
    scenario('pay-per-use', options, async (run) => {
      const title = 'newInstance (pay-per-use package order)';
      if (!options.sellerKey) {
        run.fail(title, 'needs --seller-key: a seller API key with scope usage:write, to report usage through POST /seller/usage');
      }
      const order = orderLike('MOCKONDEMANDPKG', newOrderId(), Date.now());
      const instanceId = await run.newInstance(title, order);
      await run.untilProvisioned('queryInstance until appInfo', instanceId);

      // The previous closed hour (usage is reported after each closed hour, spec §8.2).
      const end = Date.now() - (Date.now() % HOUR_MS);
      const utc = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
      const [beginTime, endTime] = [utc(end - HOUR_MS), utc(end)];
      await run.step(`POST /seller/usage: ${USAGE_VALUE} for ${beginTime} – ${endTime}`, async () => {
        const record = { instanceId, beginTime, endTime, value: USAGE_VALUE, clientRef: `sim-${randomUUID()}` };
        const answer = await run.seller('POST', '/seller/usage', { records: [record] });
        const base = { latencyMs: answer.latencyMs };
        if (answer.error !== undefined)
          return { ok: false, detail: `no answer from ${run.sellerBase}/seller/usage: ${answer.error}`, ...base };
        const quoted = `answer: HTTP ${answer.status} ${quote(answer.raw) || '(empty)'}`;
        if (answer.status !== 200 || !answer.json)
          return { ok: false, detail: `HTTP ${answer.status} (expected 200) — ${quoted}`, ...base };
        const result = Array.isArray(answer.json.results) ? (answer.json.results[0] as Json | undefined) : undefined;
        if (answer.json.accepted !== 1 || result?.status !== 'accepted') {
          const reason = result?.reason as { code?: unknown; message?: unknown } | undefined;
          const why = reason ? `rejected (${String(reason.code)}: ${String(reason.message)})` : 'not accepted';
          return { ok: false, detail: `the usage record was ${why} — ${quoted}`, ...base };
        }
        return { ok: true, detail: 'accepted', ...base };
      });
      await run.call(`queryInstance: usageInfo shows ${USAGE_VALUE}`, query(instanceId), {
        check: (json) => {
          const entry = infoOf(json, instanceId);
          if (!entry) return `info has no entry for ${instanceId}`;
          const usage = entry.usageInfo;
          if (!Array.isArray(usage) || usage.length === 0) return 'no usageInfo: the server does not meter this instance as a package';
          const values = usage.map((u) => (u as Json | null)?.usageValue);
          return values.some((v) => Number(v) === Number(USAGE_VALUE))
            ? undefined
            : `usageInfo usageValue ${JSON.stringify(values)}, expected ${USAGE_VALUE}`;
        },
      });
    }),
};

const upgrade: Scenario = {
  title: 'A paid upgrade during the validity period (upgradeInstance keeps the instanceId)',
  run: (options) =>
    scenario('upgrade', options, async (run) => {
      const now = Date.now();
      const order = orderLike('MOCKMONTYRENEW', newOrderId(), now, { orderType: 'NEW' });
      const instanceId = await run.newInstance('newInstance (monthly order)', order);
      await run.untilProvisioned('queryInstance until appInfo', instanceId);
      const change = orderLike('MOCKMONTYCHANGE', newOrderId(), now, { expireTime: lineOf(order).expireTime! });
      await run.call('upgradeInstance (upgrade order)', requestBody('upgradeInstance', { instanceId, orderId: change.orderId }), {
        register: change,
        note: () => `order ${change.orderId}`,
      });
      await run.call('queryInstance: the same instance, still with appInfo', query(instanceId), { check: hasAppInfo(instanceId) });
    }),
};

const LICENSE_STEPS = [
  'refreshLicenseCode RENEWAL',
  'updateLicenseCodeStatus FREEZE',
  'updateLicenseCodeStatus UNFREEZE',
  'releaseLicenseCode',
  'a late updateLicenseCodeStatus FREEZE after the release',
] as const;

const license: Scenario = {
  title: 'License-code callbacks: renewal, freeze, unfreeze, release, a late freeze (spec §5.1)',
  run: (options) =>
    scenario('license', options, async (run) => {
      const code = options.license;
      if (!code) {
        const unknown = `PLSIM${randomUUID().replace(/-/g, '').toUpperCase()}`;
        await run.call('refreshLicenseCode for an unknown code answers 000003', requestBody('refreshLicenseCode', { license: unknown }), {
          resultCode: '000003',
        });
        const reason =
          'no License code given (--license); the server knows a code only once the seller registers it (npm run licenses -- register <code>)';
        for (const title of LICENSE_STEPS) run.skip(title, reason);
        return;
      }
      const [renew, freeze, unfreeze, release, lateFreeze] = LICENSE_STEPS;
      await run.call(renew, requestBody('refreshLicenseCode', { license: code, scene: 'RENEWAL' }));
      await run.call(freeze, requestBody('updateLicenseCodeStatus', { license: code, status: 'FREEZE' }));
      await run.call(unfreeze, requestBody('updateLicenseCodeStatus', { license: code, status: 'UNFREEZE' }));
      await run.call(release, requestBody('releaseLicenseCode', { license: code }));
      await run.call(lateFreeze, requestBody('updateLicenseCodeStatus', { license: code, status: 'FREEZE' }));
    }),
};

const retryStorm: Scenario = {
  title: 'The same newInstance resent many times at once: one instance (spec §3.1 idempotency)',
  run: (options) =>
    scenario('retry-storm', options, async (run) => {
      const n = options.concurrency ?? DEFAULT_CONCURRENCY;
      const title = `newInstance ×${n} at once (one body, fresh nonces)`;
      if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY)
        run.fail(title, `concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${n}`);
      const order = orderLike('MOCKPERIODYEARNEW', newOrderId(), Date.now());
      const body = requestBody('newInstance', { orderId: order.orderId });
      const instanceId = await run.step(title, async () => {
        const problem = await run.register(order);
        if (problem) return { ok: false, detail: problem };
        const results = await Promise.all(Array.from({ length: n }, () => run.send(body)));
        const latencyMs = Math.max(...results.map((r) => r.latencyMs));
        const tally = new Map<string, number>();
        for (const r of results) {
          const code = r.error !== undefined ? 'no answer' : (codeOf(r) ?? `HTTP ${r.status}`);
          tally.set(code, (tally.get(code) ?? 0) + 1);
        }
        const ids = new Set(results.flatMap((r) => (typeof r.json?.instanceId === 'string' ? [r.json.instanceId] : [])));
        const failed = results
          .map((r) => ({ r, problems: answerProblems(r, '000000', instanceIdProblem) }))
          .filter((f) => f.problems.length > 0);
        const first = failed[0];
        const resultCode = first ? codeOf(first.r) : '000000';
        const common = { latencyMs, ...(resultCode !== undefined ? { resultCode } : {}) };
        if (first || ids.size !== 1) {
          const codes = [...tally].map(([code, count]) => `${code} ×${count}`).join(', ');
          const why = first ? `; the first: ${failureDetail(first.r, first.problems)}` : '';
          return {
            ok: false,
            detail: `${failed.length} of ${n} answers failed (${codes}); ${ids.size} distinct instanceIds${why}`,
            ...common,
          };
        }
        const [id] = [...ids];
        return { ok: true, value: id!, detail: `${n} × 000000, one instanceId ${id!}`, ...common };
      });
      // The marketplace's own retries carry a new businessId each time (spec §3.1).
      await run.call(
        'a resend with a new businessId answers the same instanceId',
        requestBody('newInstance', { orderId: order.orderId, businessId: randomUUID() }),
        {
          check: (json) =>
            json.instanceId === instanceId ? undefined : `instanceId ${JSON.stringify(json.instanceId)}, expected ${instanceId}`,
        },
      );
      await run.untilProvisioned('queryInstance until appInfo', instanceId);
    }),
};

const outOfOrder: Scenario = {
  title: 'Calls arriving after the release (a late freeze, a late renewal) succeed and change nothing',
  run: (options) =>
    scenario('out-of-order', options, async (run) => {
      const now = Date.now();
      const order = orderLike('MOCKPERIODYEARNEW', newOrderId(), now);
      const instanceId = await run.newInstance('newInstance (yearly order)', order);
      await run.untilProvisioned('queryInstance until appInfo', instanceId);
      await run.call('releaseInstance', requestBody('releaseInstance', { instanceId }), {
        confirm: { instanceId, check: field('state', 'RELEASED') },
      });
      const released = await run.call('queryInstance after the release', query(instanceId), { check: hasEntry(instanceId) });
      const before = JSON.stringify(infoOf(released, instanceId));

      await run.call('a late updateInstanceStatus FREEZE', status(instanceId, 'FREEZE'));
      const lateExpiry = addPeriod(lineOf(order).expireTime!, 'year', 1);
      const renewal = orderLike('MOCKPERIODYEARNEW', newOrderId(), now, { orderType: 'RENEW', expireTime: lateExpiry });
      await run.call(
        `a late refreshInstance RENEWAL (expireTime ${lateExpiry})`,
        requestBody('refreshInstance', { instanceId, scene: 'RENEWAL', orderId: renewal.orderId, expireTime: lateExpiry }),
        { register: renewal },
      );
      await run.call('queryInstance: unchanged, still released', query(instanceId), {
        check: (json) => {
          const after = JSON.stringify(infoOf(json, instanceId));
          return after === before ? undefined : `the answer changed after the late calls: ${quote(before)} → ${quote(after ?? 'no entry')}`;
        },
        confirm: {
          instanceId,
          check: allOf(field('state', 'RELEASED'), (i) =>
            i.expireTime === lateExpiry ? `expireTime became ${lateExpiry} after the release` : undefined,
          ),
        },
      });
    }),
};

const debuggerCalls: Scenario = {
  title: "The Seller Console's interface debugger (testFlag=1): every call 000000 with a valid Body-Sign",
  run: (options) =>
    scenario('debugger', options, async (run) => {
      const instanceId = await run.newInstance('newInstance testFlag=1', undefined, { testFlag: '1' });
      await run.untilProvisioned('queryInstance testFlag=1', instanceId, '1');
      await run.call('refreshInstance testFlag=1', requestBody('refreshInstance', { instanceId, scene: 'RENEWAL', testFlag: '1' }));
      await run.call('updateInstanceStatus FREEZE testFlag=1', status(instanceId, 'FREEZE', '1'));
      await run.call('releaseInstance testFlag=1', requestBody('releaseInstance', { instanceId, testFlag: '1' }));
    }),
};

const SUPERVISED_AMOUNT = '880.00';
/** A minimal PDF: what the proof check sniffs as application/pdf. */
const PROOF_PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

type SellerCall = Awaited<ReturnType<Run['seller']>>;

/** A seller API answer's problem (transport, status, missing JSON), or undefined. */
function sellerProblem(answer: SellerCall, want: number, what: string): string | undefined {
  if (answer.error !== undefined) return `${what}: no answer (${answer.error})`;
  if (answer.status !== want || !answer.json) return `${what}: HTTP ${answer.status} (expected ${want}) ${quote(answer.raw)}`;
  return undefined;
}

/** Polls a seller API read until `done` says so (or POLL_TIMEOUT_MS passes); the last answer. */
async function sellerUntil(run: Run, path: string, done: (json: Json) => boolean): Promise<SellerCall> {
  const started = Date.now();
  for (;;) {
    const answer = await run.seller('GET', path);
    if ((answer.status === 200 && answer.json && done(answer.json)) || Date.now() - started > POLL_TIMEOUT_MS) return answer;
    await sleep(POLL_INTERVAL_MS);
  }
}

/** Runs the month's statement and says whether the order line is billed in its latest version. */
async function billedInStatement(run: Run, period: string, lineId: string): Promise<Outcome<boolean>> {
  const started = await run.seller('POST', `/seller/statements/${period}/run`);
  const refused = sellerProblem(started, 202, `POST /seller/statements/${period}/run`);
  if (refused) return { ok: false, detail: refused, latencyMs: started.latencyMs };
  const runId = String(started.json!.runId);
  const view = await sellerUntil(
    run,
    `/seller/statements/${period}`,
    (json) => (json.header as Json | undefined)?.lastRun !== undefined && ((json.header as Json).lastRun as Json).runId === runId,
  );
  const header = view.json?.header as Json | undefined;
  if (!header || (header.lastRun as Json | undefined)?.runId !== runId)
    return { ok: false, detail: `run ${runId} did not finish within ${POLL_TIMEOUT_MS / 1000} s` };
  const latest = (view.json!.versions as { files: { csv: { url: string } } }[])[0];
  if (!latest) return { ok: false, detail: `the statement of ${period} has no version` };
  const csv = await (await fetch(latest.files.csv.url, { signal: AbortSignal.timeout(POLL_TIMEOUT_MS) })).text();
  return {
    ok: true,
    value: csv.includes(`${lineId},`),
    detail: `v${String(header.latestVersion)}, ${String(header.lineCount)} lines, run ${String((header.lastRun as Json).status)}`,
  };
}

const supervision: Scenario = {
  title:
    "A supervised order (spec §8.3, §8.4): a delivery proof uploaded with its presigned form and checked, acceptance, then the month's statement bills the line",
  run: (options) =>
    scenario('supervision', options, async (run) => {
      const title = 'newInstance (supervised product order)';
      if (!options.sellerKey || !options.openApiUrl) {
        run.fail(
          title,
          'needs --seller-key (proofs:write, supervision:decide, instances:read, statements:read, statements:write) and --open-api (the order is invented on the fake Open API)',
        );
      }
      const product = options.supervisedProduct ?? LOCAL_SUPERVISED_PRODUCT;
      const base = orderLike('MOCKPERIODYEARNEW', newOrderId(), Date.now());
      const order: FakeOrder = {
        ...base,
        orderLine: base.orderLine.map((l) => ({
          ...l,
          orderAmount: SUPERVISED_AMOUNT,
          productInfo: l.productInfo.map((p) => ({ ...p, productId: product })),
        })),
      };
      const lineId = lineOf(order).orderLineId;
      const flow = `/seller/supervision/${encodeURIComponent(order.orderId)}/${encodeURIComponent(lineId)}`;
      const instanceId = await run.newInstance(title, order);
      await run.untilProvisioned('queryInstance until appInfo', instanceId);
      await run.step('the supervision flow waits for delivery', async () => {
        const answer = await sellerUntil(run, `${flow}/proofs`, () => true);
        const problem = sellerProblem(answer, 200, `GET ${flow}/proofs`);
        if (problem) return { ok: false, detail: `${problem} (is ${product} in SUPERVISED_PRODUCTS?)`, latencyMs: answer.latencyMs };
        const state = (answer.json!.supervision as Json).state;
        return { ok: state === 'AWAITING_DELIVERY', detail: `state ${String(state)}`, latencyMs: answer.latencyMs };
      });
      await run.step('upload an acceptance document with its presigned POST form', async () => {
        const sha256 = createHash('sha256').update(PROOF_PDF).digest('hex');
        const body = { kind: 'acceptance', fileName: 'acceptance.pdf', contentType: 'application/pdf', size: PROOF_PDF.length, sha256 };
        const asked = await run.seller('POST', `${flow}/proofs`, body);
        const problem = sellerProblem(asked, 200, `POST ${flow}/proofs`);
        if (problem) return { ok: false, detail: problem, latencyMs: asked.latencyMs };
        const upload = asked.json!.upload as { url: string; fields: Record<string, string> };
        const form = new FormData();
        for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
        form.append('file', new Blob([PROOF_PDF], { type: 'application/pdf' }), 'acceptance.pdf');
        const stored = await fetch(upload.url, { method: 'POST', body: form, signal: AbortSignal.timeout(POLL_TIMEOUT_MS) });
        if (stored.status !== 204)
          return { ok: false, detail: `the upload was refused: HTTP ${stored.status} ${quote(await stored.text())}` };
        return { ok: true, detail: `proof ${String(asked.json!.proofId)} stored`, latencyMs: asked.latencyMs };
      });
      await run.step('the proof is verified and the flow moves to PROOF_SUBMITTED', async () => {
        const answer = await sellerUntil(
          run,
          `${flow}/proofs`,
          (json) => (json.supervision as Json | undefined)?.state === 'PROOF_SUBMITTED',
        );
        const state = (answer.json?.supervision as Json | undefined)?.state;
        const proofs = ((answer.json?.proofs as Json[] | undefined) ?? []).map((p) => `${String(p.kind)} ${String(p.state)}`);
        return {
          ok: state === 'PROOF_SUBMITTED',
          detail: `state ${String(state)}; proofs: ${proofs.join(', ')}`,
          latencyMs: answer.latencyMs,
        };
      });
      const period = periodOf(new Date().toISOString(), options.timeZone ?? 'Asia/Shanghai');
      await run.step(`statement ${period}: the line is not billed before acceptance`, async () => {
        const billed = await billedInStatement(run, period, `ORDER:${order.orderId}:${lineId}`);
        return billed.ok && billed.value
          ? { ok: false, detail: `billed before acceptance (${billed.detail ?? ''})` }
          : { ...billed, value: undefined };
      });
      await run.step("record the buyer's acceptance", async () => {
        const answer = await run.seller('POST', `${flow}/transitions`, { action: 'accept', note: 'accepted by the buyer (simulator)' });
        const problem = sellerProblem(answer, 200, `POST ${flow}/transitions`);
        const state = (answer.json?.supervision as Json | undefined)?.state;
        return problem
          ? { ok: false, detail: problem, latencyMs: answer.latencyMs }
          : { ok: state === 'ACCEPTED', detail: `state ${String(state)}`, latencyMs: answer.latencyMs };
      });
      await run.step(`statement ${period}: the line is billed once accepted`, async () => {
        const billed = await billedInStatement(run, period, `ORDER:${order.orderId}:${lineId}`);
        return billed.ok && !billed.value
          ? {
              ok: false,
              detail: `not in the statement (${billed.detail ?? ''}; does ${product} have a fee share in SETTLEMENT_FEE_SHARES?)`,
            }
          : { ...billed, value: undefined };
      });
    }),
};

export const SCENARIOS: Record<string, Scenario> = {
  period,
  trial,
  'pay-per-use': payPerUse,
  upgrade,
  license,
  'retry-storm': retryStorm,
  'out-of-order': outOfOrder,
  debugger: debuggerCalls,
  supervision,
  'joint-operation': jointOperation,
};

/** One line per step: ✓/✗ (– skipped), scenario, step, title, resultCode, latency; the detail of failed and skipped steps below. */
export function formatSteps(results: readonly StepResult[]): string {
  return results
    .map((r) => {
      const mark = r.skipped ? '–' : r.ok ? '✓' : '✗';
      const code = r.skipped ? 'skipped' : (r.resultCode ?? '-');
      const latency = r.latencyMs !== undefined ? `${r.latencyMs} ms` : '';
      const line = `${mark} ${r.scenario} #${r.step} ${r.title}  ${code}${latency ? `  ${latency}` : ''}`;
      return (!r.ok || r.skipped) && r.detail ? `${line}\n    ${r.detail}` : line;
    })
    .join('\n');
}
