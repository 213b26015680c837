import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handler } from '../../functions/seller.ts';
import type { Scope } from '#lib/seller-api/apiKeys.ts';
import { apiKeyStore } from '#lib/store/apiKeyStore.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { env, lambdaContext } from './produce.ts';

/** Calls the real seller function with an HTTP API event, as API Gateway would. */

export interface SellerAnswer {
  status: number;
  headers: Record<string, string>;
  json: Record<string, unknown>;
}

export function sellerEvent(
  method: 'GET' | 'POST',
  path: string,
  options: { key?: string; body?: unknown; rawBody?: string; query?: Record<string, string>; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const query = options.query ?? {};
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(options.headers ?? {}) };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return {
    version: '2.0',
    routeKey: `${method} /seller/{proxy+}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: `${method} /seller/{proxy+}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  };
}

export async function seller(method: 'GET' | 'POST', path: string, options: Parameters<typeof sellerEvent>[2] = {}): Promise<SellerAnswer> {
  const result = (await handler(sellerEvent(method, path, options), lambdaContext(randomUUID()))) as APIGatewayProxyStructuredResultV2;
  return {
    status: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, string>,
    json: JSON.parse(String(result.body)) as Record<string, unknown>,
  };
}

export const keys = () => apiKeyStore(dynamoClient(), env('MAIN_TABLE'));

/** A fresh API key with these scopes; its secret. */
export async function sellerKey(...scopes: Scope[]): Promise<string> {
  const { secret } = await keys().create({ name: `test-${randomUUID().slice(0, 8)}`, scopes, now: Date.now() });
  return secret;
}
