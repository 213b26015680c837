/**
 * The conformance suite of the simulator (`koogallery-sim conformance --url … --key …`): calls a production
 * interface the way KooGallery does, and checks the answers against the spec — signatures (§7.2), every activity
 * (§3, §5.1, §6), field limits and bad bodies, idempotency (§3.9), and, given the Kit key, the joint-operation Kit
 * calls (kit.md: kitChecks.ts).
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
import { errorMessage } from '#lib/shared/errors.ts';
import { marketplaceClient, type MarketplaceClientOptions } from '../client.ts';
import { activityChecks } from './activityChecks.ts';
import { idempotencyChecks } from './idempotencyChecks.ts';
import { kitChecks } from './kitChecks.ts';
import { kitClient } from '../kitClient.ts';
import { limitChecks } from './limitChecks.ts';
import { signatureChecks } from './signatureChecks.ts';
import { Abort, CONFORMANCE_GROUPS, Trial, type CheckDef, type CheckResult, type Settings } from './trial.ts';

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
  /**
   * The joint-operation Kit calls (group `kit`): the Kit access key and the seller's public key (bare base64 SPKI).
   * Without them the Kit checks are not run.
   */
  kit?: { key: string; publicKey: string };
}

export const DEFAULT_BUDGET_MS = 5_000;
const DEFAULT_PROVISIONING_WAIT_MS = 10_000;

export const CONFORMANCE_CHECKS: ReadonlyArray<Pick<CheckDef, 'id' | 'group' | 'title'>> = [
  ...signatureChecks,
  ...activityChecks,
  ...limitChecks,
  ...idempotencyChecks,
  ...kitChecks,
].map(({ id, group, title }) => ({ id, group, title }));

const ALL_CHECKS: readonly CheckDef[] = [...signatureChecks, ...activityChecks, ...limitChecks, ...idempotencyChecks, ...kitChecks];

/**
 * Which checks `only` selects: group names or check ids; an unknown name is an error (a usage mistake). Without
 * `only`, every check, the Kit checks only when there is a Kit key.
 */
function selected(only: readonly string[] | undefined, withKit: boolean): CheckDef[] {
  if (!only || only.length === 0) return ALL_CHECKS.filter((c) => withKit || c.group !== 'kit');
  const unknown = only.filter(
    (name) => !(CONFORMANCE_GROUPS as readonly string[]).includes(name) && !ALL_CHECKS.some((c) => c.id === name),
  );
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
  const checks = selected(options.only, options.kit !== undefined);
  const settings: Settings = {
    client: marketplaceClient(options.url, options.key, options.client),
    key: options.key,
    budgetMs,
    timeoutMs: options.timeoutMs ?? Math.max(budgetMs * 2, budgetMs + 1_000),
    requireBodySign: options.requireBodySign ?? true,
    provisioningWaitMs: options.provisioningWaitMs ?? DEFAULT_PROVISIONING_WAIT_MS,
    ...(options.kit
      ? { kit: { client: kitClient(options.url, options.kit.key, { timeoutMs: budgetMs * 2 }), publicKey: options.kit.publicKey } }
      : {}),
  };
  const results: CheckResult[] = [];
  for (const check of checks) {
    const trial = new Trial(settings);
    let result: CheckResult;
    try {
      await check.run(trial);
      result = trial.result(check);
    } catch (error) {
      const reason = error instanceof Abort ? error.message : `the check stopped: ${errorMessage(error)}`;
      result = trial.result(check, reason);
    }
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}
