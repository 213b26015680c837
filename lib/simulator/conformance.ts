import { randomUUID } from 'node:crypto';
import { signRequest } from '../koogallery/auth.ts';
import type { JsonObject } from '../koogallery/canonicalJson.ts';
import { marketplaceClient, type CallOptions, type CallResult, type MarketplaceClient, type MarketplaceClientOptions } from './client.ts';
import { firstLine, marketplaceTime, newOrderId, requestBody } from './requests.ts';

/**
 * The conformance suite of the simulator (`koogallery-sim conformance --url … --key …`): calls a production
 * interface the way KooGallery does, and checks the answers against the spec — signatures (§7.2), every activity
 * (§3, §5.1, §6), field limits and bad bodies, and idempotency (§3.9).
 *
 * Every call, in every check, must also pass the general rule: HTTP 200, a JSON object with string `resultCode`
 * (6 digits) and `resultMsg` (≤ 255 characters) (§2), `Content-Type: application/json`, an answer within the
 * budget (the marketplace waits 5 s, §2), and a valid `Body-Sign` header under that exact name (§7.4). Body-Sign
 * is mandatory for V1 answers; for V2 answers it is a configurable feature of the spec (§10.1), required unless
 * `requireBodySign` is false.
 *
 * Each check makes its own fresh order ids. The checks create real (testFlag=0) instances, License-code
 * callbacks excepted, for orders that do not exist at the marketplace: run the suite against a test stage.
 * Where a server provisions asynchronously, queryInstance (and V1 newInstance) answer 000004 until it is done;
 * the suite polls like the marketplace, every 500 ms up to `provisioningWaitMs`.
 */

export interface CheckResult {
  id: string;
  group: string;
  title: string;
  ok: boolean;
  /** Why the check failed; for a passing check, what the server chose where the spec allows a choice. */
  detail?: string;
  /** The slowest call of the check. */
  latencyMs?: number;
  /** The answer code of the call the check is about. */
  resultCode?: string;
}

export const CONFORMANCE_GROUPS = ['signatures', 'activities', 'limits', 'idempotency'] as const;
export type ConformanceGroup = (typeof CONFORMANCE_GROUPS)[number];

export interface ConformanceOptions {
  /** The production address, e.g. https://isv.example.com/koogallery/produce. */
  url: string;
  /** The access key bound to that address. */
  key: string;
  /** Longest acceptable answer time per call (the marketplace's timeout, spec §2). */
  budgetMs?: number;
  /** When a call is given up (default: twice the budget, at least the budget + 1 s), so slow answers are measured. */
  timeoutMs?: number;
  onResult?: (result: CheckResult) => void;
  /** Run only these groups (or check ids). */
  only?: string[];
  /**
   * V2 answers must carry a valid Body-Sign (spec §7.4, §10.1); when false they may also carry none (a Body-Sign
   * that is present must still be valid). V1 answers always must.
   */
  requireBodySign?: boolean;
  /** How long to poll an instance that is still provisioning (000004). */
  provisioningWaitMs?: number;
  /** Header case rule and a hook before each call (see MarketplaceClientOptions). */
  client?: MarketplaceClientOptions;
}

export const DEFAULT_BUDGET_MS = 5_000;
const DEFAULT_PROVISIONING_WAIT_MS = 10_000;
const POLL_INTERVAL_MS = 500;
/** Larger than any documented body (spec §3): the server's 64 KB limit. */
const LARGE_BODY_BYTES = 70_000;
/** Nesting depth of the deep-JSON body (about 40 KB, under the size limit). */
const DEEP_JSON_DEPTH = 20_000;
const TEN_MINUTES_MS = 10 * 60_000;
const YEAR_MS = 365 * 24 * 3600 * 1000;

const OK = '000000';
const AUTH_FAILED = '000001';
const INVALID = '000002';
const NOT_FOUND = '000003';
const PROCESSING = '000004';
const NO_RESOURCE = '000100';

// ── one check's calls ─────────────────────────────────────────────────────────────────────────────────────────────

interface Settings {
  client: MarketplaceClient;
  key: string;
  budgetMs: number;
  timeoutMs: number;
  requireBodySign: boolean;
  provisioningWaitMs: number;
}

