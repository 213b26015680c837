/**
 * Sends a signed newInstance and then queryInstance to a production interface, as the marketplace would, and
 * prints the answers with their Body-Sign check. Uses the same signing code as the server. Against the local stack
 * (read from `.local/stack.json`, which `npm start` writes, whatever ports it runs on) it first registers the order
 * on the fake Open API (so Query Order knows it), and polls queryInstance while provisioning answers 000004, as the
 * marketplace does.
 *
 *   npm run first-request                         # the running local stack, its access key
 *   npm run first-request -- --url https://isv.example.com/koogallery/produce --key "$KEY"
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signRequest } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { bodySignHeader } from '#lib/koogallery/signature.ts';
import { errorMessage } from '#lib/shared/errors.ts';
import { sleep } from '#lib/shared/time.ts';
import { runIfMain } from './local/cli.ts';
import { mockOrder } from './local/fake-openapi.ts';
import { readStackFile, STACK_FILE } from './local/stackFile.ts';

export interface FirstRequestTarget {
  url: string;
  key: string;
  openApi: string;
  test: boolean;
}

const DEFAULT_URL = 'http://127.0.0.1:3000/koogallery/produce';
const DEFAULT_KEY = 'local-dev-access-key-change-me';

/** Where to send: `--url`/`--key` when given, else the running local stack, else the default local address. */
export function firstRequestTarget(
  argv: readonly string[],
  stackFile = STACK_FILE,
  env: Record<string, string | undefined> = process.env,
): FirstRequestTarget {
  const { values } = parseArgs({
    args: [...argv],
    options: { url: { type: 'string' }, key: { type: 'string' }, test: { type: 'boolean' }, 'open-api': { type: 'string' } },
  });
  const found = values.url === undefined ? readStackFile(stackFile) : undefined;
  const stack = found?.ok ? found.stack : undefined;
  return {
    url: values.url ?? stack?.urls.produce ?? DEFAULT_URL,
    key: values.key ?? stack?.accessKey ?? env.KOOGALLERY_ACCESS_KEY ?? DEFAULT_KEY,
    openApi: values['open-api'] ?? stack?.urls.fakeOpenApi ?? `http://127.0.0.1:${env.FAKE_OPENAPI_PORT ?? '4020'}`,
    test: values.test ?? false,
  };
}

async function send(target: FirstRequestTarget, body: JsonObject): Promise<Record<string, unknown>> {
  const address = `${target.url}?${new URLSearchParams(signRequest(target.key, body))}`;
  const response = await fetch(address, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json;charset=utf8', Accept: 'application/json' },
    body: JSON.stringify(body),
  }).catch((error: unknown) => {
    throw new Error(
      `no answer from ${target.url} (${errorMessage((error as { cause?: unknown }).cause ?? error)}): start the local stack with \`npm start\`, or give --url and --key`,
    );
  });
  const raw = await response.text();
  const bodySign = response.headers.get('Body-Sign');
  const verdict = bodySign === null ? 'absent' : bodySign === bodySignHeader(target.key, raw) ? 'valid' : 'INVALID';
  console.log(`→ ${body.activity as string}\n← HTTP ${response.status} ${raw}\n  Body-Sign: ${verdict}\n`);
  return JSON.parse(raw) as Record<string, unknown>;
}

/** Registers the order on the fake Open API with the terms of the marketplace's yearly mock order. */
async function registerOrder(openApi: string, orderId: string): Promise<void> {
  const mock = mockOrder('MOCKPERIODYEARNEW', 1);
  const order = { ...mock, orderId, orderLine: mock.orderLine.map((line) => ({ ...line, orderLineId: `${orderId}-000001` })) };
  const registered = await fetch(`${openApi}/fake/orders`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(order),
  }).catch(() => undefined);
  console.log(
    registered?.ok
      ? `order ${orderId} registered on the fake Open API\n`
      : `(no fake Open API at ${openApi}: Query Order will not know ${orderId})\n`,
  );
}

async function main(): Promise<number> {
  const target = firstRequestTarget(process.argv.slice(2));
  const testFlag = target.test ? '1' : '0';
  const orderId = `CS${Date.now()}`;
  if (['127.0.0.1', 'localhost', '[::1]'].includes(new URL(target.url).hostname)) await registerOrder(target.openApi, orderId);
  const created = await send(target, {
    activity: 'newInstance',
    orderId,
    orderLineId: `${orderId}-000001`,
    businessId: randomUUID(),
    testFlag,
  });
  if (typeof created.instanceId !== 'string') return 1;
  const started = Date.now();
  // 000004: provisioning is under way; ask again, as the marketplace does, for up to 30 s.
  for (;;) {
    const answer = await send(target, { activity: 'queryInstance', instanceId: created.instanceId, testFlag });
    if (answer.resultCode !== '000004' || Date.now() - started > 30_000) break;
    await sleep(500);
  }
  console.log(`queryInstance settled ${Date.now() - started} ms after newInstance`);
  return 0;
}

runIfMain(import.meta.url, main);
