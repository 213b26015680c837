import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { AccessKey } from '#lib/koogallery/auth.ts';
import { answer, ResultCode, type Answer } from '#lib/koogallery/resultCodes.ts';
import { bodySignHeader } from '#lib/koogallery/signature.ts';
import type { ProduceCall, ProduceResult } from '#lib/instances/produceCall.ts';
import type { Log } from '#lib/log.ts';
import { errorFields } from '#lib/shared/errors.ts';

/** The marketplace reads every answer as HTTP 200 JSON (spec §2, §9.8). */
const CONTENT_TYPE = 'application/json;charset=UTF-8';

export function toProduceCall(event: APIGatewayProxyEventV2, correlationId: string): ProduceCall {
  // V1 (spec §6) is a GET whose query string is signed as sent: it is parsed raw, not as the gateway decoded it.
  if (event.requestContext.http.method === 'GET') return { version: 'v1', rawQuery: event.rawQueryString ?? '', correlationId };
  const raw = event.body ?? '';
  const rawBody = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const q = event.queryStringParameters ?? {};
  return { version: 'v2', rawBody, query: { signature: q.signature, timestamp: q.timestamp, nonce: q.nonce }, correlationId };
}

/** Serialises once and signs those exact bytes (spec §7.4): any re-serialisation would break Body-Sign. */
export function toHttpResponse(given: Answer, signWith: AccessKey | undefined, bodySign: boolean): APIGatewayProxyStructuredResultV2 {
  const body = JSON.stringify(given);
  const headers: Record<string, string> = { 'Content-Type': CONTENT_TYPE };
  if (bodySign && signWith) headers['Body-Sign'] = bodySignHeader(signWith.secret, body);
  return { statusCode: 200, headers, body };
}

/** The call is a legacy V1 one (spec §6): a GET. */
export const isV1 = (event: APIGatewayProxyEventV2): boolean => event.requestContext?.http?.method === 'GET';

/** How answers are signed: V1 answers always (spec §7.4), error answers included; V2 answers as configured. */
export interface AnswerSigning {
  /** The current access key, if one was read. */
  key: () => AccessKey | undefined;
  /** BODY_SIGN for V2 answers. */
  bodySign: () => boolean;
}

export function produceResponse(
  event: APIGatewayProxyEventV2,
  given: Answer,
  key: AccessKey | undefined,
  signing: AnswerSigning,
): APIGatewayProxyStructuredResultV2 {
  return toHttpResponse(given, key, isV1(event) || signing.bodySign());
}

/** The Lambda context of a produce call: it carries the call's answer once its transaction is durable. */
export type ProduceContext = Context & { committedAnswer?: ProduceResult };

/**
 * Last line of defence: any error that escapes the flow (including middy's early timeout) becomes a
 * generic 000005 answer, never a bare 500 and never internals (as middy's http-error-handler does for 5xx).
 * A call whose transaction is already durable is answered as committed, as its message-log record says.
 */
export function marketplaceErrors(
  log: Log,
  signing: AnswerSigning,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: (request) => {
      const correlationId = request.context.awsRequestId;
      const committed = (request.context as ProduceContext).committedAnswer;
      if (committed) {
        log.warn('answered as committed after an unhandled error', { correlationId, error: errorFields(request.error) });
        request.response = produceResponse(request.event, committed.answer, committed.signingKey ?? signing.key(), signing);
        return;
      }
      log.error('unhandled error answered with 000005', { correlationId, error: errorFields(request.error) });
      request.response = produceResponse(request.event, answer(ResultCode.internalError), signing.key(), signing);
    },
  };
}
