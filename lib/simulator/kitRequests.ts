/**
 * Kit bodies as KooGallery sends them (spec kit.md §3): each interface's mandatory fields with fresh, valid values,
 * for the simulator's `kit` command, the conformance checks and the joint-operation scenario. Integers are JSON
 * numbers, `timeStamp` is `yyyyMMddHHmmssSSS` in UTC+8, applicationSync's clientSecret is encrypted with the
 * seller's public key.
 */
import { randomUUID } from 'node:crypto';
import { encryptClientSecret } from './kitSecret.ts';
import type { KitName } from './kitClient.ts';

const UTC8_MS = 8 * 3_600_000;

/** `yyyyMMddHHmmssSSS` in UTC+8, `offsetMs` from now. */
export const kitTimeStamp = (nowMs = Date.now()): string => new Date(nowMs + UTC8_MS).toISOString().replace(/\D/g, '').slice(0, 17);

export const newTenantId = (prefix = 'sim'): string => `${prefix}-${randomUUID().replace(/-/g, '').slice(0, 20)}`;

export interface KitIds {
  tenantId: string;
  instanceId: string;
  appId: string;
  /** The tenant's OneAccess base URL (tenantSync's domainName). */
  domainName: string;
}

/** The ids a call goes with: fresh unless given. */
export function kitIds(given: Partial<KitIds> = {}): KitIds {
  const tenantId = given.tenantId ?? newTenantId();
  return {
    tenantId,
    instanceId: given.instanceId ?? `sim-inst-${randomUUID().slice(0, 8)}`,
    appId: given.appId ?? 'sim-app',
    domainName: given.domainName ?? `https://${tenantId}.tenantaccount.example`,
  };
}

export interface KitUser {
  userName: string;
  name: string;
  orgCode: string;
  role: 'admin' | 'user';
  enable: 'true' | 'false';
}

export const kitUser = (userName: string, orgCode = 'root', role: KitUser['role'] = 'user'): KitUser => ({
  userName,
  name: `User ${userName}`,
  orgCode,
  role,
  enable: 'true',
});

export interface KitBodyOptions {
  ids: KitIds;
  /** applicationSync: the seller's public key (bare base64 SPKI) the clientSecret is encrypted with. */
  publicKey?: string;
  clientSecret?: string;
  users?: KitUser[];
  org?: { orgCode: string; orgName: string; parentCode: string };
  orgs?: Array<{ orgCode: string; orgName: string; parentCode: string }>;
  flag?: number;
  testFlag?: 0 | 1;
}

/** The default departments of a tenant: a head office and one department under it. */
export const DEFAULT_ORGS = [
  { orgCode: 'root', orgName: 'Head office', parentCode: '' },
  { orgCode: 'dev', orgName: 'Development', parentCode: 'root' },
];

/** A valid body of `name`. */
export function kitBody(name: KitName, options: KitBodyOptions): Record<string, unknown> {
  const { tenantId, instanceId, appId, domainName } = options.ids;
  const common = { instanceId, tenantId, testFlag: options.testFlag ?? 0, timeStamp: kitTimeStamp() };
  const flag = options.flag ?? 1;
  switch (name) {
    case 'tenantSync':
      return {
        ...common,
        orderId: `CS-${instanceId}`,
        tenantCode: tenantId.slice(0, 64),
        name: `Enterprise ${tenantId}`,
        domainName,
        flag,
      };
    case 'applicationSync': {
      if (!options.publicKey) throw new Error("applicationSync needs the seller's public key to encrypt clientSecret");
      const clientSecret = encryptClientSecret(options.publicKey, options.clientSecret ?? `secret-${randomUUID()}`);
      return { ...common, appId, clientId: `client-${tenantId}`.slice(0, 64), clientSecret, flag };
    }
    case 'authSync':
      return { ...common, appId, userList: options.users ?? [kitUser('alice')], currentSyncTime: kitTimeStamp(), flag };
    case 'singleOrgSync':
      return { ...common, ...(options.org ?? DEFAULT_ORGS[1]!), flag };
    case 'allOrgSync':
      return { ...common, orgInfoList: options.orgs ?? DEFAULT_ORGS };
  }
}
