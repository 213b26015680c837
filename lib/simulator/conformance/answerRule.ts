/**
 * The general rule every answer must pass (see run.ts): HTTP 200, a JSON object with a 6-digit `resultCode` and a
 * `resultMsg` of at most 255 characters (§2), `Content-Type: application/json`, within the budget, and a valid
 * `Body-Sign` (§7.4). Also what an instance's answer must tell the buyer (appInfo, §3.2).
 */
import type { CallResult } from '../client.ts';

export const OK = '000000';
export const AUTH_FAILED = '000001';
export const INVALID = '000002';
export const NOT_FOUND = '000003';
export const PROCESSING = '000004';
export const NO_RESOURCE = '000100';

function headerValue(result: CallResult, name: string): string | undefined {
  return result.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

export const codeOf = (result: CallResult): string | undefined =>
  typeof result.json?.resultCode === 'string' ? result.json.resultCode : undefined;

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
  if (!contentType || !/^application\/json\s*(;|$)/i.test(contentType))
    problems.push(`Content-Type is ${contentType ? `"${contentType}"` : 'missing'}, not application/json`);
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

/** What `queryInstance` said about `instanceId`: problems with its info[] entry and appInfo (spec §3.2). */
export function infoProblems(result: CallResult, instanceId: string): string[] {
  const info = result.json?.info;
  if (!Array.isArray(info)) return ['queryInstance answered without an info array'];
  const entry: unknown = info.find(
    (i: unknown) => i !== null && typeof i === 'object' && (i as Record<string, unknown>).instanceId === instanceId,
  );
  if (!entry) return [`queryInstance info has no entry for ${instanceId}`];
  return appInfoProblems((entry as Record<string, unknown>).appInfo, 'queryInstance');
}

/** AppInfo must give the buyer a login address (spec §3.2, V1 §6). */
export function appInfoProblems(appInfo: unknown, label: string): string[] {
  if (appInfo === null || typeof appInfo !== 'object' || Array.isArray(appInfo)) return [`${label}: no appInfo object`];
  const { frontEndUrl, adminUrl } = appInfo as Record<string, unknown>;
  const url = [frontEndUrl, adminUrl].find((u) => typeof u === 'string' && u.length > 0);
  return url ? [] : [`${label}: appInfo has neither frontEndUrl nor adminUrl`];
}
