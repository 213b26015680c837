/** One check's run: its calls, each judged by the general rule and the codes it expects, and its result. */
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { sleep } from '#lib/shared/time.ts';
import type { CallOptions, CallResult, MarketplaceClient } from '../client.ts';
import type { KitClient } from '../kitClient.ts';
import { requestBody } from '../requests.ts';
import { answerProblems, codeOf, OK, PROCESSING } from './answerRule.ts';

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

export const CONFORMANCE_GROUPS = ['signatures', 'activities', 'limits', 'idempotency', 'kit'] as const;
export type ConformanceGroup = (typeof CONFORMANCE_GROUPS)[number];

const POLL_INTERVAL_MS = 500;

export interface Settings {
  client: MarketplaceClient;
  key: string;
  budgetMs: number;
  timeoutMs: number;
  requireBodySign: boolean;
  provisioningWaitMs: number;
  /** The joint-operation Kit calls: their client (with the Kit key) and the seller's public key. */
  kit?: { client: KitClient; publicKey: string };
}

/** A prerequisite of the check failed: the check stops there and fails. */
export class Abort extends Error {
  override name = 'Abort';
}

interface Send {
  /** Names the call in the check's detail. */
  label: string;
  body: JsonObject;
  options?: CallOptions;
  /** Acceptable result codes; a call without them is checked against the general rule only. */
  expect?: readonly string[];
}

export interface CheckDef {
  id: string;
  group: ConformanceGroup;
  title: string;
  run: (t: Trial) => Promise<void>;
}

export class Trial {
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
  judge(label: string, result: CallResult, how: { v1: boolean; expect?: readonly string[]; requireBodySign?: boolean }): CallResult {
    this.slowest = Math.max(this.slowest ?? 0, result.latencyMs);
    const requireBodySign = how.requireBodySign ?? (how.v1 || this.s.requireBodySign);
    for (const problem of answerProblems(result, { budgetMs: this.s.budgetMs, requireBodySign })) {
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
