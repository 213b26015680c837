import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { config } from '#lib/config.ts';
import { log } from '#lib/log.ts';
import { sellerContext } from '#lib/seller-api/deps.ts';
import type { SellerDeps } from '#lib/seller-api/allRoutes.ts';
import { handleSellerRequest, type RouterContext } from '#lib/seller-api/router.ts';
import { lazy } from '#lib/shared/lazy.ts';

/**
 * /seller/… — the seller API (lib/seller-api/allRoutes.ts): usage reports, instances, the message log, delivery
 * proofs and supervision, monthly statements and their reconciliation, and the OpenAPI document, authenticated
 * with seller API keys (`npm run keys`).
 */
const context = lazy(() => sellerContext(config(), log));

/** The handler over a router context (the deployed one: from the configuration, built once per container). */
export function sellerHandler(contextOf: () => RouterContext<SellerDeps>) {
  return async function seller(event: APIGatewayProxyEventV2, lambda: Context): Promise<APIGatewayProxyStructuredResultV2> {
    const raw = event.body ?? undefined;
    const answer = await handleSellerRequest(
      {
        method: event.requestContext.http.method,
        path: event.rawPath,
        headers: event.headers ?? {},
        query: event.queryStringParameters ?? {},
        body: raw !== undefined && event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw,
        correlationId: lambda.awsRequestId,
      },
      contextOf(),
    );
    return { statusCode: answer.status, headers: answer.headers, body: answer.body };
  };
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(sellerHandler(context));
