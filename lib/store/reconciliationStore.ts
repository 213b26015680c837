import type { DynamoDb } from '#lib/aws/clients.ts';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ReconciliationRecord, ReconciliationStore } from '#lib/settlement/ports.ts';
import { getItem } from './dynamo.ts';
import { keys } from './keys.ts';

/** The month's reconciliation (`STATEMENT#<period>/#RECONCILIATION`): the latest bill upload and its last report. */
export function reconciliationStore(client: DynamoDb, table: string): ReconciliationStore {
  return {
    async get(period: string): Promise<ReconciliationRecord | undefined> {
      const item = await getItem(client, table, keys.reconciliation(period));
      if (!item) return undefined;
      const { pk: _pk, sk: _sk, type: _type, ...record } = unmarshall(item);
      return record as ReconciliationRecord;
    },
    /** A new upload replaces the previous one (and its report); a report is added to its upload. */
    async put(record: ReconciliationRecord): Promise<void> {
      await client.send('PutItem', {
        TableName: table,
        Item: marshall({ ...keys.reconciliation(record.period), type: 'reconciliation', ...record }, { removeUndefinedValues: true }),
      });
    },
  };
}
