import { type Message } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { handler as worker } from '../../functions/settlementWorker.ts';
import { sqsClient } from '#lib/aws/clients.ts';
import { sqsEvent } from './localStack.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../scripts/local/emulators.ts';
import { startS3Gateway, type S3Gateway } from '../../scripts/local/s3-gateway.ts';
import { env, lambdaContext } from './produce.ts';

/** A settlement queue of the test file's own (so nothing else consumes it), on fauxqs. */
export async function ownSettlementQueue(name: string): Promise<{ url: string; arn: string }> {
  const created = await sqsClient().send('CreateQueue', { QueueName: name, Attributes: { VisibilityTimeout: '30' } });
  return { url: created.QueueUrl!, arn: `arn:aws:sqs:us-east-1:000000000000:${name}` };
}

/**
 * Receives the queue's messages and hands each to the settlement worker function (a batch of 1, as deployed) until
 * `finished()` says the run is over; every message must succeed.
 */
export async function drainSettlement(
  queue: { url: string; arn: string },
  finished: () => Promise<boolean>,
  options: { deliverTwice?: (m: Message) => boolean } = {},
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error('the settlement run did not finish');
    const out = await sqsClient().send('ReceiveMessage', {
      QueueUrl: queue.url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['All'],
    });
    const messages = out.Messages ?? [];
    if (messages.length === 0) {
      if (await finished()) return;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    for (const m of messages) {
      const times = options.deliverTwice?.(m) ? 2 : 1;
      for (let i = 0; i < times; i++) {
        const result = (await worker(
          sqsEvent([m], queue.arn, 'us-east-1'),
          lambdaContext(randomBytes(4).toString('hex')),
        )) as SQSBatchResponse;
        expect(result.batchItemFailures, `message ${m.Body}`).toEqual([]);
      }
      await sqsClient().send('DeleteMessage', { QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle! });
    }
  }
}

/**
 * A settlement queue of the test file's own and the local S3 front over the emulator (presigned POST uploads), with
 * the settlement settings the functions read set in process.env before any of them reads its configuration.
 */
export async function settlementTestStack(
  name: string,
  feeShares: string,
  /** The origins the front's CORS rule allows (the console's, for browser uploads). */
  corsOrigins?: () => readonly string[],
): Promise<{ queue: { url: string; arn: string }; gateway: S3Gateway }> {
  const queue = await ownSettlementQueue(name);
  const gateway = await startS3Gateway({
    upstream: env('AWS_ENDPOINT_URL_S3'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    notifications: [],
    ...(corsOrigins ? { corsOrigins } : {}),
    log: () => {},
  });
  Object.assign(process.env, {
    SETTLEMENT_QUEUE_URL: queue.url,
    SETTLEMENT_FEE_SHARES: feeShares,
    SETTLEMENT_TAX_RATE: '0.06',
    AWS_ENDPOINT_URL_S3: gateway.endpoint,
  });
  return { queue, gateway };
}
