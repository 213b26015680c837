import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { config } from '#lib/config.ts';
import { log } from '#lib/log.ts';
import { ssoContext } from '#lib/sso/deps.ts';
import { handleSsoRequest } from '#lib/sso/router.ts';
import { lazy } from '#lib/shared/lazy.ts';

/**
 * /sso/… — single sign-on of a buyer's users into the seller's product through their enterprise's OneAccess
 * (lib/sso, docs/sso.md): login, callback, logout, the product's session check and the JWK Set of the assertion.
 */
const context = lazy(() => ssoContext(config(), log));

export async function handler(event: APIGatewayProxyEventV2, lambda: Context): Promise<APIGatewayProxyStructuredResultV2> {
  const raw = event.body ?? undefined;
  const answer = await handleSsoRequest(
    {
      method: event.requestContext.http.method,
      path: event.rawPath,
      query: event.queryStringParameters ?? {},
      cookies: event.cookies ?? event.headers?.cookie,
      headers: event.headers ?? {},
      body: raw !== undefined && event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw,
      correlationId: lambda.awsRequestId,
    },
    context(),
  );
  return { statusCode: answer.status, headers: answer.headers, cookies: answer.cookies, body: answer.body };
}