/** A prerequisite of the check failed: the check stops there and fails. */
class Abort extends Error {
  override name = 'Abort';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function headerValue(result: CallResult, name: string): string | undefined {
  return result.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

const codeOf = (result: CallResult): string | undefined => (typeof result.json?.resultCode === 'string' ? result.json.resultCode : undefined);

/** The general rule (see the module comment): what is wrong with an answer, whatever the call was. */
export function answerProblems(result: CallResult, rule: { budgetMs: number; requireBodySign: boolean }): string[] {
  if (result.error) return [`no answer (${result.error})`];
  const problems: string[] = [];
  if (result.status !== 200) problems.push(`HTTP ${result.status}`);
  if (!result.json) {
    problems.push('the answer is not a JSON object');
  } else {
    const { resultCode, resultMsg } = result.json;
    if (typeof resultCode !== 'string' || !/^\d{6}$/.test(resultCode)) problems.push('resultCode is missing or not a 6-digit string');
    if (typeof resultMsg !== 'string') problems.push('resultMsg is missing or not a string');
    else if (resultMsg.length > 255) problems.push(`resultMsg is ${resultMsg.length} characters long, over 255`);
  }
  const contentType = headerValue(result, 'Content-Type');
  if (!contentType || !/^application\/json\s*(;|$)/i.test(contentType)) problems.push(`Content-Type is ${contentType ? `"${contentType}"` : 'missing'}, not application/json`);
  if (result.latencyMs > rule.budgetMs) problems.push(`answered in ${result.latencyMs} ms, over the ${rule.budgetMs} ms budget`);
  // A Body-Sign that is there must be right, required or not: a marketplace that checks it would refuse the answer.
  if (result.bodySign === 'invalid' || (rule.requireBodySign && result.bodySign !== 'valid')) {
    problems.push(
      result.bodySign === 'absent'
        ? 'no Body-Sign header'
        : result.bodySign === 'wrong-case'
          ? 'Body-Sign header sent under another case (the name is case-sensitive)'
          : 'Body-Sign does not match the body sent',
    );
  }
  return problems;
}

interface Send {
  /** Names the call in the check's detail. */
  label: string;
  body: JsonObject;
  options?: CallOptions;
  /** Acceptable result codes; a call without them is checked against the general rule only. */
  expect?: readonly string[];
}

class Trial {
  private readonly problems: string[] = [];
  private readonly notes: string[] = [];
  private slowest: number | undefined;
  /** The code of the last call with expected codes: the one the check is about. */
  code: string | undefined;

  constructor(readonly s: Settings) {}

  async send({ label, body, options = {}, expect }: Send): Promise<CallResult> {
    const result = await this.s.client.call(body, { timeoutMs: this.s.timeoutMs, ...options });
    return this.judge(label, result, { v1: options.v1 === true, ...(expect ? { expect } : {}) });
  }

  /** Applies the general rule (and the expected codes) to a call made elsewhere. */
  judge(label: string, result: CallResult, how: { v1: boolean; expect?: readonly string[] }): CallResult {
    this.slowest = Math.max(this.slowest ?? 0, result.latencyMs);
    for (const problem of answerProblems(result, { budgetMs: this.s.budgetMs, requireBodySign: how.v1 || this.s.requireBodySign })) {
      this.fail(`${label}: ${problem}`);
    }
    const code = codeOf(result);
    if (how.expect) {
      if (code !== undefined) this.code = code;
      if (code !== undefined && !how.expect.includes(code)) {
        const msg = typeof result.json?.resultMsg === 'string' ? ` ("${result.json.resultMsg.slice(0, 120)}")` : '';
        this.fail(`${label}: resultCode ${code}${msg}, expected ${how.expect.join(' or ')}`);
      }
    }
    return result;
  }

  fail(problem: string): void {
    if (!this.problems.includes(problem)) this.problems.push(problem);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Stops the check when `condition` does not hold. */
  require(condition: unknown, problem: string): asserts condition {
    if (!condition) throw new Abort(problem);
  }

  result(check: CheckDef, aborted?: string): CheckResult {
    const problems = aborted ? [...this.problems, aborted] : this.problems;
    const detail = problems.length > 0 ? problems.join('; ') : this.notes.join('; ');
    return {
      id: check.id,
      group: check.group,
      title: check.title,
      ok: problems.length === 0,
      ...(detail ? { detail } : {}),
      ...(this.slowest !== undefined ? { latencyMs: this.slowest } : {}),
      ...(this.code !== undefined ? { resultCode: this.code } : {}),
    };
  }

  // ── shared steps ──

  /** A new instance (newInstance answered 000000 with an instanceId), or the check stops. */
  async newInstance(fields: Record<string, string> = {}, label = 'newInstance'): Promise<{ instanceId: string; body: JsonObject }> {
    const body = requestBody('newInstance', fields);
    const result = await this.send({ label, body, expect: [OK] });
    const instanceId = result.json?.instanceId;
    this.require(codeOf(result) === OK, `${label} did not create an instance`);
    this.require(typeof instanceId === 'string' && instanceId.length > 0, `${label} answered ${OK} without an instanceId`);
    this.require(instanceId.length <= 64, `${label}: instanceId is ${instanceId.length} characters long, over 64`);
    return { instanceId, body };
  }

  /**
   * Polls `send` (a fresh signature each time) while it answers 000004, like the marketplace after newInstance;
   * the last answer (000000, another code, or 000004 when the wait ran out).
   */
  async poll(label: string, make: () => JsonObject, options: CallOptions = {}, expect: readonly string[] = [OK]): Promise<CallResult> {
    const deadline = Date.now() + this.s.provisioningWaitMs;
    for (let round = 1; ; round++) {
      const result = await this.send({ label, body: make(), options, expect: [...expect, PROCESSING] });
      if (codeOf(result) !== PROCESSING) return result;
      if (Date.now() + POLL_INTERVAL_MS > deadline) {
        this.fail(`${label}: still ${PROCESSING} (request is processing) after ${round} calls over ${this.s.provisioningWaitMs} ms`);
        return result;
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /** queryInstance of `instanceId` until provisioning is done; the final answer. */
  async ready(instanceId: string, testFlag = '0'): Promise<CallResult> {
    const result = await this.poll('queryInstance', () => requestBody('queryInstance', { instanceId, testFlag }));
    this.require(codeOf(result) === OK, `queryInstance of the new instance did not answer ${OK}`);
    return result;
  }
}

/** What `queryInstance` said about `instanceId`: problems with its info[] entry and appInfo (spec §3.2). */
function infoProblems(result: CallResult, instanceId: string): string[] {
  const info = result.json?.info;
  if (!Array.isArray(info)) return ['queryInstance answered without an info array'];
  const entry: unknown = info.find((i: unknown) => i !== null && typeof i === 'object' && (i as Record<string, unknown>).instanceId === instanceId);
  if (!entry) return [`queryInstance info has no entry for ${instanceId}`];
  return appInfoProblems((entry as Record<string, unknown>).appInfo, 'queryInstance');
}

/** AppInfo must give the buyer a login address (spec §3.2, V1 §6). */
function appInfoProblems(appInfo: unknown, label: string): string[] {
  if (appInfo === null || typeof appInfo !== 'object' || Array.isArray(appInfo)) return [`${label}: no appInfo object`];
  const { frontEndUrl, adminUrl } = appInfo as Record<string, unknown>;
  const url = [frontEndUrl, adminUrl].find((u) => typeof u === 'string' && u.length > 0);
  return url ? [] : [`${label}: appInfo has neither frontEndUrl nor adminUrl`];
}

const unknownId = () => `conformance-none-${randomUUID()}`;
const nextYear = () => marketplaceTime(Date.now() + YEAR_MS);

function renewal(instanceId: string, orderId = newOrderId(), expireTime = nextYear()): JsonObject {
  return requestBody('refreshInstance', { instanceId, orderId, orderLineId: firstLine(orderId), expireTime });
}

/** The signing parameters of a call whose signature is computed over `payload` (not over the body's JSON). */
function signedOver(key: string, payload: string): CallOptions['signing'] {
  const nowMs = Date.now();
  const nonce = randomUUID().replace(/-/g, '').toUpperCase();
  return { nowMs, nonce, signature: signRequest(key, {}, { nowMs, nonce, payload }).signature };
}

// ── the checks ────────────────────────────────────────────────────────────────────────────────────────────────────

interface CheckDef {
  id: string;
  group: ConformanceGroup;
  title: string;
  run: (t: Trial) => Promise<void>;
}

const queryUnknown = () => requestBody('queryInstance', { instanceId: unknownId() });

const signatureChecks: CheckDef[] = [
  {
    id: 'sig.accepted',
    group: 'signatures',
    title: 'a correctly signed call is accepted',
    run: async (t) => {
      await t.send({ label: 'queryInstance (unknown id)', body: queryUnknown(), expect: [NOT_FOUND] });
    },
  },
  {
    id: 'sig.lowercase',
    group: 'signatures',
    title: 'a lower-case hex signature is accepted (§7.2 step 7)',
    run: async (t) => {
      await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { signatureCase: 'lower' } }, expect: [NOT_FOUND] });
    },
  },
  {
    id: 'sig.wrong-key',
    group: 'signatures',
    title: 'a signature made with another key is refused with 000001',
    run: async (t) => {
      await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { key: `not-${t.s.key}` } }, expect: [AUTH_FAILED] });
    },
  },
  {
    id: 'sig.tampered',
    group: 'signatures',
    title: 'a body changed after signing is refused with 000001',
    run: async (t) => {
      const signed = queryUnknown();
      const sent = { ...signed, instanceId: unknownId() };
      await t.send({ label: 'queryInstance', body: signed, options: { rawBody: JSON.stringify(sent) }, expect: [AUTH_FAILED] });
    },
  },
  {
    id: 'sig.stale',
    group: 'signatures',
    title: 'a timestamp 10 minutes old is refused (000001 or 000002)',
    run: async (t) => {
      // §7.2 step 8 (window of 60 s); the demo and §3.8 answer an expired timestamp with 000002.
      const r = await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { nowMs: Date.now() - TEN_MINUTES_MS } }, expect: [AUTH_FAILED, INVALID] });
      if (codeOf(r)) t.note(`refused with ${codeOf(r)}`);
    },
  },
  {
    id: 'sig.future',
    group: 'signatures',
    title: 'a timestamp 10 minutes ahead is refused (000001 or 000002)',
    run: async (t) => {
      const r = await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { nowMs: Date.now() + TEN_MINUTES_MS } }, expect: [AUTH_FAILED, INVALID] });
      if (codeOf(r)) t.note(`refused with ${codeOf(r)}`);
    },
  },
  {
    id: 'sig.replay',
    group: 'signatures',
    title: 'a replayed nonce is refused with 000001 (§7.2 step 9)',
    run: async (t) => {
      const body = queryUnknown();
      const signing = { nowMs: Date.now(), nonce: randomUUID().replace(/-/g, '').toUpperCase() };
      await t.send({ label: 'first call', body, options: { signing }, expect: [NOT_FOUND] });
      await t.send({ label: 'same call again', body, options: { signing }, expect: [AUTH_FAILED] });
    },
  },
  {
    id: 'sig.missing-signature',
    group: 'signatures',
    title: 'a call without signature is refused with 000001',
    run: async (t) => {
      await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { omit: ['signature'] } }, expect: [AUTH_FAILED] });
    },
  },
  {
    id: 'sig.missing-timestamp',
    group: 'signatures',
    title: 'a call without timestamp is refused with 000002 (§7.2 step 10)',
    run: async (t) => {
      await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { omit: ['timestamp'] } }, expect: [INVALID] });
    },
  },
  {
    id: 'sig.missing-nonce',
    group: 'signatures',
    title: 'a call without nonce is refused with 000002 (§7.2 step 10)',
    run: async (t) => {
      await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { omit: ['nonce'] } }, expect: [INVALID] });
    },
  },
  {
    id: 'sig.seconds',
    group: 'signatures',
    title: 'a 10-digit (seconds) timestamp is handled (§10.11)',
    run: async (t) => {
      // §10.11 recommends reading a 10-digit timestamp as seconds; §7.2 (ms) reads it as far in the past. Either way
      // the answer must be well-formed; the detail says which reading the server made.
      const r = await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { nowMs: Math.floor(Date.now() / 1000) } }, expect: [NOT_FOUND, AUTH_FAILED, INVALID] });
      const code = codeOf(r);
      if (code === NOT_FOUND) t.note('accepted: read as seconds');
      else if (code) t.note(`refused with ${code}: read as milliseconds (§10.11 recommends seconds)`);
    },
  },
];

