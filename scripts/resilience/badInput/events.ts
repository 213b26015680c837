/** The requests as API Gateway delivers them to the functions: HTTP API (payload 2.0) events. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

const PRODUCE_PATH = '/koogallery/produce';

function httpEvent(options: {
  method: string;
  path: string;
  routeKey: string;
  rawQuery: string;
  query: Record<string, string> | undefined;
  headers: Record<string, string>;
  body: string | undefined;
  base64?: boolean;
}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: options.routeKey,
    rawPath: options.path,
    rawQueryString: options.rawQuery,
    headers: options.headers,
    ...(options.query && Object.keys(options.query).length > 0 ? { queryStringParameters: options.query } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: { method: options.method, path: options.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bad-input' },
      requestId: 'bad-input',
      routeKey: options.routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: options.base64 ?? false,
  };
}

export type QueryParams = Record<string, string | undefined>;

export function definedOnly(query: QueryParams): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
}

/** A V2 POST as API Gateway delivers it. */
export function produceEvent(rawBody: string, query: QueryParams, base64 = false): APIGatewayProxyEventV2 {
  const q = definedOnly(query);
  return httpEvent({
    method: 'POST',
    path: PRODUCE_PATH,
    routeKey: `POST ${PRODUCE_PATH}`,
    rawQuery: new URLSearchParams(q).toString(),
    query: q,
    headers: { 'content-type': 'application/json;charset=utf8' },
    body: rawBody,
    base64,
  });
}

/** A V1 GET: the handler reads the raw query string; the decoded parameters are as API Gateway would give them. */
export function v1Event(rawQuery: string): APIGatewayProxyEventV2 {
  let query: Record<string, string> | undefined;
  try {
    query = Object.fromEntries(new URLSearchParams(rawQuery));
  } catch {
    query = undefined;
  }
  return httpEvent({ method: 'GET', path: PRODUCE_PATH, routeKey: `GET ${PRODUCE_PATH}`, rawQuery, query, headers: {}, body: undefined });
}

export function sellerEvent(options: {
  method: string;
  path: string;
  authorization?: string | undefined;
  authorizationHeader?: string;
  query?: Record<string, string>;
  body?: string | undefined;
  base64?: boolean;
}): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.authorization !== undefined) headers[options.authorizationHeader ?? 'authorization'] = options.authorization;
  const query = options.query ?? {};
  return httpEvent({
    method: options.method,
    path: options.path,
    routeKey: `${options.method} /seller/{proxy+}`,
    rawQuery: new URLSearchParams(query).toString(),
    query,
    headers,
    body: options.body,
    ...(options.base64 ? { base64: true } : {}),
  });
}

export const bearer = (key: string) => `Bearer ${key}`;
