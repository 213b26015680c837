import * as z from 'zod';
import type { KitApp, KitOrg, KitUser, OrgSnapshot, Tenant } from '#lib/kit/model.ts';
import type { KitViews } from '#lib/kit/ports.ts';
import { SellerApiError } from '../errors.ts';
import { defineRoute } from '../defineRoute.ts';

/**
 * GET /seller/tenants, GET /seller/tenants/{tenantId}, GET /seller/tenants/{tenantId}/users: the joint-operation
 * enterprises the Kit calls bound, with their applications, departments and users. An application's clientSecret
 * is never shown, in any form.
 */

export interface TenantRouteDeps {
  tenants: KitViews;
}

export const TENANT_LIMIT = { min: 1, max: 100, default: 50 } as const;
export const TENANT_USER_LIMIT = { min: 1, max: 500, default: 100 } as const;

const recordFields = {
  test: z.boolean().describe('Debug data (testFlag=1): expires'),
  timeStamp: z.string().describe('The timeStamp (yyyyMMddHHmmssSSS, UTC+8) of the Kit call that last changed it'),
  updatedAt: z.string(),
  version: z.number().int(),
};

const TenantSchema = z.object({
  tenantId: z.string(),
  tenantCode: z.string(),
  name: z.string(),
  domainName: z.string().describe("The tenant's OneAccess base URL"),
  status: z.enum(['ACTIVE', 'DELETED']),
  instanceIds: z.array(z.string()).describe('The instances bound to the enterprise'),
  ...recordFields,
});

const ApplicationSchema = z
  .object({
    appId: z.string(),
    clientId: z.string(),
    status: z.enum(['ACTIVE', 'DELETED']),
    instanceId: z.string(),
    ...recordFields,
  })
  .describe("The tenant's OAuth client for the product (its clientSecret is never shown)");

const DepartmentSchema = z.object({
  orgCode: z.string(),
  orgName: z.string(),
  parentCode: z.string().describe('The parent department; empty for a top-level department'),
  status: z.enum(['ACTIVE', 'ARCHIVED', 'DELETED']).describe('ARCHIVED: left out of the last full org sync'),
  snapshotAt: z.string().optional().describe('The timeStamp of the full org sync that last wrote it'),
  ...recordFields,
});

const OrgSyncSchema = z
  .object({ timeStamp: z.string(), orgCount: z.number().int(), updatedAt: z.string() })
  .describe('The last full org sync (allOrgSync) applied; older incremental changes are ignored');

const UserSchema = z.object({
  appId: z.string(),
  userName: z.string(),
  name: z.string(),
  orgCode: z.string(),
  role: z.enum(['admin', 'user']),
  enabled: z.boolean(),
  status: z.enum(['AUTHORISED', 'REVOKED', 'DELETED']),
  position: z.string().optional(),
  employeeCode: z.string().optional(),
  employeeType: z.number().optional(),
  workPlace: z.string().optional(),
  entryDate: z.string().optional(),
  extension: z.record(z.string(), z.unknown()).optional(),
  ...recordFields,
});

const base = (record: { test: boolean; timeStamp: string; updatedAt: string; version: number }) => ({
  test: record.test,
  timeStamp: record.timeStamp,
  updatedAt: record.updatedAt,
  version: record.version,
});

const tenantView = (t: Tenant): z.infer<typeof TenantSchema> => ({
  tenantId: t.tenantId,
  tenantCode: t.tenantCode,
  name: t.name,
  domainName: t.domainName,
  status: t.status,
  instanceIds: t.instanceIds,
  ...base(t),
});

/** An application as shown: named fields only, so its clientSecret (kept encrypted) can never leak into an answer. */
const applicationView = (a: KitApp): z.infer<typeof ApplicationSchema> => ({
  appId: a.appId,
  clientId: a.clientId,
  status: a.status,
  instanceId: a.instanceId,
  ...base(a),
});