const activityChecks: CheckDef[] = [
  {
    id: 'act.new',
    group: 'activities',
    title: 'newInstance answers 000000 with an instanceId (§3.1)',
    run: async (t) => {
      await t.newInstance();
    },
  },
  {
    id: 'act.query',
    group: 'activities',
    title: 'queryInstance of a new instance gives info[] with appInfo (§3.2)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      const r = await t.ready(instanceId);
      for (const p of infoProblems(r, instanceId)) t.fail(p);
    },
  },
  {
    id: 'act.query-unknown',
    group: 'activities',
    title: 'queryInstance of an unknown instance answers 000003',
    run: async (t) => {
      await t.send({ label: 'queryInstance', body: queryUnknown(), expect: [NOT_FOUND] });
    },
  },
  {
    id: 'act.query-ids',
    group: 'activities',
    title: 'queryInstance of 101 ids, or of a blank id, answers 000002',
    run: async (t) => {
      const ids = Array.from({ length: 101 }, () => unknownId().slice(0, 40)).join(',');
      await t.send({ label: '101 ids', body: requestBody('queryInstance', { instanceId: ids }), expect: [INVALID] });
      await t.send({ label: 'blank id', body: requestBody('queryInstance', { instanceId: '' }), expect: [INVALID] });
    },
  },
  {
    id: 'act.refresh',
    group: 'activities',
    title: 'refreshInstance (RENEWAL) answers 000000 (§3.3)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      await t.send({ label: 'refreshInstance', body: renewal(instanceId), expect: [OK] });
    },
  },
  {
    id: 'act.refresh-unknown',
    group: 'activities',
    title: 'refreshInstance of an unknown instance answers 000003',
    run: async (t) => {
      await t.send({ label: 'refreshInstance', body: renewal(unknownId()), expect: [NOT_FOUND] });
    },
  },
  {
    id: 'act.status',
    group: 'activities',
    title: 'updateInstanceStatus FREEZE then UNFREEZE answers 000000 (§3.4)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      await t.send({ label: 'FREEZE', body: requestBody('updateInstanceStatus', { instanceId, status: 'FREEZE' }), expect: [OK] });
      await t.send({ label: 'FREEZE again', body: requestBody('updateInstanceStatus', { instanceId, status: 'FREEZE' }), expect: [OK] });
      await t.send({ label: 'UNFREEZE', body: requestBody('updateInstanceStatus', { instanceId, status: 'UNFREEZE' }), expect: [OK] });
    },
  },
  {
    id: 'act.status-bad',
    group: 'activities',
    title: 'updateInstanceStatus with an unknown status answers 000002',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      await t.send({ label: 'status PAUSE', body: requestBody('updateInstanceStatus', { instanceId, status: 'PAUSE' }), expect: [INVALID] });
    },
  },
  {
    id: 'act.release',
    group: 'activities',
    title: 'releaseInstance answers 000000; a late FREEZE and renewal answer 000000 and change nothing (§3.5)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      await t.send({ label: 'releaseInstance', body: requestBody('releaseInstance', { instanceId }), expect: [OK] });
      const query = () => t.send({ label: 'queryInstance after release', body: requestBody('queryInstance', { instanceId }), expect: [OK, NOT_FOUND] });
      const before = await query();
      await t.send({ label: 'late FREEZE', body: requestBody('updateInstanceStatus', { instanceId, status: 'FREEZE' }), expect: [OK] });
      await t.send({ label: 'late renewal', body: renewal(instanceId), expect: [OK] });
      await t.send({ label: 'release again', body: requestBody('releaseInstance', { instanceId }), expect: [OK] });
      const after = await query();
      // The answers carry no state; what a query shows must be what it showed right after the release.
      if (before.json && after.json && JSON.stringify(before.json) !== JSON.stringify(after.json)) {
        t.fail('queryInstance answers differently after the late calls than right after the release');
      }
      const code = codeOf(before);
      if (code) t.note(`queryInstance of the released instance answers ${code}`);
    },
  },
  {
    id: 'act.upgrade',
    group: 'activities',
    title: 'upgradeInstance answers 000000 (§3.6)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      const orderId = newOrderId();
      await t.send({ label: 'upgradeInstance', body: requestBody('upgradeInstance', { instanceId, orderId, orderLineId: firstLine(orderId) }), expect: [OK] });
    },
  },
  {
    id: 'act.change-check',
    group: 'activities',
    title: 'changeInstanceCheck answers 000000 or 000100 (§3.7)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      const productInfo = JSON.stringify({ productId: `OFFI${Date.now()}`, skuCode: randomUUID() });
      const r = await t.send({ label: 'changeInstanceCheck', body: requestBody('changeInstanceCheck', { instanceId, productInfo }), expect: [OK, NO_RESOURCE] });
      if (codeOf(r)) t.note(codeOf(r) === OK ? 'change allowed' : 'change refused');
    },
  },
  {
    id: 'act.unknown-instance',
    group: 'activities',
    title: 'changes to an unknown instance answer 000003 (release: 000003 or 000000)',
    run: async (t) => {
      const instanceId = unknownId();
      const orderId = newOrderId();
      await t.send({ label: 'updateInstanceStatus', body: requestBody('updateInstanceStatus', { instanceId, status: 'FREEZE' }), expect: [NOT_FOUND] });
      await t.send({ label: 'upgradeInstance', body: requestBody('upgradeInstance', { instanceId, orderId, orderLineId: firstLine(orderId) }), expect: [NOT_FOUND] });
      await t.send({ label: 'changeInstanceCheck', body: requestBody('changeInstanceCheck', { instanceId }), expect: [NOT_FOUND] });
      // §3.5: the docs list 000003 for release; success for an unknown instance is allowed too.
      const r = await t.send({ label: 'releaseInstance', body: requestBody('releaseInstance', { instanceId }), expect: [NOT_FOUND, OK] });
      if (codeOf(r)) t.note(`releaseInstance of an unknown instance answers ${codeOf(r)}`);
    },
  },
  {
    id: 'act.unknown-activity',
    group: 'activities',
    title: 'an unknown activity answers 000002',
    run: async (t) => {
      await t.send({ label: 'activity deleteEverything', body: { activity: 'deleteEverything', instanceId: unknownId(), testFlag: '0' }, expect: [INVALID] });
    },
  },
  {
    id: 'act.license-unknown',
    group: 'activities',
    title: 'License-code callbacks for an unknown code answer 000003 (§5.1)',
    run: async (t) => {
      const license = `PL${randomUUID().replace(/-/g, '').toUpperCase()}`;
      await t.send({ label: 'refreshLicenseCode', body: requestBody('refreshLicenseCode', { license }), expect: [NOT_FOUND] });
      await t.send({ label: 'updateLicenseCodeStatus', body: requestBody('updateLicenseCodeStatus', { license, status: 'FREEZE' }), expect: [NOT_FOUND] });
      await t.send({ label: 'releaseLicenseCode', body: requestBody('releaseLicenseCode', { license }), expect: [NOT_FOUND] });
    },
  },
  {
    id: 'act.v1-query-unknown',
    group: 'activities',
    title: 'V1 queryInstance of an unknown instance answers 000003 with a valid Body-Sign (§6, §7.4)',
    run: async (t) => {
      const body = requestBody('queryInstance', { instanceId: unknownId() }, { v1: true });
      await t.send({ label: 'V1 queryInstance', body, options: { v1: true }, expect: [NOT_FOUND] });
    },
  },
  {
    id: 'act.v1-new',
    group: 'activities',
    title: 'V1 newInstance answers 000000 with appInfo (000004 while provisioning) (§6)',
    run: async (t) => {
      // The marketplace resends a V1 newInstance until it has the appInfo (a new timeStamp, so a new authToken).
      const params = requestBody('newInstance', {}, { v1: true });
      const r = await t.poll('V1 newInstance', () => params, { v1: true });
      if (codeOf(r) !== OK) return;
      const instanceId = r.json?.instanceId;
      if (typeof instanceId !== 'string' || instanceId.length === 0) t.fail(`V1 newInstance answered ${OK} without an instanceId`);
      for (const p of appInfoProblems(r.json?.appInfo, 'V1 newInstance')) t.fail(p);
    },
  },
];

