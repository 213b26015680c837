import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodySignHeader } from '#lib/koogallery/signature.ts';
import { bodySignVerdict, marketplaceClient, type MarketplaceClient } from '#lib/simulator/client.ts';
import { RequestError, requestBody } from '#lib/simulator/requests.ts';
import { startHandlerServer, type HandlerServer } from '../helpers/httpServer.ts';
import { TEST_KEY } from '../helpers/signing.ts';

/** The marketplace-side client (simulator, probe) against the real handlers over HTTP. */

let server: HandlerServer;
let client: MarketplaceClient;
beforeAll(async () => {
  server = await startHandlerServer();
  client = marketplaceClient(`${server.url}/koogallery/produce`, TEST_KEY);
});
afterAll(() => server.close());

describe('marketplace client', () => {
  it('sends a signed V2 newInstance with generated defaults and checks the exact Body-Sign header', async () => {
    const result = await client.call(requestBody('newInstance'));
    expect(result).toMatchObject({ status: 200, bodySign: 'valid', json: { resultCode: '000000' } });
    expect(result.headers.some(([name]) => name === 'Body-Sign')).toBe(true);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const query = await client.call(requestBody('queryInstance', { instanceId: String(result.json!.instanceId) }));
    expect(query.json).toMatchObject({ resultCode: '000000', info: [{ instanceId: result.json!.instanceId }] });
  });

  it('sends a legacy V1 GET and spoiled V2 signatures', async () => {
    const v1 = await client.call(requestBody('queryInstance', { instanceId: 'no-such' }, { v1: true }), { v1: true });
    expect(v1).toMatchObject({ status: 200, bodySign: 'valid', json: { resultCode: '000003' } });
    const body = requestBody('queryInstance', { instanceId: 'no-such' });
    expect((await client.call(body, { signing: { signatureCase: 'lower' } })).json?.resultCode).toBe('000003');
    expect((await client.call(body, { signing: { key: 'not-the-key' } })).json?.resultCode).toBe('000001');
    expect((await client.call(body, { signing: { omit: ['nonce'] } })).json?.resultCode).toBe('000002');
    expect((await client.call(body, { signing: { omit: ['signature'] } })).json?.resultCode).toBe('000001');
  });

  it('says what a request needs, and reports a server that does not answer', async () => {
    expect(() => requestBody('queryInstance')).toThrow(new RequestError('queryInstance needs --field instanceId=…'));
    expect(() => requestBody('deleteEverything')).toThrow(/unknown activity "deleteEverything"/);
    expect(requestBody('newInstance', { orderId: 'CS1' })).toMatchObject({ orderId: 'CS1', orderLineId: 'CS1-000001' });
    const nowhere = marketplaceClient('http://127.0.0.1:9/koogallery/produce', TEST_KEY);
    const result = await nowhere.call(requestBody('newInstance'), { timeoutMs: 1000 });
    expect(result.status).toBe(0);
    expect(result.error).toMatch(/ECONNREFUSED|refused/);
  });

  it('reads Body-Sign by its exact name unless told a local stack lowercases it, and runs the hook before each call', async () => {
    const raw = '{"resultCode":"000000","resultMsg":"ok"}';
    const sign = bodySignHeader(TEST_KEY, raw);
    expect(bodySignVerdict([['body-sign', sign]], raw, TEST_KEY)).toBe('wrong-case');
    expect(bodySignVerdict([['body-sign', sign]], raw, TEST_KEY, 'any')).toBe('valid');
    expect(bodySignVerdict([['Body-Sign', 'nope']], raw, TEST_KEY, 'any')).toBe('invalid');
    expect(bodySignVerdict([], raw, TEST_KEY, 'any')).toBe('absent');
    const seen: string[] = [];
    const hooked = marketplaceClient(`${server.url}/koogallery/produce`, TEST_KEY, {
      beforeSend: async (body) => void seen.push(String(body.activity)),
    });
    await hooked.call(requestBody('queryInstance', { instanceId: 'x' }));
    expect(seen).toEqual(['queryInstance']);
  });
});
