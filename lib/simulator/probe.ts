import { randomUUID } from 'node:crypto';
import type { MarketplaceClient, CallResult } from './client.ts';
import { requestBody } from './requests.ts';

/**
 * The availability probe (拨测, spec §1): KooGallery calls a listed product's production address every morning and
 * afternoon, and five days of failures freeze the product. This probe makes the same kind of call, as debug
 * traffic (testFlag=1: marked test on the server, never billed, expires): a newInstance and a queryInstance of it,
 * each answered within the budget, HTTP 200 JSON, with a valid Body-Sign and a success code.
 */

export interface ProbeCheck {
  title: string;
  ok: boolean;
  resultCode?: string;
  latencyMs: number;
  detail?: string;
}

export interface ProbeResult {
  ok: boolean;
  url: string;
  checks: ProbeCheck[];
}

export const PROBE_BUDGET_MS = 5_000;

function check(title: string, result: CallResult, expected: readonly string[], budgetMs: number): ProbeCheck {
  const code = typeof result.json?.resultCode === 'string' ? result.json.resultCode : undefined;
  const problems = [
    result.error ? `no answer: ${result.error}` : '',
    !result.error && result.status !== 200 ? `HTTP ${result.status}` : '',
    !result.error && !result.json ? 'the answer is not a JSON object' : '',
    code !== undefined && !expected.includes(code) ? `resultCode ${code}, expected ${expected.join(' or ')}` : '',
    result.json && result.bodySign !== 'valid' ? `Body-Sign ${result.bodySign}` : '',
    result.latencyMs > budgetMs ? `answered in ${result.latencyMs} ms, over ${budgetMs} ms` : '',
  ].filter(Boolean);
  return {
    title,
    ok: problems.length === 0,
    ...(code !== undefined ? { resultCode: code } : {}),
    latencyMs: result.latencyMs,
    ...(problems.length ? { detail: problems.join('; ') } : {}),
  };
}

export async function probe(client: MarketplaceClient, options: { budgetMs?: number } = {}): Promise<ProbeResult> {
  const budgetMs = options.budgetMs ?? PROBE_BUDGET_MS;
  const timeoutMs = budgetMs + 1_000;
  const created = await client.call(requestBody('newInstance', { businessId: `probe-${randomUUID()}`, testFlag: '1' }), { timeoutMs });
  const checks = [check('debug newInstance', created, ['000000'], budgetMs)];
  const instanceId = typeof created.json?.instanceId === 'string' ? created.json.instanceId : undefined;
  if (checks[0]!.ok && instanceId) {
    // 000004: provisioning is under way, a healthy answer too.
    const query = await client.call(requestBody('queryInstance', { instanceId, testFlag: '1' }), { timeoutMs });
    checks.push(check('debug queryInstance', query, ['000000', '000004'], budgetMs));
  } else if (checks[0]!.ok) {
    checks[0] = { ...checks[0]!, ok: false, detail: 'newInstance answered 000000 without an instanceId' };
  }
  return { ok: checks.every((c) => c.ok), url: client.url, checks };
}
