import { describe, expect, it } from 'vitest';
import { authSyncSchema, parseKitRequest, type AuthSyncRequest, type OrgInfo } from '#lib/koogallery/kitActivities.ts';
import { kitAnswer } from '#lib/koogallery/kitResultCodes.ts';
import type { KitOrg, KitUser, Tenant } from '#lib/kit/model.ts';
import { buildOrgTree } from '#lib/kit/orgTree.ts';
import { isOlder, planAllOrgSync, planAuthSync, planSingleOrgSync, planTenantSync } from '#lib/kit/plans.ts';

/** The pure rules of the Kit calls: flags, idempotency, the department tree, staleness and validation. */

const NOW = '2026-01-01T00:00:00.000Z';
const TS = '20260101080000000';

const tenant = (extra: Partial<Tenant> = {}): Tenant => ({
  tenantId: 't',
  tenantCode: 'c',
  name: 'n',
  domainName: 'https://d.example',
  status: 'ACTIVE',
  instanceIds: ['i1'],
  test: false,
  timeStamp: TS,
  updatedAt: NOW,
  version: 1,
  ...extra,
});

const tenantReq = (extra: Record<string, unknown> = {}) => {
  const parsed = parseKitRequest('tenantSync', {
    instanceId: 'i1',
    orderId: 'o',
    tenantId: 't',
    tenantCode: 'c',
    name: 'n',
    domainName: 'd.example',
    flag: 1,
    testFlag: 0,
    timeStamp: TS,
    ...extra,
  });
  if (!parsed.ok || parsed.request.name !== 'tenantSync') throw new Error(parsed.ok ? 'not tenantSync' : parsed.reason);
  return parsed.request.body;
};

const auth = (flag: number, users: Array<Record<string, unknown>>): AuthSyncRequest =>
  authSyncSchema.parse({
    instanceId: '',
    tenantId: 't',
    appId: 'a',
    userList: users,
    currentSyncTime: TS,
    flag,
    testFlag: 0,
    timeStamp: TS,
  });

const u = (userName: string, extra: Record<string, unknown> = {}) => ({
  userName,
  name: 'N',
  orgCode: 'o',
  role: 'user',
  enable: 'true',
  ...extra,
});

const stored = (status: KitUser['status'], extra: Partial<KitUser> = {}): KitUser => ({
  tenantId: 't',
  appId: 'a',
  userName: 'x',
  name: 'N',
  orgCode: 'o',
  role: 'user',
  enabled: true,
  status,
  test: false,
  timeStamp: TS,
  updatedAt: NOW,
  version: 4,
  ...extra,
});

describe('tenantSync', () => {
  it('creates, binds a second instance, and plans nothing for a repeat', () => {
    const created = planTenantSync(tenantReq(), undefined, NOW);
    expect(created.ok && created.changes[0]?.event?.type).toBe('tenant.created');
    expect(created.ok && created.changes[0]?.previousVersion).toBeUndefined();
    const repeat = planTenantSync(tenantReq(), tenant(), NOW);
    expect(repeat.ok && repeat.changes).toEqual([]);
    const second = planTenantSync(tenantReq({ instanceId: 'i2' }), tenant(), NOW);
    expect(second.ok && second.changes[0]?.record.value).toMatchObject({ instanceIds: ['i1', 'i2'], version: 2 });
  });

  it('a debug call on a real tenant does not make it expire', () => {
    const plan = planTenantSync(tenantReq({ testFlag: 1, name: 'renamed' }), tenant(), NOW);
    expect(plan.ok && plan.changes[0]?.record.value.test).toBe(false);
  });

  it('a delete of a tenant bound to other instances only, or of an unknown tenant, plans nothing', () => {
    expect(planTenantSync(tenantReq({ flag: 0, instanceId: 'other' }), tenant(), NOW)).toMatchObject({ ok: true, changes: [] });
    expect(planTenantSync(tenantReq({ flag: 0 }), undefined, NOW)).toMatchObject({ ok: true, changes: [] });
    expect(planTenantSync(tenantReq({ flag: 0, instanceId: '' }), tenant(), NOW)).toMatchObject({
      ok: true,
      changes: [{ event: { type: 'tenant.deleted' } }],
    });
  });
});

