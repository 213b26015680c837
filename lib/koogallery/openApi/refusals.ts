/**
 * Answer classification. The code decides first, the HTTP status second: the spec's table gives HTTP 500 for
 * MKT.0100 (input validation failed) and MKT.9001 (not found), yet asking again can never change those answers,
 * so they are permanent whatever the status. Rate limiting (MKT.0250, 406) and internal errors (MKT.0999) are
 * transient. Any other code: 5xx or 429 → transient, anything else → permanent.
 */

const MAX_RESULT_MSG = 200;

const TRANSIENT_CODES = new Set(['0250', '0999']);

function isPermanentCode(suffix: string): boolean {
  // 0100 input validation, 9001 not found, 9002–9005 usage-record rejections: deterministic answers.
  return suffix === '0100' || /^9\d{3}$/.test(suffix);
}

/** Whether asking again later may help. `MKT.` and the older `CBC.` prefix are read alike. */
export function isRetryable(code: string | undefined, httpStatus: number): boolean {
  const suffix = code !== undefined ? /^(?:MKT|CBC)\.(\d{4})$/.exec(code)?.[1] : undefined;
  if (suffix !== undefined) {
    if (TRANSIENT_CODES.has(suffix)) return true;
    if (isPermanentCode(suffix)) return false;
  }
  return httpStatus >= 500 || httpStatus === 429 || httpStatus === 406;
}

/** A marketplace message on one line, at most 200 characters. */
export function trimMessage(message: string | undefined): string {
  const m = (message ?? '').replace(/\s+/g, ' ').trim();
  return m.length > MAX_RESULT_MSG ? `${m.slice(0, MAX_RESULT_MSG - 1)}…` : m;
}
