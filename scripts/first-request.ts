/**
 * Sends a signed newInstance and then queryInstance to a production interface, as the marketplace would, and
 * prints the answers with their Body-Sign check. Uses the same signing code as the server. Against the local stack
 * it first registers the order on the fake Open API (so Query Order knows it), and polls queryInstance while
 * provisioning answers 000004, as the marketplace does.
 *
 *   npm run first-request                         # http://127.0.0.1:3000/koogallery/produce, the local key
 *   npm run first-request -- --url https://isv.example.com/koogallery/produce --key "$KEY"
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signRequest } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { bodySignHeader } from '#lib/koogallery/signature.ts';
import { mockOrder } from './local/fake-openapi.ts';
import { sleep } from '#lib/shared/time.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000/koogallery/produce' },
    key: { type: 'string', default: process.env.KOOGALLERY_ACCESS_KEY ?? 'local-dev-access-key-change-me' },
    test: { type: 'boolean', default: false },
    'open-api': { type: 'string', default: `http://127.0.0.1:${process.env.FAKE_OPENAPI_PORT ?? '4020'}` },
  },
});
const url = values.url;
const key = values.key;

async function send(body: JsonObject): Promise<Record<string, unknown>> {
  const target = `${url}?${new URLSearchParams(signRequest(key, body))}`;
  const response = await fetch(target, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json;charset=utf8', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const raw = await response.text();
  const bodySign = response.headers.get('Body-Sign');
  const verdict = bodySign === null ? 'absent' : bodySign === bodySignHeader(key, raw) ? 'valid' : 'INVALID';
  console.log(`→ ${body.activity as string}\n← HTTP ${response.status} ${raw}\n  Body-Sign: ${verdict}\n`);
  return JSON.parse(raw) as Record<string, unknown>;
}

const orderId = `CS${Date.now()}`;
const local = ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
if (local) {
  // The terms of the marketplace's yearly mock order, under this new order id.
  const mock = mockOrder('MOCKPERIODYEARNEW', 1);
  const order = { ...mock, orderId, orderLine: mock.orderLine.map((line) => ({ ...line, orderLineId: `${orderId}-000001` })) };
  const registered = await fetch(`${values['open-api']}/fake/orders`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(order),
  }).catch(() => undefined);
  console.log(
    registered?.ok
      ? `order ${orderId} registered on the fake Open API\n`
      : `(no fake Open API at ${values['open-api']}: Query Order will not know ${orderId})\n`,
  );
}

const created = await send({
  activity: 'newInstance',
  orderId,
  orderLineId: `${orderId}-000001`,
  businessId: randomUUID(),
  testFlag: values.test ? '1' : '0',
});
if (typeof created.instanceId === 'string') {
  const started = Date.now();
  // 000004: provisioning is under way; ask again, as the marketplace does, for up to 30 s.
  for (;;) {
    const answer = await send({ activity: 'queryInstance', instanceId: created.instanceId, testFlag: values.test ? '1' : '0' });
    if (answer.resultCode !== '000004' || Date.now() - started > 30_000) break;
    await sleep(500);
  }
  console.log(`queryInstance settled ${Date.now() - started} ms after newInstance`);
}
