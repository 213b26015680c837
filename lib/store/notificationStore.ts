/**
 * Notification records in the main table (`NOTIFICATION#<id>`), listed newest first through the `list` index
 * (listKind NOTIFICATION, listAt = <at>#<id>), kept 90 days (TTL).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { failedCondition } from '#lib/aws/dynamoDb.ts';
import type { NotificationStore } from '#lib/notifications/notifier.ts';
import type { Notification, NotificationRecord } from '#lib/notifications/model.ts';
import { decodeCursor, encodeCursor, keyString, startKey } from './cursor.ts';
import { LIST_INDEX, getItem, toItem, updateIf } from './dynamo.ts';
import { keys } from './keys.ts';

const LIST_KIND = 'NOTIFICATION';
const KEEP_DAYS = 90;

const cursorShape = z.strictObject({
  list: z.literal('notifications'),
  key: z.strictObject({ listKind: z.literal(LIST_KIND), listAt: keyString(), pk: keyString(), sk: z.literal('#NOTIFICATION') }),
});

function fromItem(item: Record<string, AttributeValue>): NotificationRecord {
  const {
    pk: _pk,
    sk: _sk,
    listKind: _kind,
    listAt: _at,
    expiresAt: _exp,
    type: _recordType,
    notificationType,
    ...rest
  } = unmarshall(item);
  return { ...rest, type: notificationType } as NotificationRecord;
}

export interface NotificationPage {
  items: NotificationRecord[];
  nextCursor?: string;
}

export function notificationStore(
  client: DynamoDb,
  table: string,
): NotificationStore & {
  get(id: string): Promise<NotificationRecord | undefined>;
  list(options: { limit: number; cursor?: string | undefined }): Promise<NotificationPage>;
} {
  return {
    async claim(notification: Notification, nowIso: string) {
      const { type, ...fields } = notification;
      const record = { ...fields, notificationType: type, status: 'sending', attempts: 1 };
      try {
        await client.send('PutItem', {
          TableName: table,
          Item: toItem(keys.notification(notification.id), record, {
            type: 'notification',
            listKind: LIST_KIND,
            listAt: `${notification.at}#${notification.id}`,
            claimedAt: nowIso,
            expiresAt: Math.floor(Date.parse(nowIso) / 1000) + KEEP_DAYS * 86_400,
          }),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
        return { claimed: true as const };
      } catch (error) {
        const failed = failedCondition(error);
        if (!failed) throw error;
        const existing = failed.item ?? (await getItem(client, table, keys.notification(notification.id)));
        if (!existing) throw error;
        return { claimed: false as const, existing: fromItem(existing) };
      }
    },

    async settle(id, outcome) {
      const values =
        outcome.status === 'sent'
          ? { ':status': 'sent', ':at': outcome.at }
          : { ':status': 'failed', ':error': outcome.error, ':at': outcome.at };
      await updateIf(client, table, keys.notification(id), {
        UpdateExpression:
          outcome.status === 'sent'
            ? 'SET #status = :status, sentAt = :at REMOVE lastError'
            : 'SET #status = :status, lastError = :error, failedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: marshall(values),
      });
    },

    async retake(id, attempts) {
      const updated = await updateIf(client, table, keys.notification(id), {
        UpdateExpression: 'SET #status = :sending, attempts = :next',
        ConditionExpression: '#status = :failed AND attempts = :attempts',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: marshall({ ':sending': 'sending', ':failed': 'failed', ':attempts': attempts, ':next': attempts + 1 }),
      });
      return updated !== undefined;
    },

    async get(id) {
      const item = await getItem(client, table, keys.notification(id));
      return item ? fromItem(item) : undefined;
    },

    async list({ limit, cursor }) {
      const out = await client.send('Query', {
        TableName: table,
        IndexName: LIST_INDEX,
        KeyConditionExpression: 'listKind = :kind',
        ExpressionAttributeValues: marshall({ ':kind': LIST_KIND }),
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor === undefined ? {} : { ExclusiveStartKey: startKey(decodeCursor(cursor, cursorShape).key) }),
      });
      const items = (out.Items ?? []).map(fromItem);
      return out.LastEvaluatedKey ? { items, nextCursor: encodeCursor(out.LastEvaluatedKey, { list: 'notifications' }) } : { items };
    },
  };
}
