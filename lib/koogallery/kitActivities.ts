import * as z from 'zod/mini';
import '#lib/shared/zodMessages.ts';
import { addCustomIssue } from '#lib/shared/zodMessages.ts';

/**
 * Request bodies of the five joint-operation Kit calls (spec kit.md §3), one zod schema each, with the documented
 * maximum lengths. Integer fields (`flag`, `testFlag`, `employeeType`) are accepted as JSON numbers or as digit
 * strings (§1 "Types"); `userList` and `orgInfoList` as arrays or as JSON strings holding one (§2.3), parsed only
 * after the signature was checked. Unknown top-level fields are ignored; nulls count as absent.
 */

export const KIT_INTERFACES = ['tenantSync', 'applicationSync', 'authSync', 'singleOrgSync', 'allOrgSync'] as const;
export type KitInterface = (typeof KIT_INTERFACES)[number];

export const isKitInterface = (name: string): name is KitInterface => (KIT_INTERFACES as readonly string[]).includes(name);

/** Most users one authSync may carry (spec §3.3). */
export const MAX_USERS = 500;
/** Most departments one allOrgSync may carry: far above any documented enterprise, bounded for the 5 s budget. */
export const MAX_ORGS = 2_000;
/** Largest `extension` (and unknown user fields) kept per user, as JSON. */
const MAX_EXTENSION_CHARS = 4_096;

const text = (max: number) =>
  z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`));
/** A mandatory field that may be empty (instanceId and orderId on the seller's own credential application). */
const maybeEmpty = (max: number) => z.string().check(z.trim(), z.maxLength(max, `must be at most ${max} characters`));
const optionalText = (max: number) => z.optional(z.string().check(z.trim(), z.maxLength(max, `must be at most ${max} characters`)));

/** An Integer field as a JSON number or a digit string, one of `allowed`. */
const intOf = <T extends number>(allowed: readonly T[]) =>
  z.pipe(
    z.union([z.number(), z.string().check(z.maxLength(11))]),
    z.transform((v: number | string, ctx) => {
      const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : NaN;
      if (!(allowed as readonly number[]).includes(n)) {
        addCustomIssue(ctx, `must be one of ${allowed.join(', ')}`);
        return z.NEVER;
      }
      return n as T;
    }),
  );

const testFlag = z.pipe(
  intOf([0, 1] as const),
  z.transform((v: 0 | 1) => v === 1),
);
const timeStamp = text(32);
const ID = 64;
/** An appId is followed by the userName in the users' sort key (lib/store/keys.ts): it may not hold the separator. */
const appId = text(ID).check(z.refine((v: string) => !v.includes('#'), 'must not contain #'));

/** The tenant's OneAccess base URL; `https://` is prepended when the value carries no scheme (§3.1). */
const domainName = z.pipe(
  text(255),
  z.transform((v: string, ctx) => {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `https://${v}`;
    try {
      const url = new URL(withScheme);
      if (url.protocol === 'https:' || url.protocol === 'http:') return withScheme;
    } catch {
      // refused below
    }
    addCustomIssue(ctx, 'must be a domain name or an http(s) URL');
    return z.NEVER;
  }),
);

/** A list given as an array or as a JSON string holding one. */
const listOf = <T extends z.ZodMiniType>(item: T, max: number) =>
  z.pipe(
    z.pipe(
      z.union([z.array(z.unknown()), z.string()]),
      z.transform((v: unknown[] | string, ctx) => {
        if (Array.isArray(v)) return v;
        try {
          const parsed: unknown = JSON.parse(v);
          if (Array.isArray(parsed)) return parsed;
        } catch {
          // refused below
        }
        addCustomIssue(ctx, 'must be an array or a JSON string holding one');
        return z.NEVER;
      }),
    ),
    z.array(item).check(z.minLength(1, 'must not be empty'), z.maxLength(max, `must hold at most ${max} entries`)),
  );

export const tenantSyncSchema = z.object({
  instanceId: maybeEmpty(ID),
  orderId: maybeEmpty(ID),
  tenantId: text(ID),
  tenantCode: text(ID),
  name: text(255),
  domainName,
  flag: intOf([0, 1, 2] as const),
  testFlag,
  timeStamp,
});

export const applicationSyncSchema = z.object({
  instanceId: maybeEmpty(ID),
  tenantId: text(ID),
  appId,
  clientId: text(ID),
  /** One RSA block in base64 (a 4096-bit key gives 684 characters). */
  clientSecret: text(2_048),
  flag: intOf([0, 1, 2] as const),
  testFlag,
  timeStamp,
});

/** The documented user fields; any other field is kept in `extension`. */
const USER_FIELDS = [
  'userName',
  'name',
  'orgCode',
  'role',
  'enable',
  'position',
  'employeeCode',
  'employeeType',
  'mobile',
  'email',
  'workPlace',
  'entryDate',
  'extension',
] as const;

