/**
 * What the browser tests need: Debian's Chromium (found, or the suite skipped with how to install it; in CI a
 * missing browser fails), the console and the seller API over real HTTP on 127.0.0.1 (Node http → the two Lambda
 * handlers, against the suite's DynamoDB Local and fauxqs), and pages that record every console error and every
 * request for a host other than 127.0.0.1 (such requests are blocked).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { config } from '#lib/config.ts';
import { sellerContext } from '#lib/seller-api/deps.ts';
import { lazy } from '#lib/shared/lazy.ts';
import { filesBucketOrigin } from '#lib/console/serve.ts';
import { consoleHandler } from '../../functions/console.ts';
import { sellerHandler } from '../../functions/seller.ts';
import { buildConsole } from '../../scripts/console/build.ts';
import { projectRoot } from '../../scripts/local/serverless-config.ts';
import { browserAvailable, findChromium, launchChromium } from '../helpers/chromium.ts';
import { httpApiEvent } from '../helpers/httpApiEvent.ts';
import { lambdaContext } from '../helpers/produce.ts';
import { ownQueuePairs } from '../helpers/queues.ts';
import { sellerKey } from '../helpers/seller.ts';
import { SCOPES } from '#lib/seller-api/apiKeys.ts';

export { browserAvailable, findChromium };

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | void>;

export interface ConsoleStack {
  /** e.g. http://127.0.0.1:41234 ; the console is `${url}/console`. */
  url: string;
  close(): Promise<void>;
}

/**
 * The console (built now from console/src) and the seller API, as API Gateway would route them. The seller API
 * sends provisioning retries to `provisioningQueueUrl` (a queue of the test's own).
 */
export async function startConsoleStack(options: { provisioningQueueUrl: string }): Promise<ConsoleStack> {
  const consoleFn = consoleHandler(await buildConsole(), filesBucketOrigin(process.env));
  const quiet = { info: () => {}, warn: () => {}, error: () => {} };
  const sellerFn = sellerHandler(lazy(() => sellerContext({ ...config(), PROVISIONING_QUEUE_URL: options.provisioningQueueUrl }, quiet)));
  const route = (path: string): Handler | undefined =>
    path === '/console' || path.startsWith('/console/') ? consoleFn : path.startsWith('/seller/') ? sellerFn : undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const event = httpApiEvent(req, Buffer.concat(chunks).toString('utf8'));
        const target = route(event.rawPath);
        if (!target) {
          res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"Not Found"}');
          return;
        }
        const result = (await target(event, lambdaContext(randomUUID()))) as APIGatewayProxyStructuredResultV2;
        const body = String(result.body ?? '');
        res
          .writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>)
          .end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
      })().catch((error: unknown) => res.writeHead(502).end(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught page errors and requests that left 127.0.0.1 (blocked), in order. */
  problems: string[];
  close(): Promise<void>;
}

/** A page in a fresh context, its problems recorded; 1280×800 unless another viewport is given. */
export async function watchedPage(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport });
  const problems: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:') return route.continue();
    problems.push(`request left 127.0.0.1: ${route.request().method()} ${url.href}`);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    // The resource's URL follows the text, so a test can expect one refused request and no other.
    const url = message.location().url;
    if (message.type() === 'error') problems.push(`console error: ${message.text()}${url ? ` (${url})` : ''}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { page, problems, close: () => context.close() };
}

/** Signs in on the console's page with `secret` and waits for the shell. */
export async function signIn(page: Page, baseUrl: string, secret: string): Promise<void> {
  await page.goto(`${baseUrl}/console`);
  await page.getByLabel('Seller API key').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Screenshots go to docs/console/ only when UPDATE_SCREENSHOTS=1 (so CI never dirties the tree). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  const dir = join(projectRoot(), 'docs', 'console');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

export interface ConsoleSuite {
  /** The stack of the file (set once `beforeAll` ran). */
  readonly stack: ConsoleStack;
  /** A key with every scope. */
  readonly admin: string;
  /** A watched page for the current test; its problems fail the test in `afterEach`. */
  open(viewport?: { width: number; height: number }): Promise<Page>;
  /** Problems the current test expects (e.g. the browser's line for a refused request), by pattern. */
  expectProblems(...patterns: RegExp[]): void;
}

/**
 * Registers a browser suite's hooks: `prepare` (settings the functions read, before any of them reads them), then
 * the console stack, Chromium and a key with every scope; a watched page per test whose console errors and requests
 * leaving 127.0.0.1 fail it; everything closed after the file.
 */
export function consoleSuite(name: string, prepare: () => Promise<void> = async () => {}): ConsoleSuite {
  let stack: ConsoleStack | undefined;
  let browser: Browser | undefined;
  let admin = '';
  let watched: WatchedPage | undefined;
  let expected: RegExp[] = [];
  const queues = ownQueuePairs(name);
  beforeAll(async () => {
    await prepare();
    const { source } = await queues.queuePair();
    [stack, browser, admin] = await Promise.all([
      startConsoleStack({ provisioningQueueUrl: source }),
      launchChromium(),
      sellerKey(...SCOPES),
    ]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });
  afterEach(async () => {
    const problems = (watched?.problems ?? []).filter((p) => !expected.some((pattern) => pattern.test(p)));
    await watched?.close();
    watched = undefined;
    expected = [];
    expect(problems).toEqual([]);
  });
  return {
    get stack() {
      return stack!;
    },
    get admin() {
      return admin;
    },
    open: async (viewport) => {
      watched = await watchedPage(browser!, viewport);
      return watched.page;
    },
    expectProblems: (...patterns) => {
      expected.push(...patterns);
    },
  };
}
