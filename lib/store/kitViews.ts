/**
 * The seller's view of the joint-operation Kit records (docs/data-model.md): tenants listed through the main table's
 * `list` index (listKind TENANT, most recently changed first), one tenant's partition read by record kind, and its
 * users paged in sort-key order. Cursors are checked to be keys of the listing they came from.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { DynamoDb } from '#lib/aws/clients.ts';
import type { KitApp, KitOrg, KitUser, OrgSnapshot, Tenant } from '#lib/kit/model.ts';
import type { KitPage, KitViews, ListTenantsQuery } from '#lib/kit/ports.ts';
import { decodeCursor, encodeCursor, keyString, startKey } from './cursor.ts';
import { getItem, LIST_INDEX, queryPrefix, type Item, type StoreTables } from './dynamo.ts';
import { keys } from './keys.ts';
import { fields, TENANT_LIST_KIND } from './kitStore.ts';

/** A filtered listing reads on until it has `limit` tenants, within this many Query pages per call. */
const MAX_TENANT_PAGES = 10;
/** With a filter, each Query evaluates at least this many items (a Query's Limit counts items before filtering). */
const FILTERED_PAGE_ITEMS = 100;

const USER_PREFIX = 'USER#';

/** A tenant-listing cursor: the index key of the last tenant returned, which must be a tenant's. */
const tenantCursor = z
  .strictObject({
    list: z.literal('tenants'),
    key: z.strictObject({ listKind: z.literal(TENANT_LIST_KIND), listAt: keyString(), pk: keyString(), sk: z.literal('TENANT') }),
  })
  .refine(({ key }) => {
    const split = key.listAt.indexOf('#');
    const tenantId = key.listAt.slice(split + 1);
    return split > 0 && tenantId !== '' && keys.tenantPartition(tenantId) === key.pk;
  });

/** A user-listing cursor: the key of the last user returned, which must be a user of the tenant asked about. */
const userCursor = (tenantId: string) =>
  z
    .strictObject({ list: z.literal('tenantUsers'), key: z.strictObject({ pk: keyString(), sk: keyString() }) })
    .refine(({ key }) => key.pk === keys.tenantPartition(tenantId) && key.sk.startsWith(USER_PREFIX));

/** The attributes of `item` that make up a key, to continue a Query right after it. */
const keyOf = (item: Item, names: readonly string[]): Record<string, AttributeValue> =>
  Object.fromEntries(names.map((name) => [name, item[name]!]));

/** The listing's filter: every condition the query names, or undefined when it names none. */
function tenantFilter(
  query: ListTenantsQuery,
): { expression: string; names: Record<string, string>; values: Record<string, unknown> } | undefined {
  const conditions: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  for (const field of ['status', 'test'] as const) {
    if (query[field] === undefined) continue;
    conditions.push(`#${field} = :${field}`);
    names[`#${field}`] = field;
    values[`:${field}`] = query[field];
  }
  return conditions.length === 0 ? undefined : { expression: conditions.join(' AND '), names, values };
}

export function kitViews(client: DynamoDb, tables: StoreTables): KitViews {
  return {
    async listTenants(query) {
      const filter = tenantFilter(query);
      const indexKey = ['listKind', 'listAt', 'pk', 'sk'] as const;
      const cursorAt = (key: Record<string, AttributeValue>) => encodeCursor(key, { list: 'tenants' });
      let start = query.cursor === undefined ? undefined : startKey(decodeCursor(query.cursor, tenantCursor).key);
      const items: Tenant[] = [];
      for (let pages = 1; ; pages++) {
        const remaining = query.limit - items.length;
        const out = await client.send('Query', {
          TableName: tables.main,
          IndexName: LIST_INDEX,
          KeyConditionExpression: 'listKind = :kind',
          ...(filter ? { FilterExpression: filter.expression, ExpressionAttributeNames: filter.names } : {}),
          ExpressionAttributeValues: marshall({ ':kind': TENANT_LIST_KIND, ...filter?.values }),
          ScanIndexForward: false,
          Limit: filter ? Math.max(remaining, FILTERED_PAGE_ITEMS) : remaining,
          ExclusiveStartKey: start,
        });
        const page = out.Items ?? [];
        for (const [i, item] of page.entries()) {
          items.push(fields<Tenant>(item));
          if (items.length === query.limit) {
            if (i < page.length - 1) return { items, nextCursor: cursorAt(keyOf(item, indexKey)) };
            return out.LastEvaluatedKey ? { items, nextCursor: cursorAt(out.LastEvaluatedKey) } : { items };
          }
        }
        if (!out.LastEvaluatedKey) return { items };
        start = out.LastEvaluatedKey;
        if (pages >= MAX_TENANT_PAGES) return { items, nextCursor: cursorAt(start) };
      }
    },

    async getTenant(tenantId) {
      const item = await getItem(client, tables.main, keys.tenant(tenantId));
      return item ? fields<Tenant>(item) : undefined;
    },

    async tenantDetail(tenantId) {
      const item = await getItem(client, tables.main, keys.tenant(tenantId));
      if (!item) return undefined;
      const pk = keys.tenantPartition(tenantId);
      const [apps, orgs, snapshot] = await Promise.all([
        queryPrefix(client, tables.main, pk, 'APP#'),
        queryPrefix(client, tables.main, pk, 'ORG#'),
        getItem(client, tables.main, keys.orgSnapshot(tenantId)),
      ]);
      return {
        tenant: fields<Tenant>(item),
        apps: apps.map((app) => fields<KitApp>(app)),
        orgs: orgs.map((org) => fields<KitOrg>(org)),
        snapshot: snapshot ? fields<OrgSnapshot>(snapshot) : undefined,
      };
    },

    async listUsers(tenantId, query): Promise<KitPage<KitUser>> {
      const start = query.cursor === undefined ? undefined : startKey(decodeCursor(query.cursor, userCursor(tenantId)).key);
      const out = await client.send('Query', {
        TableName: tables.main,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: marshall({ ':pk': keys.tenantPartition(tenantId), ':prefix': USER_PREFIX }),
        Limit: query.limit,
        ExclusiveStartKey: start,
      });
      const items = (out.Items ?? []).map((item) => fields<KitUser>(item));
      return out.LastEvaluatedKey ? { items, nextCursor: encodeCursor(out.LastEvaluatedKey, { list: 'tenantUsers' }) } : { items };
    },
  };
}
