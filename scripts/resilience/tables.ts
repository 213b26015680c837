/** The local tables' items as plain objects, for the resilience runs' checks of what changed. */
import { QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

export type Item = Record<string, unknown>;

/** Every item of one partition (consistent), those the filter keeps if one is given. */
export async function queryPartition(
  client: DynamoDBClient,
  table: string,
  pk: string,
  filter?: { expression: string; values: Record<string, unknown> },
): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ...(filter ? { FilterExpression: filter.expression } : {}),
        ExpressionAttributeValues: marshall({ ':pk': pk, ...(filter?.values ?? {}) }),
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const raw of page.Items ?? []) out.push(unmarshall(raw));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}
