import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { config } from '#lib/config.ts';
import { marketplaceErrors, produceResponse, toProduceCall, type AnswerSigning } from '#lib/http/produceHttp.ts';
import { produceDeps } from '#lib/instances/deps.ts';
import { handleProduceCall, type ProduceDeps } from '#lib/instances/produceCall.ts';
import { accessKeyLoader, rememberingKeys } from '#lib/koogallery/accessKeys.ts';
import { log } from '#lib/log.ts';
import { lazy } from '#lib/shared/lazy.ts';

/**
 * POST /koogallery/produce — the production interface (spec §3); GET — its legacy V1 form (spec §6).
 * The function's timeout is 6 s (serverless.yml); middy gives up 1.5 s before it and the error middleware answers
 * 000005, so the marketplace gets an answer within its 5 s budget even when a dependency hangs.
 */
const TIMEOUT_EARLY_MS = 1_500;

const keys = lazy(() => rememberingKeys(accessKeyLoader(config())));
const deps = lazy(() => produceDeps(config(), log, keys().load));

/** Error answers are signed with what is at hand: a configuration that cannot be read signs nothing. */
const signing: AnswerSigning = {
  key: () => attempt(() => keys().current()),
  bodySign: () => attempt(() => config().BODY_SIGN) ?? false,
};

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The produce function over these collaborators (the resilience runs give it clients at other endpoints). */
export function produceHandler(flowDeps: () => ProduceDeps, answerSigning: AnswerSigning) {
  async function produce(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
    const result = await handleProduceCall(toProduceCall(event, context.awsRequestId), flowDeps());
    return produceResponse(event, result.answer, result.signingKey, answerSigning);
  }
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({ timeoutEarlyInMillis: TIMEOUT_EARLY_MS })
    .use(marketplaceErrors(log, answerSigning))
    .handler(produce);
}

export const handler = produceHandler(deps, signing);
