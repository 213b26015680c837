/**
 * Helpers for tests that need more of the local stack than the globalSetup gives (test/global-setup.ts).
 */
import { startOffline as startOfflineProcess } from '../../scripts/local/offline.ts';
import { freePort } from '../../scripts/local/processes.ts';

export { startSqsBridge, sqsEvent, interpretResult, type SqsBridge } from '../../scripts/local/sqs-bridge.ts';
export { freePort } from '../../scripts/local/processes.ts';

export interface RunningOffline {
  /** http://127.0.0.1:<httpPort>, e.g. `${url}/koogallery/produce` */
  url: string;
  /** http://127.0.0.1:<lambdaPort>, the Lambda invoke API */
  lambdaUrl: string;
  /** The serverless offline process (where in-process handlers run). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `serverless offline --stage local` on free ports (unless given) and resolves after "Server ready".
 * The child gets the test process's environment (MAIN_TABLE, endpoints, ... from the globalSetup) with `env` on
 * top; serverless.yml's `local` params read MAIN_TABLE, AUDIT_TABLE, PROVISIONING_QUEUE_URL, KOOGALLERY_ACCESS_KEY,
 * KOOGALLERY_AK/SK and WEBHOOK_SECRET from it, and the other settings (PROVISIONING_MODE, ORDER_QUERY,
 * OPENAPI_BASE_URL, WEBHOOK_URL, ...) pass through: e.g. `env: { PROVISIONING_QUEUE_URL: <own queue>, ...` the
 * stand-ins' settings from integrationEnv() in scripts/local/env.ts `}` runs the asynchronous flow. The globalSetup
 * sets ORDER_QUERY=false and PROVISIONING_MODE=template, so without such `env` new instances are ACTIVE at once.
 * The first start bundles with esbuild (several seconds): call it in beforeAll and stop it in afterAll.
 */
export async function startOffline(
  options: {
    httpPort?: number;
    lambdaPort?: number;
    env?: Record<string, string>;
  } = {},
): Promise<RunningOffline> {
  const httpPort = options.httpPort ?? (await freePort());
  const lambdaPort = options.lambdaPort ?? (await freePort());
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('VITEST')),
  );
  const offline = await startOfflineProcess({
    httpPort,
    lambdaPort,
    env: { ...inherited, ...options.env },
    // A copy of the project, so a running `npm start` or another test never shares serverless-esbuild's .esbuild/.
    isolated: true,
  });
  return { url: offline.url, lambdaUrl: offline.lambdaUrl, pid: offline.process.pid, stop: offline.stop };
}
