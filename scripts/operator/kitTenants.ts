/**
 * `koogallery kit tenants` and `koogallery kit tenant <tenantId>`: the joint-operation enterprises the Kit calls
 * bound, and one of them with its applications (never their secret), departments, last full org sync and users.
 * They read what the seller API's `GET /seller/tenants…` routes answer.
 */
import { getTenant, listTenants, listTenantUsers } from '#lib/seller-api/routes/tenants.ts';
import type { Command } from './command.ts';
import { positiveInt, testFilter, text } from './command.ts';
import { callRoute, Refused, type OperatorContext } from './context.ts';
import { fields, show, table } from './output.ts';

/** The users shown with a tenant, at most (the seller API's largest page). */
const USERS_SHOWN = 500;

/** One tenant and a page of its users; an unknown tenant is refused with the way to find the right id. */
async function tenantWithUsers(ctx: OperatorContext, tenantId: string, usersCursor: string | undefined) {
  try {
    const detail = await callRoute(ctx, getTenant, { params: { tenantId } });
    const users = await callRoute(ctx, listTenantUsers, {
      params: { tenantId },
      query: { limit: String(USERS_SHOWN), cursor: usersCursor },
    });
    return { ...detail, users };
  } catch (error) {
    if (error instanceof Error && error.message === `no tenant ${tenantId}`) {
      throw new Refused(`no tenant ${tenantId} (koogallery kit tenants lists the tenants the Kit bound)`);
    }
    throw error;
  }
}

export const kitTenantCommands: Command[] = [
  {
    area: 'kit',
    name: 'tenants',
    synopsis: 'kit tenants [--status ACTIVE|DELETED] [--test | --real] [--limit <n>] [--cursor <c>]',
    summary: 'joint-operation tenants (enterprises bound by the Kit), most recently changed first',
    options: {
      status: { type: 'string' },
      test: { type: 'boolean' },
      real: { type: 'boolean' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
    },
    args: [0, 0],
    async run(ctx, { values }) {
      const limit = positiveInt(values, 'limit');
      const status = text(values, 'status');
      const page = await callRoute(ctx, listTenants, {
        query: {
          status: status?.toUpperCase(),
          test: testFilter(values),
          limit: limit === undefined ? undefined : String(limit),
          cursor: text(values, 'cursor'),
        },
      });
      show(ctx.answer, page, () => [
        ...(page.items.length === 0
          ? ['no tenants: the Kit binds one with tenantSync (README, "Joint-operation products")']
          : table(
              ['UPDATED', 'TENANT', 'CODE', 'NAME', 'STATUS', 'TEST', 'INSTANCES'],
              page.items.map((t) => [
                t.updatedAt,
                t.tenantId,
                t.tenantCode,
                t.name,
                t.status,
                t.test ? 'test' : '',
                t.instanceIds.join(','),
              ]),
            )),
        ...(page.nextCursor ? [`more: --cursor ${page.nextCursor}`] : []),
      ]);
      return 0;
    },
  },
  {
    area: 'kit',
    name: 'tenant',
    synopsis: 'kit tenant <tenantId> [--users-cursor <c>]',
    summary: `one tenant: its applications, departments, last full org sync and users (${USERS_SHOWN} at a time)`,
    options: { 'users-cursor': { type: 'string' } },
    args: [1, 1],
    async run(ctx, { args, values }) {
      const tenantId = args[0]!;
      const found = await tenantWithUsers(ctx, tenantId, text(values, 'users-cursor'));
      const { tenant, applications, departments, orgSync, users } = found;
      show(ctx.answer, found, () => [
        ...fields([
          ['tenant', tenant.tenantId],
          ['code', tenant.tenantCode],
          ['name', tenant.name],
          ['domain', tenant.domainName],
          ['status', tenant.status],
          ['test', tenant.test ? 'yes (debug data, expires)' : undefined],
          ['instances', tenant.instanceIds.join(', ')],
          ['updated', `${tenant.updatedAt} (version ${tenant.version})`],
          ['org sync', orgSync ? `${orgSync.orgCount} departments at ${orgSync.timeStamp}` : 'none yet'],
        ]),
        '',
        `Applications (${applications.length})`,
        ...(applications.length === 0
          ? ['  none yet']
          : table(
              ['APP', 'CLIENT', 'STATUS', 'INSTANCE', 'UPDATED'],
              applications.map((a) => [a.appId, a.clientId, a.status, a.instanceId, a.updatedAt]),
            )),
        '',
        `Departments (${departments.length})`,
        ...(departments.length === 0
          ? ['  none yet']
          : table(
              ['ORG', 'NAME', 'PARENT', 'STATUS'],
              departments.map((o) => [o.orgCode, o.orgName, o.parentCode, o.status]),
            )),
        '',
        `Users${users.nextCursor ? ` (first ${users.items.length})` : ` (${users.items.length})`}`,
        ...(users.items.length === 0
          ? ['  none yet']
          : table(
              ['APP', 'USER', 'NAME', 'ORG', 'ROLE', 'STATUS', 'ENABLED'],
              users.items.map((u) => [u.appId, u.userName, u.name, u.orgCode, u.role, u.status, u.enabled ? 'yes' : 'no']),
            )),
        ...(users.nextCursor ? [`more users: koogallery kit tenant ${tenantId} --users-cursor ${users.nextCursor}`] : []),
      ]);
      return 0;
    },
  },
];
