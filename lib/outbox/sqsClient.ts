import { SQSClient } from '@aws-sdk/client-sqs';

let client: SQSClient | undefined;

/**
 * One SQS client per process. Requests go to the configured endpoint rather than the queue URL's host, so the
 * local emulator's queue URLs (host `sqs.<region>.localhost`) work without DNS; on AWS both are the same.
 */
export function sqsClient(): SQSClient {
  client ??= new SQSClient({ useQueueUrlAsEndpoint: false, maxAttempts: 2, requestHandler: { requestTimeout: 1_000 } });
  return client;
}
