import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ConsoleBundle } from '#lib/console/bundle.ts';
import { embeddedConsole } from '#lib/console/embedded.ts';
import { consoleServer, filesBucketOrigin } from '#lib/console/serve.ts';

/**
 * /console — the seller console: a single-page app over the seller API (same origin), its files built into this
 * function's bundle (lib/console/embedded.ts). Its policy lets the page upload to the files bucket's origin only,
 * as the function's environment names the bucket and the S3 endpoint.
 */

/** The handler serving one build of the console (the deployed one: the build in this bundle). */
export function consoleHandler(bundle: ConsoleBundle | undefined, uploadOrigin?: string) {
  const serve = consoleServer(bundle, { uploadOrigin });
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

export const handler = consoleHandler(embeddedConsole, filesBucketOrigin(process.env));
