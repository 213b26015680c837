/**
 * What the joint-operation Kit calls leave behind (spec kit.md §3): per tenant (the buyer's enterprise) its
 * applications (the per-tenant OAuth client), the users authorised for an application and the departments. The
 * single sign-on flow reads these records (docs/data-model.md lists their keys); every change also becomes an event
 * for the seller's product.
 */

/** What every stored Kit record carries: optimistic-concurrency version, debug marking, last change. */
export interface KitRecordBase {
  tenantId: string;
  /** Debug data (`testFlag=1`): expires like debug instances. A record once written by a real call stays real. */
  test: boolean;
  /** The `timeStamp` (`yyyyMMddHHmmssSSS`, UTC+8) of the call that last changed it. */
  timeStamp: string;
  updatedAt: string;
  version: number;
}

export type TenantStatus = 'ACTIVE' | 'DELETED';

export interface Tenant extends KitRecordBase {
  tenantCode: string;
  name: string;
  /** The tenant's OneAccess base URL, always with a scheme. */
  domainName: string;
  status: TenantStatus;
  /** The instances bound to the enterprise (never empty strings): one tenant may own several. */
  instanceIds: string[];
}

export interface KitApp extends KitRecordBase {
  appId: string;
  clientId: string;
  /** The clientSecret exactly as received: encrypted with the seller's RSA public key. Absent once deleted. */
  clientSecretCiphertext?: string;
  status: 'ACTIVE' | 'DELETED';
  instanceId: string;
}

export type UserStatus = 'AUTHORISED' | 'REVOKED' | 'DELETED';

/** The user fields the product may use. Mobile and e-mail are personal data and are not stored (docs/security.md). */
export interface KitUserFields {
  name: string;
  orgCode: string;
  role: 'admin' | 'user';
  enabled: boolean;
  position?: string;
  employeeCode?: string;
  employeeType?: number;
  workPlace?: string;
  entryDate?: string;
  extension?: Record<string, unknown>;
}

export interface KitUser extends KitRecordBase, KitUserFields {
  appId: string;
  userName: string;
  status: UserStatus;
}

export type OrgStatus = 'ACTIVE' | 'ARCHIVED' | 'DELETED';

export interface KitOrg extends KitRecordBase {
  orgCode: string;
  orgName: string;
  /** The parent department's code; empty for a top-level department. */
  parentCode: string;
  status: OrgStatus;
  /** The `timeStamp` of the full org sync that last wrote it, if one did. */
  snapshotAt?: string;
}

/** The last full org sync applied to a tenant: incremental events older than it are ignored. */
export interface OrgSnapshot extends KitRecordBase {
  orgCount: number;
}

export type KitRecord =
  | { kind: 'tenant'; value: Tenant }
  | { kind: 'app'; value: KitApp }
  | { kind: 'user'; value: KitUser }
  | { kind: 'org'; value: KitOrg }
  | { kind: 'orgSnapshot'; value: OrgSnapshot };

export const KIT_EVENT_TYPES = [
  'tenant.created',
  'tenant.updated',
  'tenant.deleted',
  'application.created',
  'application.updated',
  'application.deleted',
  'user.authorised',
  'user.updated',
  'user.revoked',
  'user.deleted',
  'org.created',
  'org.updated',
  'org.moved',
  'org.archived',
  'org.deleted',
] as const;
export type KitEventType = (typeof KIT_EVENT_TYPES)[number];

/** What the seller's product is told of a tenant, an application (never its secret), a user or a department. */
export type KitEventData =
  | { tenant: Omit<Tenant, 'updatedAt' | 'version' | 'timeStamp'> }
  | { application: Omit<KitApp, 'clientSecretCiphertext' | 'updatedAt' | 'version' | 'timeStamp'> }
  | { user: Omit<KitUser, 'updatedAt' | 'version' | 'timeStamp'> }
  | { org: Omit<KitOrg, 'updatedAt' | 'version' | 'timeStamp' | 'snapshotAt'> };

/**
 * One change of a Kit record, as it travels to the seller's product. Its id (`kit:<record>:<version>`) is unique per
 * change; `version` is the record's version after it, so the product can drop an event older than what it holds.
 */
export interface KitEvent {
  eventId: string;
  type: KitEventType;
  tenantId: string;
  version: number;
  occurredAt: string;
  test: boolean;
  data: KitEventData;
}

/** One planned change of a record: the record as it will be, the version it was read at (none: it must be new), its event. */
export interface KitChange {
  record: KitRecord;
  previousVersion: number | undefined;
  /** What happened, for the record's history; none for bookkeeping records. */
  event?: KitEvent;
}
