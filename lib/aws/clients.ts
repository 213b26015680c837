/**
 * The one place that builds AWS SDK clients. One client of each kind per process (a Lambda container reuses it),
 * with timeouts that really fire (CLIENT_TIMEOUTS), sized for the flows that use it. Endpoints and credentials come from the standard AWS
 * environment variables (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3 locally).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { stepSignal } from '#lib/shared/budget.ts';

let dynamo: DynamoDBClient | undefined;
let longDynamo: DynamoDBClient | undefined;
let sqs: SQSClient | undefined;
let s3: S3Client | undefined;
let ssm: SSMClient | undefined;
let sqsReceive: SQSClient | undefined;

/**
 * The limits of one client. Per attempt: connecting (`connectionTimeout`), the wait for the answer's headers
 * (`requestTimeout`) and silence while its body arrives (`socketTimeout`); each ends the attempt with a TimeoutError
 * (`throwOnRequestTimeout`: without it the SDK only logs a warning and keeps waiting) and the SDK retries up to
 * `maxAttempts`. A flow with a total budget (the production interface) also cancels the command when its step's
 * time is up (`stepSignal`, lib/shared/budget.ts).
 */
export interface ClientTimeouts {
  maxAttempts: number;
  connectionTimeout: number;
  requestTimeout: number;
  socketTimeout: number;
}

export const CLIENT_TIMEOUTS = {
  /** Every function's DynamoDB, the marketplace's path included (5 s budget). */
  dynamo: { maxAttempts: 3, connectionTimeout: 500, requestTimeout: 1_500, socketTimeout: 1_500 },
  /** Settlement's long reads (pages of up to 1 MB from the `bill` index), in functions with minutes to run. */
  settlementDynamo: { maxAttempts: 5, connectionTimeout: 2_000, requestTimeout: 15_000, socketTimeout: 15_000 },
  /** Sends to the provisioning and settlement queues. */
  sqs: { maxAttempts: 2, connectionTimeout: 500, requestTimeout: 1_000, socketTimeout: 1_000 },
  /** Receives with a long poll (WaitTimeSeconds up to 20): the operator's redrive, off the marketplace's path. */
  sqsReceive: { maxAttempts: 2, connectionTimeout: 1_000, requestTimeout: 25_000, socketTimeout: 25_000 },
  /** Statement files and delivery proofs: an upload's answer comes once its whole body is sent. */
  s3: { maxAttempts: 3, connectionTimeout: 1_000, requestTimeout: 30_000, socketTimeout: 10_000 },
  /** SecureStrings (access keys, AK/SK), read once per container and cached (lib/secrets.ts). */
  ssm: { maxAttempts: 2, connectionTimeout: 500, requestTimeout: 1_000, socketTimeout: 1_000 },
} as const satisfies Record<string, ClientTimeouts>;

/** The SDK settings of `limits`. */
export function clientLimits(limits: ClientTimeouts) {
  const { maxAttempts, ...perAttempt } = limits;
  return { maxAttempts, requestHandler: { ...perAttempt, throwOnRequestTimeout: true } };
}

type Send = (command: unknown, options?: unknown, callback?: unknown) => unknown;

/** The client, sending each command with the abort signal of the budget step it runs in, if any. */
function cancelledWithStep<C extends object>(client: C): C {
  const target = client as unknown as { send: Send };
  const send: Send = target.send.bind(client);
  target.send = (command, options, callback) => {
    const signal = stepSignal();
    if (!signal || typeof options === 'function' || callback !== undefined) return send(command, options, callback);
    return send(command, { abortSignal: signal, ...(options as object | undefined) });
  };
  return client;
}

/** Where a client sends its requests when not where the standard environment variables say (resilience runs). */
export interface ClientEndpoint {
  endpoint?: string | undefined;
}

const at = (options: ClientEndpoint) => (options.endpoint ? { endpoint: options.endpoint } : {});

/** A DynamoDB client like dynamoClient()'s, separate from it (its own connections), optionally at another endpoint. */
export function newDynamoClient(options: ClientEndpoint = {}): DynamoDBClient {
  return cancelledWithStep(new DynamoDBClient({ ...at(options), ...clientLimits(CLIENT_TIMEOUTS.dynamo) }));
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
  longDynamo ??= new DynamoDBClient(clientLimits(CLIENT_TIMEOUTS.settlementDynamo));
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

/** SQS for receiving with a long poll (a 1 s request timeout would cut a 1 s wait short). */
export function sqsReceivingClient(): SQSClient {
  sqsReceive ??= new SQSClient({ useQueueUrlAsEndpoint: false, ...clientLimits(CLIENT_TIMEOUTS.sqsReceive) });
  return sqsReceive;
}

/** An SQS client like sqsClient()'s, separate from it, optionally at another endpoint. */
export function newSqsClient(options: ClientEndpoint = {}): SQSClient {
  return cancelledWithStep(new SQSClient({ ...at(options), useQueueUrlAsEndpoint: false, ...clientLimits(CLIENT_TIMEOUTS.sqs) }));
}

/** SSM Parameter Store, for the SecureStrings of lib/secrets.ts. */
export function ssmClient(): SSMClient {
  ssm ??= cancelledWithStep(new SSMClient(clientLimits(CLIENT_TIMEOUTS.ssm)));
  return ssm;
}

/**
 * S3 for the functions. Checksums only where S3 requires them (a presigned URL must not carry a checksum of an
 * empty body, TOOLCHAIN.md); path-style addressing for local S3 endpoints (S3_FORCE_PATH_STYLE).
 */
export function s3Client(options: { forcePathStyle: boolean }): S3Client {
  s3 ??= new S3Client({
    ...clientLimits(CLIENT_TIMEOUTS.s3),
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
    ...clientLimits(CLIENT_TIMEOUTS.s3),
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
