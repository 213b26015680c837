import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { config } from '#lib/config.ts';
import { marketplaceErrors, produceResponse, toProduceCall, type AnswerSigning, type ProduceContext } from '#lib/http/produceHttp.ts';
import { produceDeps } from '#lib/instances/deps.ts';
import { ANSWER_WITHIN_MS, handleProduceCall, type ProduceDeps } from '#lib/instances/produceCall.ts';
import { extensionParameterReader } from '#lib/aws/parametersExtension.ts';
import { accessKeyLoader, rememberingKeys } from '#lib/koogallery/accessKeys.ts';
import { log } from '#lib/log.ts';
import { lazy } from '#lib/shared/lazy.ts';

/**
 * POST /koogallery/produce — the production interface (spec §3); GET — its legacy V1 form (spec §6).
 * The function's timeout is 6 s (serverless.yml). The call's own budget (lib/instances/produceCall.ts) ends
 * ANSWER_MARGIN_MS before middy's early timeout, 1.5 s before the function's, and never after ANSWER_WITHIN_MS: a
 * hanging dependency is abandoned and the call answered inside the marketplace's 5 s. Should the early timeout
 * still fire, the error middleware answers what the call committed, else 000005.
 */
const TIMEOUT_EARLY_MS = 1_500;
const ANSWER_MARGIN_MS = 500;

/** How long this invocation gives the call to answer. */
function answerWithinMs(context: Context): number {
  const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : Infinity;
  return Math.min(ANSWER_WITHIN_MS, remaining - TIMEOUT_EARLY_MS - ANSWER_MARGIN_MS);
}

/** On AWS the access keys come through the Parameters and Secrets extension (its layer in serverless.yml); locally from the environment. */
const keys = lazy(() =>
  rememberingKeys(accessKeyLoader(config(), extensionParameterReader(), Date.now, (message, fields) => log.warn(message, fields))),
);
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
    const result = await handleProduceCall(toProduceCall(event, context.awsRequestId), flowDeps(), {
      answerWithinMs: answerWithinMs(context),
      onCommitted: (committed) => {
        (context as ProduceContext).committedAnswer = committed;
      },
    });
    return produceResponse(event, result.answer, result.signingKey ?? answerSigning.key(), answerSigning);
  }
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({ timeoutEarlyInMillis: TIMEOUT_EARLY_MS })
    .use(marketplaceErrors(log, answerSigning))
    .handler(produce);
}

export const handler = produceHandler(deps, signing);
