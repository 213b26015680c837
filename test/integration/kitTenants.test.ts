import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { LIST_INDEX } from '#lib/store/dynamo.ts';
import { env } from '../helpers/produce.ts';
import {
  allOrgBody,
  appBody,
  authBody,
  encryptSecret,
  kitClient,
  kitTime,
  tenantBody,
  tenantItems,
  uniqueTenant,
  user,
} from '../helpers/kit.ts';
import { seller, sellerKey } from '../helpers/seller.ts';

/** Joint-operation tenants as the seller sees them: the listing index, the seller API routes. */

const kit = kitClient();

beforeAll(async () => {
  await kit.send('tenantSync', tenantBody(uniqueTenant()));
});

/** The tenant's entries in the main table's listing index (`listKind = TENANT`). */
async function listed(tenantId: string): Promise<Record<string, unknown>[]> {
  const out = await dynamoClient().send('Query', {
    TableName: env('MAIN_TABLE'),
    IndexName: LIST_INDEX,
    KeyConditionExpression: 'listKind = :kind',
    FilterExpression: 'tenantId = :tenantId',
    ExpressionAttributeValues: marshall({ ':kind': 'TENANT', ':tenantId': tenantId }),
  });
  return (out.Items ?? []).map((item) => unmarshall(item));
}

describe('the tenant listing index', () => {
  it('lists a tenant under listKind TENANT, listAt <updatedAt>#<tenantId>, and moves it when the tenant changes', async () => {
    const tenantId = uniqueTenant();
    await kit.send('tenantSync', tenantBody(tenantId));
    const first = await listed(tenantId);
    expect(first).toHaveLength(1);
    const record = (await tenantItems(tenantId)).get('TENANT')!;
    expect(first[0]).toMatchObject({ sk: 'TENANT', listAt: `${String(record.updatedAt)}#${tenantId}`, status: 'ACTIVE' });

    await kit.send('tenantSync', tenantBody(tenantId, { name: 'Acme Two', timeStamp: kitTime(1000) }));
    const second = await listed(tenantId);
    expect(second).toHaveLength(1);
    const updated = (await tenantItems(tenantId)).get('TENANT')!;
    expect(second[0]).toMatchObject({ name: 'Acme Two', listAt: `${String(updated.updatedAt)}#${tenantId}` });
    expect(updated.version).toBe(2);
  });

  it('keeps the listing attributes out of the tenant the Kit flows read', async () => {
    const tenantId = uniqueTenant();
    await kit.send('tenantSync', tenantBody(tenantId));
    const tenant = await kit.deps.store.getTenant(tenantId);
    expect(tenant).toMatchObject({ tenantId, status: 'ACTIVE' });
    expect(tenant).not.toHaveProperty('listKind');
    expect(tenant).not.toHaveProperty('listAt');
  });
});

type TenantView = { tenantId: string; status: string; test: boolean; updatedAt: string };

/** Every tenant the listing shows for `query`, walking its pages; and how many pages it took. */
async function everyTenant(key: string, query: Record<string, string> = {}): Promise<{ items: TenantView[]; pages: number }> {
  const items: TenantView[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await seller('GET', '/seller/tenants', { key, query: { ...query, ...(cursor ? { cursor } : {}) } });
    expect(page.status).toBe(200);
    items.push(...(page.json.items as TenantView[]));
    cursor = page.json.nextCursor as string | undefined;
    pages++;
  } while (cursor);
  return { items, pages };
}

/** A tenant bound as KooGallery binds one: tenant, application, a full org sync, two users. */
async function bindEnterprise(tenantId: string, secret: string): Promise<void> {
  expect((await kit.send('tenantSync', tenantBody(tenantId))).json.resultCode).toBe('000000');
  expect((await kit.send('applicationSync', appBody(tenantId, { clientSecret: secret }))).json.resultCode).toBe('000000');
  const orgs = [
    { orgCode: 'root', orgName: 'Acme', parentCode: '' },
    { orgCode: 'org-1', orgName: 'Sales', parentCode: 'root' },
  ];
  expect((await kit.send('allOrgSync', allOrgBody(tenantId, orgs))).json.resultCode).toBe('000000');
  const users = [user('alice', { role: 'admin', orgCode: 'root' }), user('bob')];
  expect((await kit.send('authSync', authBody(tenantId, users))).json.resultCode).toBe('000000');
}

