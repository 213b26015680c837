/**
 * The Kit outbox (`KITOUTBOX` partition): the events of Kit changes, written in the same transaction as the change
 * (lib/store/kitStore.ts). The provisioning worker deletes an event once the seller's product has it; the outbox
 * sweep re-sends events nobody handled in time. Kept apart from the lifecycle outbox so neither crowds out the other.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { asKitEvent, kitEventSchema } from '#lib/kit/eventSchema.ts';
import type { KitEvent } from '#lib/kit/model.ts';
import type { KitOutbox } from '#lib/kit/ports.ts';
import { safeParse } from 'zod/v4/core';
import { queryItems, updateIf } from './dynamo.ts';
import { keys } from './keys.ts';

export function kitOutboxStore(client: DynamoDb, table: string): KitOutbox {
  return {
    async complete(event) {
      await client.send('DeleteItem', { TableName: table, Key: marshall(keys.kitOutbox(event.occurredAt, event.eventId)) });
    },

    async pending(before, limit) {
      const items = await queryItems(
        client,
        {
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND sk < :before',
          ExpressionAttributeValues: marshall({ ':pk': keys.kitOutboxPartition, ':before': before }),
        },
        { limit },
      );
      const found: { event: KitEvent; resent: boolean }[] = [];
      for (const item of items) {
        const parsed = safeParse(kitEventSchema, JSON.parse(item.message?.S ?? 'null'));
        if (parsed.success) found.push({ event: asKitEvent(parsed.data), resent: item.resentAt !== undefined });
      }
      return found;
    },

    async markResent(event, at) {
      const updated = await updateIf(client, table, keys.kitOutbox(event.occurredAt, event.eventId), {
        UpdateExpression: 'SET resentAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(resentAt)',
        ExpressionAttributeValues: marshall({ ':at': at }),
      });
      return updated !== undefined;
    },
  };
}
