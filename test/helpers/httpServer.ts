import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handler as produce } from '../../functions/produce.ts';
import { handler as seller } from '../../functions/seller.ts';
import { kitHandler } from '../../functions/kit.ts';
import { lazy } from '#lib/shared/lazy.ts';
import { testKitDeps } from './kit.ts';
import { lambdaContext } from './produce.ts';

/**
 * The production interface (with the Kit calls) and the seller API over real HTTP on 127.0.0.1, served in this process by the real
 * handlers (as API Gateway would invoke them), for tests of HTTP clients such as the simulator. Faster to start
 * than serverless offline; the local-stack tests cover that path.
 */

export interface HandlerServer {
  /** e.g. http://127.0.0.1:41234 ; the production interface is `${url}/koogallery/produce`. */
  url: string;
  close(): Promise<void>;
}

function toEvent(req: IncomingMessage, body: string): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
  const query = Object.fromEntries(url.searchParams);
  return {
    version: '2.0',
    routeKey: `${method} ${url.pathname}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: `${method} ${url.pathname}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body ? { body } : {}),
    isBase64Encoded: false,
  };
}

const kit = lazy(() => kitHandler(lazy(() => testKitDeps())));

export async function startHandlerServer(): Promise<HandlerServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const event = toEvent(req, Buffer.concat(chunks).toString('utf8'));
        const path = event.rawPath;
        // The Kit calls with the spec's test Kit key and RSA test key (test/helpers/kit.ts).
        const kitName = /^\/koogallery\/produce\/produceAPI\/(?:v2\/)?([^/]+)$/.exec(path)?.[1];
        if (kitName) event.pathParameters = { name: kitName };
        const target = path === '/koogallery/produce' ? produce : path.startsWith('/seller/') ? seller : kitName ? kit() : undefined;
        if (!target) {
          res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"Not Found"}');
          return;
        }
        const result = (await target(event, lambdaContext(randomUUID()))) as APIGatewayProxyStructuredResultV2;
        res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>).end(String(result.body ?? ''));
      })().catch((error: unknown) => {
        res.writeHead(502).end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