/** A body as sent, keys in sorted order and compact, so it is its own canonical form (spec §7.2 steps 1–3). */
const compact = (fields: Record<string, string>): string => JSON.stringify(Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1))));

const limitChecks: CheckDef[] = [
  {
    id: 'lim.missing-field',
    group: 'limits',
    title: 'a missing required field answers 000002',
    run: async (t) => {
      const { orderLineId: _line, ...withoutLine } = requestBody('newInstance');
      await t.send({ label: 'newInstance without orderLineId', body: withoutLine, expect: [INVALID] });
      const { instanceId: _id, ...withoutId } = requestBody('updateInstanceStatus', { instanceId: unknownId() });
      await t.send({ label: 'updateInstanceStatus without instanceId', body: withoutId, expect: [INVALID] });
    },
  },
  {
    id: 'lim.id-64',
    group: 'limits',
    title: 'an orderId of 64 characters is accepted',
    run: async (t) => {
      const orderId = newOrderId().padEnd(64, 'X');
      await t.newInstance({ orderId, orderLineId: `${orderId.slice(0, 57)}-000001` }, 'newInstance (orderId of 64)');
    },
  },
  {
    id: 'lim.id-65',
    group: 'limits',
    title: 'an orderId of 65 characters answers 000002',
    run: async (t) => {
      const orderId = newOrderId().padEnd(65, 'X');
      await t.send({ label: 'newInstance (orderId of 65)', body: requestBody('newInstance', { orderId, orderLineId: `${orderId.slice(0, 57)}-000001` }), expect: [INVALID] });
    },
  },
  {
    id: 'lim.expire-time',
    group: 'limits',
    title: 'an expireTime that is not a yyyyMMddHHmmss date answers 000002',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      await t.send({ label: 'expireTime "next-year"', body: renewal(instanceId, newOrderId(), 'next-year'), expect: [INVALID] });
      await t.send({ label: 'expireTime 20301345000000', body: renewal(instanceId, newOrderId(), '20301345000000'), expect: [INVALID] });
    },
  },
  {
    id: 'lim.malformed-json',
    group: 'limits',
    title: 'malformed JSON is refused (000001 or 000002)',
    run: async (t) => {
      // The spec names no code: the body cannot be canonicalised to verify its signature (000001), nor validated (000002).
      const r = await t.send({ label: 'body {"activity":', body: queryUnknown(), options: { rawBody: '{"activity":' }, expect: [AUTH_FAILED, INVALID] });
      if (codeOf(r)) t.note(`refused with ${codeOf(r)}`);
    },
  },
  {
    id: 'lim.empty-body',
    group: 'limits',
    title: 'an empty body is refused (000001 or 000002)',
    run: async (t) => {
      const r = await t.send({ label: 'empty body', body: {}, options: { rawBody: '' }, expect: [AUTH_FAILED, INVALID] });
      if (codeOf(r)) t.note(`refused with ${codeOf(r)}`);
    },
  },
  {
    id: 'lim.large-body',
    group: 'limits',
    title: 'a body over 64 KB is refused with 000002 within the budget',
    run: async (t) => {
      const body = { ...queryUnknown(), pad: 'x'.repeat(LARGE_BODY_BYTES) };
      await t.send({ label: `signed body of ${LARGE_BODY_BYTES} bytes`, body, expect: [INVALID] });
    },
  },
  {
    id: 'lim.deep-json',
    group: 'limits',
    title: 'deeply nested JSON is refused or ignored, without an internal error',
    run: async (t) => {
      // A correctly signed queryInstance with an extra field nested 20 000 deep: 000002 (refused) or 000003 (ignored).
      const fields = { activity: 'queryInstance', instanceId: unknownId(), testFlag: '0' };
      const deep = `${'['.repeat(DEEP_JSON_DEPTH)}${']'.repeat(DEEP_JSON_DEPTH)}`;
      const raw = compact(fields).replace(/^\{/, `{"a":${deep},`);
      const r = await t.send({ label: `body nested ${DEEP_JSON_DEPTH} deep`, body: fields, options: { rawBody: raw, signing: signedOver(t.s.key, raw) }, expect: [INVALID, NOT_FOUND, AUTH_FAILED] });
      if (codeOf(r)) t.note(codeOf(r) === NOT_FOUND ? 'ignored (000003)' : `refused with ${codeOf(r)}`);
    },
  },
  {
    id: 'lim.types',
    group: 'limits',
    title: 'non-string field values answer 000002',
    run: async (t) => {
      const orderId = newOrderId();
      await t.send({ label: 'newInstance with an object orderId', body: { ...requestBody('newInstance'), orderId: { id: orderId } }, expect: [INVALID] });
      await t.send({ label: 'queryInstance with an array instanceId', body: { ...queryUnknown(), instanceId: [unknownId()] }, expect: [INVALID] });
      await t.send({ label: 'newInstance with a boolean testFlag', body: { ...requestBody('newInstance'), testFlag: true }, expect: [INVALID] });
    },
  },
];

