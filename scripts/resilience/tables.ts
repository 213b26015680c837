/** The local tables' items as plain objects, for the resilience runs' checks of what changed. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { queryItems } from '#lib/store/dynamo.ts';

export type Item = Record<string, unknown>;

/** Every item of one partition (consistent), those the filter keeps if one is given. */
export async function queryPartition(
  client: DynamoDBClient,
  table: string,
  pk: string,
  filter?: { expression: string; values: Record<string, unknown> },
): Promise<Item[]> {
  const items = await queryItems(client, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk',
    ...(filter ? { FilterExpression: filter.expression } : {}),
    ExpressionAttributeValues: marshall({ ':pk': pk, ...(filter?.values ?? {}) }),
    ConsistentRead: true,
  });
  return items.map((raw) => unmarshall(raw));
}
