import type { DynamoDb } from '#lib/aws/clients.ts';
import { marshall } from '@aws-sdk/util-dynamodb';
import { lifecycleEventSchema, type LifecycleEvent } from '#lib/outbox/events.ts';
import type { OutboxStore, PendingEvent } from '#lib/outbox/ports.ts';
import { queryItems, updateIf } from './dynamo.ts';
import { keys } from './keys.ts';

/**
 * The outbox: lifecycle events written in the same transaction as the state change they describe.
 * The consumer deletes an event once handled; the sweep re-sends events nobody handled in time.
 */
export function outboxStore(client: DynamoDb, table: string): OutboxStore {
  /** A conditional update of an outbox item that still exists; false when the condition does not hold. */
  async function update(event: LifecycleEvent, expression: string, condition: string, values: Record<string, unknown>): Promise<boolean> {
    const updated = await updateIf(client, table, keys.outbox(event.occurredAt, event.eventId), {
      UpdateExpression: expression,
      ConditionExpression: `attribute_exists(pk) AND (${condition})`,
      ExpressionAttributeValues: marshall(values),
    });
    return updated !== undefined;
  }

  return {
    /** Removes a handled event; an event already removed (a redelivery) is fine. */
    async complete(event: Pick<LifecycleEvent, 'occurredAt' | 'eventId'>): Promise<void> {
      await client.send('DeleteItem', { TableName: table, Key: marshall(keys.outbox(event.occurredAt, event.eventId)) });
    },

    /** Events older than `before` still waiting, oldest first. */
    async pending(before: string, limit: number): Promise<PendingEvent[]> {
      const found: PendingEvent[] = [];
      const items = await queryItems(
        client,
        {
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND sk < :before',
          ExpressionAttributeValues: marshall({ ':pk': keys.outboxPartition, ':before': before }),
        },
        { limit },
      );
      for (const item of items) {
        const parsed = lifecycleEventSchema.safeParse(JSON.parse(item.message?.S ?? 'null'));
        if (parsed.success) {
          found.push({
            event: parsed.data,
            resent: item.resentAt !== undefined,
            requeues: Number(item.requeues?.N ?? 0),
            reported: item.reportedAt !== undefined,
          });
        }
      }
      return found;
    },

    /** Records that the sweep re-sent an event; false if another sweep already did. */
    markResent(event: LifecycleEvent, at: string): Promise<boolean> {
      return update(event, 'SET resentAt = :at', 'attribute_not_exists(resentAt)', { ':at': at });
    },

    /** Counts a re-queue by the safety sweep; false if another sweep counted this one already. */
    markRequeued(event: LifecycleEvent, seen: number, at: string): Promise<boolean> {
      return update(event, 'SET requeues = :next, requeuedAt = :at', 'attribute_not_exists(requeues) OR requeues = :seen', {
        ':next': seen + 1,
        ':seen': seen,
        ':at': at,
      });
    },

    /** The safety sweep gave up on an event and reported it; false if it was reported already. */
    markReported(event: LifecycleEvent, at: string): Promise<boolean> {
      return update(event, 'SET reportedAt = :at', 'attribute_not_exists(reportedAt)', { ':at': at });
    },
  };
}
