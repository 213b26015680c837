import type { Request } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { marketplaceErrors, toHttpResponse, toProduceCall } from '#lib/http/produceHttp.ts';
import { answer } from '#lib/koogallery/resultCodes.ts';
import { bodySignHeader } from '#lib/koogallery/signature.ts';

const key = { id: 'k', secret: 'testAccessKey-0123456789' };

describe('produce HTTP mapping', () => {
  it('signs the exact bytes it sends, and can be told not to', () => {
    const signed = toHttpResponse(answer('000000', undefined, { instanceId: 'i' }), key, true);
    expect(signed).toMatchObject({ statusCode: 200, headers: { 'Content-Type': 'application/json;charset=UTF-8' } });
    expect(signed.headers?.['Body-Sign']).toBe(bodySignHeader(key.secret, String(signed.body)));
    const unsigned = toHttpResponse(answer('000000'), key, false);
    expect(unsigned.headers).not.toHaveProperty('Body-Sign');
  });

  it('reads base64-encoded bodies and the signed query parameters', () => {
    const body = '{"activity":"queryInstance","instanceId":"云"}';
    const call = toProduceCall(
      {
        body: Buffer.from(body).toString('base64'),
        isBase64Encoded: true,
        requestContext: { http: { method: 'POST' } },
        queryStringParameters: { signature: 's', timestamp: '1', nonce: 'n', other: 'x' },
      } as unknown as APIGatewayProxyEventV2,
      'corr',
    );
    expect(call).toEqual({ version: 'v2', rawBody: body, query: { signature: 's', timestamp: '1', nonce: 'n' }, correlationId: 'corr' });
    const empty = { isBase64Encoded: false, requestContext: { http: { method: 'POST' } } } as unknown as APIGatewayProxyEventV2;
    expect(toProduceCall(empty, 'c')).toMatchObject({ version: 'v2', rawBody: '' });
  });

  it('reads a GET as a legacy V1 call with the raw query string, as sent', () => {
    const rawQuery = 'activity=queryInstance&instanceId=a+b&authToken=x+y%2B';
    const event = { rawQueryString: rawQuery, queryStringParameters: { instanceId: 'a b' }, requestContext: { http: { method: 'GET' } } };
    expect(toProduceCall(event as unknown as APIGatewayProxyEventV2, 'corr')).toEqual({ version: 'v1', rawQuery, correlationId: 'corr' });
  });

  it('turns an escaped error into a generic, signed 000005 and logs it with the correlation id', () => {
    const logged: Array<Record<string, unknown> | undefined> = [];
    const middleware = marketplaceErrors(
      { info: () => {}, warn: () => {}, error: (_m, e) => logged.push(e) },
      { key: () => key, bodySign: () => true },
    );
    const request = {
      event: {} as APIGatewayProxyEventV2,
      context: { awsRequestId: 'req-1' } as Context,
      response: null,
      error: new Error('connect ECONNREFUSED 10.0.0.1:443 secret-detail'),
      internal: {},
    } as Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;
    middleware.onError?.(request);
    const response = request.response as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(String(response.body))).toEqual({ resultCode: '000005', resultMsg: 'other inner error' });
    expect(String(response.body)).not.toContain('secret-detail');
    expect(response.headers?.['Body-Sign']).toBeDefined();
    expect(logged[0]).toMatchObject({ correlationId: 'req-1' });
  });

  it('answers a call whose transaction is durable as committed, even after the early timeout', () => {
    // Prepare: the flow told the context its committed answer, then middy's early timeout fired
    const warned: string[] = [];
    const middleware = marketplaceErrors(
      { info: () => {}, warn: (message) => warned.push(message), error: () => {} },
      { key: () => undefined, bodySign: () => true },
    );
    const committed = answer('000000', undefined, { instanceId: 'i-1' });
    const request = {
      event: {} as APIGatewayProxyEventV2,
      context: { awsRequestId: 'req-2', committedAnswer: { answer: committed, signingKey: key } } as unknown as Context,
      response: null,
      error: Object.assign(new Error('[AbortError]: The operation was aborted.'), { name: 'TimeoutError' }),
      internal: {},
    } as Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

    // Act
    middleware.onError?.(request);

    // Assess
    const response = request.response as APIGatewayProxyStructuredResultV2;
    expect(JSON.parse(String(response.body))).toEqual(committed);
    expect(response.headers?.['Body-Sign']).toBe(bodySignHeader(key.secret, String(response.body)));
    expect(warned).toEqual(['answered as committed after an unhandled error']);
  });
});