describe('authSync flags', () => {
  const one = (flag: number, existing: KitUser | undefined, extra: Record<string, unknown> = {}) => {
    const plan = planAuthSync(auth(flag, [u('x', extra)]), new Map(existing ? [['x', existing]] : []), NOW);
    return plan.ok ? plan.changes.map((c) => [c.event?.type, (c.record.value as KitUser).status]) : plan.reason;
  };

  it('1 authorises an unknown, deleted or revoked user, updates changed fields, leaves an equal one alone', () => {
    expect(one(1, undefined)).toEqual([['user.authorised', 'AUTHORISED']]);
    expect(one(1, stored('DELETED'))).toEqual([['user.authorised', 'AUTHORISED']]);
    expect(one(1, stored('REVOKED'))).toEqual([['user.authorised', 'AUTHORISED']]);
    expect(one(1, stored('AUTHORISED'))).toEqual([]);
    expect(one(1, stored('AUTHORISED'), { role: 'admin' })).toEqual([['user.updated', 'AUTHORISED']]);
  });

  it('2 updates fields and keeps a revocation; 3 revokes only an authorised user; 0 deletes a live user', () => {
    expect(one(2, stored('REVOKED'), { enable: 'false' })).toEqual([['user.updated', 'REVOKED']]);
    expect(one(2, undefined)).toEqual([['user.authorised', 'AUTHORISED']]);
    expect(one(3, stored('AUTHORISED'))).toEqual([['user.revoked', 'REVOKED']]);
    expect(one(3, stored('REVOKED'))).toEqual([]);
    expect(one(3, undefined)).toEqual([]);
    expect(one(0, stored('REVOKED'))).toEqual([['user.deleted', 'DELETED']]);
    expect(one(0, stored('DELETED'))).toEqual([]);
    expect(one(0, undefined)).toEqual([]);
  });

  it('mobile and e-mail are never kept; unknown fields go to extension', () => {
    const plan = planAuthSync(auth(1, [u('x', { mobile: '138', email: 'e@x', foo: 1 })]), new Map(), NOW);
    const value = plan.ok ? plan.changes[0]?.record.value : undefined;
    expect(value).toMatchObject({ extension: { foo: 1 } });
    expect(JSON.stringify(value)).not.toMatch(/138|e@x/);
  });
});

describe('the department tree', () => {
  const org = (orgCode: string, parentCode = ''): OrgInfo => ({ orgCode, orgName: orgCode, parentCode });

  it('lists parents before children whatever the order, and names departments whose parent is not listed', () => {
    const tree = buildOrgTree([org('c', 'b'), org('b', 'a'), org('a'), org('x', 'missing')]);
    expect(tree.ok && tree.ordered.map((o) => o.orgCode)).toEqual(['a', 'x', 'b', 'c']);
    expect(tree.ok && tree.orphans).toEqual(['x']);
  });

  it('refuses a code listed twice, a self-parent and a longer cycle', () => {
    expect(buildOrgTree([org('a'), org('a')])).toMatchObject({ ok: false });
    expect(buildOrgTree([org('a', 'a')])).toMatchObject({ ok: false, reason: expect.stringContaining('cycle') });
    expect(buildOrgTree([org('a', 'c'), org('b', 'a'), org('c', 'b'), org('r')])).toMatchObject({
      ok: false,
      reason: expect.stringContaining('cycle'),
    });
  });
});

