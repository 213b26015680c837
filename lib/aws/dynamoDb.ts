/**
 * DynamoDB over lib/aws/awsJson.ts: the operations our stores use, typed with the SDK's own input and output types
 * (types only: nothing of the SDK is bundled).
 */
import type {
  AttributeValue,
  BatchGetItemCommandInput,
  CancellationReason,
  BatchGetItemCommandOutput,
  BatchWriteItemCommandInput,
  BatchWriteItemCommandOutput,
  DeleteItemCommandInput,
  DeleteItemCommandOutput,
  GetItemCommandInput,
  GetItemCommandOutput,
  PutItemCommandInput,
  PutItemCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  TransactGetItemsCommandInput,
  TransactGetItemsCommandOutput,
  TransactWriteItemsCommandInput,
  TransactWriteItemsCommandOutput,
  UpdateItemCommandInput,
  UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { awsJsonClient, isServiceError, type AwsJsonClient, type AwsJsonOptions, type AwsJsonService } from './awsJson.ts';

type Answer<T> = Omit<T, '$metadata'>;

export interface DynamoOperations {
  BatchGetItem: { input: BatchGetItemCommandInput; output: Answer<BatchGetItemCommandOutput> };
  BatchWriteItem: { input: BatchWriteItemCommandInput; output: Answer<BatchWriteItemCommandOutput> };
  DeleteItem: { input: DeleteItemCommandInput; output: Answer<DeleteItemCommandOutput> };
  GetItem: { input: GetItemCommandInput; output: Answer<GetItemCommandOutput> };
  PutItem: { input: PutItemCommandInput; output: Answer<PutItemCommandOutput> };
  Query: { input: QueryCommandInput; output: Answer<QueryCommandOutput> };
  Scan: { input: ScanCommandInput; output: Answer<ScanCommandOutput> };
  TransactGetItems: { input: TransactGetItemsCommandInput; output: Answer<TransactGetItemsCommandOutput> };
  TransactWriteItems: { input: TransactWriteItemsCommandInput; output: Answer<TransactWriteItemsCommandOutput> };
  UpdateItem: { input: UpdateItemCommandInput; output: Answer<UpdateItemCommandOutput> };
}

/** A DynamoDB client: `db.send('GetItem', { TableName, Key })`. */
export type DynamoDb = AwsJsonClient<DynamoOperations>;

export const DYNAMODB: AwsJsonService = {
  name: 'dynamodb',
  targetPrefix: 'DynamoDB_20120810',
  endpointVariable: 'AWS_ENDPOINT_URL_DYNAMODB',
  binaryKeys: ['B', 'BS'],
  idempotencyTokens: { TransactWriteItems: 'ClientRequestToken' },
};

export const dynamoDb = (options: AwsJsonOptions): DynamoDb => awsJsonClient<DynamoOperations>(DYNAMODB, options);

/** The reasons DynamoDB gives for a cancelled transaction, one per item in order; undefined for any other error. */
export function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (!isServiceError(error, 'TransactionCanceledException')) return undefined;
  return Array.isArray(error.CancellationReasons) ? (error.CancellationReasons as CancellationReason[]) : [];
}

/**
 * Whether `error` says a condition did not hold: `{}`, with the item as it was when the request asked for it
 * (ReturnValuesOnConditionCheckFailure); undefined for any other error.
 */
export function failedCondition(error: unknown): { item?: Record<string, AttributeValue> } | undefined {
  if (!isServiceError(error, 'ConditionalCheckFailedException')) return undefined;
  return error.Item && typeof error.Item === 'object' ? { item: error.Item as Record<string, AttributeValue> } : {};
}
