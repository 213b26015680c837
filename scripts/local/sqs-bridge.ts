/**
 * Local stand-in for Lambda's SQS event source mapping: long-polls a queue on fauxqs, invokes the consumer through
 * serverless-offline's Lambda invoke API with a real SQS event, and deletes every message the function did not
 * report in `batchItemFailures`. Failed messages are left alone: they come back after the queue's visibility timeout
 * and, after maxReceiveCount receives, fauxqs's redrive moves them to the dead-letter queue, as on AWS.
 *
 * Like AWS: an unhandled function error fails the whole batch; with ReportBatchItemFailures, an itemIdentifier that
 * is empty or not in the batch fails the whole batch; without it, any successful return deletes the whole batch.
 *
 * One local liberty, off by default: `retryDelaySeconds` makes a failed message visible again after that many seconds
 * (ChangeMessageVisibility) instead of after the queue's whole visibility timeout (180 s for the provisioning queue),
 * so retries can be watched without waiting minutes. Receive counts and the redrive to the DLQ are unchanged.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';

export interface SqsBridgeOptions {
  queueUrl: string;
  /** fauxqs endpoint, e.g. http://127.0.0.1:4566 */
  sqsEndpoint: string;
  /** Base URL of serverless-offline's Lambda API, e.g. http://127.0.0.1:3002 */
  lambdaEndpoint: string;
  /** Deployed function name, e.g. koogallery-isv-local-provision */
  functionName: string;
  /** Messages per invocation, 1..10 (default 10). */
  batchSize?: number;
  /** Long-poll wait, 0..5 s (default 5) so that stop() is quick. */
  waitTimeSeconds?: number;
  /** The event's functionResponseType is ReportBatchItemFailures (default true). */
  reportBatchItemFailures?: boolean;
  region?: string;
  /** One line per batch and per problem; default console.log. */
  log?: (line: string) => void;
  /** Give up on an invocation after this long (default 15 min, Lambda's maximum). */
  invokeTimeoutMs?: number;
  /**
   * Make a failed message visible again after this many seconds (0..43200) instead of when the queue's visibility
   * timeout ends. Default: unset, as on AWS.
   */
  retryDelaySeconds?: number;
}

export interface SqsBridge {
  readonly queueArn: string;
  /** Number of batches handled so far. */
  readonly batches: number;
  stop(): Promise<void>;
}

interface BatchResult {
  deleted: string[];
  kept: string[];
  note: string;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

function toLambdaAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, a] of Object.entries(attributes ?? {})) {
    out[name] = {
      dataType: a.DataType ?? 'String',
      stringListValues: a.StringListValues ?? [],
      binaryListValues: (a.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
      ...(a.BinaryValue !== undefined ? { binaryValue: Buffer.from(a.BinaryValue).toString('base64') } : {}),
    };
  }
  return out;
}

/** The SQS event Lambda would deliver for these messages. */
export function sqsEvent(messages: Message[], queueArn: string, region: string): SQSEvent {
  return {
    Records: messages.map((m): SQSRecord => {
      const a = m.Attributes ?? {};
      const attributes: SQSRecordAttributes = {
        ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
        SentTimestamp: a.SentTimestamp ?? String(Date.now()),
        SenderId: a.SenderId ?? '000000000000',
        ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
        ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
        ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
      };
      return {
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body ?? '',
        attributes,
        messageAttributes: toLambdaAttributes(m.MessageAttributes),
        md5OfBody: m.MD5OfBody ?? '',
        ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: region,
      };
    }),
  };
}

/** Which messages to delete, given the invoke API's answer. */
export function interpretResult(
  messageIds: string[],
  response: { status: number; functionError: string | null; payload: unknown },
  reportBatchItemFailures: boolean,
): BatchResult {
  const all = { deleted: [] as string[], kept: messageIds };
  if (response.status !== 200) return { ...all, note: `invoke answered HTTP ${response.status}` };
  if (response.functionError) {
    const p = response.payload as { errorType?: string; errorMessage?: string } | null;
    return { ...all, note: `function error: ${p?.errorType ?? response.functionError}: ${p?.errorMessage ?? ''}`.trim() };
  }
  if (!reportBatchItemFailures) return { deleted: messageIds, kept: [], note: '' };
  const failures = (response.payload as { batchItemFailures?: unknown } | null)?.batchItemFailures;
  if (failures === undefined || failures === null) return { deleted: messageIds, kept: [], note: '' };
  if (!Array.isArray(failures)) return { ...all, note: 'batchItemFailures is not an array: whole batch failed' };
  const failed = new Set<string>();
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !messageIds.includes(id)) {
      return { ...all, note: `invalid itemIdentifier ${JSON.stringify(id)}: whole batch failed` };
    }
    failed.add(id);
  }
  return {
    deleted: messageIds.filter((id) => !failed.has(id)),
    kept: messageIds.filter((id) => failed.has(id)),
    note: '',
  };
}

