/** Sends a case to the real handler in this process and judges the answer; keeps the functions' error log lines. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { handler as produceHandler } from '../../../functions/produce.ts';
import { handler as sellerHandler } from '../../../functions/seller.ts';
import { log } from '#lib/log.ts';
import { errorText } from '#lib/shared/errors.ts';
import type { Fixture, Recipe, Target } from './cases.ts';
import { isRecord, judgeProduce, judgeSeller, type Outcome, parseJson } from './judge.ts';

/** The Lambda context a handler is invoked with, for one request. */
export function lambdaContext(correlationId: string, functionName: string): Context {
  return {
    awsRequestId: correlationId,
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bad-input',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => 6_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
const handlers: Record<Target, Handler> = {
  produce: produceHandler as unknown as Handler,
  seller: sellerHandler as unknown as Handler,
};

/** Server error log lines by correlation id, while the log is captured. */
const serverErrors = new Map<string, string[]>();

/**
 * Silences the functions' logs (10 000 refusals would bury the report) and keeps their error lines, by correlation id,
 * to show beside a failing input. Returns the function that puts the log back.
 */
export function captureServerLog(): () => void {
  const saved = { ...log };
  log.info = () => {};
  log.warn = () => {};
  log.error = (message, extra) => {
    const id = typeof extra?.correlationId === 'string' ? extra.correlationId : '?';
    const lines = serverErrors.get(id) ?? [];
    if (lines.length < 5) lines.push(`${message} ${JSON.stringify(extra ?? {}).slice(0, 400)}`);
    serverErrors.set(id, lines);
  };
  return () => Object.assign(log, saved);
}

/** Sends one event to a function's handler and reads its JSON answer (the fixture's seeding calls). */
export async function send(
  target: Target,
  event: APIGatewayProxyEventV2,
  correlationId: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await handlers[target](event, lambdaContext(correlationId, target));
  const json = parseJson(typeof res.body === 'string' ? res.body : '');
  return { status: res.statusCode ?? 0, json: isRecord(json) ? json : {} };
}

/** Builds the request of a recipe now, sends it to the real handler, and judges the answer. */
export async function runRecipe(recipe: Recipe, fixture: Fixture, tag: string): Promise<Outcome> {
  const c = recipe.build({ fixture, nowMs: Date.now(), tag });
  const correlationId = tag;
  let res: APIGatewayProxyStructuredResultV2;
  try {
    res = await handlers[c.target](c.event, lambdaContext(correlationId, c.target));
  } catch (error) {
    return { case: c, correlationId, ok: false, crash: true, problem: `handler threw ${errorText(error)}` };
  }
  const verdict = c.target === 'produce' ? judgeProduce(c, res, fixture.accessKey) : judgeSeller(c, res);
  const errors = serverErrors.get(correlationId);
  serverErrors.delete(correlationId);
  return {
    case: c,
    correlationId,
    ...verdict,
    status: res.statusCode ?? 0,
    body: typeof res.body === 'string' ? res.body : '',
    ...(errors ? { serverErrors: errors } : {}),
  };
}
