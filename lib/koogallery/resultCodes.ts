/** SaaS V2 result codes (spec §3.8). Messages are the marketplace demo's; they never carry internals. */
export const ResultCode = {
  success: '000000',
  authFailed: '000001',
  invalidParameter: '000002',
  instanceNotFound: '000003',
  processing: '000004',
  internalError: '000005',
  noResource: '000100',
} as const;

export type ResultCodeValue = (typeof ResultCode)[keyof typeof ResultCode];

const defaultMessages: Record<ResultCodeValue, string> = {
  '000000': 'success.',
  '000001': 'token is invalid',
  '000002': 'param is invalid',
  '000003': 'instance is invalid',
  '000004': 'request is processing',
  '000005': 'other inner error',
  '000100': 'no available resource',
};

/** Longest resultMsg the marketplace accepts (spec §3: String ≤ 255). */
const MAX_MESSAGE_LENGTH = 255;

export type Answer = { resultCode: ResultCodeValue; resultMsg: string } & Record<string, unknown>;

/**
 * Builds an answer. `detail` is appended to the demo message for 4xx-like codes so the seller
 * can read in the console why a call was refused; internal errors never carry detail.
 */
export function answer(code: ResultCodeValue, detail?: string, fields: Record<string, unknown> = {}): Answer {
  const base = defaultMessages[code];
  const msg = detail && code !== ResultCode.internalError ? `${base}: ${detail}` : base;
  return { resultCode: code, resultMsg: msg.slice(0, MAX_MESSAGE_LENGTH), ...fields };
}
