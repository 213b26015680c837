/** Whether an answer is the right refusal for its case. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { bodySignHeader } from '#lib/koogallery/signature.ts';
import { ERROR_STATUS } from '#lib/seller-api/errors.ts';
import type { Case, ProduceCase, SellerCase } from './cases.ts';

export interface Outcome {
  case: Case;
  correlationId: string;
  ok: boolean;
  /** The handler threw, or answered 5xx, 000005 or something that is not JSON. */
  crash: boolean;
  problem?: string;
  status?: number;
  body?: string;
  resultCode?: string;
  serverErrors?: string[];
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function judgeProduce(
  c: ProduceCase,
  res: APIGatewayProxyStructuredResultV2,
  accessKey: string,
): Pick<Outcome, 'ok' | 'crash' | 'problem' | 'resultCode'> {
  const body = typeof res.body === 'string' ? res.body : '';
  const json = parseJson(body);
  if (res.statusCode !== 200) return { ok: false, crash: (res.statusCode ?? 0) >= 500, problem: `HTTP ${res.statusCode}` };
  if (!isRecord(json) || typeof json.resultCode !== 'string' || typeof json.resultMsg !== 'string')
    return { ok: false, crash: true, problem: 'not a JSON answer with resultCode and resultMsg' };
  const resultCode = json.resultCode;
  if (resultCode === '000005') return { ok: false, crash: true, problem: 'answered 000005', resultCode };
  if (!c.expect.includes(resultCode))
    return { ok: false, crash: false, problem: `answered ${resultCode}, expected ${c.expect.join(' or ')}`, resultCode };
  const headers = (res.headers ?? {}) as Record<string, unknown>;
  if (!String(headers['Content-Type'] ?? '').startsWith('application/json'))
    return { ok: false, crash: false, problem: 'Content-Type is not JSON', resultCode };
  if (headers['Body-Sign'] !== bodySignHeader(accessKey, body))
    return { ok: false, crash: false, problem: 'Body-Sign missing or wrong', resultCode };
  return { ok: true, crash: false, resultCode };
}

export function judgeSeller(c: SellerCase, res: APIGatewayProxyStructuredResultV2): Pick<Outcome, 'ok' | 'crash' | 'problem'> {
  const status = res.statusCode ?? 0;
  const json = parseJson(typeof res.body === 'string' ? res.body : '');
  if (status >= 500) return { ok: false, crash: true, problem: `HTTP ${status}` };
  if (!isRecord(json)) return { ok: false, crash: false, problem: `HTTP ${status} without a JSON object` };
  if ('allRejected' in c.expect) {
    const n = c.expect.allRejected;
    const results = Array.isArray(json.results) ? (json.results as unknown[]) : [];
    const allRejected =
      results.length === n &&
      results.every(
        (r, i) => isRecord(r) && r.status === 'rejected' && r.index === i && isRecord(r.reason) && typeof r.reason.code === 'string',
      );
    if (status !== 200 || json.accepted !== 0 || json.duplicates !== 0 || json.retry !== 0 || json.rejected !== n || !allRejected) {
      return { ok: false, crash: false, problem: `HTTP ${status}, expected 200 with all ${n} records rejected` };
    }
    return { ok: true, crash: false };
  }
  if (!c.expect.statuses.includes(status))
    return { ok: false, crash: false, problem: `HTTP ${status}, expected ${c.expect.statuses.join(' or ')}` };
  if (status === 200) return { ok: true, crash: false };
  const error = json.error;
  if (!isRecord(error) || typeof error.code !== 'string' || typeof error.message !== 'string' || error.message === '') {
    return { ok: false, crash: false, problem: `HTTP ${status} without {"error": {"code", "message"}}` };
  }
  if ((ERROR_STATUS as Record<string, number>)[error.code] !== status)
    return { ok: false, crash: false, problem: `error code ${error.code} with HTTP ${status}` };
  return { ok: true, crash: false };
}
