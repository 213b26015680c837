/** The License-code registration's dependencies on DynamoDB: the license items of the main table and a transaction. */
import type { DynamoDb } from '#lib/aws/clients.ts';
import { commitWrites } from '#lib/store/dynamo.ts';
import { licenseStore } from '#lib/store/licenseStore.ts';
import type { LicenseRegistry } from './registration.ts';

export function licenseRegistry(client: DynamoDb, table: string): LicenseRegistry {
  return { licenses: licenseStore(client, table), commit: (writes) => commitWrites(client, writes) };
}
