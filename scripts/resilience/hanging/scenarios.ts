/**
 * Marketplace calls through the real produce function while a dependency hangs: DynamoDB, SQS, or both are
 * reached at a TCP endpoint that accepts the connection and never answers (hangingServer.ts). Each scenario sends
 * one signed newInstance through `produceHandler` (middy, the early timeout, the error answer) with the production
 * wiring (lib/instances/deps.ts) and the clients of lib/aws/clients.ts pointed at the chosen endpoints, then reads
 * from the real DynamoDB Local what the call left: its message-log record, its instance, its outbox event.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { newDynamoClient, newSqsClient, type DynamoDb } from '#lib/aws/clients.ts';
import { parseConfig } from '#lib/config.ts';
import { produceDeps } from '#lib/instances/deps.ts';
import { signRequest, type AccessKey } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { bodySignHeader, keyId } from '#lib/koogallery/signature.ts';
import type { Log } from '#lib/log.ts';
import { keys } from '#lib/store/keys.ts';
import { produceHandler } from '../../../functions/produce.ts';
import { httpEvent } from '../../../test/helpers/produce.ts';
import type { HangingServer } from './hangingServer.ts';

/** The produce function's Lambda timeout (serverless.yml). */
export const LAMBDA_TIMEOUT_MS = 6_000;

export type Dependency = 'DynamoDB' | 'SQS';

export interface HangingScenario {
  name: string;
  title: string;
  /** The dependencies reached at the hanging endpoint. */
  hanging: Dependency[];
}

export const HANGING_SCENARIOS: readonly HangingScenario[] = [
  { name: 'dynamo', title: 'DynamoDB hangs', hanging: ['DynamoDB'] },
  { name: 'sqs', title: 'SQS hangs (DynamoDB answers: after the commit)', hanging: ['SQS'] },
  { name: 'both', title: 'DynamoDB and SQS hang', hanging: ['DynamoDB', 'SQS'] },
];

/** Where the real emulators are, the tables and queue the functions use, and the hanging endpoint. */
export interface HangingStack {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  env: Record<string, string | undefined>;
  hanging: HangingServer;
  /** A client of the real DynamoDB Local, to read what a call left. */
  inspect: DynamoDb;
}

export interface HangingOutcome {
  scenario: HangingScenario;
  resultCode: string;
  /** The answer carries a Body-Sign of its exact bytes under the access key. */
  signed: boolean;
  /** From the invocation to the answer, measured around the handler. */
  latencyMs: number;
  /** The call's message-log record: its result code and latency, if one was written. */
  logged?: { resultCode: string; latencyMs: number };
  /** The instance and its order-line claim are in the table. */
  durable: boolean;
  /** The call's outbox event is still in the table, for the sweep. */
  outboxLeft: boolean;
  /** Problems found by the run's checks (empty: every check held). */
  problems: string[];
}

const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };

