/**
 * What each Kit call changes (spec kit.md §3), as pure functions of the request and the records read: a list of
 * record changes (each with its version condition and event). A repeat of a call plans nothing, so it succeeds and
 * changes nothing; so does a delete of a record that does not exist. Flags: 0 delete, 1 add, 2 modify, 3 (authSync)
 * revoke. The rules the spec leaves open are written in docs/decisions.md ("Joint-operation Kit records").
 */
import type {
  AllOrgSyncRequest,
  ApplicationSyncRequest,
  AuthSyncRequest,
  KitUserInfo,
  SingleOrgSyncRequest,
  TenantSyncRequest,
} from '#lib/koogallery/kitActivities.ts';
import { kitEvent } from './events.ts';
import type { KitApp, KitChange, KitEventType, KitOrg, KitRecord, KitUser, KitUserFields, OrgSnapshot, Tenant } from './model.ts';
import { buildOrgTree } from './orgTree.ts';

/** What to do with departments a full org sync does not list. */
export type UnlistedOrgs = 'archive' | 'delete' | 'keep';

export type KitPlan = { ok: true; changes: KitChange[]; note: Record<string, unknown> } | { ok: false; reason: string };

type Versioned = { version: number; test: boolean };

/** The change of a record from `previous` to `next` (version and time filled in), with its event if `type` is given. */
function change<R extends KitRecord>(
  kind: R['kind'],
  previous: Versioned | undefined,
  next: Omit<R['value'], 'version' | 'updatedAt'>,
  nowIso: string,
  type?: KitEventType,
): KitChange {
  const record = { kind, value: { ...next, version: (previous?.version ?? 0) + 1, updatedAt: nowIso } } as KitRecord;
  const event = type ? kitEvent(record, type) : undefined;
  return { record, previousVersion: previous?.version, ...(event ? { event } : {}) };
}

/** A record once written by a real call stays real; a debug call on it does not make it expire. */
const testOf = (previous: Versioned | undefined, callTest: boolean): boolean => (previous ? previous.test && callTest : callTest);

