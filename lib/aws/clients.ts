/**
 * The one place that builds AWS SDK clients. One client of each kind per process (a Lambda container reuses it),
 * with timeouts sized for the flow that uses it. Endpoints and credentials come from the standard AWS
 * environment variables (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3 locally).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

let dynamo: DynamoDBClient | undefined;
let longDynamo: DynamoDBClient | undefined;
let sqs: SQSClient | undefined;
let s3: S3Client | undefined;

/** Where a client sends its requests when not where the standard environment variables say (resilience runs). */
export interface ClientEndpoint {
  endpoint?: string | undefined;
}

/** A DynamoDB client like dynamoClient()'s, separate from it (its own connections), optionally at another endpoint. */
export function newDynamoClient(options: ClientEndpoint = {}): DynamoDBClient {
  return new DynamoDBClient({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1_500 },
  });
}

/** DynamoDB with timeouts sized for the marketplace's 5-second budget. */
export function dynamoClient(): DynamoDBClient {
  dynamo ??= newDynamoClient();
  return dynamo;
}

/**
 * DynamoDB for settlement's long reads (pages of up to 1 MB from the `bill` index): longer timeouts than the
 * marketplace path's client, which answers within 5 seconds.
 */
export function settlementDynamoClient(): DynamoDBClient {
  longDynamo ??= new DynamoDBClient({ maxAttempts: 5, requestHandler: { connectionTimeout: 2_000, requestTimeout: 15_000 } });
  return longDynamo;
}

/**
 * SQS. Requests go to the configured endpoint rather than the queue URL's host, so the local emulator's queue URLs
 * (host `sqs.<region>.localhost`) work without DNS; on AWS both are the same.
 */
export function sqsClient(): SQSClient {
  sqs ??= newSqsClient();
  return sqs;
}

/** An SQS client like sqsClient()'s, separate from it, optionally at another endpoint. */
export function newSqsClient(options: ClientEndpoint = {}): SQSClient {
  return new SQSClient({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    useQueueUrlAsEndpoint: false,
    maxAttempts: 2,
    requestHandler: { requestTimeout: 1_000 },
  });
}

/**
 * S3 for the functions. Checksums only where S3 requires them (a presigned URL must not carry a checksum of an
 * empty body, TOOLCHAIN.md); path-style addressing for local S3 endpoints (S3_FORCE_PATH_STYLE).
 */
export function s3Client(options: { forcePathStyle: boolean }): S3Client {
  s3 ??= new S3Client({
    forcePathStyle: options.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return s3;
}

export interface PresigningClientOptions {
  region: string;
  endpoint?: string | undefined;
  forcePathStyle?: boolean | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
}

/**
 * An S3 client for presigning with explicit settings (scripts and tests). Checksums only when an operation requires them: by default the SDK would put an
 * empty body's `x-amz-checksum-crc32` into upload URLs (which real S3 then refuses) and `x-amz-checksum-mode`
 * into download URLs.
 */
export function presigningS3Client(options: PresigningClientOptions): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
    ...(options.credentials
      ? {
          credentials: {
            accessKeyId: options.credentials.accessKeyId,
            secretAccessKey: options.credentials.secretAccessKey,
            ...(options.credentials.sessionToken ? { sessionToken: options.credentials.sessionToken } : {}),
          },
        }
      : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