/** A Lambda context whose remaining time runs down from the produce function's timeout. */
function runningContext(correlationId: string): Context {
  const startedAt = performance.now();
  return {
    awsRequestId: correlationId,
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'produce',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:produce',
    logGroupName: '/aws/lambda/produce',
    logStreamName: 'hanging',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => Math.max(0, Math.round(LAMBDA_TIMEOUT_MS - (performance.now() - startedAt))),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function loggedRecord(stack: HangingStack, days: string[], correlationId: string): Promise<HangingOutcome['logged']> {
  for (const day of new Set(days)) {
    const out = await stack.inspect.send('Query', {
      TableName: stack.env.AUDIT_TABLE,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'correlationId = :c',
      ExpressionAttributeValues: marshall({ ':pk': `MSG#${day}`, ':c': correlationId }),
      ConsistentRead: true,
    });
    const item = out.Items?.[0];
    if (item) {
      const record = unmarshall(item);
      return { resultCode: String(record.resultCode), latencyMs: Number(record.latencyMs) };
    }
  }
  return undefined;
}

async function exists(stack: HangingStack, key: { pk: string; sk: string }): Promise<boolean> {
  const out = await stack.inspect.send('GetItem', {
    TableName: stack.env.MAIN_TABLE,
    Key: marshall(key),
    ConsistentRead: true,
    ProjectionExpression: 'pk',
  });
  return out.Item !== undefined;
}

async function outboxLeft(stack: HangingStack, instanceId: string): Promise<boolean> {
  const out = await stack.inspect.send('Query', {
    TableName: stack.env.MAIN_TABLE,
    KeyConditionExpression: 'pk = :pk',
    FilterExpression: 'begins_with(eventId, :event)',
    ExpressionAttributeValues: marshall({ ':pk': keys.outboxPartition, ':event': `${instanceId}:` }),
    ConsistentRead: true,
  });
  return (out.Items ?? []).length > 0;
}

/** What must hold: an answer inside the budget, 000000 only when durable, the message log agreeing with the answer. */
function problemsOf(outcome: Omit<HangingOutcome, 'problems'>, budgetMs: number): string[] {
  const problems: string[] = [];
  const { scenario, resultCode, logged } = outcome;
  if (outcome.latencyMs >= budgetMs) problems.push(`answered after ${Math.round(outcome.latencyMs)} ms (budget ${budgetMs} ms)`);
  if (!outcome.signed) problems.push('the answer carries no valid Body-Sign');
  const expected = scenario.hanging.includes('DynamoDB') ? '000005' : '000000';
  if (resultCode !== expected) problems.push(`answered ${resultCode}, expected ${expected}`);
  if (resultCode === '000000' && !outcome.durable) problems.push('law 1: answered 000000 but the instance is not in the table');
  if (resultCode !== '000000' && outcome.durable) problems.push(`answered ${resultCode} but the instance is in the table`);
  if (logged && logged.resultCode !== resultCode) problems.push(`law 6: answered ${resultCode}, the message log says ${logged.resultCode}`);
  if (!scenario.hanging.includes('DynamoDB') && !logged) problems.push('DynamoDB answered but the call left no message-log record');
  if (scenario.hanging.includes('SQS') && outcome.durable && !outcome.outboxLeft)
    problems.push('the unsent event is not left in the outbox');
  return problems;
}

/** Sends one signed newInstance through the produce function with the scenario's dependencies hanging. */
export async function runHangingScenario(stack: HangingStack, scenario: HangingScenario, budgetMs = 4_800): Promise<HangingOutcome> {
  const secret = `hanging-${randomBytes(12).toString('hex')}`;
  const key: AccessKey = { id: keyId(secret), secret };
  const cfg = parseConfig({ ...stack.env, KOOGALLERY_ACCESS_KEY: secret, ORDER_QUERY: 'false', PROVISIONING_MODE: 'template' });
  const at = (dependency: Dependency, real: string) => (scenario.hanging.includes(dependency) ? stack.hanging.endpoint : real);
  const clients = {
    dynamo: newDynamoClient({ endpoint: at('DynamoDB', stack.dynamoEndpoint) }),
    sqs: newSqsClient({ endpoint: at('SQS', stack.sqsEndpoint) }),
  };
  const deps = produceDeps(cfg, silentLog, async () => [key], clients);
  const handler = produceHandler(() => deps, { key: () => key, bodySign: () => true });

  const tag = `H${randomBytes(4).toString('hex')}`;
  const body: JsonObject = {
    activity: 'newInstance',
    orderId: `${tag}-o`,
    orderLineId: `${tag}-o-1`,
    businessId: `${tag}-b`,
    testFlag: '0',
  };
  const correlationId = randomUUID();
  const event = httpEvent(JSON.stringify(body), signRequest(secret, body));
  const day = () => new Date().toISOString().slice(0, 10);
  const days = [day()];
  try {
    const started = performance.now();
    const response = await handler(event, runningContext(correlationId));
    const latencyMs = performance.now() - started;
    days.push(day());
    const text = String(response.body);
    const headers = (response.headers ?? {}) as Record<string, string>;
    const resultCode = String((JSON.parse(text) as { resultCode?: unknown }).resultCode);
    const outcome = {
      scenario,
      resultCode,
      signed: headers['Body-Sign'] === bodySignHeader(secret, text),
      latencyMs,
      durable: (await exists(stack, keys.orderLine(`${tag}-o`, `${tag}-o-1`))) && (await exists(stack, keys.instance(`${tag}-b`))),
      outboxLeft: await outboxLeft(stack, `${tag}-b`),
      logged: await loggedRecord(stack, days, correlationId),
    };
    return { ...outcome, problems: problemsOf(outcome, budgetMs) };
  } finally {
    clients.dynamo.destroy();
    clients.sqs.destroy();
  }
}
