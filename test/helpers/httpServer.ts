import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handler as produce } from '../../functions/produce.ts';
import { handler as seller } from '../../functions/seller.ts';
import { kitHandler } from '../../functions/kit.ts';
import { lazy } from '#lib/shared/lazy.ts';
import { testKitDeps } from './kit.ts';
import { httpApiEvent } from './httpApiEvent.ts';
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

const kit = lazy(() => kitHandler(lazy(() => testKitDeps())));

export async function startHandlerServer(): Promise<HandlerServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const event = httpApiEvent(req, Buffer.concat(chunks).toString('utf8'));
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
