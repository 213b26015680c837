import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_TIMEOUTS, newDynamoClient, newSqsClient } from '#lib/aws/clients.ts';
import { budget } from '#lib/shared/budget.ts';
import { startHangingServer, type HangingServer } from '../../scripts/resilience/hanging/hangingServer.ts';

/**
 * The clients of lib/aws/clients.ts against an endpoint that accepts connections and never answers: their timeouts
 * end each attempt with an error (not only a warning), and a command sent inside a budget step is cancelled when
 * the step's time is up, its connection closed.
 */

let hanging: HangingServer;
beforeAll(async () => {
  hanging = await startHangingServer();
});
afterAll(() => hanging.close());

describe('a client of lib/aws/clients.ts at an endpoint that never answers', () => {
  it('SQS: every attempt times out with an error, and the command fails after its attempts', async () => {
    // Prepare
    const sqs = newSqsClient({ endpoint: hanging.endpoint });
    const { maxAttempts, requestTimeout } = CLIENT_TIMEOUTS.sqs;
    const started = performance.now();

    try {
      // Act
      const outcome = sqs.send('GetQueueUrl', { QueueName: 'hanging' });

      // Assess
      await expect(outcome).rejects.toMatchObject({ name: 'TimeoutError' });
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(maxAttempts * requestTimeout - 50);
      expect(elapsed).toBeLessThan(maxAttempts * requestTimeout + 1_500);
    } finally {
      sqs.destroy();
    }
  }, 10_000);

  it('DynamoDB: a command inside a budget step is cancelled when the step ends, its connection closed', async () => {
    // Prepare
    const dynamo = newDynamoClient({ endpoint: hanging.endpoint });
    const accepted = hanging.accepted();
    const started = performance.now();

    try {
      // Act
      const outcome = budget(5_000).step({ atMost: 300 }, () =>
        dynamo.send('GetItem', { TableName: 'hanging', Key: { pk: { S: 'a' }, sk: { S: 'b' } } }),
      );

      // Assess
      await expect(outcome).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(hanging.accepted()).toBe(accepted + 1);
      await expect.poll(() => hanging.open(), { timeout: 1_000 }).toBe(0);
    } finally {
      dynamo.destroy();
    }
  });
});
