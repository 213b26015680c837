import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { config } from '#lib/config.ts';
import { kitDeps } from '#lib/kit/deps.ts';
import { handleKitCall, KIT_ANSWER_WITHIN_MS, kitInterfaceOf, type KitDeps } from '#lib/kit/kitCall.ts';
import { kitAnswer, KitResultCode, type KitAnswer } from '#lib/koogallery/kitResultCodes.ts';
import { log } from '#lib/log.ts';
import { errorFields } from '#lib/shared/errors.ts';
import { lazy } from '#lib/shared/lazy.ts';

/**
 * POST /koogallery/produce/produceAPI/v2/{name} (and the same path without `v2`): the five joint-operation Kit calls
 * (spec kit.md). Every answer is HTTP 200 JSON `{"resultCode","resultMsg"}`; an unknown interface name is a 404.
 * The function's timeout is 6 s; the call's budget ends before middy's early timeout, as produce's does.
 */
const TIMEOUT_EARLY_MS = 1_500;
const ANSWER_MARGIN_MS = 500;
const CONTENT_TYPE = 'application/json;charset=UTF-8';

const json = (statusCode: number, body: KitAnswer): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'Content-Type': CONTENT_TYPE },
  body: JSON.stringify(body),
});

function answerWithinMs(context: Context): number {
  const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : Infinity;
  return Math.min(KIT_ANSWER_WITHIN_MS, remaining - TIMEOUT_EARLY_MS - ANSWER_MARGIN_MS);
}

const deps = lazy(() => kitDeps(config(), log));

export function kitHandler(flowDeps: () => KitDeps) {
  async function kit(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
    const name = kitInterfaceOf(event.pathParameters?.name);
    if (!name) return json(404, kitAnswer(KitResultCode.invalidParameter, 'unknown Kit interface'));
    const raw = event.body ?? '';
    const rawBody = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    const h = event.headers ?? {};
    const headers = { sign: h['x-sign'], timestamp: h['x-timestamp'], nonce: h['x-nonce'] };
    const given = await handleKitCall({ name, rawBody, headers, correlationId: context.awsRequestId }, flowDeps(), {
      answerWithinMs: answerWithinMs(context),
    });
    return json(200, given);
  }
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({ timeoutEarlyInMillis: TIMEOUT_EARLY_MS })
    .use({
      onError: (request) => {
        log.error('unhandled error answered with 000005', {
          correlationId: request.context.awsRequestId,
          error: errorFields(request.error),
        });
        request.response = json(200, kitAnswer(KitResultCode.internalError));
      },
    })
    .handler(kit);
}

export const handler = kitHandler(deps);
