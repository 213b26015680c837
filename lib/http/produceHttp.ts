import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { AccessKey } from '../koogallery/auth.ts';
import { answer, ResultCode, type Answer } from '../koogallery/resultCodes.ts';
import { bodySignHeader } from '../koogallery/signature.ts';
import type { ProduceCall } from '../instances/produceCall.ts';
import type { Log } from '../log.ts';

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

/**
 * Last line of defence: any error that escapes the flow (including middy's early timeout) becomes a
 * generic 000005 answer, never a bare 500 and never internals (as middy's http-error-handler does for 5xx).
 */
export function marketplaceErrors(
  log: Log,
  signing: () => { key: AccessKey | undefined; bodySign: boolean },
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: (request) => {
      const error = request.error;
      log.error('unhandled error answered with 000005', {
        correlationId: request.context.awsRequestId,
        error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
      });
      const { key, bodySign } = signing();
      request.response = toHttpResponse(answer(ResultCode.internalError), key, bodySign);
    },
  };
}