/** The Lambda invoke API's URL of a function under serverless-offline. */
export const invokeUrl = (lambdaEndpoint: string, functionName: string): string =>
  `${lambdaEndpoint.replace(/\/$/, '')}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;

/** Invokes a function synchronously through the invoke API: its HTTP status, function error and payload. */
export async function invokeOffline(
  url: string,
  event: unknown,
  signal: AbortSignal,
): Promise<{ status: number; functionError: string | null; payload: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' },
    body: JSON.stringify(event),
    signal,
  });
  const text = await response.text();
  let payload: unknown = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = text;
  }
  return {
    status: response.status,
    functionError: response.headers.get('x-amz-function-error') ?? response.headers.get('x-amzn-errortype'),
    payload,
  };
}

export async function startSqsBridge(options: SqsBridgeOptions): Promise<SqsBridge> {
  const region = options.region ?? 'us-east-1';
  const log = options.log ?? ((line: string) => console.log(line));
  const batchSize = Math.min(10, Math.max(1, options.batchSize ?? 10));
  const waitTimeSeconds = Math.min(5, Math.max(0, options.waitTimeSeconds ?? 5));
  const reportFailures = options.reportBatchItemFailures ?? true;
  const retryDelaySeconds = options.retryDelaySeconds;
  if (retryDelaySeconds !== undefined && (!Number.isInteger(retryDelaySeconds) || retryDelaySeconds < 0 || retryDelaySeconds > 43_200)) {
    throw new RangeError(`retryDelaySeconds must be an integer from 0 to 43200, got ${retryDelaySeconds}`);
  }
  const url = invokeUrl(options.lambdaEndpoint, options.functionName);
  const queueName = options.queueUrl.split('/').pop();
  const prefix = `[sqs-bridge] ${queueName} → ${options.functionName}:`;
  const sqs = new SQSClient({
    region,
    endpoint: options.sqsEndpoint,
    useQueueUrlAsEndpoint: false,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['QueueArn'] }));
  const queueArn = Attributes?.QueueArn ?? `arn:aws:sqs:${region}:000000000000:${queueName}`;
  const stopping = new AbortController();
  let batches = 0;

  const handleBatch = async (messages: Message[]) => {
    const started = Date.now();
    const ids = messages.map((m) => m.MessageId!);
    let result: BatchResult;
    try {
      const answer = await invokeOffline(
        url,
        sqsEvent(messages, queueArn, region),
        AbortSignal.any([stopping.signal, AbortSignal.timeout(options.invokeTimeoutMs ?? 900_000)]),
      );
      result = interpretResult(ids, answer, reportFailures);
    } catch (error) {
      if (stopping.signal.aborted) return;
      result = { deleted: [], kept: ids, note: `invoke failed: ${(error as Error).message}` };
    }
    const handles = messages.filter((m) => result.deleted.includes(m.MessageId!));
    for (let i = 0; i < handles.length; i += 10) {
      const chunk = handles.slice(i, i + 10);
      const answer = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      for (const f of answer.Failed ?? []) log(`${prefix} delete failed for entry ${f.Id}: ${f.Code} ${f.Message ?? ''}`);
    }
    if (retryDelaySeconds !== undefined) {
      const kept = messages.filter((m) => result.kept.includes(m.MessageId!));
      for (let i = 0; i < kept.length; i += 10) {
        const chunk = kept.slice(i, i + 10);
        try {
          const answer = await sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: retryDelaySeconds })),
            }),
          );
          for (const f of answer.Failed ?? []) log(`${prefix} visibility change failed for entry ${f.Id}: ${f.Code} ${f.Message ?? ''}`);
        } catch (error) {
          // The message simply comes back after the queue's own visibility timeout.
          log(`${prefix} visibility change failed: ${(error as Error).message}`);
        }
      }
    }
    batches++;
    const counts = messages.map((m) => m.Attributes?.ApproximateReceiveCount ?? '?').join(',');
    log(
      `${prefix} ${messages.length} message(s), ${result.deleted.length} done, ${result.kept.length} kept for retry` +
        ` (receive counts ${counts}, ${Date.now() - started} ms)${result.note ? ` - ${result.note}` : ''}` +
        (result.kept.length > 0 && retryDelaySeconds !== undefined ? `; retry in ${retryDelaySeconds} s` : ''),
    );
  };

  const loop = async () => {
    while (!stopping.signal.aborted) {
      try {
        const { Messages } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: stopping.signal },
        );
        if (Messages && Messages.length > 0) await handleBatch(Messages);
      } catch (error) {
        if (stopping.signal.aborted) break;
        log(`${prefix} receive failed: ${(error as Error).message}; retrying in 1 s`);
        await sleep(1_000, stopping.signal);
      }
    }
  };
  const running = loop();

  return {
    queueArn,
    get batches() {
      return batches;
    },
    async stop() {
      stopping.abort();
      await running;
      sqs.destroy();
    },
  };
}