const idempotencyChecks: CheckDef[] = [
  {
    id: 'idem.resend',
    group: 'idempotency',
    title: 'the same newInstance sent 3 times gives one instanceId (§3.1)',
    run: async (t) => {
      // A resend has the same order line, a new businessId (spec §3.1) and a new nonce.
      const orderId = newOrderId();
      const ids = new Set<string>();
      for (let i = 1; i <= 3; i++) {
        const { instanceId } = await t.newInstance({ orderId }, `newInstance #${i}`);
        ids.add(instanceId);
      }
      if (ids.size > 1) t.fail(`${ids.size} different instanceIds: ${[...ids].join(', ')}`);
    },
  },
  {
    id: 'idem.concurrent',
    group: 'idempotency',
    title: '10 concurrent copies of a newInstance give one instanceId',
    run: async (t) => {
      const orderId = newOrderId();
      const results = await Promise.all(
        Array.from({ length: 10 }, () => t.s.client.call(requestBody('newInstance', { orderId }), { timeoutMs: t.s.timeoutMs })),
      );
      const ids = new Set<string>();
      results.forEach((r, i) => {
        t.judge(`copy #${i + 1}`, r, { v1: false, expect: [OK] });
        if (typeof r.json?.instanceId === 'string') ids.add(r.json.instanceId);
        else if (codeOf(r) === OK) t.fail(`copy #${i + 1}: answered ${OK} without an instanceId`);
      });
      if (ids.size > 1) t.fail(`${ids.size} different instanceIds for one order line`);
    },
  },
  {
    id: 'idem.renewal',
    group: 'idempotency',
    title: 'the same renewal order sent twice answers 000000 both times',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      const body = renewal(instanceId);
      await t.send({ label: 'renewal', body, expect: [OK] });
      await t.send({ label: 'same renewal again', body, expect: [OK] });
      await t.send({ label: 'queryInstance after the renewals', body: requestBody('queryInstance', { instanceId }), expect: [OK] });
    },
  },
  {
    id: 'idem.debug',
    group: 'idempotency',
    title: 'debug traffic (testFlag=1): newInstance and queryInstance work end to end',
    run: async (t) => {
      const { instanceId } = await t.newInstance({ testFlag: '1' }, 'debug newInstance');
      const r = await t.poll('debug queryInstance', () => requestBody('queryInstance', { instanceId, testFlag: '1' }));
      if (codeOf(r) !== OK) return;
      const info = r.json?.info;
      if (!Array.isArray(info) || !info.some((i: unknown) => i !== null && typeof i === 'object' && (i as Record<string, unknown>).instanceId === instanceId)) {
        t.fail('debug queryInstance: info has no entry for the instance');
      }
    },
  },
];

