import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handleProduceCall } from '#lib/instances/produceCall.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import { sqsPublisher } from '#lib/outbox/publisher.ts';
import { sqsReceivingClient } from '#lib/aws/clients.ts';
import { handler as provision } from '../../functions/provision.ts';
import { sweepOutbox } from '#lib/outbox/relay.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { outboxStore } from '#lib/store/outboxStore.ts';
import { sqsEvent } from '../helpers/localStack.ts';
import { env, lambdaContext, produceDeps, uniqueId } from '../helpers/produce.ts';
import { goneInstanceEvent } from '../helpers/instances.ts';
import { ownQueuePairs } from '../helpers/queues.ts';
import { signedQuery } from '../helpers/signing.ts';

/** Transaction + outbox: an event the send after commit lost is re-sent by the sweep and handled once. */

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const sqs = sqsReceivingClient();
const queues = ownQueuePairs('outbox');

async function receiveEvent(queueUrl: string, eventId: string): Promise<SQSRecord> {
  for (let i = 0; i < 100; i++) {
    const out = await sqs.send('ReceiveMessage', {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 30,
    });
    const message = (out.Messages ?? []).find((m) => (JSON.parse(m.Body ?? '{}') as LifecycleEvent).eventId === eventId);
    if (message) return sqsEvent([message], 'arn:aws:sqs:us-east-1:000000000000:provisioning', 'us-east-1').Records[0]!;
  }
  throw new Error(`event ${eventId} never arrived`);
}

describe('outbox relay', () => {
  it('re-sends an event whose send failed, and the consumer completes it exactly once', async () => {
    // The sweep re-sends into a queue of this file's own: the shared provisioning queue holds every other file's events.
    const queueUrl = (await queues.queuePair()).source;
    const outbox = outboxStore(dynamoClient(), env('MAIN_TABLE'));
    const orderId = uniqueId('CS');
    const body = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: uniqueId('biz') };
    const warnings: string[] = [];
    const result = await handleProduceCall(
      { version: 'v2', rawBody: JSON.stringify(body), query: signedQuery(body), correlationId: uniqueId('c') },
      produceDeps({
        publisher: { publish: async (events) => events.map((e) => e.eventId) }, // SQS is down
        log: { ...quiet, warn: (m) => warnings.push(m) },
      }),
    );
    // The call still succeeds: the instance and its event are durable together.
    expect(result.answer.resultCode).toBe('000000');
    expect(warnings).toContain('events left to the outbox sweep');
    const eventId = `${body.businessId}:1`;

    const sweepDeps = { outbox, publisher: sqsPublisher(sqs, queueUrl), log: quiet, now: () => Date.now() + 120_000 };
    const first = await sweepOutbox(sweepDeps, { graceSeconds: 60, limit: 1000 });
    expect(first.resent).toBeGreaterThanOrEqual(1);
    // Each event is re-sent once only.
    const pendingAfter = await outbox.pending(new Date(Date.now() + 60_000).toISOString(), 1000);
    expect(pendingAfter.find((p) => p.event.eventId === eventId)?.resent).toBe(true);

    // Delivered twice (SQS is at least once): both deliveries succeed, the second finds nothing left to do.
    const record = await receiveEvent(queueUrl, eventId);
    const batch = await provision({ Records: [record, { ...record, messageId: `${record.messageId}-again` }] }, lambdaContext('c'));
    expect(batch.batchItemFailures).toEqual([]);
    const remaining = await outbox.pending(new Date(Date.now() + 60_000).toISOString(), 1000);
    expect(remaining.find((p) => p.event.eventId === eventId)).toBeUndefined();
  });

  it('reports malformed messages as batch item failures and handles the rest', async () => {
    const base = {
      receiptHandle: 'r',
      attributes: {} as SQSRecord['attributes'],
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'a',
      awsRegion: 'us-east-1',
    };
    // An event for an instance that no longer exists (a purged test instance) is done, not retried.
    const gone = goneInstanceEvent();
    const result = await provision(
      {
        Records: [
          { ...base, messageId: 'junk', body: 'not json' },
          { ...base, messageId: 'wrong-shape', body: '{"eventId":1}' },
          { ...base, messageId: 'ok', body: JSON.stringify(gone) },
        ],
      },
      lambdaContext('c'),
    );
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['junk', 'wrong-shape']);
  });
});
