/**
 * SQS over lib/aws/awsJson.ts (SQS speaks AWS JSON 1.0): the operations the functions, tools and tests use, typed with the SDK's own input and
 * output types (types only). Requests go to the configured endpoint, never to the queue URL's host, so the local
 * emulator's queue URLs (host `sqs.<region>.localhost`) work without DNS; on AWS both are the same.
 */
import type {
  ChangeMessageVisibilityCommandInput,
  ChangeMessageVisibilityCommandOutput,
  CreateQueueCommandInput,
  CreateQueueCommandOutput,
  DeleteMessageCommandInput,
  DeleteMessageCommandOutput,
  DeleteQueueCommandInput,
  DeleteQueueCommandOutput,
  PurgeQueueCommandInput,
  PurgeQueueCommandOutput,
  SendMessageCommandInput,
  SendMessageCommandOutput,
  SetQueueAttributesCommandInput,
  SetQueueAttributesCommandOutput,
  DeleteMessageBatchCommandInput,
  DeleteMessageBatchCommandOutput,
  GetQueueAttributesCommandInput,
  GetQueueAttributesCommandOutput,
  GetQueueUrlCommandInput,
  GetQueueUrlCommandOutput,
  ReceiveMessageCommandInput,
  ReceiveMessageCommandOutput,
  SendMessageBatchCommandInput,
  SendMessageBatchCommandOutput,
} from '@aws-sdk/client-sqs';
import { awsJsonClient, type AwsJsonClient, type AwsJsonOptions, type AwsJsonService } from './awsJson.ts';

type Answer<T> = Omit<T, '$metadata'>;

export interface SqsOperations {
  ChangeMessageVisibility: { input: ChangeMessageVisibilityCommandInput; output: Answer<ChangeMessageVisibilityCommandOutput> };
  CreateQueue: { input: CreateQueueCommandInput; output: Answer<CreateQueueCommandOutput> };
  DeleteMessage: { input: DeleteMessageCommandInput; output: Answer<DeleteMessageCommandOutput> };
  DeleteQueue: { input: DeleteQueueCommandInput; output: Answer<DeleteQueueCommandOutput> };
  PurgeQueue: { input: PurgeQueueCommandInput; output: Answer<PurgeQueueCommandOutput> };
  SendMessage: { input: SendMessageCommandInput; output: Answer<SendMessageCommandOutput> };
  SetQueueAttributes: { input: SetQueueAttributesCommandInput; output: Answer<SetQueueAttributesCommandOutput> };
  DeleteMessageBatch: { input: DeleteMessageBatchCommandInput; output: Answer<DeleteMessageBatchCommandOutput> };
  GetQueueAttributes: { input: GetQueueAttributesCommandInput; output: Answer<GetQueueAttributesCommandOutput> };
  GetQueueUrl: { input: GetQueueUrlCommandInput; output: Answer<GetQueueUrlCommandOutput> };
  ReceiveMessage: { input: ReceiveMessageCommandInput; output: Answer<ReceiveMessageCommandOutput> };
  SendMessageBatch: { input: SendMessageBatchCommandInput; output: Answer<SendMessageBatchCommandOutput> };
}

/** An SQS client: `sqs.send('SendMessageBatch', { QueueUrl, Entries })`. */
export type Sqs = AwsJsonClient<SqsOperations>;

export const SQS: AwsJsonService = {
  name: 'sqs',
  targetPrefix: 'AmazonSQS',
  endpointVariable: 'AWS_ENDPOINT_URL_SQS',
  binaryKeys: ['BinaryValue', 'BinaryListValues'],
  // Asks for the error's Query-protocol name too (x-amzn-query-error), kept as the error's `Code`.
  headers: { 'x-amzn-query-mode': 'true' },
};

export const sqs = (options: AwsJsonOptions): Sqs => awsJsonClient<SqsOperations>(SQS, options);