export const CONFORMANCE_CHECKS: ReadonlyArray<Pick<CheckDef, 'id' | 'group' | 'title'>> = [
  ...signatureChecks,
  ...activityChecks,
  ...limitChecks,
  ...idempotencyChecks,
].map(({ id, group, title }) => ({ id, group, title }));

const ALL_CHECKS: readonly CheckDef[] = [...signatureChecks, ...activityChecks, ...limitChecks, ...idempotencyChecks];

// ── running and reporting ─────────────────────────────────────────────────────────────────────────────────────────

/** Which checks `only` selects: group names or check ids; an unknown name is an error (a usage mistake). */
function selected(only: readonly string[] | undefined): CheckDef[] {
  if (!only || only.length === 0) return [...ALL_CHECKS];
  const unknown = only.filter((name) => !(CONFORMANCE_GROUPS as readonly string[]).includes(name) && !ALL_CHECKS.some((c) => c.id === name));
  if (unknown.length > 0) {
    throw new Error(`unknown conformance group or check: ${unknown.join(', ')} (groups: ${CONFORMANCE_GROUPS.join(', ')})`);
  }
  return ALL_CHECKS.filter((c) => only.includes(c.group) || only.includes(c.id));
}

/**
 * Runs the checks one after the other (each with its own fresh ids) and gives every result, also to `onResult` as
 * it comes. A failing or unreachable server gives failed checks, never an exception.
 */
