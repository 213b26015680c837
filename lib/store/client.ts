import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

let client: DynamoDBClient | undefined;

/**
 * One DynamoDB client per process, with timeouts sized for the marketplace's 5-second budget.
 * The endpoint comes from the standard AWS_ENDPOINT_URL_DYNAMODB variable locally.
 */
export function dynamoClient(): DynamoDBClient {
  client ??= new DynamoDBClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1_500 },
  });
  return client;
}
