import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ReconcileReport } from '../settlement/billComparison.ts';
import { keys } from './keys.ts';

/** The month's reconciliation (`STATEMENT#<period>/#RECONCILIATION`): the latest bill upload and its last report. */
export interface ReconciliationRecord {
  period: string;
  uploadId: string;
  /** bills/<period>/<uploadId>.csv */
  billKey: string;
  requestedAt: string;
  reportKey?: string;
  reportVersion?: number;
  reportedAt?: string;
  totals?: ReconcileReport['totals'];
}

export function reconciliationStore(client: DynamoDBClient, table: string) {
  return {
    async get(period: string): Promise<ReconciliationRecord | undefined> {
      const out = await client.send(new GetItemCommand({ TableName: table, Key: marshall(keys.reconciliation(period)), ConsistentRead: true }));
      if (!out.Item) return undefined;
      const { pk: _pk, sk: _sk, type: _type, ...record } = unmarshall(out.Item);
      return record as ReconciliationRecord;
    },
    /** A new upload replaces the previous one (and its report); a report is added to its upload. */
    async put(record: ReconciliationRecord): Promise<void> {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: marshall({ ...keys.reconciliation(record.period), type: 'reconciliation', ...record }, { removeUndefinedValues: true }),
        }),
      );
    },
  };
}

export type ReconciliationStore = ReturnType<typeof reconciliationStore>;
