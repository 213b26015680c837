/**
 * What the Kit flows need of storage (lib/store/kitStore.ts implements it on DynamoDB's main table): the records of
 * one tenant, the nonce claim, the planned changes (record, history entry and outbox event together), the
 * message-log record, and one transaction to commit them.
 */
import type { AuditRecord } from '#lib/audit/records.ts';
import type { Expiry } from '#lib/shared/testData.ts';
import type { Commit, PlannedWrite } from '#lib/shared/transaction.ts';
import type { KitApp, KitChange, KitEvent, KitOrg, KitUser, OrgSnapshot, Tenant } from './model.ts';

export interface KitStore {
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  getApp(tenantId: string, appId: string): Promise<KitApp | undefined>;
  /** The named users of an application (any number; read 100 at a time). Unknown names are absent. */
  getUsers(tenantId: string, appId: string, userNames: readonly string[]): Promise<Map<string, KitUser>>;
  /** One department and the tenant's last full org sync, in one round trip. */
  getOrgAndSnapshot(tenantId: string, orgCode: string): Promise<{ org: KitOrg | undefined; snapshot: OrgSnapshot | undefined }>;
  /** Every department of the tenant and its last full org sync. */
  getOrgs(tenantId: string): Promise<{ orgs: KitOrg[]; snapshot: OrgSnapshot | undefined }>;
  /** Whether newInstance issued this instance id. */
  instanceExists(instanceId: string): Promise<boolean>;
  /** Claims a nonce; the write fails (label `nonce`) if it was claimed before. */
  claimNonce(keyId: string, nonce: string, expiresAt: number): PlannedWrite;
  /**
   * A record's change: the record (new, or conditioned on the version read: label `kitRecord`), its history entry
   * and its event for the seller's product (the Kit outbox). Debug records carry `expiresAt`.
   */
  change(change: KitChange, nowSeconds: number, expiresAt: Expiry): PlannedWrite[];
  /** The message-log record of a Kit call (law 6): created, never replaced. */
  audit(record: AuditRecord): PlannedWrite;
  commit: Commit;
}

/** The Kit outbox as the provisioning worker and the outbox sweep use it (lib/store/kitOutboxStore.ts). */
export interface KitOutbox {
  /** Removes a delivered event; one already removed (a redelivery) is fine. */
  complete(event: Pick<KitEvent, 'occurredAt' | 'eventId'>): Promise<void>;
  /** Events older than `before` still waiting, oldest first. */
  pending(before: string, limit: number): Promise<{ event: KitEvent; resent: boolean }[]>;
  /** Records that the sweep re-sent an event; false if another sweep already did. */
  markResent(event: KitEvent, at: string): Promise<boolean>;
}

/** A page of a listing and the cursor of the next one (absent on the last page). */
export interface KitPage<T> {
  items: T[];
  nextCursor?: string;
}

/** What the seller sees of one tenant: the tenant, its applications, departments and the last full org sync. */
export interface TenantDetail {
  tenant: Tenant;
  apps: KitApp[];
  orgs: KitOrg[];
  snapshot: OrgSnapshot | undefined;
}

export interface ListTenantsQuery {
  status?: Tenant['status'] | undefined;
  test?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** The seller's view of the Kit records (lib/store/kitViews.ts): the seller API and the operator CLI read it. */
export interface KitViews {
  /** Tenants, most recently changed first, optionally only those of a status or test/real ones. */
  listTenants(query: ListTenantsQuery): Promise<KitPage<Tenant>>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  /** One tenant with its applications, departments and last full org sync; undefined if there is no such tenant. */
  tenantDetail(tenantId: string): Promise<TenantDetail | undefined>;
  /** A tenant's users, by application then user name. */
  listUsers(tenantId: string, query: { limit: number; cursor?: string | undefined }): Promise<KitPage<KitUser>>;
}