describe('GET /seller/tenants and /seller/tenants/{tenantId} (scope kit:read)', () => {
  let key: string;
  beforeAll(async () => {
    key = await sellerKey('kit:read');
  });

  it('shows a bound tenant with its applications, departments (flat, with parentCode), org sync and users, never the clientSecret', async () => {
    const tenantId = uniqueTenant();
    const secret = encryptSecret('the-secret');
    await bindEnterprise(tenantId, secret);

    const detail = await seller('GET', `/seller/tenants/${tenantId}`, { key });
    expect(detail.status).toBe(200);
    expect(detail.json.tenant).toMatchObject({ tenantId, name: 'Acme', status: 'ACTIVE', instanceIds: ['inst-1'], test: false });
    expect(detail.json.applications).toEqual([
      expect.objectContaining({ appId: 'app-1', clientId: 'client-1', status: 'ACTIVE', instanceId: 'inst-1' }),
    ]);
    const departments = detail.json.departments as { orgCode: string; parentCode: string; status: string }[];
    expect(departments.map(({ orgCode, parentCode, status }) => ({ orgCode, parentCode, status }))).toEqual([
      { orgCode: 'org-1', parentCode: 'root', status: 'ACTIVE' },
      { orgCode: 'root', parentCode: '', status: 'ACTIVE' },
    ]);
    expect(detail.json.orgSync).toMatchObject({ orgCount: 2 });

    const users = await seller('GET', `/seller/tenants/${tenantId}/users`, { key });
    expect(users.status).toBe(200);
    expect(users.json.items).toEqual([
      expect.objectContaining({ appId: 'app-1', userName: 'alice', role: 'admin', orgCode: 'root', status: 'AUTHORISED' }),
      expect.objectContaining({ appId: 'app-1', userName: 'bob', role: 'user', orgCode: 'org-1', status: 'AUTHORISED' }),
    ]);
    expect(users.json.nextCursor).toBeUndefined();

    const listed = (await everyTenant(key)).items.find((t) => t.tenantId === tenantId);
    expect(listed).toMatchObject({ tenantId, status: 'ACTIVE' });

    for (const answer of [detail, users, await seller('GET', '/seller/tenants', { key, query: { limit: '100' } })]) {
      const text = JSON.stringify(answer.json);
      expect(text).not.toContain('clientSecret');
      expect(text).not.toContain(secret.slice(0, 40));
    }
  });

  it('pages users with a cursor that belongs to the tenant', async () => {
    const tenantId = uniqueTenant();
    await kit.send('tenantSync', tenantBody(tenantId));
    const names = ['u1', 'u2', 'u3', 'u4', 'u5'];
    await kit.send(
      'authSync',
      authBody(
        tenantId,
        names.map((name) => user(name)),
      ),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await seller('GET', `/seller/tenants/${tenantId}/users`, { key, query: { limit: '2', ...(cursor ? { cursor } : {}) } });
      expect(page.status).toBe(200);
      seen.push(...(page.json.items as { userName: string }[]).map((u) => u.userName));
      cursor = page.json.nextCursor as string | undefined;
    } while (cursor);
    expect(seen).toEqual(names);

    const first = await seller('GET', `/seller/tenants/${tenantId}/users`, { key, query: { limit: '2' } });
    const other = uniqueTenant();
    await kit.send('tenantSync', tenantBody(other));
    const elsewhere = await seller('GET', `/seller/tenants/${other}/users`, { key, query: { cursor: first.json.nextCursor as string } });
    expect(elsewhere.status).toBe(400);
  });

  it('pages tenants most recently changed first, and filters by status and test flag', async () => {
    const active = uniqueTenant();
    const deleted = uniqueTenant();
    const debug = uniqueTenant();
    await kit.send('tenantSync', tenantBody(active));
    await kit.send('tenantSync', tenantBody(deleted));
    await kit.send('tenantSync', tenantBody(deleted, { flag: 0, timeStamp: kitTime(1000) }));
    await kit.send('tenantSync', tenantBody(debug, { testFlag: 1 }));

    const { items, pages } = await everyTenant(key, { limit: '2' });
    expect(pages).toBeGreaterThan(1);
    const ids = items.map((t) => t.tenantId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining([active, deleted, debug]));
    const order = items.map((t) => `${t.updatedAt}#${t.tenantId}`);
    expect(order).toEqual([...order].sort().reverse());

    const gone = (await everyTenant(key, { status: 'DELETED' })).items;
    expect(gone.every((t) => t.status === 'DELETED')).toBe(true);
    expect(gone.map((t) => t.tenantId)).toContain(deleted);
    expect(gone.map((t) => t.tenantId)).not.toContain(active);

    const tests = (await everyTenant(key, { test: 'true' })).items;
    expect(tests.every((t) => t.test)).toBe(true);
    expect(tests.map((t) => t.tenantId)).toContain(debug);
    const real = (await everyTenant(key, { test: 'false', status: 'ACTIVE' })).items;
    expect(real.map((t) => t.tenantId)).toContain(active);
    expect(real.map((t) => t.tenantId)).not.toContain(debug);
    expect(real.map((t) => t.tenantId)).not.toContain(deleted);
  });

  it('answers 404 for an unknown tenant, 400 for a bad query or cursor, 403 without kit:read', async () => {
    const unknown = uniqueTenant();
    expect((await seller('GET', `/seller/tenants/${unknown}`, { key })).status).toBe(404);
    expect((await seller('GET', `/seller/tenants/${unknown}/users`, { key })).status).toBe(404);
    const badQueries: Record<string, string>[] = [
      { status: 'GONE' },
      { test: 'yes' },
      { limit: '0' },
      { limit: '101' },
      { cursor: 'not-a-cursor' },
      { other: '1' },
    ];
    for (const query of badQueries) {
      const answer = await seller('GET', '/seller/tenants', { key, query });
      expect(answer.status, JSON.stringify(query)).toBe(400);
      expect(answer.json).toMatchObject({ error: { code: 'invalid_request' } });
    }
    expect((await seller('GET', `/seller/tenants/${unknown}/users`, { key, query: { limit: '501' } })).status).toBe(400);
    expect((await seller('GET', `/seller/tenants/${'x'.repeat(65)}`, { key })).status).toBe(400);
    const instancesOnly = await sellerKey('instances:read');
    for (const path of ['/seller/tenants', `/seller/tenants/${unknown}`, `/seller/tenants/${unknown}/users`]) {
      expect((await seller('GET', path, { key: instancesOnly })).status).toBe(403);
    }
  });
});