const userObject = z.object({
  userName: text(64),
  name: text(64),
  orgCode: text(64),
  role: z.enum(['admin', 'user']),
  enable: z.pipe(
    z.union([z.enum(['true', 'false']), z.boolean()]),
    z.transform((v: 'true' | 'false' | boolean) => v === true || v === 'true'),
  ),
  position: optionalText(64),
  employeeCode: optionalText(64),
  employeeType: z.optional(intOf([1, 2, 3, 4] as const)),
  mobile: optionalText(32),
  email: optionalText(128),
  workPlace: optionalText(256),
  entryDate: optionalText(20),
  extension: z.optional(z.record(z.string(), z.unknown())),
});

/** A user with its unknown fields folded into `extension` (bounded in size). */
const user = z.pipe(
  z.pipe(
    z.record(z.string(), z.unknown()),
    z.transform((raw: Record<string, unknown>, ctx) => {
      const known = Object.fromEntries(
        Object.entries(raw).filter(([k, v]) => (USER_FIELDS as readonly string[]).includes(k) && v !== null),
      );
      const unknown = Object.fromEntries(Object.entries(raw).filter(([k]) => !(USER_FIELDS as readonly string[]).includes(k)));
      const given = known.extension;
      const extension =
        Object.keys(unknown).length > 0 ? { ...(given !== null && typeof given === 'object' ? given : {}), ...unknown } : given;
      if (extension !== undefined && JSON.stringify(extension).length > MAX_EXTENSION_CHARS) {
        addCustomIssue(ctx, `extension must be at most ${MAX_EXTENSION_CHARS} characters of JSON`);
        return z.NEVER;
      }
      return extension === undefined ? known : { ...known, extension };
    }),
  ),
  userObject,
);

export const authSyncSchema = z.object({
  instanceId: maybeEmpty(ID),
  tenantId: text(ID),
  appId,
  userList: listOf(user, MAX_USERS),
  currentSyncTime: text(32),
  flag: intOf([0, 1, 2, 3] as const),
  testFlag,
  timeStamp,
});

export const singleOrgSyncSchema = z.object({
  instanceId: maybeEmpty(ID),
  tenantId: text(ID),
  orgCode: text(ID),
  orgName: text(128),
  parentCode: z._default(maybeEmpty(ID), ''),
  flag: intOf([0, 1, 2] as const),
  testFlag,
  timeStamp,
});

const orgInfo = z.object({
  orgCode: text(ID),
  orgName: text(128),
  parentCode: z._default(maybeEmpty(ID), ''),
});

export const allOrgSyncSchema = z.object({
  instanceId: maybeEmpty(ID),
  tenantId: text(ID),
  orgInfoList: listOf(orgInfo, MAX_ORGS),
  testFlag,
  timeStamp,
});

export type TenantSyncRequest = z.infer<typeof tenantSyncSchema>;
export type ApplicationSyncRequest = z.infer<typeof applicationSyncSchema>;
export type AuthSyncRequest = z.infer<typeof authSyncSchema>;
export type KitUserInfo = AuthSyncRequest['userList'][number];
export type SingleOrgSyncRequest = z.infer<typeof singleOrgSyncSchema>;
export type AllOrgSyncRequest = z.infer<typeof allOrgSyncSchema>;
export type OrgInfo = AllOrgSyncRequest['orgInfoList'][number];

export type KitRequest =
  | { name: 'tenantSync'; body: TenantSyncRequest }
  | { name: 'applicationSync'; body: ApplicationSyncRequest }
  | { name: 'authSync'; body: AuthSyncRequest }
  | { name: 'singleOrgSync'; body: SingleOrgSyncRequest }
  | { name: 'allOrgSync'; body: AllOrgSyncRequest };

const schemas = {
  tenantSync: tenantSyncSchema,
  applicationSync: applicationSyncSchema,
  authSync: authSyncSchema,
  singleOrgSync: singleOrgSyncSchema,
  allOrgSync: allOrgSyncSchema,
} as const;

export type ParsedKitRequest = { ok: true; request: KitRequest } | { ok: false; reason: string };

/** The value at a path of the body, to tell a missing field from a bad one. */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), body);
}

/** Validates a Kit body against its interface's schema; the reason names the first offending field (never its value). */
export function parseKitRequest(name: KitInterface, body: Record<string, unknown>): ParsedKitRequest {
  const withoutNulls = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
  const result = schemas[name].safeParse(withoutNulls);
  if (result.success) return { ok: true, request: { name, body: result.data } as KitRequest };
  const issue = result.error.issues[0];
  const path = issue?.path ?? [];
  const field = path.length ? path.join('.') : 'body';
  let message = issue?.message ?? 'is invalid';
  if (valueAt(withoutNulls, path) === undefined) message = 'is required';
  else if (issue?.code === 'invalid_type' || issue?.code === 'invalid_union') message = 'has the wrong type';
  return { ok: false, reason: `${field} ${message}` };
}