export async function runConformance(options: ConformanceOptions): Promise<CheckResult[]> {
  const budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS;
  const checks = selected(options.only);
  const settings: Settings = {
    client: marketplaceClient(options.url, options.key, options.client),
    key: options.key,
    budgetMs,
    timeoutMs: options.timeoutMs ?? Math.max(budgetMs * 2, budgetMs + 1_000),
    requireBodySign: options.requireBodySign ?? true,
    provisioningWaitMs: options.provisioningWaitMs ?? DEFAULT_PROVISIONING_WAIT_MS,
  };
  const results: CheckResult[] = [];
  for (const check of checks) {
    const trial = new Trial(settings);
    let result: CheckResult;
    try {
      await check.run(trial);
      result = trial.result(check);
    } catch (error) {
      const reason = error instanceof Abort ? error.message : `the check stopped: ${error instanceof Error ? error.message : String(error)}`;
      result = trial.result(check, reason);
    }
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

export function summary(results: readonly CheckResult[]): { passed: number; failed: number } {
  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed };
}

/** Aligned columns (ok/FAIL, group, title, code, latency), failures' details under their line, a summary line. */
export function formatTable(results: readonly CheckResult[]): string {
  const rows = results.map((r) => [r.ok ? 'ok' : 'FAIL', r.group, r.title, r.resultCode ?? '-', r.latencyMs !== undefined ? `${r.latencyMs} ms` : '-']);
  const header = ['', 'group', 'check', 'code', 'latency'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header)];
  results.forEach((r, i) => {
    out.push(line(rows[i]!));
    if (!r.ok && r.detail) out.push(`${' '.repeat(widths[0]! + 2)}→ ${r.detail}`);
  });
  const { passed, failed } = summary(results);
  // Worded apart from the test runner's "N passed, N failed" line, which CI reads from the same log.
  out.push('', `conformance: ${passed} of ${results.length} checks passed, ${failed} failed`);
  return out.join('\n');
}

/** `{ ok, passed, failed, results }`, for machines (CI). */
export function formatJson(results: readonly CheckResult[]): string {
  const { passed, failed } = summary(results);
  return JSON.stringify({ ok: failed === 0, passed, failed, results }, null, 2);
}
