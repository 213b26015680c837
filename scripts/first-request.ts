/**
 * Sends a signed newInstance and then a queryInstance to a production interface, as the marketplace would,
 * and prints both answers with their Body-Sign check. Uses the same signing code as the server.
 *
 *   npm run first-request                         # http://127.0.0.1:3000/koogallery/produce, the local key
 *   npm run first-request -- --url https://isv.example.com/koogallery/produce --key "$KEY"
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signRequest } from '../lib/koogallery/auth.ts';
import type { JsonObject } from '../lib/koogallery/canonicalJson.ts';
import { bodySignHeader } from '../lib/koogallery/signature.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000/koogallery/produce' },
    key: { type: 'string', default: process.env.KOOGALLERY_ACCESS_KEY ?? 'local-dev-access-key-change-me' },
    test: { type: 'boolean', default: false },
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
const created = await send({
  activity: 'newInstance',
  orderId,
  orderLineId: `${orderId}-000001`,
  businessId: randomUUID(),
  testFlag: values.test ? '1' : '0',
});
if (typeof created.instanceId === 'string') {
  await send({ activity: 'queryInstance', instanceId: created.instanceId, testFlag: values.test ? '1' : '0' });
}
