import * as z from 'zod/mini';
import { addCustomIssue } from '#lib/shared/zodMessages.ts';
import type { JsonObject } from './canonicalJson.ts';

/**
 * Request bodies of the SaaS V2 activities (spec §3.1–3.7), one zod schema each, with the documented
 * maximum lengths. Unknown extra fields are ignored; nulls are treated as absent (spec §7.2 drops them too).
 */

const text = (max: number) =>
  z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`));

const testFlag = z.optional(z.enum(['0', '1']));

/** `yyyyMMddHHmmss`, a real calendar date and time (spec §3.3). */
const expireTime = z.string().check(
  z.regex(/^\d{14}$/, 'must be yyyyMMddHHmmss'),
  z.refine((v) => {
    const [y, mo, d, h, mi, s] = [v.slice(0, 4), v.slice(4, 6), v.slice(6, 8), v.slice(8, 10), v.slice(10, 12), v.slice(12, 14)].map(
      Number,
    ) as [number, number, number, number, number, number];
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
  }, 'is not a valid date and time'),
);

export const MAX_QUERY_IDS = 100;
const ID_MAX = 64;

const instanceIdList = z.pipe(
  z.string().check(z.maxLength(MAX_QUERY_IDS * (ID_MAX + 1), 'is too long')),
  z.transform((v: string, ctx) => {
    const ids = v.split(',').map((s) => s.trim());
    if (ids.some((id) => id === '')) {
      addCustomIssue(ctx, 'must be a comma-separated list of instance ids without blanks');
      return z.NEVER;
    }
    if (ids.length > MAX_QUERY_IDS) {
      addCustomIssue(ctx, `must list at most ${MAX_QUERY_IDS} instance ids`);
      return z.NEVER;
    }
    if (ids.some((id) => id.length > ID_MAX)) {
      addCustomIssue(ctx, `each instance id must be at most ${ID_MAX} characters`);
      return z.NEVER;
    }
    return [...new Set(ids)];
  }),
);

/** changeInstanceCheck.productInfo arrives as an object or as a JSON string (spec §3.7). */
const productInfoObject = z.pipe(
  z.union([z.record(z.string(), z.unknown()), z.string().check(z.maxLength(4096))]),
  z.transform((v: Record<string, unknown> | string, ctx) => {
    if (typeof v !== 'string') return v;
    try {
      const parsed: unknown = JSON.parse(v);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // fall through to the issue below
    }
    addCustomIssue(ctx, 'must be an object or a JSON object string');
    return z.NEVER;
  }),
);
const productInfo = z.pipe(
  productInfoObject,
  z.catchall(z.object({ productId: z.optional(text(ID_MAX)), skuCode: z.optional(text(ID_MAX)) }), z.unknown()),
);

export const newInstanceSchema = z.object({
  activity: z.literal('newInstance'),
  orderId: text(ID_MAX),
  orderLineId: text(ID_MAX),
  businessId: text(ID_MAX),
  testFlag,
});

export const queryInstanceSchema = z.object({
  activity: z.literal('queryInstance'),
  instanceId: instanceIdList,
  testFlag,
});

export const refreshInstanceSchema = z.object({
  activity: z.literal('refreshInstance'),
  scene: text(ID_MAX),
  orderId: text(ID_MAX),
  orderLineId: text(ID_MAX),
  instanceId: text(ID_MAX),
  productId: z.optional(text(ID_MAX)),
  expireTime,
  testFlag,
});

export const updateInstanceStatusSchema = z.object({
  activity: z.literal('updateInstanceStatus'),
  instanceId: text(ID_MAX),
  status: z.enum(['FREEZE', 'UNFREEZE']),
  testFlag,
});

export const releaseInstanceSchema = z.object({
  activity: z.literal('releaseInstance'),
  instanceId: text(ID_MAX),
  orderId: z.optional(text(ID_MAX)),
  orderLineId: z.optional(text(ID_MAX)),
  testFlag,
});

export const upgradeInstanceSchema = z.object({
  activity: z.literal('upgradeInstance'),
  instanceId: text(ID_MAX),
  orderId: text(ID_MAX),
  orderLineId: text(ID_MAX),
  testFlag,
});

export const changeInstanceCheckSchema = z.object({
  activity: z.literal('changeInstanceCheck'),
  instanceId: text(ID_MAX),
  productInfo,
  testFlag,
});

/** License-code callbacks (spec §5.1): same endpoint and signature; the code is the marketplace's (e.g. `PL…`). */
const licenseCode = text(128);

export const refreshLicenseCodeSchema = z.object({
  activity: z.literal('refreshLicenseCode'),
  license: licenseCode,
  scene: text(ID_MAX),
  orderId: text(ID_MAX),
  orderLineId: text(ID_MAX),
  productId: z.optional(text(ID_MAX)),
  expireTime,
  testFlag,
});

export const updateLicenseCodeStatusSchema = z.object({
  activity: z.literal('updateLicenseCodeStatus'),
  license: licenseCode,
  status: z.enum(['FREEZE', 'UNFREEZE']),
  testFlag,
});

export const releaseLicenseCodeSchema = z.object({
  activity: z.literal('releaseLicenseCode'),
  license: licenseCode,
  orderId: z.optional(text(ID_MAX)),
  orderLineId: z.optional(text(ID_MAX)),
  testFlag,
});

const schemas = {
  newInstance: newInstanceSchema,
  queryInstance: queryInstanceSchema,
  refreshInstance: refreshInstanceSchema,
  updateInstanceStatus: updateInstanceStatusSchema,
  releaseInstance: releaseInstanceSchema,
  upgradeInstance: upgradeInstanceSchema,
  changeInstanceCheck: changeInstanceCheckSchema,
  refreshLicenseCode: refreshLicenseCodeSchema,
  updateLicenseCodeStatus: updateLicenseCodeStatusSchema,
  releaseLicenseCode: releaseLicenseCodeSchema,
} as const;

export type ActivityName = keyof typeof schemas;
export const ACTIVITIES = Object.keys(schemas) as ActivityName[];

export type NewInstanceRequest = z.infer<typeof newInstanceSchema>;
export type QueryInstanceRequest = z.infer<typeof queryInstanceSchema>;
export type RefreshInstanceRequest = z.infer<typeof refreshInstanceSchema>;
export type UpdateInstanceStatusRequest = z.infer<typeof updateInstanceStatusSchema>;
export type ReleaseInstanceRequest = z.infer<typeof releaseInstanceSchema>;
export type UpgradeInstanceRequest = z.infer<typeof upgradeInstanceSchema>;
export type ChangeInstanceCheckRequest = z.infer<typeof changeInstanceCheckSchema>;
export type RefreshLicenseCodeRequest = z.infer<typeof refreshLicenseCodeSchema>;
export type UpdateLicenseCodeStatusRequest = z.infer<typeof updateLicenseCodeStatusSchema>;
export type ReleaseLicenseCodeRequest = z.infer<typeof releaseLicenseCodeSchema>;
export type LicenseCodeRequest = RefreshLicenseCodeRequest | UpdateLicenseCodeStatusRequest | ReleaseLicenseCodeRequest;

export type ActivityRequest =
  | NewInstanceRequest
  | QueryInstanceRequest
  | RefreshInstanceRequest
  | UpdateInstanceStatusRequest
  | ReleaseInstanceRequest
  | UpgradeInstanceRequest
  | ChangeInstanceCheckRequest
  | LicenseCodeRequest;

export type ParsedActivity = { ok: true; request: ActivityRequest } | { ok: false; activity?: string; reason: string };

function isActivityName(value: unknown): value is ActivityName {
  return typeof value === 'string' && Object.hasOwn(schemas, value);
}

/** A lone UTF-16 surrogate (a `\uD800`-style JSON escape without its pair): such text can be neither stored nor encoded. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Why the body cannot be validated as received, naming the first field (or the object holding a key) at fault:
 * text that is not well-formed Unicode, or a `__proto__` member, which the schemas would drop unseen although the
 * signature covered it. Bodies are at most 32 levels deep.
 */
function unvalidatableField(value: unknown, field: string): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? `${field.slice(0, 64)} is not valid Unicode text` : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const holder = (field || 'body').slice(0, 64);
    if (LONE_SURROGATE.test(key)) return `${holder} is not valid Unicode text`;
    if (key === '__proto__') return `${holder} has a member named __proto__`;
    const found = unvalidatableField(item, field ? `${field}.${key}` : key);
    if (found) return found;
  }
  return undefined;
}

/** Validates a body against its activity's schema. The reason names the first offending field. */
export function parseActivity(body: JsonObject): ParsedActivity {
  const withoutNulls = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
  const activity = withoutNulls.activity;
  if (!isActivityName(activity)) {
    return { ok: false, reason: typeof activity === 'string' ? 'unknown activity' : 'activity is required' };
  }
  const unvalidatable = unvalidatableField(withoutNulls, '');
  if (unvalidatable) return { ok: false, activity, reason: unvalidatable };
  const result = schemas[activity].safeParse(withoutNulls);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path ?? [];
    const field = path.length ? path.join('.') : 'body';
    const value = path.reduce<unknown>(
      (v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined),
      withoutNulls,
    );
    let message = issue?.message ?? 'is invalid';
    if (value === undefined) message = 'is required';
    else if (issue?.code === 'invalid_type' || issue?.code === 'invalid_union') message = 'has the wrong type';
    return { ok: false, activity, reason: `${field} ${message}` };
  }
  return { ok: true, request: result.data };
}

export function isTest(request: ActivityRequest): boolean {
  return request.testFlag === '1';
}
