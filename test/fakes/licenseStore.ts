/**
 * lib/licenses/ports.ts's LicenseStore in the memory table, with the semantics of lib/store/licenseStore.ts: a code
 * registers once, a change applies only at the version read, a renewal order's marker is created once.
 */
import type { License, LicenseHistoryEntry } from '#lib/licenses/license.ts';
import type { LicenseStore } from '#lib/licenses/ports.ts';
import type { Expiry } from '#lib/shared/testData.ts';
import { ifVersion, mustBeNew, padded, put, type MemoryTable, type MemoryWrite, type RowKey } from './memoryTable.ts';

const rows = {
  license: (code: string): RowKey => ['license', code],
  history: (code: string, version: number): RowKey => ['licenseHistory', code, padded(version)],
  applied: (code: string, idempotencyKey: string): RowKey => ['licenseApplied', code, idempotencyKey],
};

export function fakeLicenseStore(table: MemoryTable): LicenseStore {
  const history = (entry: LicenseHistoryEntry, expiresAt: Expiry) =>
    put('history', rows.history(entry.license, entry.version), entry, mustBeNew, expiresAt);

  return {
    getLicense: async (code) => table.get<License>(rows.license(code)),

    async getLicenseAndApplied(code, idempotencyKey) {
      return {
        license: table.get<License>(rows.license(code)),
        alreadyApplied: idempotencyKey !== undefined && table.get(rows.applied(code, idempotencyKey)) !== undefined,
      };
    },

    register: (license, entry, expiresAt): MemoryWrite[] => [
      put('license', rows.license(license.license), license, mustBeNew, expiresAt),
      history(entry, expiresAt),
    ],

    applyChange(previousVersion, next, entry, idempotencyKey, expiresAt): MemoryWrite[] {
      const writes = [put('license', rows.license(next.license), next, ifVersion(previousVersion), expiresAt), history(entry, expiresAt)];
      if (idempotencyKey)
        writes.push(
          put('applied', rows.applied(next.license, idempotencyKey), { version: entry.version, at: entry.at }, mustBeNew, expiresAt),
        );
      return writes;
    },

    getHistory: async (code) => table.list<LicenseHistoryEntry>('licenseHistory', code).map((row) => row.value),
  };
}
