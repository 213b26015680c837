import * as z from 'zod';
import type { Instance } from '#lib/instances/model.ts';
import { parseQuantity } from './decimal.ts';
import { meteringOf, type MeteringSettings } from './metering.ts';
import { MAX_AGE_MS, parseUtc, WINDOW_MS, windowStart, type Granularity } from './windows.ts';
import { iso } from '#lib/shared/time.ts';

/**
 * A usage report from the seller's product (POST /seller/usage) and the rules it must pass before the ledger
 * takes it. Pure: the caller supplies the instance (or its absence) and the time.
 */

export const MAX_REPORTS_PER_REQUEST = 1000;

export const UsageReportSchema = z
  .strictObject({
    instanceId: z
      .string()
      .min(1)
      .max(64)
      // A lone UTF-16 surrogate (from a `\uD800` JSON escape) names no instance and cannot be put in a key.
      .refine((v) => !/[\uD800-\uDFFF]/u.test(v), 'must be valid Unicode text')
      .describe('The pay-per-use instance the usage belongs to'),
    beginTime: z.string().max(40).describe('Window start, UTC ISO 8601 (e.g. 2026-11-20T08:00:00Z), aligned to the hour (or day)'),
    endTime: z.string().max(40).describe('Window end: beginTime plus one hour (or one day)'),
    value: z.string().max(32).describe('Quantity used: a decimal string > 0 with at most 4 decimals, never a float'),
    clientRef: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'clientRef: 1 to 128 of A-Z a-z 0-9 . _ : -')
      .optional()
      .describe('Your id for this report: a report with a clientRef already taken for the instance is a duplicate'),
  })
  .describe('One usage report');
export type UsageReport = z.infer<typeof UsageReportSchema>;

export const UsageIngestRequestSchema = z.strictObject({
  records: z.array(UsageReportSchema).min(1).max(MAX_REPORTS_PER_REQUEST),
});

/** Why a report was refused. */
export const REJECTIONS = {
  invalid: 'the record does not match the schema',
  invalidTime: 'beginTime/endTime must be UTC ISO 8601, aligned, one window apart',
  invalidValue: 'value must be a decimal string > 0 with at most 4 decimals',
  unknownInstance: 'no such instance',
  notMetered: 'the instance is not pay-per-use',
  test: 'the instance is debug traffic (testFlag=1): it is never metered',
  released: 'the instance is released',
  notProvisioned: 'the instance is not provisioned yet',
  tooOld: 'beginTime is more than 21 days ago (the marketplace refuses it)',
  future: 'beginTime is in the future',
} as const;
export type RejectionCode = keyof typeof REJECTIONS;

export interface Rejection {
  code: RejectionCode;
  message: string;
}

/** A report that passed every rule: its window and quantity in 0.0001 units. */
export interface CheckedReport {
  instanceId: string;
  beginMs: number;
  endMs: number;
  granularity: Granularity;
  units: bigint;
  clientRef?: string;
}

const reject = (code: RejectionCode, detail?: string): { ok: false; rejection: Rejection } => ({
  ok: false,
  rejection: { code, message: detail ? `${REJECTIONS[code]}: ${detail}` : REJECTIONS[code] },
});

/** Only the record's shape; the instance rules need the instance (see checkReport). */
export function parseReport(raw: unknown): { ok: true; report: UsageReport } | { ok: false; rejection: Rejection } {
  const parsed = UsageReportSchema.safeParse(raw);
  if (parsed.success) return { ok: true, report: parsed.data };
  const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ');
  return reject('invalid', detail);
}

export function checkReport(
  report: UsageReport,
  instance: Instance | undefined,
  settings: MeteringSettings,
  nowMs: number,
): { ok: true; report: CheckedReport } | { ok: false; rejection: Rejection } {
  const units = parseQuantity(report.value);
  if (units === undefined) return reject('invalidValue', JSON.stringify(report.value));
  if (!instance) return reject('unknownInstance', report.instanceId);
  if (instance.test) return reject('test');
  if (instance.state === 'RELEASED') return reject('released');
  if (instance.state === 'PROVISIONING' || instance.state === 'PROVISIONING_FAILED') return reject('notProvisioned');
  const granularity = meteringOf(instance, settings);
  if (!granularity) return reject('notMetered');
  const beginMs = parseUtc(report.beginTime);
  const endMs = parseUtc(report.endTime);
  if (beginMs === undefined || endMs === undefined) return reject('invalidTime', 'not UTC ISO 8601 with Z');
  if (windowStart(beginMs, granularity) !== beginMs) {
    return reject('invalidTime', `beginTime must start ${granularity === 'daily' ? 'a UTC day' : 'an hour'}`);
  }
  if (endMs - beginMs !== WINDOW_MS[granularity]) {
    return reject('invalidTime', `endTime must be beginTime plus one ${granularity === 'daily' ? 'day' : 'hour'}`);
  }
  if (beginMs > nowMs) return reject('future', iso(beginMs));
  if (beginMs < nowMs - MAX_AGE_MS) return reject('tooOld', iso(beginMs));
  return {
    ok: true,
    report: {
      instanceId: instance.instanceId,
      beginMs,
      endMs,
      granularity,
      units,
      ...(report.clientRef ? { clientRef: report.clientRef } : {}),
    },
  };
}