/** `yyyyMMddHHmmssSSS` values compare as text; anything else is never treated as older. */
export function isOlder(timeStamp: string, than: string | undefined): boolean {
  return than !== undefined && /^\d{17}$/.test(timeStamp) && /^\d{17}$/.test(than) && timeStamp < than;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function planTenantSync(req: TenantSyncRequest, existing: Tenant | undefined, nowIso: string): KitPlan {
  const base = { tenantId: req.tenantId, timeStamp: req.timeStamp, test: testOf(existing, req.testFlag) };
  const bound = (ids: string[]) => (req.instanceId && !ids.includes(req.instanceId) ? [...ids, req.instanceId] : ids);
  const changed = (next: Tenant | Omit<Tenant, 'version' | 'updatedAt'>, type: KitEventType): KitPlan => ({
    ok: true,
    changes: [change<{ kind: 'tenant'; value: Tenant }>('tenant', existing, next, nowIso, type)],
    note: { tenant: type },
  });
  const unchanged: KitPlan = { ok: true, changes: [], note: { tenant: 'unchanged' } };

  if (req.flag === 0) {
    if (!existing || existing.status === 'DELETED') return unchanged;
    if (req.instanceId && existing.instanceIds.length > 0 && !existing.instanceIds.includes(req.instanceId)) return unchanged;
    const instanceIds = existing.instanceIds.filter((id) => id !== req.instanceId);
    if (req.instanceId && instanceIds.length > 0) return changed({ ...existing, ...base, instanceIds }, 'tenant.updated');
    return changed({ ...existing, ...base, instanceIds, status: 'DELETED' }, 'tenant.deleted');
  }
  if (!existing || existing.status === 'DELETED') {
    const created = {
      ...base,
      tenantCode: req.tenantCode,
      name: req.name,
      domainName: req.domainName,
      status: 'ACTIVE' as const,
      instanceIds: bound([]),
    };
    return changed(created, 'tenant.created');
  }
  // A modify changes only the name and the domain (spec §3.1); an add also binds its instance.
  const next: Tenant = {
    ...existing,
    name: req.name,
    domainName: req.domainName,
    ...(req.flag === 1 ? { tenantCode: req.tenantCode, instanceIds: bound(existing.instanceIds) } : {}),
  };
  if (same(next, existing)) return unchanged;
  return changed({ ...next, ...base }, 'tenant.updated');
}

/**
 * `sameSecret` tells whether a stored ciphertext and the received one hold the same secret (OAEP ciphertexts of one
 * secret differ each time, so the flow compares the decrypted values).
 */
export function planApplicationSync(
  req: ApplicationSyncRequest,
  existing: KitApp | undefined,
  sameSecret: (stored: string) => boolean,
  nowIso: string,
): KitPlan {
  const base = { tenantId: req.tenantId, appId: req.appId, timeStamp: req.timeStamp, test: testOf(existing, req.testFlag) };
  const done = (changes: KitChange[], outcome: string): KitPlan => ({ ok: true, changes, note: { application: outcome } });
  if (req.flag === 0) {
    if (!existing || existing.status === 'DELETED') return done([], 'unchanged');
    const { clientSecretCiphertext: _dropped, ...kept } = existing;
    const deleted = { ...kept, ...base, status: 'DELETED' as const };
    return done([change<{ kind: 'app'; value: KitApp }>('app', existing, deleted, nowIso, 'application.deleted')], 'application.deleted');
  }
  const next = {
    ...base,
    clientId: req.clientId,
    clientSecretCiphertext: req.clientSecret,
    status: 'ACTIVE' as const,
    instanceId: req.instanceId,
  };
  if (existing?.status === 'ACTIVE') {
    const secretSame = existing.clientSecretCiphertext !== undefined && sameSecret(existing.clientSecretCiphertext);
    if (secretSame && existing.clientId === req.clientId && existing.instanceId === req.instanceId) return done([], 'unchanged');
    return done([change<{ kind: 'app'; value: KitApp }>('app', existing, next, nowIso, 'application.updated')], 'application.updated');
  }
  return done([change<{ kind: 'app'; value: KitApp }>('app', existing, next, nowIso, 'application.created')], 'application.created');
}

/** The stored fields of a user as received; mobile and e-mail are not kept (docs/security.md). */
export function userFields(info: KitUserInfo): KitUserFields {
  const fields: KitUserFields = { name: info.name, orgCode: info.orgCode, role: info.role, enabled: info.enable };
  if (info.position) fields.position = info.position;
  if (info.employeeCode) fields.employeeCode = info.employeeCode;
  if (info.employeeType !== undefined) fields.employeeType = info.employeeType;
  if (info.workPlace) fields.workPlace = info.workPlace;
  if (info.entryDate) fields.entryDate = info.entryDate;
  if (info.extension) fields.extension = info.extension;
  return fields;
}

const FIELD_NAMES = [
  'name',
  'orgCode',
  'role',
  'enabled',
  'position',
  'employeeCode',
  'employeeType',
  'workPlace',
  'entryDate',
  'extension',
] as const;
const sameFields = (a: KitUserFields, b: KitUserFields) => FIELD_NAMES.every((f) => same(a[f], b[f]));

/** One user of an authSync: flag 1 authorises (upsert), 2 updates, 3 revokes (the record stays), 0 deletes. */
function planUser(req: AuthSyncRequest, info: KitUserInfo, existing: KitUser | undefined, nowIso: string): KitChange | undefined {
  const fields = userFields(info);
  const base = {
    tenantId: req.tenantId,
    appId: req.appId,
    userName: info.userName,
    timeStamp: req.timeStamp,
    test: testOf(existing, req.testFlag),
  };
  const to = (status: KitUser['status'], type: KitEventType, withFields: KitUserFields) =>
    change<{ kind: 'user'; value: KitUser }>('user', existing, { ...base, ...withFields, status }, nowIso, type);
  const live = existing && existing.status !== 'DELETED' ? existing : undefined;
  if (req.flag === 0) return live ? to('DELETED', 'user.deleted', live) : undefined;
  if (req.flag === 3) return live?.status === 'AUTHORISED' ? to('REVOKED', 'user.revoked', live) : undefined;
  if (!live) return to('AUTHORISED', 'user.authorised', fields);
  if (req.flag === 1 && live.status === 'REVOKED') return to('AUTHORISED', 'user.authorised', fields);
  return sameFields(live, fields) ? undefined : to(live.status, 'user.updated', fields);
}

/** authSync: every user of the list, the flag applying to each; a user named twice is bad input. */
export function planAuthSync(req: AuthSyncRequest, existing: ReadonlyMap<string, KitUser>, nowIso: string): KitPlan {
  const names = new Set<string>();
  for (const user of req.userList) {
    if (names.has(user.userName)) return { ok: false, reason: `userList names userName ${user.userName.slice(0, 64)} twice` };
    names.add(user.userName);
  }
  const changes = req.userList.flatMap((info) => planUser(req, info, existing.get(info.userName), nowIso) ?? []);
  return { ok: true, changes, note: { users: req.userList.length, changed: changes.length } };
}

/** A live department's change: `org.moved` when its parent changes (its name may change too), else `org.updated`. */
const orgChangeType = (existing: KitOrg, parentCode: string): KitEventType =>
  existing.parentCode === parentCode ? 'org.updated' : 'org.moved';

/** singleOrgSync: ignored when older than the department's last change or the tenant's last full sync (§3.5). */
export function planSingleOrgSync(
  req: SingleOrgSyncRequest,
  existing: KitOrg | undefined,
  snapshot: OrgSnapshot | undefined,
  nowIso: string,
): KitPlan {
  const done = (changes: KitChange[], outcome: string): KitPlan => ({ ok: true, changes, note: { org: outcome } });
  if (isOlder(req.timeStamp, existing?.timeStamp) || isOlder(req.timeStamp, snapshot?.timeStamp)) return done([], 'stale');
  const base = { tenantId: req.tenantId, orgCode: req.orgCode, timeStamp: req.timeStamp, test: testOf(existing, req.testFlag) };
  const to = (next: Omit<KitOrg, 'version' | 'updatedAt'>, type: KitEventType) =>
    done([change<{ kind: 'org'; value: KitOrg }>('org', existing, next, nowIso, type)], type);
  if (req.flag === 0) {
    return existing && existing.status !== 'DELETED'
      ? to({ ...existing, ...base, status: 'DELETED' }, 'org.deleted')
      : done([], 'unchanged');
  }
  const next = { ...existing, ...base, orgName: req.orgName, parentCode: req.parentCode, status: 'ACTIVE' as const };
  if (!existing || existing.status !== 'ACTIVE') return to(next, 'org.created');
  if (existing.orgName === req.orgName && existing.parentCode === req.parentCode) return done([], 'unchanged');
  return to(next, orgChangeType(existing, req.parentCode));
}

/**
 * allOrgSync: the tenant's authoritative department list. Listed departments are created or updated (parents first),
 * unlisted ones archived, deleted or kept (`unlisted`), unless a department changed after the snapshot was taken;
 * a snapshot older than the last one applied changes nothing.
 */
export function planAllOrgSync(
  req: AllOrgSyncRequest,
  existing: readonly KitOrg[],
  snapshot: OrgSnapshot | undefined,
  unlisted: UnlistedOrgs,
  nowIso: string,
): KitPlan {
  const tree = buildOrgTree(req.orgInfoList);
  if (!tree.ok) return { ok: false, reason: tree.reason };
  if (isOlder(req.timeStamp, snapshot?.timeStamp)) return { ok: true, changes: [], note: { orgs: 'stale snapshot' } };
  const stored = new Map(existing.map((org) => [org.orgCode, org]));
  const changes: KitChange[] = [];
  for (const info of tree.ordered) {
    const org = stored.get(info.orgCode);
    if (isOlder(req.timeStamp, org?.timeStamp)) continue;
    const next = {
      ...org,
      tenantId: req.tenantId,
      orgCode: info.orgCode,
      orgName: info.orgName,
      parentCode: info.parentCode,
      status: 'ACTIVE' as const,
      test: testOf(org, req.testFlag),
      timeStamp: req.timeStamp,
      snapshotAt: req.timeStamp,
    };
    if (org?.status === 'ACTIVE' && org.orgName === info.orgName && org.parentCode === info.parentCode) continue;
    changes.push(
      change<{ kind: 'org'; value: KitOrg }>(
        'org',
        org,
        next,
        nowIso,
        org?.status === 'ACTIVE' ? orgChangeType(org, info.parentCode) : 'org.created',
      ),
    );
  }
  const listed = new Set(req.orgInfoList.map((o) => o.orgCode));
  if (unlisted !== 'keep') {
    const status = unlisted === 'archive' ? 'ARCHIVED' : 'DELETED';
    for (const org of existing) {
      if (listed.has(org.orgCode) || org.status !== 'ACTIVE' || isOlder(req.timeStamp, org.timeStamp)) continue;
      const next = { ...org, status, timeStamp: req.timeStamp, snapshotAt: req.timeStamp, test: testOf(org, req.testFlag) } as const;
      changes.push(
        change<{ kind: 'org'; value: KitOrg }>('org', org, next, nowIso, unlisted === 'archive' ? 'org.archived' : 'org.deleted'),
      );
    }
  }
  if (snapshot?.timeStamp !== req.timeStamp || snapshot.orgCount !== req.orgInfoList.length) {
    const marker = {
      tenantId: req.tenantId,
      timeStamp: req.timeStamp,
      orgCount: req.orgInfoList.length,
      test: testOf(snapshot, req.testFlag),
    };
    changes.push(change<{ kind: 'orgSnapshot'; value: OrgSnapshot }>('orgSnapshot', snapshot, marker, nowIso));
  }
  return { ok: true, changes, note: { orgs: req.orgInfoList.length, changed: changes.length, orphans: tree.orphans.length } };
}
