import { randomUUID } from 'node:crypto';
import { afterAll } from 'vitest';
import { sqsReceivingClient } from '#lib/aws/clients.ts';

/**
 * Queues of a test file's own on fauxqs: a queue with its dead-letter queue (moved there after 5 receives), so what
 * a test sends and moves is exactly what it asserts. Every queue made is deleted after the file's tests.
 */
export function ownQueuePairs(namePrefix: string) {
  const sqs = sqsReceivingClient();
  const created: string[] = [];
  afterAll(async () => {
    for (const url of created) await sqs.send('DeleteQueue', { QueueUrl: url }).catch(() => {});
  });

  /** A new queue (`source`) and its dead-letter queue (`dlq`), by URL. */
  async function queuePair(): Promise<{ source: string; dlq: string }> {
    const name = `${namePrefix}-${randomUUID().slice(0, 8)}`;
    const dlq = (await sqs.send('CreateQueue', { QueueName: `${name}-dlq` })).QueueUrl!;
    const arn = (await sqs.send('GetQueueAttributes', { QueueUrl: dlq, AttributeNames: ['QueueArn'] })).Attributes!.QueueArn!;
    const source = (
      await sqs.send('CreateQueue', {
        QueueName: name,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 5 }) },
      })
    ).QueueUrl!;
    created.push(source, dlq);
    return { source, dlq };
  }

  /** The bodies of the messages waiting in a queue (one receive of up to 10), sorted. */
  async function bodies(url: string): Promise<string[]> {
    const { Messages = [] } = await sqs.send('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 });
    return Messages.map((m) => m.Body ?? '').sort();
  }

  return { sqs, queuePair, bodies };
}
