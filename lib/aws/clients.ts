/**
 * The one place that builds AWS clients. One client of each kind per process (a Lambda container reuses it), with
 * timeouts that really fire (CLIENT_TIMEOUTS), sized for the flows that use it. DynamoDB and SQS go through our own
 * AWS JSON client (lib/aws/awsJson.ts; the SDK's client stack was two thirds of the production interface's bundle);
 * S3 and SSM through the SDK. Endpoints and credentials come from the standard AWS environment variables
 * (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3 locally).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { stepSignal } from '#lib/shared/budget.ts';
import type { AwsJsonOptions, ClientTimeouts, CredentialProvider } from './awsJson.ts';
import type { AwsCredentials } from './sigV4.ts';
import { dynamoDb, type DynamoDb } from './dynamoDb.ts';
import { sqs as sqsApi, type Sqs } from './sqs.ts';

export type { ClientTimeouts } from './awsJson.ts';
export type { DynamoDb } from './dynamoDb.ts';
export type { Sqs } from './sqs.ts';

let dynamo: DynamoDb | undefined;
let longDynamo: DynamoDb | undefined;
let sqs: Sqs | undefined;
let s3: S3Client | undefined;
let ssm: SSMClient | undefined;
let sqsReceive: Sqs | undefined;

/**
 * The limits of each client: per attempt, connecting (`connectionTimeout`), the wait for the answer's headers
 * (`requestTimeout`) and silence while its body arrives (`socketTimeout`), each ending the attempt with a
 * TimeoutError; then up to `maxAttempts` attempts. A flow with a total budget (the production interface) also
 * cancels the call when its step's time is up (`stepSignal`, lib/shared/budget.ts).
 */
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
  /** Notifications to the stack's SNS topic (lib/notifications), off the marketplace's path. */
  sns: { maxAttempts: 3, connectionTimeout: 1_000, requestTimeout: 3_000, socketTimeout: 3_000 },
  /** SecureStrings (access keys, AK/SK), read once per container and cached (lib/secrets.ts). */
  ssm: { maxAttempts: 2, connectionTimeout: 500, requestTimeout: 1_000, socketTimeout: 1_000 },
} as const satisfies Record<string, ClientTimeouts>;

/** The SDK settings of `limits` (S3, SSM). */
export function clientLimits(limits: ClientTimeouts) {
  const { maxAttempts, ...perAttempt } = limits;
  return { maxAttempts, requestHandler: { ...perAttempt, throwOnRequestTimeout: true } };
}

/**
 * The credentials of our own clients: the SDK's default chain when run unbundled (scripts, tests: environment,
 * then profiles and SSO); in the functions' bundles the environment's only (lib/aws/lambdaCredentials.ts).
 */
let chain: CredentialProvider | undefined;
const credentials: CredentialProvider = () => (chain ??= defaultProvider())();

type Send = (command: unknown, options?: unknown, callback?: unknown) => unknown;

/** An SDK client, sending each command with the abort signal of the budget step it runs in, if any. */
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

/** Where a client sends its requests when not where the standard environment variables say (local stack, resilience runs). */
export interface ClientEndpoint {
  endpoint?: string | undefined;
  region?: string | undefined;
  credentials?: AwsCredentials | undefined;
  /** In front of each HTTP attempt (the benchmarks count attempts, the fault runs fail them). */
  sendAttempt?: AwsJsonOptions['sendAttempt'];
}

const settingsOf = (options: ClientEndpoint) => ({
  endpoint: options.endpoint,
  region: options.region,
  credentials: options.credentials ? async () => options.credentials! : credentials,
  sendAttempt: options.sendAttempt,
});

/** A DynamoDB client like dynamoClient()'s, separate from it (its own connections), optionally at another endpoint. */
export function newDynamoClient(options: ClientEndpoint = {}): DynamoDb {
  return dynamoDb({ ...settingsOf(options), limits: CLIENT_TIMEOUTS.dynamo });
}

/** DynamoDB with timeouts sized for the marketplace's 5-second budget. */
export function dynamoClient(): DynamoDb {
  dynamo ??= newDynamoClient();
  return dynamo;
}

/**
 * DynamoDB for settlement's long reads (pages of up to 1 MB from the `bill` index): longer timeouts than the
 * marketplace path's client, which answers within 5 seconds.
 */
export function settlementDynamoClient(): DynamoDb {
  longDynamo ??= dynamoDb({ limits: CLIENT_TIMEOUTS.settlementDynamo, credentials });
  return longDynamo;
}

/** SQS for sending (lib/aws/sqs.ts). */
export function sqsClient(): Sqs {
  sqs ??= newSqsClient();
  return sqs;
}

/** SQS for receiving with a long poll (a 1 s request timeout would cut a 1 s wait short). */
export function sqsReceivingClient(): Sqs {
  sqsReceive ??= sqsApi({ limits: CLIENT_TIMEOUTS.sqsReceive, credentials });
  return sqsReceive;
}

/** An SQS client like sqsClient()'s, separate from it, optionally at another endpoint. */
export function newSqsClient(options: ClientEndpoint = {}): Sqs {
  return sqsApi({ ...settingsOf(options), limits: CLIENT_TIMEOUTS.sqs });
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