const departmentView = (o: KitOrg): z.infer<typeof DepartmentSchema> => ({
  orgCode: o.orgCode,
  orgName: o.orgName,
  parentCode: o.parentCode,
  status: o.status,
  ...(o.snapshotAt ? { snapshotAt: o.snapshotAt } : {}),
  ...base(o),
});

const orgSyncView = (s: OrgSnapshot): z.infer<typeof OrgSyncSchema> => ({
  timeStamp: s.timeStamp,
  orgCount: s.orgCount,
  updatedAt: s.updatedAt,
});

const userView = (u: KitUser): z.infer<typeof UserSchema> => {
  const { tenantId: _tenantId, ...shown } = u;
  return shown;
};

const limit = (bounds: { min: number; max: number; default: number }) =>
  z.coerce.number().int().min(bounds.min).max(bounds.max).default(bounds.default);
const cursor = z.string().min(1).max(2048).optional().describe('nextCursor of the previous page');
const tenantParams = z.strictObject({ tenantId: z.string().min(1).max(64) });

export const listTenants = defineRoute({
  method: 'GET',
  path: '/seller/tenants',
  summary: 'Joint-operation tenants (the enterprises bound by tenantSync), most recently changed first, optionally by status or test flag',
  scope: 'kit:read',
  query: z.strictObject({
    status: z.enum(['ACTIVE', 'DELETED']).optional(),
    test: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    limit: limit(TENANT_LIMIT),
    cursor,
  }),
  response: z.object({ items: z.array(TenantSchema), nextCursor: z.string().optional() }),
  errors: { 400: 'Bad status, test flag, limit or cursor' },
  async handle({ query }, deps: TenantRouteDeps) {
    const page = await deps.tenants.listTenants(query);
    return { body: { items: page.items.map(tenantView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) } };
  },
});

export const getTenant = defineRoute({
  method: 'GET',
  path: '/seller/tenants/{tenantId}',
  summary: 'One tenant with its applications, its departments (flat, each with its parentCode) and its last full org sync',
  description: 'The users are listed by GET /seller/tenants/{tenantId}/users.',
  scope: 'kit:read',
  params: tenantParams,
  response: z.object({
    tenant: TenantSchema,
    applications: z.array(ApplicationSchema),
    departments: z.array(DepartmentSchema),
    orgSync: OrgSyncSchema.optional(),
  }),
  errors: { 404: 'Unknown tenant' },
  async handle({ params }, deps: TenantRouteDeps) {
    const found = await deps.tenants.tenantDetail(params.tenantId);
    if (!found) throw new SellerApiError('not_found', `no tenant ${params.tenantId}`);
    return {
      body: {
        tenant: tenantView(found.tenant),
        applications: found.apps.map(applicationView),
        departments: found.orgs.map(departmentView),
        ...(found.snapshot ? { orgSync: orgSyncView(found.snapshot) } : {}),
      },
    };
  },
});

export const listTenantUsers = defineRoute({
  method: 'GET',
  path: '/seller/tenants/{tenantId}/users',
  summary: "A tenant's users (authSync), by application then user name, with their department, role and status",
  scope: 'kit:read',
  params: tenantParams,
  query: z.strictObject({ limit: limit(TENANT_USER_LIMIT), cursor }),
  response: z.object({ items: z.array(UserSchema), nextCursor: z.string().optional() }),
  errors: { 400: 'Bad limit or cursor', 404: 'Unknown tenant' },
  async handle({ params, query }, deps: TenantRouteDeps) {
    const [tenant, page] = await Promise.all([deps.tenants.getTenant(params.tenantId), deps.tenants.listUsers(params.tenantId, query)]);
    if (!tenant) throw new SellerApiError('not_found', `no tenant ${params.tenantId}`);
    return { body: { items: page.items.map(userView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) } };
  },
});

export const tenantRoutes = [listTenants, getTenant, listTenantUsers];
