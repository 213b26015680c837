import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { LIST_INDEX } from '#lib/store/dynamo.ts';
import { env } from '../helpers/produce.ts';
import { kitClient, kitTime, tenantBody, tenantItems, uniqueTenant } from '../helpers/kit.ts';

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
