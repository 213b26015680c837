import type { DynamoDb } from '#lib/aws/clients.ts';
import { toItem } from './dynamo.ts';
import type { AuditRecord } from '#lib/audit/records.ts';
import { keys } from './keys.ts';

/**
 * Appends one record to the audit table outside a transaction (the usage push's outbound calls). Like every
 * audit write it only ever creates: the put is conditioned on the item not existing.
 */
export function auditLog(client: DynamoDb, table: string) {
  return async (record: AuditRecord): Promise<void> => {
    await client.send('PutItem', {
      TableName: table,
      Item: toItem(keys.auditMessage(record.at, record.correlationId), record),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  };
}
