import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDynamoClient } from '#lib/aws/clients.ts';
import { startHangingServer, type HangingServer } from '../../scripts/resilience/hanging/hangingServer.ts';
import { HANGING_SCENARIOS, runHangingScenario, type HangingStack } from '../../scripts/resilience/hanging/scenarios.ts';
import { env } from '../helpers/produce.ts';

/**
 * Law 11 with real sockets (scripts/resilience/hanging/, `npm run resilience:hanging`): DynamoDB, SQS or both reached
 * at an endpoint that accepts connections and never answers. Every call is answered within the marketplace's
 * 5 seconds; 000000 exactly when the instance is durable; the message log agrees with the answer.
 */

let hanging: HangingServer;
let stack: HangingStack;
beforeAll(async () => {
  hanging = await startHangingServer();
  stack = {
    dynamoEndpoint: env('AWS_ENDPOINT_URL_DYNAMODB'),
    sqsEndpoint: env('AWS_ENDPOINT_URL_SQS'),
    env: process.env,
    hanging,
    inspect: newDynamoClient(),
  };
});
afterAll(async () => {
  stack.inspect.destroy();
  await hanging.close();
});

const scenario = (name: string) => {
  const found = HANGING_SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
};

describe('a dependency that accepts the connection and never answers', () => {
  it('SQS hangs after the commit: answered 000000 within the budget, the event left in the outbox, the log agrees', async () => {
    // Act
    const outcome = await runHangingScenario(stack, scenario('sqs'));

    // Assess
    expect(outcome.latencyMs).toBeLessThan(4_800);
    expect(outcome).toMatchObject({ resultCode: '000000', signed: true, durable: true, outboxLeft: true, problems: [] });
    expect(outcome.logged?.resultCode).toBe('000000');
    // The record's latency is taken at the decision, before the transaction and the publish that follow it.
    expect(outcome.latencyMs - (outcome.logged?.latencyMs ?? 0)).toBeLessThanOrEqual(1_500 + 100);
  }, 20_000);

  it('DynamoDB hangs: answered 000005, signed, within the budget; nothing durable', async () => {
    // Act
    const outcome = await runHangingScenario(stack, scenario('dynamo'));

    // Assess: answered by the call's own budget, before middy's early timeout (4.5 s) would have to
    expect(outcome.latencyMs).toBeLessThan(4_500);
    expect(outcome).toMatchObject({ resultCode: '000005', signed: true, durable: false, problems: [] });
    expect(hanging.accepted()).toBeGreaterThan(0);
  }, 20_000);

  it('DynamoDB and SQS hang: answered 000005, signed, within the budget', async () => {
    // Act
    const outcome = await runHangingScenario(stack, scenario('both'));

    // Assess
    expect(outcome.latencyMs).toBeLessThan(4_500);
    expect(outcome).toMatchObject({ resultCode: '000005', signed: true, durable: false, problems: [] });
  }, 20_000);
});
