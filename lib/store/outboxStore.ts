import {
  DeleteItemCommand,
  QueryCommand,
  UpdateItemCommand,
  ConditionalCheckFailedException,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { lifecycleEventSchema, type LifecycleEvent } from '../outbox/events.ts';
import { keys } from './keys.ts';

export interface PendingEvent {
  event: LifecycleEvent;
  resent: boolean;
}

/**
 * The outbox: lifecycle events written in the same transaction as the state change they describe.
 * The consumer deletes an event once handled; the sweep re-sends events nobody handled in time.
 */
export function outboxStore(client: DynamoDBClient, table: string) {
  return {
    /** Removes a handled event; an event already removed (a redelivery) is fine. */
    async complete(event: Pick<LifecycleEvent, 'occurredAt' | 'eventId'>): Promise<void> {
      await client.send(new DeleteItemCommand({ TableName: table, Key: marshall(keys.outbox(event.occurredAt, event.eventId)) }));
    },

    /** Events older than `before` still waiting, oldest first. */
    async pending(before: string, limit: number): Promise<PendingEvent[]> {
      const found: PendingEvent[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk AND sk < :before',
            ExpressionAttributeValues: marshall({ ':pk': keys.outboxPartition, ':before': before }),
            Limit: limit - found.length,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) {
          const parsed = lifecycleEventSchema.safeParse(JSON.parse(item.message?.S ?? 'null'));
          if (parsed.success) found.push({ event: parsed.data, resent: item.resentAt !== undefined });
        }
        start = out.LastEvaluatedKey;
      } while (start && found.length < limit);
      return found;
    },

    /** Records that the sweep re-sent an event; false if another sweep already did. */
    async markResent(event: LifecycleEvent, at: string): Promise<boolean> {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: marshall(keys.outbox(event.occurredAt, event.eventId)),
            UpdateExpression: 'SET resentAt = :at',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(resentAt)',
            ExpressionAttributeValues: marshall({ ':at': at }),
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
  };
}

export type OutboxStore = ReturnType<typeof outboxStore>;
