import { type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { License, LicenseHistoryEntry } from '#lib/licenses/license.ts';
import type { LicenseStore } from '#lib/licenses/ports.ts';
import type { Expiry } from '#lib/shared/testData.ts';
import { getItem, batchGet, put, putIfVersion, queryHistory, toItem, type LabeledWrite } from './dynamo.ts';
import { keys } from './keys.ts';

const LICENSE_FIELDS = [
  'license',
  'state',
  'test',
  'orderId',
  'orderLineId',
  'productId',
  'expireTime',
  'createdAt',
  'updatedAt',
  'version',
] as const;

function toLicense(item: Record<string, AttributeValue>): License {
  const raw = unmarshall(item);
  const license: Record<string, unknown> = {};
  for (const field of LICENSE_FIELDS) if (raw[field] !== undefined) license[field] = raw[field];
  return license as unknown as License;
}

/** License codes in the main table: `LICENSE#<code>` holds the license, its history and its applied markers. */
export function licenseStore(client: DynamoDb, table: string): LicenseStore {
  const ttlOf = (expiresAt: Expiry) => (expiresAt === undefined ? {} : { expiresAt });
  const history = (entry: LicenseHistoryEntry, expiresAt: Expiry) =>
    put(
      'history',
      table,
      toItem(keys.licenseHistory(entry.license, entry.version), { type: 'licenseHistory', ...entry, ...ttlOf(expiresAt) }),
      true,
    );

  return {
    async getLicense(code: string): Promise<License | undefined> {
      const item = await getItem(client, table, keys.license(code));
      return item ? toLicense(item) : undefined;
    },

    /** The license and whether a renewal order was already applied to it, in one round trip. */
    async getLicenseAndApplied(
      code: string,
      idempotencyKey: string | undefined,
    ): Promise<{ license: License | undefined; alreadyApplied: boolean }> {
      const wanted = [keys.license(code)];
      if (idempotencyKey) wanted.push(keys.licenseApplied(code, idempotencyKey));
      const items = await batchGet(client, table, wanted);
      const licenseItem = items.find((i) => i.sk?.S === '#LICENSE');
      return {
        license: licenseItem ? toLicense(licenseItem) : undefined,
        alreadyApplied: items.some((i) => i.sk?.S?.startsWith('APPLIED#')),
      };
    },

    /** A new license and its first history entry; fails (label `license`) if the code is registered already. */
    register(license: License, entry: LicenseHistoryEntry, expiresAt: Expiry): LabeledWrite[] {
      return [
        put('license', table, toItem(keys.license(license.license), { type: 'license', ...license, ...ttlOf(expiresAt) }), true),
        history(entry, expiresAt),
      ];
    },

    applyChange(previousVersion, next, entry, idempotencyKey, expiresAt): LabeledWrite[] {
      const writes: LabeledWrite[] = [
        putIfVersion(
          'license',
          table,
          toItem(keys.license(next.license), { type: 'license', ...next, ...ttlOf(expiresAt) }),
          previousVersion,
        ),
        history(entry, expiresAt),
      ];
      if (idempotencyKey) {
        writes.push(
          put(
            'applied',
            table,
            toItem(keys.licenseApplied(next.license, idempotencyKey), {
              type: 'applied',
              version: entry.version,
              at: entry.at,
              ...ttlOf(expiresAt),
            }),
            true,
          ),
        );
      }
      return writes;
    },

    /** The whole history, oldest first (every page of the query). */
    async getHistory(code: string): Promise<LicenseHistoryEntry[]> {
      return (await queryHistory(client, table, keys.license(code).pk)) as unknown as LicenseHistoryEntry[];
    },
  };
}
