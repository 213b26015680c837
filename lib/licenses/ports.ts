/** What the License-code calls need of storage; lib/store/licenseStore.ts implements it on DynamoDB. */
import type { Expiry } from '#lib/shared/testData.ts';
import type { PlannedWrite } from '#lib/shared/transaction.ts';
import type { License, LicenseHistoryEntry } from './license.ts';

export interface LicenseStore {
  getLicense(code: string): Promise<License | undefined>;
  /** The license and whether a renewal order was already applied to it, in one round trip. */
  getLicenseAndApplied(
    code: string,
    idempotencyKey: string | undefined,
  ): Promise<{ license: License | undefined; alreadyApplied: boolean }>;
  /** A new license and its first history entry; fails (label `license`) if the code is registered already. */
  register(license: License, entry: LicenseHistoryEntry, expiresAt: Expiry): PlannedWrite[];
  /** The changed license (only if still at `previousVersion`), its history entry and the renewal's applied marker. */
  applyChange(
    previousVersion: number,
    next: License,
    entry: LicenseHistoryEntry,
    idempotencyKey: string | undefined,
    expiresAt: Expiry,
  ): PlannedWrite[];
  /** The whole history, oldest first. */
  getHistory(code: string): Promise<LicenseHistoryEntry[]>;
}
