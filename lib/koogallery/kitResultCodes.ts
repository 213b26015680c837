/**
 * Result codes of the Kit calls' answers (spec kit.md §4): HTTP 200 `{"resultCode","resultMsg"}`. Messages are fixed
 * texts, with a short reason appended for refusals of bad input; an internal error never carries detail.
 */
export const KitResultCode = {
  success: '000000',
  authFailed: '000001',
  invalidParameter: '000002',
  instanceNotFound: '000003',
  internalError: '000005',
  /** applicationSync's clientSecret could not be decrypted (the demo's APP_SECRET_PROBLEM). */
  secretProblem: '000101',
} as const;

export type KitResultCodeValue = (typeof KitResultCode)[keyof typeof KitResultCode];

export interface KitAnswer {
  resultCode: KitResultCodeValue;
  resultMsg: string;
}

const messages: Record<KitResultCodeValue, string> = {
  '000000': 'success.',
  '000001': 'authentication failed',
  '000002': 'param is invalid',
  '000003': 'instance is invalid',
  '000005': 'other inner error',
  '000101': 'something wrong with appSecret',
};

/** resultMsg is at most 255 characters (spec §1). */
const MAX_MESSAGE_LENGTH = 255;

export function kitAnswer(code: KitResultCodeValue, detail?: string): KitAnswer {
  const base = messages[code];
  const message = detail && code !== KitResultCode.internalError && code !== KitResultCode.secretProblem ? `${base}: ${detail}` : base;
  return { resultCode: code, resultMsg: message.slice(0, MAX_MESSAGE_LENGTH) };
}