describe('org staleness and unlisted departments', () => {
  const kitOrg = (orgCode: string, timeStamp = TS, status: KitOrg['status'] = 'ACTIVE'): KitOrg => ({
    tenantId: 't',
    orgCode,
    orgName: orgCode,
    parentCode: '',
    status,
    test: false,
    timeStamp,
    updatedAt: NOW,
    version: 1,
  });
  const all = (list: OrgInfo[], timeStamp = TS) => ({ instanceId: '', tenantId: 't', orgInfoList: list, testFlag: false, timeStamp });

  it('isOlder compares yyyyMMddHHmmssSSS only', () => {
    expect(isOlder('20260101000000000', '20260101000000001')).toBe(true);
    expect(isOlder('20260101000000001', '20260101000000001')).toBe(false);
    expect(isOlder('later', '20260101000000001')).toBe(false);
    expect(isOlder('20260101000000000', undefined)).toBe(false);
  });

  it('unlisted departments are archived, deleted or kept as configured; one changed after the snapshot is kept', () => {
    const existing = [kitOrg('gone'), kitOrg('newer', '20270101000000000')];
    const types = (unlisted: 'archive' | 'delete' | 'keep') => {
      const plan = planAllOrgSync(all([{ orgCode: 'a', orgName: 'A', parentCode: '' }]), existing, undefined, unlisted, NOW);
      return plan.ok ? plan.changes.map((c) => c.event?.type ?? c.record.kind) : [];
    };
    expect(types('archive')).toEqual(['org.created', 'org.archived', 'orgSnapshot']);
    expect(types('delete')).toEqual(['org.created', 'org.deleted', 'orgSnapshot']);
    expect(types('keep')).toEqual(['org.created', 'orgSnapshot']);
  });

  it('a snapshot older than the last one, or an incremental event older than it, changes nothing', () => {
    const snapshot = { tenantId: 't', timeStamp: '20270101000000000', orgCount: 1, test: false, updatedAt: NOW, version: 1 };
    expect(planAllOrgSync(all([{ orgCode: 'a', orgName: 'A', parentCode: '' }]), [], snapshot, 'archive', NOW)).toMatchObject({
      changes: [],
    });
    const single = {
      instanceId: '',
      tenantId: 't',
      orgCode: 'a',
      orgName: 'A',
      parentCode: '',
      flag: 1 as const,
      testFlag: false,
      timeStamp: TS,
    };
    expect(planSingleOrgSync(single, undefined, snapshot, NOW)).toMatchObject({ changes: [], note: { org: 'stale' } });
  });
});

describe('validation', () => {
  it('names the first bad field, never its value', () => {
    expect(parseKitRequest('tenantSync', { tenantId: 't' })).toMatchObject({ ok: false, reason: 'instanceId is required' });
    expect(parseKitRequest('authSync', { ...auth(1, [u('x')]), flag: 9 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^flag /),
    });
    expect(
      parseKitRequest('applicationSync', {
        instanceId: '',
        tenantId: 't',
        appId: 'a#b',
        clientId: 'c',
        clientSecret: 's',
        flag: 1,
        testFlag: 0,
        timeStamp: TS,
      }),
    ).toMatchObject({
      ok: false,
      reason: 'appId must not contain #',
    });
    expect(parseKitRequest('tenantSync', { ...tenantReq(), domainName: 'ftp://x' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^domainName/),
    });
  });

  it('an authSync user with a too large extension is refused', () => {
    expect(parseKitRequest('authSync', { ...auth(1, [u('x')]), userList: [u('x', { blob: 'y'.repeat(5000) })] })).toMatchObject({
      ok: false,
    });
  });

  it('a decryption failure and an internal error carry no detail', () => {
    expect(kitAnswer('000101', 'detail')).toEqual({ resultCode: '000101', resultMsg: 'something wrong with appSecret' });
    expect(kitAnswer('000005', 'detail').resultMsg).toBe('other inner error');
    expect(kitAnswer('000002', 'x').resultMsg).toBe('param is invalid: x');
  });
});
