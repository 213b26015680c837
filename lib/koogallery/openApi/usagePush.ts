/**
 * The usage push (按需使用量推送, spec §8.2): the records as the client accepts them, and how the marketplace's
 * answer is read.
 */
import * as z from 'zod';
import { parseSdkDate } from '../apig.ts';
import { DEFAULT_DUPLICATE_CODES, MAX_USAGE_RECORDS, OpenApiFailure, RESULT_SUCCESS, type UsagePushOutcome } from './contract.ts';
import { optText } from './lenientFields.ts';
import { isRetryable, trimMessage } from './refusals.ts';

const MAX_EXTRA_INFO = 500;

/** A UTC `yyyyMMdd'T'HHmmss'Z'` time that exists on the calendar. */
export const UsageTimeSchema = z
  .string()
  .refine((t) => parseSdkDate(t) !== undefined, "a UTC time yyyyMMdd'T'HHmmss'Z' such as 20220809T091000Z");
/** A decimal string > 0 with at most 4 decimals, no exponent, no leading zeros (`"0.5"`, `"12"`, `"99.1234"`). */
export const UsageValueSchema = z
  .string()
  .max(20)
  .regex(/^(?:0|[1-9]\d*)(?:\.\d{1,4})?$/, 'a decimal string with at most 4 decimals')
  .refine((v) => /[1-9]/.test(v), 'greater than 0');
const usageId = z.string().min(1).max(64);

/** One record as the client accepts it: what the marketplace documents, nothing more (spec §8.2). */
export const UsagePushRecordSchema = z
  .strictObject({
    instance_id: usageId,
    record_time: UsageTimeSchema,
    begin_time: UsageTimeSchema,
    end_time: UsageTimeSchema,
    usage_value: UsageValueSchema,
    metering_sn: usageId,
    relate_pkg_instance: usageId.optional(),
  })
  .refine((r) => r.begin_time < r.end_time, { message: 'begin_time must be before end_time', path: ['end_time'] });
export const UsageRecordsSchema = z.array(UsagePushRecordSchema).min(1).max(MAX_USAGE_RECORDS);

/** The first zod issues of invalid records as one line, trimmed like a marketplace message. */
export function recordIssuesText(error: z.ZodError): string {
  const text = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(records)'}: ${i.message}`)
    .join('; ');
  return trimMessage(text);
}

// ---------------------------------------------------------------------------------------------------------------
// Usage push answers

export const UsageResponseSchema = z.object({
  resultCode: optText,
  resultMsg: optText,
  /** Which records or fields were refused: a string or any JSON value. */
  extra_info: z.unknown().optional(),
  error_code: optText,
  error_msg: optText,
});

/** `extra_info` as text (JSON values stringified), whitespace collapsed, at most 500 characters. */
function extraInfoText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = (typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).replace(/\s+/g, ' ').trim();
  if (text === '') return undefined;
  return text.length > MAX_EXTRA_INFO ? `${text.slice(0, MAX_EXTRA_INFO - 1)}…` : text;
}

/**
 * Maps one HTTP answer of the usage push to an outcome. MKT.0000 → accepted. A code of `duplicateCodes` → accepted
 * as a duplicate: the marketplace already has the records. Anything else is a failure that isRetryable classifies.
 */
export function interpretUsageAnswer(
  status: number,
  text: string | undefined,
  via: 'primary' | 'fallback',
  duplicateCodes: readonly string[] = DEFAULT_DUPLICATE_CODES,
): UsagePushOutcome {
  let raw: unknown;
  try {
    raw = text === undefined ? undefined : JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = UsageResponseSchema.safeParse(raw);
  const response = parsed.success ? parsed.data : undefined;
  const code = response?.resultCode ?? response?.error_code;
  if (code === undefined) {
    // Not an answer of the API (a proxy page, a truncated body): 2xx/5xx look like transport trouble.
    return {
      ok: false,
      retry: status < 300 || isRetryable(undefined, status),
      code: status < 300 ? OpenApiFailure.badResponse : `HTTP_${status}`,
      reason: response ? `HTTP ${status} without a resultCode` : `HTTP ${status} with a body that is not an answer`,
      httpStatus: status,
    };
  }
  if (code === RESULT_SUCCESS) return { ok: true, code, duplicate: false, via };
  const retry = isRetryable(code, status);
  const message = response?.resultMsg ?? response?.error_msg;
  // Only the configured codes: a refusal that merely mentions duplicates (a batch refused for a repeated entity)
  // must not mark records accepted that the marketplace did not take.
  if (duplicateCodes.includes(code)) {
    return { ok: true, code, duplicate: true, via };
  }
  const trimmed = trimMessage(message);
  const extraInfo = extraInfoText(response?.extra_info);
  return {
    ok: false,
    retry,
    code,
    reason: `${code} (HTTP ${status})${trimmed ? `: ${trimmed}` : ''}`,
    httpStatus: status,
    ...(extraInfo !== undefined ? { extraInfo } : {}),
  };
}
