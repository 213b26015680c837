import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ConsoleBundle } from '#lib/console/bundle.ts';
import { embeddedConsole } from '#lib/console/embedded.ts';
import { consoleServer } from '#lib/console/serve.ts';

/**
 * /console — the seller console: a single-page app over the seller API (same origin), its files built into this
 * function's bundle (lib/console/embedded.ts).
 */

/** The handler serving one build of the console (the deployed one: the build in this bundle). */
export function consoleHandler(bundle: ConsoleBundle | undefined) {
  const serve = consoleServer(bundle);
  return async function serveConsole(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const headers = event.headers ?? {};
    const answer = serve({
      method: event.requestContext.http.method,
      path: event.rawPath,
      acceptEncoding: Object.entries(headers).find(([name]) => name.toLowerCase() === 'accept-encoding')?.[1],
    });
    return { statusCode: answer.status, headers: answer.headers, body: answer.body, isBase64Encoded: answer.isBase64Encoded };
  };
}

export const handler = consoleHandler(embeddedConsole);
