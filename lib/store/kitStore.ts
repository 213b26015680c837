/**
 * The joint-operation Kit records on DynamoDB's main table (docs/data-model.md, "Joint-operation tenants"): one
 * partition per tenant holding its record, applications, users, departments, the last full org sync and every
 * record's history. Tenant records carry the `list` index's attributes, so tenants can be listed. Each change is a
 * put conditioned on the version read (or on the item being new), its history entry and its outbox event, committed
 * with the call's nonce claim and message-log record.
 */
import type { DynamoDb } from '#lib/aws/clients.ts';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AuditRecord } from '#lib/audit/records.ts';
import type { KitChange, KitApp, KitOrg, KitRecord, KitUser, OrgSnapshot, Tenant } from '#lib/kit/model.ts';
import type { KitStore } from '#lib/kit/ports.ts';
import type { Expiry } from '#lib/shared/testData.ts';
import {
  batchGet,
  commitWrites,
  getItem,
  put,
  putIfVersion,
  queryPrefix,
  toItem,
  type Item,
  type LabeledWrite,
  type StoreTables,
} from './dynamo.ts';
import { keys, type Key } from './keys.ts';

/** Outbox entries outlive the queue's 14-day retention by a day, as the instances' do. */
const OUTBOX_RETENTION_SECONDS = 15 * 24 * 3600;

/** Tenants are listed in the main table's `list` index, most recently changed first (docs/data-model.md). */
export const TENANT_LIST_KIND = 'TENANT';

/** The listing attributes of a tenant record: written with every version of it, so the listing follows its changes. */
export function tenantListAttributes(tenant: Pick<Tenant, 'updatedAt' | 'tenantId'>): { listKind: string; listAt: string } {
  return { listKind: TENANT_LIST_KIND, listAt: `${tenant.updatedAt}#${tenant.tenantId}` };
}

/** An item's own fields: without its keys, type, TTL and listing attributes. */
export function fields<T>(item: Item): T {
  const { pk: _pk, sk: _sk, type: _type, expiresAt: _exp, listKind: _kind, listAt: _at, ...rest } = unmarshall(item);
  return rest as T;
}

/** The key of a record. */
export function recordKey(record: KitRecord): Key {
  const v = record.value;
  switch (record.kind) {
    case 'tenant':
      return keys.tenant(v.tenantId);
    case 'app':
      return keys.kitApp(v.tenantId, record.value.appId);
    case 'user':
      return keys.kitUser(v.tenantId, record.value.appId, record.value.userName);
    case 'org':
      return keys.kitOrg(v.tenantId, record.value.orgCode);
    case 'orgSnapshot':
      return keys.orgSnapshot(v.tenantId);
  }
}

export function kitStore(client: DynamoDb, tables: StoreTables): KitStore {
  const read = async <T>(key: Key): Promise<T | undefined> => {
    const item = await getItem(client, tables.main, key);
    return item ? fields<T>(item) : undefined;
  };

  return {
    getTenant: (tenantId) => read<Tenant>(keys.tenant(tenantId)),

    getApp: (tenantId, appId) => read<KitApp>(keys.kitApp(tenantId, appId)),

    async getUsers(tenantId, appId, userNames) {
      const found = new Map<string, KitUser>();
      const unique = [...new Set(userNames)];
      for (let i = 0; i < unique.length; i += 100) {
        const items = await batchGet(
          client,
          tables.main,
          unique.slice(i, i + 100).map((name) => keys.kitUser(tenantId, appId, name)),
        );
        for (const item of items) {
          const user = fields<KitUser>(item);
          found.set(user.userName, user);
        }
      }
      return found;
    },

    async getOrgAndSnapshot(tenantId, orgCode) {
      const items = await batchGet(client, tables.main, [keys.kitOrg(tenantId, orgCode), keys.orgSnapshot(tenantId)]);
      const org = items.find((i) => i.sk?.S?.startsWith('ORG#'));
      const snapshot = items.find((i) => i.sk?.S === 'ORGSNAPSHOT');
      return { org: org ? fields<KitOrg>(org) : undefined, snapshot: snapshot ? fields<OrgSnapshot>(snapshot) : undefined };
    },

    async getOrgs(tenantId) {
      const [orgs, snapshot] = await Promise.all([
        queryPrefix(client, tables.main, keys.tenantPartition(tenantId), 'ORG#'),
        read<OrgSnapshot>(keys.orgSnapshot(tenantId)),
      ]);
      return { orgs: orgs.map((item) => fields<KitOrg>(item)), snapshot };
    },

    async instanceExists(instanceId) {
      return (await getItem(client, tables.main, keys.instance(instanceId), { projection: 'pk' })) !== undefined;
    },

    claimNonce(keyId: string, nonce: string, expiresAt: number): LabeledWrite {
      return put('nonce', tables.main, toItem(keys.nonce(keyId, `kit:${nonce}`), { type: 'nonce', expiresAt }), true);
    },

    change(change: KitChange, nowSeconds: number, expiresAt: Expiry): LabeledWrite[] {
      const ttl = expiresAt === undefined ? {} : { expiresAt };
      const key = recordKey(change.record);
      const listing = change.record.kind === 'tenant' ? tenantListAttributes(change.record.value) : {};
      const item = toItem(key, { type: change.record.kind, ...change.record.value, ...ttl, ...listing });
      const writes: LabeledWrite[] = [
        change.previousVersion === undefined
          ? put('kitRecord', tables.main, item, true)
          : putIfVersion('kitRecord', tables.main, item, change.previousVersion),
      ];
      const event = change.event;
      if (event) {
        const history = {
          type: 'kitHistory',
          event: event.type,
          at: event.occurredAt,
          version: change.record.value.version,
          timeStamp: change.record.value.timeStamp,
        };
        writes.push(
          put('kitHistory', tables.main, toItem(keys.kitHistory(key, change.record.value.version), { ...history, ...ttl }), true),
        );
        writes.push(
          put(
            'outbox',
            tables.main,
            toItem(keys.kitOutbox(event.occurredAt, event.eventId), {
              type: 'outbox',
              eventId: event.eventId,
              message: JSON.stringify(event),
              expiresAt: Math.min(expiresAt ?? Infinity, nowSeconds + OUTBOX_RETENTION_SECONDS),
            }),
            false,
          ),
        );
      }
      return writes;
    },

    audit(record: AuditRecord): LabeledWrite {
      return put('audit', tables.audit, toItem(keys.auditMessage(record.at, record.correlationId), record), true);
    },

    commit: (writes) => commitWrites(client, writes),
  };
}
