/**
 * The events a Kit change sends to the seller's product (docs/webhook.md): one per changed record, carrying the
 * record as the product needs it (an application never with its secret). One event id per record version, so the
 * product can drop redeliveries.
 */
import { createHash } from 'node:crypto';
import type { KitApp, KitEvent, KitEventData, KitEventType, KitOrg, KitRecord, KitUser, Tenant } from './model.ts';

/** A short stable id of a record (its kind and ids), for event ids. */
export function recordId(record: KitRecord): string {
  const v = record.value;
  const parts: string[] = [record.kind, v.tenantId];
  if (record.kind === 'app') parts.push(record.value.appId);
  if (record.kind === 'user') parts.push(record.value.appId, record.value.userName);
  if (record.kind === 'org') parts.push(record.value.orgCode);
  return createHash('sha256').update(parts.map(encodeURIComponent).join('#')).digest('hex').slice(0, 32);
}

function tenantData({ updatedAt: _u, version: _v, timeStamp: _t, ...tenant }: Tenant): KitEventData {
  return { tenant };
}

function appData({ updatedAt: _u, version: _v, timeStamp: _t, clientSecretCiphertext: _secret, ...application }: KitApp): KitEventData {
  return { application };
}

function userData({ updatedAt: _u, version: _v, timeStamp: _t, ...user }: KitUser): KitEventData {
  return { user };
}

function orgData({ updatedAt: _u, version: _v, timeStamp: _t, snapshotAt: _s, ...org }: KitOrg): KitEventData {
  return { org };
}

/** The event of a change to `record` (its new version), or undefined for bookkeeping records. */
export function kitEvent(record: KitRecord, type: KitEventType): KitEvent | undefined {
  let data: KitEventData;
  if (record.kind === 'tenant') data = tenantData(record.value);
  else if (record.kind === 'app') data = appData(record.value);
  else if (record.kind === 'user') data = userData(record.value);
  else if (record.kind === 'org') data = orgData(record.value);
  else return undefined;
  const v = record.value;
  return {
    eventId: `kit:${recordId(record)}:${v.version}`,
    type,
    tenantId: v.tenantId,
    version: v.version,
    occurredAt: v.updatedAt,
    test: v.test,
    data,
  };
}
