/** The local tables' items as plain objects, for the resilience runs' checks of what changed. */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { queryItems } from '#lib/store/dynamo.ts';

export type Item = Record<string, unknown>;

/** Every item of one partition (consistent), those the filter keeps if one is given. */
export async function queryPartition(
  client: DynamoDb,
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
