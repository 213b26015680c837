/**
 * A License-code (授权码, spec §1.2, §5.1): KooGallery issues the code to the buyer; the seller's software activates
 * it; the marketplace calls back to renew, freeze, unfreeze and release it. A code is known to this server once the
 * seller registers it (`npx koogallery licenses register`); a callback for an unknown code answers 000003.
 * States: ACTIVE ⇄ FROZEN → RELEASED, never backwards; RELEASED is terminal.
 */
import type { SellerActor } from '#lib/audit/records.ts';

export const LICENSE_STATES = ['ACTIVE', 'FROZEN', 'RELEASED'] as const;
export type LicenseState = (typeof LICENSE_STATES)[number];

export interface License {
  license: string;
  state: LicenseState;
  /** Registered for the marketplace's debugger: kept out of settlement, expires. */
  test: boolean;
  orderId?: string;
  orderLineId?: string;
  productId?: string;
  /** Raw `yyyyMMddHHmmss` as the marketplace sent it. */
  expireTime?: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export type LicenseEvent = 'license.registered' | 'license.renewed' | 'license.frozen' | 'license.unfrozen' | 'license.released';

export interface LicenseHistoryEntry {
  license: string;
  actor: 'marketplace' | 'seller';
  version: number;
  at: string;
  activity: string;
  event: LicenseEvent;
  orderId?: string;
  orderLineId?: string;
  scene?: string;
  from?: LicenseState;
  to: LicenseState;
  changes?: { expireTime?: string; productId?: string };
  /** Who registered it (the operator CLI's principal), for `seller` entries. */
  by?: SellerActor;
}

export type LicenseCommand =
  | {
      activity: 'refreshLicenseCode';
      scene: string;
      orderId: string;
      orderLineId: string;
      expireTime: string;
      productId?: string | undefined;
    }
  | { activity: 'updateLicenseCodeStatus'; status: 'FREEZE' | 'UNFREEZE' }
  | { activity: 'releaseLicenseCode'; orderId?: string | undefined; orderLineId?: string | undefined };

export type LicenseDecision = { outcome: 'unchanged'; reason: string } | { outcome: 'changed'; next: License; entry: LicenseHistoryEntry };

function change(
  license: License,
  command: LicenseCommand,
  at: string,
  event: LicenseEvent,
  to: LicenseState,
  fields: Partial<Pick<License, 'expireTime' | 'productId'>> = {},
): LicenseDecision {
  const version = license.version + 1;
  const entry: LicenseHistoryEntry = {
    license: license.license,
    actor: 'marketplace',
    version,
    at,
    activity: command.activity,
    event,
    from: license.state,
    to,
  };
  if ('orderId' in command && command.orderId) entry.orderId = command.orderId;
  if ('orderLineId' in command && command.orderLineId) entry.orderLineId = command.orderLineId;
  if (command.activity === 'refreshLicenseCode') entry.scene = command.scene;
  if (Object.keys(fields).length > 0) entry.changes = fields;
  return { outcome: 'changed', next: { ...license, ...fields, state: to, version, updatedAt: at }, entry };
}

/** The License-code state machine, pure (the same rules as instances: idempotent, never backwards). */
export function decideLicense(license: License, command: LicenseCommand, at: string): LicenseDecision {
  if (license.state === 'RELEASED') return { outcome: 'unchanged', reason: 'license is released' };
  switch (command.activity) {
    case 'refreshLicenseCode': {
      const fields: Partial<Pick<License, 'expireTime' | 'productId'>> = { expireTime: command.expireTime };
      if (command.productId) fields.productId = command.productId;
      return change(license, command, at, 'license.renewed', license.state, fields);
    }
    case 'updateLicenseCodeStatus':
      if (command.status === 'FREEZE') {
        return license.state === 'FROZEN'
          ? { outcome: 'unchanged', reason: 'license is already frozen' }
          : change(license, command, at, 'license.frozen', 'FROZEN');
      }
      return license.state !== 'FROZEN'
        ? { outcome: 'unchanged', reason: 'license is not frozen' }
        : change(license, command, at, 'license.unfrozen', 'ACTIVE');
    case 'releaseLicenseCode':
      return change(license, command, at, 'license.released', 'RELEASED');
  }
}

/** A renewal order (per scene) applies once; status changes and release are idempotent by state. */
export function licenseIdempotencyKey(command: LicenseCommand): string | undefined {
  return command.activity === 'refreshLicenseCode' ? `refreshLicenseCode#${command.orderId}#${command.scene}` : undefined;
}

/** A license as the seller registers it. */
export function registerLicense(
  input: Pick<License, 'license' | 'test'> & Partial<Pick<License, 'orderId' | 'orderLineId' | 'productId' | 'expireTime'>>,
  at: string,
  by?: SellerActor,
): { license: License; entry: LicenseHistoryEntry } {
  const license: License = { ...input, state: 'ACTIVE', createdAt: at, updatedAt: at, version: 1 };
  const entry: LicenseHistoryEntry = {
    license: input.license,
    actor: 'seller',
    version: 1,
    at,
    activity: 'registerLicense',
    event: 'license.registered',
    to: 'ACTIVE',
  };
  if (input.orderId) entry.orderId = input.orderId;
  if (input.orderLineId) entry.orderLineId = input.orderLineId;
  if (by) entry.by = by;
  return { license, entry };
}
